//! `rates`: simulator CPU per session at fixed offered rates, beside hyper's bare client doing
//! the same minimal session at the same rate in the same sitting (issue #17, item 4).
//!
//! Both sides talk to a fresh `cpefleet acs --policy null` child per measurement, so the
//! simulator's CPU (this process, /proc/self/stat) never includes the ACS's (the child's,
//! reported beside it). Per offered rate and round: A (cpefleet's fleet) then B (the floor).
//!
//! - A fixed rate R: R bootstrapped gateways on a 1 s periodic interval without jitter, their
//!   boots spread over 1 s, so their phases (TR-069 §3.2.1.1: PeriodicInformTime unknown, the
//!   phase is the boot time) are spread over the second: R sessions/s, each "2 PERIODIC".
//! - B fixed rate R: sessions started at t0 + k/R, each a new connection doing the exchanges of
//!   `ceiling_session` with a pre-encoded "2 PERIODIC" Inform; at most `IN_FLIGHT` at once,
//!   the rest counted as skipped.
//! - `max`: A is the `session` figure's boot storm (`--concurrency` at once), B a closed loop of
//!   `--concurrency` hyper clients; both measured between 10 % and 90 % of `--sessions`.
//!
//! A fixed rate is measured over `--seconds` after a warm-up; the achieved rate is reported
//! and flagged when it is off the offered one by more than 5 %. No figure is asserted.
//!
//! Beside CPU, each side reports its context switches per session (voluntary + involuntary,
//! over the process's threads): at light load a voluntary switch is a thread going to sleep
//! to be woken again, the cost issue #17 item 1 cuts. A's layout follows `--shard-runtime`
//! and `--timer-slack` (`cpefleet run`'s defaults without them), so an A/B of layouts is two
//! invocations of this figure in one sitting.

use super::*;

/// B's open loop keeps at most this many sessions in flight; A's `max_sessions` is the same.
const IN_FLIGHT: u32 = 1024;
/// A's warm-up: the boot second, then one full periodic round.
const WARM_A: Duration = Duration::from_secs(3);
const WARM_B: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, PartialEq)]
enum Offered {
    PerS(u32),
    Max,
}

impl std::fmt::Display for Offered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Offered::PerS(r) => write!(f, "{r}/s"),
            Offered::Max => write!(f, "max"),
        }
    }
}

struct Plan {
    seconds: u64,
    sessions: u64,
    concurrency: u32,
}

pub(crate) fn rates_cmd(o: &Opts) {
    let list: String = o.get("rates", "200,1000,3000,max".to_string());
    let rounds: u32 = o.get("rounds", 3);
    let plan = Plan {
        seconds: o.get("seconds", 10),
        sessions: o.get("sessions", 50_000),
        concurrency: o.get("concurrency", 64),
    };
    let offered: Vec<Offered> = list
        .split(',')
        .filter_map(|r| match r.trim() {
            "max" => Some(Offered::Max),
            n => n.trim_end_matches("/s").parse().ok().map(Offered::PerS),
        })
        .collect();
    machine();
    let l = layout();
    println!(
        "rates: {list}; {rounds} rounds, A (cpefleet) then B (hyper's bare client) per rate; \
         fixed rates over {} s, max over 10–90 % of {} sessions at {} at once; \
         CPU of this process only (the null ACS is a child, reported apart); \
         A: --shard-runtime {} --timer-slack {}",
        plan.seconds,
        plan.sessions,
        plan.concurrency,
        l.shard_runtime.as_str(),
        cpefleet::units::fmt_duration(l.timer_slack),
    );
    let periodic = Bytes::from(inform_bytes(EventCode::Periodic));
    let boot = Bytes::from(inform_bytes(EventCode::Boot));
    let mut all: Vec<Vec<(Rates, Rates)>> = offered.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        for (i, &r) in offered.iter().enumerate() {
            let a = fleet_at(r, &plan);
            let body = if r == Offered::Max { &boot } else { &periodic };
            let b = floor_at(r, &plan, body.clone());
            println!("round {round}, offered {r}:");
            line("A cpefleet", r, &a);
            line("B hyper   ", r, &b);
            println!("  A/B CPU per session: {:.2}", a.self_us / b.self_us);
            all[i].push((a, b));
        }
    }
    summary(&offered, &all);
}

fn line(side: &str, r: Offered, x: &Rates) {
    let off = match r {
        Offered::PerS(n) if (x.per_s - f64::from(n)).abs() > 0.05 * f64::from(n) => {
            " NOT the offered rate"
        }
        _ => "",
    };
    println!(
        "  {side}: {:>7.0} sessions/s{off}   simulator {:>6.1} CPU-µs/session (user {:>5.1}, \
         kernel {:>5.1}), {:>5.2} context switches/session (voluntary {:>5.2}, involuntary \
         {:>5.2})   null ACS {:>6.1}",
        x.per_s,
        x.self_us,
        x.self_us - x.sys_us,
        x.sys_us,
        x.csw.0 + x.csw.1,
        x.csw.0,
        x.csw.1,
        x.peer_us
    );
}

/// (min, median, max); NaN-free input assumed (a failed side shows as NaN and sorts last).
fn mmm(mut v: Vec<f64>) -> String {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return "-".into();
    }
    let med = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    };
    let p = |x: f64| {
        if x >= 100.0 {
            format!("{x:.0}")
        } else if x >= 10.0 {
            format!("{x:.1}")
        } else {
            format!("{x:.2}")
        }
    };
    format!("{} / {} / {}", p(v[0]), p(med), p(v[n - 1]))
}

fn summary(offered: &[Offered], all: &[Vec<(Rates, Rates)>]) {
    println!("\nmin / median / max over rounds; CPU in µs per session of the simulator process");
    println!(
        "| offered | achieved/s A | achieved/s B | A user | A kernel | A total | B user | B kernel | B total | A/B | A cs/session (vol+invol) | B cs/session |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (r, v) in offered.iter().zip(all) {
        let col = |f: &dyn Fn(&(Rates, Rates)) -> f64| mmm(v.iter().map(f).collect());
        println!(
            "| {r} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            col(&|x| x.0.per_s),
            col(&|x| x.1.per_s),
            col(&|x| x.0.self_us - x.0.sys_us),
            col(&|x| x.0.sys_us),
            col(&|x| x.0.self_us),
            col(&|x| x.1.self_us - x.1.sys_us),
            col(&|x| x.1.sys_us),
            col(&|x| x.1.self_us),
            col(&|x| x.0.self_us / x.1.self_us),
            col(&|x| x.0.csw.0 + x.0.csw.1),
            col(&|x| x.1.csw.0 + x.1.csw.1),
        );
    }
}

/// Device 0's Inform on the gateway template with one event, as the fleet encodes it.
fn inform_bytes(code: EventCode) -> Vec<u8> {
    let t = Template::load(&gateway()).expect("gateway template");
    let mut d = Device::new(0);
    let env = Env {
        seed: 1,
        now: DateTime::from_unix_ms(1_800_000_000_000),
        cr_url_base: "http://127.0.0.1:7548",
        udp: None,
    };
    let inform = DeviceView::new(&t, &mut d, &env).inform(vec![EventStruct::new(code, "")], 0);
    let mut buf = Vec::new();
    encode_cpe(
        &Envelope::new(
            t.cwmp_version(),
            Header::with_id("CPF00000000-1-1"),
            CpeMessage::Request(CpeRequest::Inform(inform)),
        ),
        &mut buf,
    );
    buf
}

/// `http://127.0.0.1:PORT/...` → 127.0.0.1:PORT.
fn socket_addr(url: &str) -> SocketAddr {
    let rest = url.split("://").nth(1).unwrap_or(url);
    rest.split('/')
        .next()
        .and_then(|h| h.parse().ok())
        .expect("the null ACS's address")
}

/// A plain periodic session's simulator CPU at `rate`/s over `seconds` (the `cr` figure's
/// reference: a connection-requested session against a plain one at the same offered rate).
pub(crate) fn plain_at(rate: u32, seconds: u64) -> Rates {
    let plan = Plan {
        seconds,
        sessions: 0,
        concurrency: 0,
    };
    fleet_at(Offered::PerS(rate), &plan)
}

/// A: cpefleet's fleet at the offered rate, in this process's runtime.
fn fleet_at(r: Offered, plan: &Plan) -> Rates {
    let rt = runtime();
    let Offered::PerS(rate) = r else {
        return rt.block_on(fleet_sessions(plan.sessions, plan.concurrency));
    };
    let acs = spawn_acs();
    let spec = FleetSpec {
        acs_url: acs.addr.clone(),
        devices: rate,
        max_sessions: IN_FLIGHT,
        boot_over: Duration::from_secs(1),
        duration: WARM_A + Duration::from_secs(plan.seconds + 60),
        cr_port: 0,
        periodic: Duration::from_secs(1),
        jitter_pct: 0,
    };
    let pid = acs.pid();
    rt.block_on(async move {
        let run = start_fleet(scenario(&spec), acs.addr.clone());
        let live = run.live.clone();
        tokio::time::sleep(WARM_A).await;
        let a = sample(Live::get(&live.finished), &pid);
        tokio::time::sleep(Duration::from_secs(plan.seconds)).await;
        let b = sample(Live::get(&live.finished), &pid);
        let res = run.stop().await;
        if res.stats.sessions.failed > 0 {
            eprintln!(
                "A at {r}: {} sessions failed: {:?}",
                res.stats.sessions.failed, res.stats.errors
            );
        }
        rates(a, b)
    })
}

#[derive(Default)]
struct Counts {
    done: AtomicU64,
    failed: AtomicU64,
    in_flight: AtomicU64,
    skipped: AtomicU64,
}

/// B: hyper's bare client doing the minimal session with the null ACS at the offered rate.
fn floor_at(r: Offered, plan: &Plan, body: Bytes) -> Rates {
    let rt = runtime();
    let acs = spawn_acs();
    let addr = socket_addr(&acs.addr);
    let pid = acs.pid();
    let c = Arc::new(Counts::default());
    let stop = CancellationToken::new();
    let out = rt.block_on(async {
        let Offered::PerS(rate) = r else {
            return closed_loop(addr, body, plan, &pid).await;
        };
        let pacer = tokio::spawn(pace(rate, addr, body, c.clone(), stop.clone()));
        tokio::time::sleep(WARM_B).await;
        let a = sample(c.done.load(Ordering::Relaxed), &pid);
        tokio::time::sleep(Duration::from_secs(plan.seconds)).await;
        let b = sample(c.done.load(Ordering::Relaxed), &pid);
        stop.cancel();
        let _ = pacer.await;
        let drained = wait_for(
            "in flight",
            || u64::from(c.in_flight.load(Ordering::Relaxed) == 0),
            1,
            Duration::from_secs(10),
        )
        .await;
        if !drained {
            eprintln!("B at {r}: sessions still in flight after 10 s");
        }
        rates(a, b)
    });
    let (f, s) = (
        c.failed.load(Ordering::Relaxed),
        c.skipped.load(Ordering::Relaxed),
    );
    if f + s > 0 {
        eprintln!("B at {r}: {f} sessions failed, {s} skipped (over {IN_FLIGHT} in flight)");
    }
    out
}

/// Starts session k at t0 + k/rate: sleeps until the next one is due, then starts every session
/// due by now (the timer's 1 ms grain batches a few at high rates, as the fleet's timers do).
async fn pace(rate: u32, addr: SocketAddr, body: Bytes, c: Arc<Counts>, stop: CancellationToken) {
    let t0 = tokio::time::Instant::now();
    let due = |k: u64| t0 + Duration::from_nanos(k * 1_000_000_000 / u64::from(rate));
    let mut k = 0u64;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep_until(due(k)) => {}
        }
        let now = tokio::time::Instant::now();
        while due(k) <= now {
            k += 1;
            if c.in_flight.load(Ordering::Relaxed) >= u64::from(IN_FLIGHT) {
                c.skipped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            c.in_flight.fetch_add(1, Ordering::Relaxed);
            let (c, body) = (c.clone(), body.clone());
            tokio::spawn(async move {
                if ceiling_session(addr, body).await.is_err() {
                    c.failed.fetch_add(1, Ordering::Relaxed);
                }
                c.done.fetch_add(1, Ordering::Relaxed);
                c.in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
    }
}

/// B saturated: `concurrency` clients back to back, measured between 10 % and 90 % of the count.
async fn closed_loop(addr: SocketAddr, body: Bytes, plan: &Plan, pid: &str) -> Rates {
    let (next, done) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let failed = Arc::new(AtomicU64::new(0));
    let sessions = plan.sessions;
    let mut workers = Vec::new();
    for _ in 0..plan.concurrency {
        let (next, done, failed, body) = (next.clone(), done.clone(), failed.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < sessions {
                if ceiling_session(addr, body.clone()).await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let (a, b) = window(
        || done.load(Ordering::Relaxed),
        sessions,
        pid,
        Duration::from_secs(300),
    )
    .await;
    for w in workers {
        let _ = w.await;
    }
    let f = failed.load(Ordering::Relaxed);
    if f > 0 {
        eprintln!("B at max: {f} sessions failed");
    }
    rates(a, b)
}
