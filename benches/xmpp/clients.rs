//! `clients N`: N devices, each with its own XMPP client login (SCRAM-SHA-1) to a real
//! Prosody, as real CPEs keep them; then connection requests from ACS logins through Prosody.

use super::*;

/// Prosody on a free loopback c2s port, its accounts written straight into its data directory
/// (`internal_plain` storage: `prosodyctl register` spawns a Lua VM per account, an hour for
/// 10,000), with the file-descriptor limit raised for N connections. Killed when dropped.
struct Prosody {
    _dir: tempfile::TempDir,
    peer: Peer,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Prosody {
    fn start(accounts: &[(String, String)]) -> Option<Prosody> {
        let found = Command::new("prosody").arg("--help").output().is_ok();
        if !found {
            return None;
        }
        let dir = tempfile::tempdir().ok()?;
        let d = dir.path().display().to_string();
        let port = free_port();
        let cfg = format!(
            "run_as_root = true\npidfile = \"{d}/prosody.pid\"\ndata_path = \"{d}/data\"\nlog = {{ warn = \"{d}/prosody.log\" }}\ninterfaces = {{ \"127.0.0.1\" }}\nc2s_ports = {{ {port} }}\nc2s_direct_tls_ports = {{ }}\nlegacy_ssl_ports = {{ }}\ns2s_ports = {{ }}\nhttp_ports = {{ }}\nhttps_ports = {{ }}\ncomponent_ports = {{ }}\nc2s_require_encryption = false\nallow_unencrypted_plain_auth = false\nauthentication = \"internal_plain\"\nstorage = \"internal\"\nmodules_enabled = {{ \"saslauth\", \"ping\" }}\nmodules_disabled = {{ \"s2s\", \"tls\", \"offline\", \"roster\" }}\nVirtualHost \"localhost\"\n"
        );
        let config = dir.path().join("prosody.cfg.lua");
        std::fs::write(&config, cfg).ok()?;
        let acc = dir.path().join("data/localhost/accounts");
        std::fs::create_dir_all(&acc).ok()?;
        for (user, pass) in accounts {
            let text = format!("return {{\n\t[\"password\"] = \"{pass}\";\n}};\n");
            std::fs::write(acc.join(format!("{user}.dat")), text).ok()?;
        }
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -n $(ulimit -Hn) && exec prosody --config '{}' -F",
                config.display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let p = Prosody {
            _dir: dir,
            peer: Peer {
                child,
                addr: format!("127.0.0.1:{port}"),
            },
        };
        // Bounded: 100 × 100 ms.
        for _ in 0..100 {
            if std::net::TcpStream::connect(&p.peer.addr).is_ok() {
                return Some(p);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

fn account(i: u32) -> (String, String) {
    (format!("cpe{i}"), format!("xmpp-{i}"))
}

/// The same N twice, each in its own process: on HTTP (the baseline, `component-one
/// --plain`) and with a login each; then the difference per device.
pub fn clients(n: u32, o: &Opts) {
    let mut http = Opts(o.0.clone());
    http.0.insert("plain".into(), "1".into());
    let base = child("component-one", n, &http);
    let xmpp = child("clients-one", n, o);
    let kb = |m: &HashMap<String, String>| m.get("rss_kb").and_then(|v| v.parse::<f64>().ok());
    if let (Some(a), Some(b)) = (kb(&base), kb(&xmpp)) {
        println!(
            "{n} devices: RSS on HTTP {:.1} MiB, each with its own XMPP login {:.1} MiB: {:+.0} B per device for the connection",
            a / 1024.0,
            b / 1024.0,
            (b - a) * 1024.0 / f64::from(n)
        );
    }
}

pub fn clients_one(n: u32, o: &Opts) {
    let login_rate: f64 = o.get("login-rate", 500.0);
    let senders: u32 = o.get("senders", 4);
    let mut accounts: Vec<(String, String)> = (0..n).map(account).collect();
    accounts.extend((0..senders).map(|i| (format!("acs{i}"), "acs-secret".to_string())));
    let Some(p) = Prosody::start(&accounts) else {
        println!("SKIPPED: prosody is not installed or did not start (apt-get install prosody)");
        return;
    };
    let rt = runtime();
    let acs = spawn_acs();
    rt.block_on(async {
        let before = status_kb("self", "VmRSS:");
        let cr = format!(
            "      connection_requests:\n        transport: xmpp\n        xmpp: {{ mode: client, server: '{}', domain: localhost, password: 'xmpp-{{index}}', login_rate: {login_rate}/s, retry_initial: 5s, retry_max: 60s }}\n",
            p.peer.addr
        );
        let t0 = Instant::now();
        let run = start_fleet(scenario(&fleet_yaml(&acs.addr, n, 2000.0, &cr)), acs.addr.clone());
        let live = run.live.clone();
        let x = live.xmpp.clone();
        let all = wait_for(
            "XMPP logins",
            || x.connected.load(Relaxed).max(0) as u64,
            u64::from(n),
            Duration::from_secs(900),
        )
        .await;
        let login_s = t0.elapsed().as_secs_f64();
        let booted = wait_for("boot sessions", || Live::get(&live.finished), u64::from(n), Duration::from_secs(300)).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = status_kb("self", "VmRSS:");
        let prosody_kb = status_kb(&p.peer.child.id().to_string(), "VmRSS:");
        println!(
            "{n} devices with their own XMPP login: {} connected in {login_s:.1} s ({:.0} logins/s at login_rate {login_rate}/s; refused {}, lost {}); boot {}; RSS {:.1} MiB (before {:.1} MiB): {:.0} B per device; Prosody RSS {:.1} MiB ({:.0} B per connection)",
            if all { "all" } else { "NOT all" },
            f64::from(n) / login_s,
            x.auth_failures.load(Relaxed),
            x.disconnects.load(Relaxed),
            if booted { "complete" } else { "NOT complete" },
            rss as f64 / 1024.0,
            before as f64 / 1024.0,
            (rss - before.min(rss)) as f64 * 1024.0 / f64::from(n),
            prosody_kb as f64 / 1024.0,
            prosody_kb as f64 * 1024.0 / f64::from(n),
        );
        let (ok, total) = requests(&p.peer.addr, n, senders, o).await;
        // The sessions the requests opened, run to their end before the fleet stops.
        let accepted = x.get(cpefleet::cr::xmpp::XmppCrResult::Accepted);
        let fin = || Live::get(&live.finished);
        wait_for("CR sessions", fin, u64::from(n) + accepted, Duration::from_secs(120)).await;
        run.cancel.cancel();
        let r = run.handle.await.expect("fleet task");
        let woken = r.stats.cr_to_inform_by[CrTransport::Xmpp.slot()].len();
        println!("  {ok}/{total} answered with a result IQ; {woken} led to a 6 CONNECTION REQUEST session");
        println!("RESULT n={n} rss_kb={rss} before_kb={before} login_s={login_s:.1} prosody_kb={prosody_kb} ok={ok} woken={woken}");
    });
}

/// `--requests` connection requests (default 5,000) spread over the devices, from `senders`
/// ACS logins in parallel, each one request at a time (as GenieACS's one login does).
async fn requests(server: &str, n: u32, senders: u32, o: &Opts) -> (u64, u64) {
    let total: u32 = o.get("requests", 5000u32).min(n);
    let template = Arc::new(Template::load(&gateway_template()).expect("template"));
    let step = (n / total.max(1)).max(1);
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for s in 0..senders {
        let cfg = ClientConfig {
            server: server.parse().expect("address"),
            domain: "localhost".into(),
            resource: "acs".into(),
            allowed: String::new(),
            login_timeout: Duration::from_secs(10),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(1),
            keep_alive: None,
            seed: 1,
            limits: Limits::default(),
        };
        let acc = Account {
            index: s,
            user: format!("acs{s}"),
            password: "acs-secret".into(),
        };
        let t = template.clone();
        tasks.spawn(async move {
            let (conn, jid) = client::login(&cfg, &acc).await.expect("ACS login");
            let mut sender = CrSender::new(conn, &jid);
            let mut h = Histogram::<u64>::new(3).expect("hist");
            let mut ok = 0u64;
            for k in (s..total).step_by(senders as usize) {
                let index = k * step;
                let (user, pass) = credentials(&t, index);
                let to = format!("cpe{index}@localhost/cwmp");
                let st = Instant::now();
                let r = sender
                    .connection_request(&to, &user, &pass, Duration::from_secs(10))
                    .await;
                let _ = h.record((st.elapsed().as_micros() as u64).max(1));
                ok += u64::from(matches!(r, Ok("ok")));
            }
            (ok, h)
        });
    }
    let mut ok = 0;
    let mut hist = Histogram::<u64>::new(3).expect("hist");
    while let Some(r) = tasks.join_next().await {
        let (o, h) = r.expect("sender task");
        ok += o;
        let _ = hist.add(&h);
    }
    let secs = t0.elapsed().as_secs_f64();
    println!(
        "  {total} connection requests (every {step}th device) from {senders} ACS logins through Prosody in {secs:.1} s: {:.0}/s; IQ round trip {}",
        f64::from(total) / secs,
        quantiles_ms(&hist)
    );
    (ok, u64::from(total))
}
