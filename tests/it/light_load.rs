//! Light load (issue #17): fewer wake-ups per session, the schedule still honest.
//!
//! - Timer slack, under tokio's paused clock with a runner without sockets: devices due close
//!   together start at one wake-up; none informs twice for one periodic due time; an early one
//!   has no lag, a late one its lateness.
//! - The shard layouts: shards on threads of their own (`cpefleet run`'s default) and as tasks
//!   of one runtime (`--shard-runtime shared`) take the same fleet through the embedded ACS to
//!   the same counts.
//! - Bad values of the new flags are refused by name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpefleet::fleet::cpe::Cpe;
use cpefleet::fleet::runner::{Network, Runner, SessionFuture};
use cpefleet::fleet::{self, RunOptions, ShardRuntime};
use cpefleet::metrics::RunResult;
use cpefleet::scenario::{Overrides, Scenario};
use cpefleet::session::trace::Trace;
use cpefleet::session::{SessionConfig, SessionDevice, SessionReport, Timings};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::support::embedded::Embedded;
use crate::support::until::sessions_over;

/// Sessions that end as they start (so a session fired early by slack is over before its
/// device's due time: the case where a periodic inform could be scheduled twice), recorded as
/// (ms since the start, device index, its Inform's events).
struct Instant0 {
    t0: Instant,
    seen: Mutex<Vec<(u64, u32, Vec<String>)>>,
    /// Ends the run past [`RUNAWAY`] sessions: a device rescheduled at its own due time would
    /// otherwise inform again and again at one paused instant, and the test would hang instead
    /// of failing.
    stop: CancellationToken,
}

/// Far more sessions than the scenarios here make (40 devices, about one a second for 8 s).
const RUNAWAY: usize = 2000;

impl Instant0 {
    fn new() -> Arc<Instant0> {
        Arc::new(Instant0 {
            t0: Instant::now(),
            seen: Mutex::new(Vec::new()),
            stop: CancellationToken::new(),
        })
    }

    /// Start times of each device's periodic sessions.
    fn periodic(&self) -> BTreeMap<u32, Vec<u64>> {
        let mut by = BTreeMap::<u32, Vec<u64>>::new();
        for (at, index, events) in self.seen.lock().unwrap().iter() {
            if events.iter().any(|e| e == "2 PERIODIC") {
                by.entry(*index).or_default().push(*at);
            }
        }
        by.values_mut().for_each(|v| v.sort_unstable());
        by
    }
}

impl Runner for Instant0 {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        _trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        Box::pin(async move {
            let inform = cpe.inform();
            let events = inform
                .events
                .iter()
                .map(|e| e.code.as_str().into())
                .collect();
            let at = self.t0.elapsed().as_millis() as u64;
            let mut seen = self.seen.lock().unwrap();
            seen.push((at, cpe.device.index(), events));
            if seen.len() > RUNAWAY {
                self.stop.cancel();
            }
            drop(seen);
            cpe.inform_acknowledged();
            while cpe.next_request().is_some() {}
            SessionReport {
                inform_acknowledged: true,
                outcome: Ok(()),
                timings: Timings::default(),
                version: cfg.version,
                acs_requests: vec![],
                connections: 1,
                checks: Default::default(),
                auth: None,
            }
        })
    }
}

/// 40 gateways booting over a second, informing every second with up to 10 % jitter: their
/// periodic due times are spread over each second, a few ms apart. Their phases are their boot
/// times, which slack coalesces too, so a wake-up for one device fires others before their
/// periodic time itself (not only before its jitter).
fn jittered(slack: &str) -> (tempfile::TempDir, Scenario) {
    let dir = tempfile::tempdir().unwrap();
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let src = format!(
        "name: slack
seed: 11
duration: 8s
fleet:
  max_sessions: 1000
  timer_slack: {slack}
  groups:
    - {{ name: gw, template: {}, count: 40, bootstrapped: true, periodic_interval: 1s, jitter: 10% }}
phases:
  - boot: {{ over: 1s }}
",
        template.display()
    );
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, &src).unwrap();
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    (dir, s)
}

/// One shard: its wake-ups are the process's (two shards wake apart, each on its own slack).
fn paused_opts(runner: Arc<Instant0>) -> RunOptions {
    RunOptions {
        shards: Some(1),
        runner: Some(runner),
        ..RunOptions::default()
    }
}

/// The distinct instants periodic sessions started at: one per wake-up of a shard at most.
fn start_instants(by: &BTreeMap<u32, Vec<u64>>) -> usize {
    by.values().flatten().collect::<BTreeSet<_>>().len()
}

#[tokio::test(start_paused = true)]
async fn timer_slack_coalesces_due_devices_and_keeps_their_schedule() {
    let mut runs = Vec::new();
    for slack in ["0s", "100ms"] {
        let (_d, s) = jittered(slack);
        let r = Instant0::new();
        let res = fleet::run(
            &s,
            "http://127.0.0.1:9/acs",
            &paused_opts(r.clone()),
            r.stop.clone(),
        )
        .await
        .unwrap();
        runs.push((r.periodic(), res));
    }
    let (exact, exact_res) = &runs[0];
    let (slack, slack_res) = &runs[1];

    // Without slack every device starts at its own due ms; with 100 ms, the devices due within
    // 100 ms of a wake-up start with it: at most ~11 instants in a second.
    let (n_exact, n_slack) = (start_instants(exact), start_instants(slack));
    assert!(n_exact >= 150, "no slack: {n_exact} distinct starts");
    assert!(n_slack * 3 < n_exact, "slack: {n_slack} vs {n_exact}");
    for sec in 1..8u64 {
        let in_sec: BTreeSet<u64> = slack
            .values()
            .flatten()
            .copied()
            .filter(|at| at / 1000 == sec)
            .collect();
        assert!(in_sec.len() <= 11, "second {sec}: {in_sec:?}");
    }

    // The schedule holds: every device informs about once a second either way, and never twice
    // for one due time (its next inform counts from the due time, not from the early start).
    assert_eq!(slack.len(), 40);
    for (index, starts) in slack {
        let n = exact.get(index).map_or(0, Vec::len);
        assert!(starts.len().abs_diff(n) <= 1, "device {index}: {starts:?}");
        for w in starts.windows(2) {
            // 1 s apart, less up to 100 ms of jitter and 100 ms of slack.
            assert!(
                w[1] - w[0] >= 750,
                "device {index} informed twice: {starts:?}"
            );
        }
    }

    // Honest lag: under a paused clock nothing is late, and the early ones are not negative
    // (the histograms hold µs, clamped to at least 1).
    for res in [exact_res, slack_res] {
        assert!(res.stats.lag.max() <= 1, "lag {} µs", res.stats.lag.max());
        assert!(res.stats.sim_lag.max() <= 1);
        assert_eq!(res.stats.sessions.failed, 0);
    }
}

#[tokio::test(start_paused = true)]
async fn with_timer_slack_a_late_device_still_counts_its_lateness() {
    let (_d, s) = jittered("100ms");
    let r = Instant0::new();
    let opts = paused_opts(r.clone());
    let run = fleet::run(&s, "http://127.0.0.1:9/acs", &opts, r.stop.clone());
    // At 3 s the clock jumps 2.5 s at once, as if the process had been starved: every device
    // due in between fires late, by up to 2.5 s.
    let starve = async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        tokio::time::advance(Duration::from_millis(2500)).await;
    };
    let (res, ()) = tokio::join!(run, starve);
    let res: RunResult = res.unwrap();
    // Every device was due in the 2.5 s (1 s interval): the latest were about 1.5 s or more.
    let us = |ms: u64| ms * 1000;
    assert!(
        res.stats.sim_lag.max() >= us(1500),
        "simulator lag max {} µs",
        res.stats.sim_lag.max()
    );
    assert!(res.stats.lag.max() >= res.stats.sim_lag.max());
    assert!(
        res.stats.sim_lag.len() >= 40 * 5,
        "{}",
        res.stats.sim_lag.len()
    );
    // Only the starved wake-up was late: most sessions started on time (or early).
    let late = res.stats.sim_lag.count_between(us(1), u64::MAX);
    assert!(late <= 80, "{late} late sessions");
}

/// The real session ([`Network`]), noting the thread each one runs on.
#[derive(Default)]
struct Where {
    threads: Mutex<BTreeSet<String>>,
}

static NETWORK: Network = Network;

impl Runner for Where {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        let t = std::thread::current();
        let name = t.name().unwrap_or("unnamed").to_string();
        self.threads.lock().unwrap().insert(name);
        NETWORK.run(cfg, cpe, trace)
    }
}

/// A small fleet through the embedded ACS, in the given layout, until the ACS has seen every
/// device's boot session end; and the threads its sessions ran on.
async fn boot_all(layout: ShardRuntime) -> (u64, RunResult, BTreeSet<String>) {
    const DEVICES: u64 = 24;
    let e = Embedded::start("seed: layout\n", |t| {
        format!(
            "name: layout
seed: 3
duration: 60s
fleet:
  max_sessions: 100
  timer_slack: 10ms
  groups:
    - {{ name: gw, template: {t}, count: {DEVICES}, periodic_interval: 1h }}
phases:
  - boot: {{ over: 300ms }}
"
        )
    })
    .await;
    let at = Arc::new(Where::default());
    let opts = RunOptions {
        shards: Some(3),
        shard_runtime: layout,
        runner: Some(at.clone()),
        ..RunOptions::default()
    };
    let res = e.run_until(&opts, || sessions_over(&e.acs, DEVICES)).await;
    let threads = at.threads.lock().unwrap().clone();
    (e.acs.status().sessions.started, res, threads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_shard_layouts_take_a_fleet_through_the_embedded_acs_alike() {
    let (acs_threads, threads, on) = boot_all(ShardRuntime::Threads).await;
    let want: BTreeSet<String> = (0..3).map(|i| format!("cpefleet-shard-{i}")).collect();
    assert_eq!(on, want, "each shard's sessions on its own thread");
    let (acs_shared, shared, on) = boot_all(ShardRuntime::Shared).await;
    assert!(
        on.iter().all(|t| !t.starts_with("cpefleet-shard-")),
        "shared: on the test's runtime: {on:?}"
    );
    for (name, acs, r) in [
        ("threads", acs_threads, &threads),
        ("shared", acs_shared, &shared),
    ] {
        let s = &r.stats.sessions;
        assert_eq!(acs, 24, "{name}: sessions the ACS saw");
        assert_eq!(s.started, 24, "{name}: {s:?}");
        assert_eq!(s.succeeded, 24, "{name}: {s:?} {:?}", r.stats.errors);
        assert!(r.stats.errors.is_empty(), "{name}: {:?}", r.stats.errors);
    }
    assert_eq!(threads.stats.events, shared.stats.events);
}

/// Values clap cannot parse are refused before anything starts, named by the flag (exit 2);
/// a slack past the bound is refused by the scenario's check, named the same way.
#[test]
fn bad_shard_runtime_and_timer_slack_values_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let p = dir.path().join("s.yaml");
    std::fs::write(
        &p,
        format!(
            "name: x\nduration: 1s\nfleet:\n  groups: [{{ name: gw, template: {}, count: 1 }}]\n",
            template.display()
        ),
    )
    .unwrap();
    for (flags, name, says) in [
        (
            &["--shard-runtime", "fibers"][..],
            "--shard-runtime",
            "threads or shared",
        ),
        (&["--timer-slack", "soon"][..], "--timer-slack", "soon"),
        (&["--timer-slack", "5s"][..], "--timer-slack", "at most 1s"),
    ] {
        let out = crate::support::child::cpefleet()
            .arg("run")
            .arg(&p)
            .args(flags)
            .arg("--quiet")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(name) && err.contains(says), "{flags:?}: {err}");
    }
}
