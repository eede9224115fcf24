//! `component N`: a fleet of N devices reachable through one XEP-0114 component connection.

use super::*;

const DOMAIN: &str = "cpe.bench";
const SECRET: &str = "bench";

/// The same N twice, each in its own process: on HTTP (the baseline) and behind one
/// component; then the difference per device.
pub fn component(n: u32, o: &Opts) {
    let mut http = Opts(o.0.clone());
    http.0.insert("plain".into(), "1".into());
    let base = child("component-one", n, &http);
    let xmpp = child("component-one", n, o);
    let kb = |m: &HashMap<String, String>| m.get("rss_kb").and_then(|v| v.parse::<f64>().ok());
    if let (Some(a), Some(b)) = (kb(&base), kb(&xmpp)) {
        println!(
            "{n} devices: RSS on HTTP {:.1} MiB, behind one XMPP component {:.1} MiB: {:+.1} B per device for XMPP",
            a / 1024.0,
            b / 1024.0,
            (b - a) * 1024.0 / f64::from(n)
        );
    }
}

/// One fleet: boot N devices, measure RSS; then (unless `--plain`) send `--requests`
/// connection requests spread over the whole index range through the component.
pub fn component_one(n: u32, o: &Opts) {
    let plain = o.0.contains_key("plain");
    let boot_rate: f64 = o.get("boot-rate", 6000.0);
    let rt = runtime();
    let acs = spawn_acs();
    rt.block_on(async {
        let before = status_kb("self", "VmRSS:");
        let cancel = CancellationToken::new();
        let cfg = XmppGatewayConfig {
            listen: ([127, 0, 0, 1], 0).into(),
            secret: SECRET.into(),
        };
        let (gw, addr) = XmppGateway::start(cfg, cancel.clone()).expect("gateway");
        let cr = if plain {
            String::new()
        } else {
            format!("      connection_requests:\n        transport: xmpp\n        xmpp: {{ server: '{addr}', domain: {DOMAIN}, secret: {SECRET} }}\n")
        };
        let t0 = Instant::now();
        let run = start_fleet(scenario(&fleet_yaml(&acs.addr, n, boot_rate, &cr)), acs.addr.clone());
        let live = run.live.clone();
        let booted = wait_for(
            "boot sessions",
            || Live::get(&live.finished),
            u64::from(n),
            Duration::from_secs(900),
        )
        .await;
        let boot_s = t0.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = status_kb("self", "VmRSS:");
        println!(
            "{n} devices ({}): booted {} in {boot_s:.1} s; RSS {:.1} MiB (before {:.1} MiB): {:.0} B per device in total; XMPP connections {}",
            if plain { "HTTP" } else { "one XMPP component" },
            if booted { "all" } else { "NOT all" },
            rss as f64 / 1024.0,
            before as f64 / 1024.0,
            rss as f64 * 1024.0 / f64::from(n),
            live.xmpp.connected.load(Relaxed),
        );
        let acs_pid = acs.child.id().to_string();
        let cpu0 = (cpu_s("self"), cpu_s(&acs_pid));
        let sent = if plain {
            None
        } else {
            Some(requests(&gw, n, o).await)
        };
        // The sessions the requests opened, run to their end before the fleet stops.
        let accepted = live.xmpp.get(cpefleet::cr::xmpp::XmppCrResult::Accepted);
        let target = u64::from(n) + accepted;
        let fin = || Live::get(&live.finished);
        wait_for("CR sessions", fin, target, Duration::from_secs(120)).await;
        if accepted > 0 {
            let per = |a: f64, b: f64| (b - a) * 1e6 / accepted as f64;
            println!(
                "  CPU-µs per accepted CR: this process (the ACS's XMPP side + the fleet: IQ, check, answer, the session it starts) {:.0}, null ACS (the session) {:.0}",
                per(cpu0.0, cpu_s("self")),
                per(cpu0.1, cpu_s(&acs_pid))
            );
        }
        cancel.cancel();
        run.cancel.cancel();
        let r = run.handle.await.expect("fleet task");
        let woken = r.stats.cr_to_inform_by[CrTransport::Xmpp.slot()].len();
        if let Some((ok, total)) = sent {
            println!(
                "  {ok}/{total} answered with a result IQ; {woken} led to a 6 CONNECTION REQUEST session (accepted by devices: {})",
                live.xmpp.get(cpefleet::cr::xmpp::XmppCrResult::Accepted)
            );
        }
        println!(
            "RESULT n={n} rss_kb={rss} before_kb={before} boot_s={boot_s:.1} failed={} woken={woken}",
            r.stats.sessions.failed
        );
    });
}

/// `--requests` connection requests (default 20,000) to devices spread evenly over the index
/// range, `--concurrency` at a time (default 256), through the one component connection;
/// returns (answered with a result, sent).
async fn requests(gw: &XmppGateway, n: u32, o: &Opts) -> (u64, u64) {
    let total: u32 = o.get("requests", 20_000u32).min(n);
    let concurrency: usize = o.get("concurrency", 256);
    let template = Arc::new(Template::load(&gateway_template()).expect("template"));
    let step = (n / total.max(1)).max(1);
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let hist = Arc::new(std::sync::Mutex::new(
        Histogram::<u64>::new(3).expect("hist"),
    ));
    let ok = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..total {
        let index = k * step;
        let permit = sem.clone().acquire_owned().await.expect("semaphore");
        let (gw, t, hist, ok) = (gw.clone(), template.clone(), hist.clone(), ok.clone());
        tasks.spawn(async move {
            let (user, pass) = credentials(&t, index);
            let jid = format!("cpe{index}@{DOMAIN}/cwmp");
            let s = Instant::now();
            let r = gw
                .connection_request(&jid, &user, &pass, Duration::from_secs(10))
                .await;
            let us = s.elapsed().as_micros() as u64;
            if let Ok(mut h) = hist.lock() {
                let _ = h.record(us.max(1));
            }
            if r == "ok" {
                ok.fetch_add(1, Relaxed);
            }
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
    let secs = t0.elapsed().as_secs_f64();
    let h = hist.lock().map(|h| h.clone()).expect("hist");
    println!(
        "  {total} connection requests (every {step}th device, {concurrency} in flight) in {secs:.1} s: {:.0}/s through one socket; IQ round trip {}",
        f64::from(total) / secs,
        quantiles_ms(&h)
    );
    (ok.load(Relaxed), u64::from(total))
}
