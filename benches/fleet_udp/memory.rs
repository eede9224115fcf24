//! `udp-memory`: a million devices reachable by UDP connection request, a share of them
//! keeping STUN bindings alive: memory, keep-alive lag, and a sample woken over UDP.

use super::*;

/// Runs, for each N, `memory-one N` (the same gateways on HTTP only: the reference) then
/// `udp-memory-one N`, each in a fresh process, alternated HTTP, UDP, HTTP, UDP in one sitting,
/// and derives the marginal cost per device of each and their difference: the UDP figure alone
/// would mix the fleet's own growth with what UDP adds, and another sitting's HTTP figure is
/// not a reference (the allocator and the machine move between sittings). `--parallel 1` runs
/// all these processes at once instead.
pub fn udp_memory(list: &str, o: &Opts) {
    machine();
    println!("load average before: {}", load_average());
    // `--parallel 1`: every child at once. On a machine loaded by others a 1 M boot (CPU-bound
    // sessions with the null ACS) takes a quarter of an hour per child; RSS is each process's
    // own, so running them side by side changes the wall time, not the figure.
    let parallel = o.get("parallel", 0u32) > 0;
    let mut jobs: Vec<(u32, bool)> = Vec::new();
    for n in list.split(',') {
        let n = count(Some(&n.to_string()), 0);
        if n > 0 {
            jobs.push((n, false));
            jobs.push((n, true));
        }
    }
    let run = |(n, udp): (u32, bool)| {
        println!("load average now: {}", load_average());
        if udp {
            let keys = ["boot-rate", "active", "sample", "window", "reach-min"];
            child_rss("udp-memory-one", n, &keys, o)
        } else {
            child_rss("memory-one", n, &["boot-rate"], o)
        }
    };
    let rss: Vec<Option<u64>> = if parallel {
        std::thread::scope(|s| {
            let hs: Vec<_> = jobs.iter().map(|j| s.spawn(move || run(*j))).collect();
            hs.into_iter().map(|h| h.join().ok().flatten()).collect()
        })
    } else {
        jobs.iter().map(|j| run(*j)).collect()
    };
    let mut http: Vec<(u64, u64)> = Vec::new();
    let mut udp: Vec<(u64, u64)> = Vec::new();
    for ((n, is_udp), rss) in jobs.iter().zip(rss) {
        if let Some(rss) = rss {
            let points = if *is_udp { &mut udp } else { &mut http };
            points.push((u64::from(*n), rss * 1024));
        }
    }
    let marginal = |points: &[(u64, u64)], what: &str| -> Vec<f64> {
        points
            .windows(2)
            .map(|w| {
                let ((n0, r0), (n1, r1)) = (w[0], w[1]);
                let per = (r1 as f64 - r0 as f64) / (n1 - n0) as f64;
                println!(
                    "marginal RSS per {what} device, {n0} → {n1}: ({r1} − {r0}) B / {} = {per:.0} B",
                    n1 - n0
                );
                per
            })
            .collect()
    };
    let h = marginal(&http, "HTTP-only");
    let u = marginal(&udp, "UDP");
    for (h, u) in h.iter().zip(&u) {
        println!(
            "UDP reachability costs {:.0} B per device over HTTP-only ({u:.0} − {h:.0} B, same sitting)",
            u - h
        );
    }
    for ((n, rh), (_, ru)) in http.iter().zip(&udp) {
        println!(
            "{n} devices: whole process {:.1} MiB on HTTP only, {:.1} MiB with UDP",
            *rh as f64 / 1_048_576.0,
            *ru as f64 / 1_048_576.0
        );
    }
    println!("load average after: {}", load_average());
}

/// Runs `SUB N` (with the options `keys` passed on) in a fresh process, prints its report and
/// returns the RSS (kB) of its RESULT line.
fn child_rss(sub: &str, n: u32, keys: &[&str], o: &Opts) -> Option<u64> {
    let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
    cmd.args([sub, &n.to_string()]);
    for k in keys {
        if let Some(v) = o.0.get(*k) {
            cmd.args([format!("--{k}"), v.clone()]);
        }
    }
    let out = cmd.stderr(Stdio::inherit()).output().expect(sub);
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    text.lines().find_map(|l| {
        l.strip_prefix("RESULT ")?
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("rss_kb="))?
            .parse::<u64>()
            .ok()
    })
}

/// The devices' STUN counters at one moment, with the process's CPU.
#[derive(Clone, Copy)]
struct StunSample {
    t: Instant,
    requests: u64,
    responses: u64,
    late: u64,
    lag_sum: u64,
    cpu_self: f64,
    cpu_stun: f64,
}

fn stun_sample(u: &UdpStats, stun_pid: &str) -> StunSample {
    StunSample {
        t: Instant::now(),
        requests: UdpStats::get(&u.stun_requests),
        responses: UdpStats::get(&u.stun_responses),
        late: UdpStats::get(&u.keepalive_late),
        lag_sum: UdpStats::get(&u.keepalive_lag_ms_sum),
        cpu_self: cpu_s("self"),
        cpu_stun: cpu_s(stun_pid),
    }
}

/// Long (over 80 lines): one measurement told in order — boot, every device's first binding,
/// memory, the steady keep-alive window, and the UDP reachability sample.
pub fn udp_memory_one(n: u32, o: &Opts) {
    let boot_rate: f64 = o.get("boot-rate", 6000.0);
    let active: u32 = o.get("active", 100_000u32).min(n);
    let sample_n: u32 = o.get("sample", 10_000u32).min(n);
    let window_s: u64 = o.get("window", 60);
    // The other devices' period: min, 2 × min (and a mapping lifetime of 3 × min).
    let reach_min: u64 = o.get("reach-min", 300);
    let rt = runtime();
    let acs = spawn_acs();
    let stun = spawn_stun();
    let groups = [
        GroupSpec {
            name: "active",
            count: active,
            udp: Some((30, 60, 120)),
        },
        GroupSpec {
            name: "reachable",
            count: n - active,
            udp: Some((reach_min, 2 * reach_min, 3 * reach_min)),
        },
    ];
    let groups: Vec<GroupSpec> = groups.into_iter().filter(|g| g.count > 0).collect();
    let boot_over = Duration::from_secs_f64(f64::from(n) / boot_rate);
    rt.block_on(async {
        let rss_before = status_kb("VmRSS:");
        let s = udp_scenario(&acs.addr, &stun.peer.addr, &groups, boot_over);
        let t0 = Instant::now();
        let run = start_fleet(s, acs.addr.clone());
        let live = run.live.clone();
        let u = live.udp.clone();
        let booted = wait_for(
            "boot sessions",
            || Live::get(&live.finished),
            u64::from(n),
            Duration::from_secs(900),
        )
        .await;
        let boot_s = t0.elapsed().as_secs_f64();
        // Every device has learnt its public address once (the slow group's first keep-alives
        // spread over its 5-minute minimum period).
        let bound = wait_for(
            "first bindings",
            || UdpStats::get(&u.bindings) - UdpStats::get(&u.binding_changes),
            u64::from(n),
            Duration::from_secs(900),
        )
        .await;
        let bound_s = t0.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = status_kb("VmRSS:");
        let hwm = status_kb("VmHWM:");
        println!(
            "{n} devices behind the NAT ({active} keeping bindings every 30–60 s, {} every {reach_min}–{} s): \
             booted {} in {boot_s:.1} s (spread {:.0} s); every device bound: {} after {bound_s:.1} s",
            n - active,
            2 * reach_min,
            if booted { "all" } else { "NOT all" },
            boot_over.as_secs_f64(),
            if bound { "yes" } else { "NO" },
        );
        println!(
            "  RSS {:.1} MiB (before the fleet {:.1} MiB, peak {:.1} MiB): {:.0} B per device in total",
            rss as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            hwm as f64 / 1024.0,
            rss as f64 * 1024.0 / f64::from(n)
        );
        println!(
            "  static estimate: {} B per idle device + {} B of UDP state (directory, replay slot, keep-alive record)",
            fleet::bytes_per_idle_device(),
            fleet::udp::bytes_per_udp_device()
        );
        // The steady keep-alive window.
        let stun_pid = stun.peer.pid();
        let a = stun_sample(&u, &stun_pid);
        tokio::time::sleep(Duration::from_secs(window_s)).await;
        let b = stun_sample(&u, &stun_pid);
        let secs = (b.t - a.t).as_secs_f64();
        let sent = b.requests - a.requests;
        let expected = f64::from(active) / 45.0 + f64::from(n - active) / (1.5 * reach_min as f64);
        println!(
            "  keep-alives over {secs:.0} s: {:.0} requests/s (expected mean {expected:.0}/s), {:.0} responses/s; \
             late (past the maximum period) {}; lag mean {:.1} ms, max {} ms; \
             CPU: fleet {:.1} % of a core, STUN server {:.1} %",
            sent as f64 / secs,
            (b.responses - a.responses) as f64 / secs,
            b.late - a.late,
            (b.lag_sum - a.lag_sum) as f64 / sent.max(1) as f64,
            UdpStats::get(&u.keepalive_lag_ms_max),
            100.0 * (b.cpu_self - a.cpu_self) / secs,
            100.0 * (b.cpu_stun - a.cpu_stun) / secs,
        );
        let reach = reachability(&u, &live, &stun.sources(), n, sample_n).await;
        let r = run.stop().await;
        let fate = |f| r.stats.cr_fate.get(cpefleet::cr::CrTransport::Udp, f);
        use cpefleet::metrics::cr_fate::CrFate;
        println!(
            "  reachability: {reach}; their fates: sessions {}, merged {}, device off {}, unserved {}; sessions failed {}",
            fate(CrFate::Session),
            fate(CrFate::Merged),
            fate(CrFate::DeviceOff),
            fate(CrFate::Unserved),
            r.stats.sessions.failed
        );
        println!(
            "RESULT n={n} active={active} rss_kb={rss} hwm_kb={hwm} before_kb={rss_before} boot_s={boot_s:.1} bound_s={bound_s:.1}"
        );
    });
}

/// Sends one UDP connection request to each of `sample` devices spread over all `n` (at
/// 2000/s, to the NAT's public ports in turn) and counts what the fleet did with them.
async fn reachability(u: &UdpStats, live: &Live, to: &[SocketAddr], n: u32, sample: u32) -> String {
    if to.is_empty() || sample == 0 {
        return "no UDP socket seen by the STUN server".into();
    }
    let step = (n / sample).max(1);
    let indices: Vec<u32> = (0..sample)
        .map(|k| k * step + (k % step))
        .filter(|i| *i < n)
        .collect();
    let creds: Vec<(u32, (String, String))> = indices
        .iter()
        .copied()
        .zip(device_credentials(indices.iter().copied()))
        .collect();
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (acc0, rec0, started0) = (
        UdpStats::get(&u.accepted),
        UdpStats::get(&u.received),
        Live::get(&live.started),
    );
    let t0 = tokio::time::Instant::now();
    for (k, (i, c)) in creds.iter().enumerate() {
        tokio::time::sleep_until(t0 + Duration::from_secs_f64(k as f64 / 2000.0)).await;
        let dest = to[k % to.len()];
        let _ = socket
            .send_to(&datagram(dest, c, u64::from(*i) + 1), dest)
            .await;
    }
    let want = creds.len() as u64;
    wait_for(
        "UDP connection requests accepted",
        || UdpStats::get(&u.accepted) - acc0,
        want,
        Duration::from_secs(30),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rejected: Vec<String> = UdpCrReject::ALL
        .iter()
        .filter(|r| u.rejected(**r) > 0)
        .map(|r| format!("{} {}", r.label(), u.rejected(*r)))
        .collect();
    format!(
        "{} of {want} sampled devices (every {step}th) accepted a UDP connection request \
         ({} datagrams received; rejected: {}); sessions started meanwhile {}",
        UdpStats::get(&u.accepted) - acc0,
        UdpStats::get(&u.received) - rec0,
        if rejected.is_empty() {
            "none".to_string()
        } else {
            rejected.join(", ")
        },
        Live::get(&live.started) - started0
    )
}
