//! `cr-transports`: connection requests per second by transport, HTTP and UDP alternated in
//! one sitting against one fleet.

use super::*;

/// One run's figures.
struct TransportRun {
    per_s: f64,
    sessions_per_s: f64,
    fleet_us: f64,
    acs_us: f64,
    load_us: f64,
    /// What the load reported, and for UDP what the fleet did with the datagrams.
    detail: String,
}

/// Long (over 80 lines): the sitting told in order — the fleet of both groups booted once,
/// then each offered rate, each round, HTTP then UDP, and the summary.
pub fn cr_transports(o: &Opts) {
    let devices: u32 = o.get("devices", 50_000);
    let seconds: u64 = o.get("seconds", 15);
    let rounds: u32 = o.get("rounds", 2);
    let concurrency: u32 = o.get("concurrency", 128);
    let udp_max: f64 = o.get("udp-max", 20_000.0);
    let copies: u32 = o.get("copies", 3);
    let rates: String = o.get("rates", "0,2000".to_string());
    let rates: Vec<f64> = rates
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    machine();
    println!("load average before: {}", load_average());
    println!(
        "connection requests by transport: {devices} gateways reached over HTTP and {devices} behind \
         the NAT reached over UDP, in this process; the null ACS and the STUN server in their own; \
         the load in a fourth. HTTP: GenieACS's exchange (connect, GET, 401 Digest, GET, 200), \
         {concurrency} at once; UDP: GenieACS's datagram, {copies} copies per request, open loop. \
         Rate 0 = saturating (HTTP as fast as it goes, UDP offered {udp_max:.0}/s). Every accepted \
         request starts a session. {rounds} rounds, HTTP and UDP alternated, {seconds} s each."
    );
    let rt = runtime();
    let acs = spawn_acs();
    let stun = spawn_stun();
    let port = free_port();
    let groups = [
        GroupSpec {
            name: "http",
            count: devices,
            udp: None,
        },
        GroupSpec {
            name: "natted",
            count: devices,
            udp: Some((3600, 7200, 9000)),
        },
    ];
    let mut s = udp_scenario(&acs.addr, &stun.peer.addr, &groups, Duration::from_secs(20));
    s.cr.listen = SocketAddr::from(([127, 0, 0, 1], port));
    let mut results: Vec<(f64, &'static str, TransportRun)> = Vec::new();
    rt.block_on(async {
        let run = start_fleet(s, acs.addr.clone());
        let live = run.live.clone();
        wait_for(
            "boot sessions",
            || Live::get(&live.finished),
            u64::from(2 * devices),
            Duration::from_secs(300),
        )
        .await;
        // The UDP group's sockets: the STUN server has seen some of its keep-alives.
        wait_for(
            "UDP sockets seen",
            || stun.sources().len() as u64,
            1,
            Duration::from_secs(120),
        )
        .await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        for &rate in &rates {
            for round in 1..=rounds {
                for transport in ["http", "udp"] {
                    let r = transport_run(
                        transport, rate, &live, &acs, &stun, port, devices, seconds, concurrency,
                        udp_max, copies,
                    )
                    .await;
                    println!(
                        "  offered {}, round {round}, {transport}: {:.0} CR/s accepted, {:.0} sessions/s; \
                         CPU-µs per accepted CR: fleet {:.0}, null ACS {:.0}, load {:.0}",
                        if rate == 0.0 { "saturating".to_string() } else { format!("{rate:.0}/s") },
                        r.per_s,
                        r.sessions_per_s,
                        r.fleet_us,
                        r.acs_us,
                        r.load_us
                    );
                    println!("    load: {}", r.detail);
                    results.push((rate, transport, r));
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
        let r = run.stop().await;
        println!(
            "  fleet totals: sessions {} ok, {} failed; UDP {}",
            r.stats.sessions.succeeded,
            r.stats.sessions.failed,
            r.udp.as_deref().map_or(String::new(), |u| format!(
                "received {}, accepted {}, rejected {}",
                UdpStats::get(&u.received),
                UdpStats::get(&u.accepted),
                u.rejected_total()
            ))
        );
    });
    println!("summary (min / median / max over {rounds} rounds):");
    for &rate in &rates {
        for transport in ["http", "udp"] {
            let pick = |f: fn(&TransportRun) -> f64| -> Vec<f64> {
                results
                    .iter()
                    .filter(|(r, t, _)| *r == rate && *t == transport)
                    .map(|(_, _, x)| f(x))
                    .collect()
            };
            let (a, m, z) = median(&mut pick(|x| x.per_s));
            let (sa, sm, sz) = median(&mut pick(|x| x.sessions_per_s));
            let (fa, fm, fz) = median(&mut pick(|x| x.fleet_us));
            let (_, am, _) = median(&mut pick(|x| x.acs_us));
            let (_, lm, _) = median(&mut pick(|x| x.load_us));
            println!(
                "  {} {transport}: {a:.0} / {m:.0} / {z:.0} CR/s accepted, {sa:.0} / {sm:.0} / {sz:.0} sessions/s; \
                 fleet CPU-µs per CR {fa:.0} / {fm:.0} / {fz:.0} (medians: null ACS {am:.0}, load {lm:.0})",
                if rate == 0.0 { "saturating".to_string() } else { format!("offered {rate:.0}/s") },
            );
        }
    }
    println!("load average after: {}", load_average());
}

/// One timed run of one transport's load against the running fleet.
#[allow(clippy::too_many_arguments)]
async fn transport_run(
    transport: &str,
    rate: f64,
    live: &Live,
    acs: &Peer,
    stun: &StunPeer,
    port: u16,
    devices: u32,
    seconds: u64,
    concurrency: u32,
    udp_max: f64,
    copies: u32,
) -> TransportRun {
    let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
    if transport == "http" {
        cmd.args([
            "cr-load".to_string(),
            port.to_string(),
            devices.to_string(),
            concurrency.to_string(),
            seconds.to_string(),
            rate.to_string(),
        ]);
    } else {
        let to: Vec<String> = stun.sources().iter().map(|a| a.to_string()).collect();
        cmd.args([
            "cr-load-udp".to_string(),
            to.join(","),
            devices.to_string(),
            devices.to_string(),
            seconds.to_string(),
            if rate == 0.0 { udp_max } else { rate }.to_string(),
            copies.to_string(),
        ]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn load");
    let pid = child.id().to_string();
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    let _ = out.read_line(&mut line); // "start": credentials computed
    let accepted = |l: &Live| {
        if transport == "http" {
            l.cr.get(cpefleet::cr::CrResult::Accepted)
        } else {
            UdpStats::get(&l.udp.accepted)
        }
    };
    let t0 = Instant::now();
    let a = (
        accepted(live),
        Live::get(&live.started),
        cpu_s("self"),
        cpu_s(&acs.pid()),
        cpu_s(&pid),
    );
    let result = tokio::task::spawn_blocking(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut rest);
        rest
    });
    let mut load_cpu = a.4;
    while !result.is_finished() {
        load_cpu = cpu_s(&pid);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let load_line = result.await.unwrap_or_default();
    let _ = child.wait();
    let secs = t0.elapsed().as_secs_f64();
    let b = (
        accepted(live),
        Live::get(&live.started),
        cpu_s("self"),
        cpu_s(&acs.pid()),
    );
    let n = (b.0 - a.0).max(1) as f64;
    let mut detail = load_line
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .unwrap_or("")
        .to_string();
    if transport == "udp" {
        let u = &live.udp;
        let rejected: Vec<String> = UdpCrReject::ALL
            .iter()
            .filter(|r| u.rejected(**r) > 0)
            .map(|r| format!("{} {}", r.label(), u.rejected(*r)))
            .collect();
        detail.push_str(&format!(
            "; fleet totals so far: received {}, rejected {}",
            UdpStats::get(&u.received),
            rejected.join(", ")
        ));
    }
    TransportRun {
        per_s: (b.0 - a.0) as f64 / secs,
        sessions_per_s: (b.1 - a.1) as f64 / secs,
        fleet_us: (b.2 - a.2) * 1e6 / n,
        acs_us: (b.3 - a.3) * 1e6 / n,
        load_us: (load_cpu - a.4) * 1e6 / n,
        detail,
    }
}

/// The UDP load's process: `cr-load-udp ADDRS FIRST COUNT SECONDS RATE COPIES` — GenieACS's
/// datagram (`COPIES` copies, same id) to devices `FIRST..FIRST+COUNT` in turn, to the NAT's
/// ports in turn, paced at RATE requests/s. Prints "start" when ready, then one result line.
pub fn cr_load_udp_main(pos: &[String]) {
    let arg = |i: usize| pos.get(i).map_or("0", |s| s.as_str());
    let to: Vec<SocketAddr> = arg(1).split(',').filter_map(|a| a.parse().ok()).collect();
    let first: u32 = arg(2).parse().unwrap_or(0);
    let count: u32 = arg(3).parse().unwrap_or(1).max(1);
    let seconds: u64 = arg(4).parse().unwrap_or(1);
    let rate = arg(5).parse::<f64>().unwrap_or(1000.0).max(1.0);
    let copies: u32 = arg(6).parse().unwrap_or(3).max(1);
    let creds = device_credentials(first..first + count);
    println!("start");
    let (sent, errors, elapsed) = runtime().block_on(async move {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let t0 = tokio::time::Instant::now();
        let end = t0 + Duration::from_secs(seconds);
        let (mut sent, mut errors, mut k) = (0u64, 0u64, 0u64);
        // IDs unique across runs: a device ignores a request whose ID it has already accepted
        // (TR-069 Annex G), and every run walks the same devices from k = 0, so IDs counted
        // from 1 made the later rounds' requests replays of the earlier ones.
        let base = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        while tokio::time::Instant::now() < end && !to.is_empty() {
            tokio::time::sleep_until(t0 + Duration::from_secs_f64(k as f64 / rate)).await;
            // Every request due by now (a 1 ms timer cannot pace 20 000/s one by one).
            let due = (t0.elapsed().as_secs_f64() * rate) as u64;
            while k <= due {
                let c = &creds[(k % u64::from(count)) as usize];
                let dest = to[(k % to.len() as u64) as usize];
                let d = datagram(dest, c, base + k + 1);
                for _ in 0..copies {
                    match socket.try_send_to(&d, dest) {
                        Ok(_) => sent += 1,
                        Err(_) => errors += 1,
                    }
                }
                k += 1;
            }
        }
        (sent, errors, t0.elapsed())
    });
    println!(
        "RESULT sent={sent} send_errors={errors} elapsed_s={:.3}",
        elapsed.as_secs_f64()
    );
}
