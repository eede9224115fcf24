//! The scheduler under tokio's paused clock: each phase starts the sessions it should, when it
//! should. Sessions are played by a runner without sockets that records who started when with
//! which events, so minutes of schedule run in milliseconds and nothing depends on the machine.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpefleet::fleet::cpe::Cpe;
use cpefleet::fleet::runner::{Runner, SessionFuture};
use cpefleet::fleet::{self, RunOptions, RunResult};
use cpefleet::scenario::{Overrides, Scenario};
use cpefleet::session::trace::Trace;
use cpefleet::session::{SessionConfig, SessionDevice, SessionError, SessionReport, Timings};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// One session as the fake runner saw it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    at_ms: u64,
    index: u32,
    events: Vec<String>,
    retry: u32,
}

struct FakeRunner {
    t0: Instant,
    seen: Mutex<Vec<Seen>>,
    /// How long each session takes.
    took: Duration,
    /// Sessions fail (ACS answers 500) while this is true.
    fail: bool,
}

impl FakeRunner {
    fn new(took: Duration, fail: bool) -> Arc<FakeRunner> {
        Arc::new(FakeRunner {
            t0: Instant::now(),
            seen: Mutex::new(vec![]),
            took,
            fail,
        })
    }
    fn seen(&self) -> Vec<Seen> {
        let mut v = self.seen.lock().unwrap().clone();
        v.sort_by_key(|s| (s.at_ms, s.index));
        v
    }
}

impl Runner for FakeRunner {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        _trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        Box::pin(async move {
            let inform = cpe.inform();
            self.seen.lock().unwrap().push(Seen {
                at_ms: self.t0.elapsed().as_millis() as u64,
                index: cpe.device.index(),
                events: inform
                    .events
                    .iter()
                    .map(|e| e.code.as_str().to_string())
                    .collect(),
                retry: inform.retry_count,
            });
            tokio::time::sleep(self.took).await;
            let outcome = if self.fail {
                Err(SessionError::Status(500))
            } else {
                cpe.inform_acknowledged();
                while let Some(_r) = cpe.next_request() {}
                Ok(())
            };
            SessionReport {
                inform_acknowledged: outcome.is_ok(),
                outcome,
                timings: Timings {
                    total: self.took,
                    ..Timings::default()
                },
                version: cfg.version,
                acs_requests: vec![],
                connections: 1,
            }
        })
    }
}

fn template() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-models/tr181-gateway.yaml")
        .display()
        .to_string()
}

fn scenario(body: &str) -> (tempfile::TempDir, Scenario) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.yaml");
    let src = body.replace("TEMPLATE", &template());
    std::fs::write(&path, &src).unwrap();
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    (dir, s)
}

async fn run(s: &Scenario, runner: Arc<FakeRunner>) -> RunResult {
    let opts = RunOptions {
        shards: Some(2),
        runner: Some(runner),
        ..RunOptions::default()
    };
    fleet::run(s, "http://127.0.0.1:9/acs", &opts, CancellationToken::new())
        .await
        .unwrap()
}

fn accounted(r: &RunResult) {
    let s = &r.stats;
    assert_eq!(
        s.started,
        s.succeeded + s.failed + s.cancelled,
        "every session started is accounted for: {s:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn boot_ramp_spreads_first_sessions_evenly() {
    let (_d, s) = scenario(
        "name: ramp
seed: 3
duration: 15s
fleet:
  max_sessions: 10000
  groups: [{ name: gw, template: TEMPLATE, count: 1000 }]
phases:
  - boot: { over: 10s }
",
    );
    let r = FakeRunner::new(Duration::from_millis(50), false);
    let res = run(&s, r.clone()).await;
    let seen = r.seen();
    let boots: Vec<&Seen> = seen
        .iter()
        .filter(|x| x.events.contains(&"1 BOOT".to_string()))
        .collect();
    assert_eq!(boots.len(), 1000, "every device boots exactly once");
    let mut idx: Vec<u32> = boots.iter().map(|b| b.index).collect();
    idx.sort();
    idx.dedup();
    assert_eq!(idx.len(), 1000);
    assert!(boots
        .iter()
        .all(|b| b.events == vec!["0 BOOTSTRAP".to_string(), "1 BOOT".to_string()]));
    // Uniform ramp: each second of the 10 s holds about a tenth.
    for sec in 0..10 {
        let n = boots.iter().filter(|b| b.at_ms / 1000 == sec).count();
        assert!((60..=140).contains(&n), "second {sec}: {n} boots");
    }
    assert!(boots.iter().all(|b| b.at_ms < 10_050));
    assert_eq!(res.stats.started, seen.len() as u64);
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn idle_devices_keep_no_side_state_after_their_sessions() {
    // A boot storm queues every device at once; once their sessions are over, idle devices
    // must not each keep a side entry (that cost ~200 bytes per device at 1M).
    let (_d, s) = scenario(
        "name: storm
seed: 9
duration: 20s
fleet:
  max_sessions: 20
  groups: [{ name: gw, template: TEMPLATE, count: 500, bootstrapped: true, periodic_interval: 24h }]
phases:
  - boot: { over: 1s }
",
    );
    let r = FakeRunner::new(Duration::from_millis(10), false);
    let res = run(&s, r.clone()).await;
    assert_eq!(res.stats.succeeded, 500, "{:?}", res.stats);
    assert_eq!(res.stats.side_entries, 0);
    accounted(&res);
    // Failed sessions do keep their retry timer as side state.
    let failing = FakeRunner::new(Duration::from_millis(10), true);
    let res = run(&s, failing).await;
    assert!(res.stats.failed >= 500);
    assert!(res.stats.side_entries > 0);
}

#[tokio::test(start_paused = true)]
async fn steady_periodic_informs_follow_the_interval() {
    // 60x time: the 300 s periodic interval fires every 5 s of real time.
    let (_d, s) = scenario(
        "name: steady
seed: 5
time_scale: 60
duration: 62s
fleet:
  max_sessions: 1000
  groups: [{ name: gw, template: TEMPLATE, count: 100, periodic_interval: 300s, bootstrapped: true }]
phases:
  - boot: { over: 2s }
  - steady: { for: 60s }
",
    );
    let r = FakeRunner::new(Duration::from_millis(20), false);
    let res = run(&s, r.clone()).await;
    let seen = r.seen();
    let boots = seen
        .iter()
        .filter(|x| x.events.contains(&"1 BOOT".into()))
        .count();
    assert_eq!(boots, 100);
    assert!(
        seen.iter()
            .all(|x| !x.events.contains(&"0 BOOTSTRAP".into())),
        "bootstrapped devices boot with 1 BOOT only"
    );
    let periodic: Vec<&Seen> = seen
        .iter()
        .filter(|x| x.events == vec!["2 PERIODIC".to_string()])
        .collect();
    // Each device: a periodic inform every 5 s after its boot, within the 62 s: 11 or 12.
    assert!(
        (1100..=1200).contains(&periodic.len()),
        "{} periodic sessions",
        periodic.len()
    );
    let d0: Vec<u64> = periodic
        .iter()
        .filter(|x| x.index == 0)
        .map(|x| x.at_ms)
        .collect();
    for w in d0.windows(2) {
        let gap = w[1] - w[0];
        assert!((4900..=5100).contains(&gap), "device 0 gap {gap} ms");
    }
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn open_model_rate_within_tolerance() {
    let (_d, s) = scenario(
        "name: open
seed: 11
duration: 22s
fleet:
  max_sessions: 10000
  groups: [{ name: gw, template: TEMPLATE, count: 5000, bootstrapped: true }]
phases:
  - boot: { over: 1s }
  - rate: { for: 20s, target: 100/s, arrivals: poisson }
  - steady: { for: 1s }
",
    );
    let r = FakeRunner::new(Duration::from_millis(10), false);
    let res = run(&s, r.clone()).await;
    let cr = r
        .seen()
        .iter()
        .filter(|x| x.events == vec!["6 CONNECTION REQUEST".to_string()])
        .count() as u64;
    // 2000 expected; Poisson sd ≈ 45. Dropped arrivals (device busy) are counted.
    let total = cr + res.stats.dropped;
    assert!(
        (1800..=2200).contains(&total),
        "{cr} sessions + {} dropped",
        res.stats.dropped
    );
    assert!(res.stats.dropped < 50, "{}", res.stats.dropped);
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_schedule() {
    let body = "name: seeded
seed: 42
duration: 8s
fleet:
  max_sessions: 10000
  groups: [{ name: gw, template: TEMPLATE, count: 300 }]
phases:
  - boot: { over: 3s }
  - rate: { for: 5s, target: 40/s, arrivals: poisson }
";
    let (_d, s) = scenario(body);
    let a = FakeRunner::new(Duration::from_millis(10), false);
    run(&s, a.clone()).await;
    let b = FakeRunner::new(Duration::from_millis(10), false);
    run(&s, b.clone()).await;
    let key = |r: &FakeRunner| -> Vec<(u64, u32)> {
        r.seen().iter().map(|x| (x.at_ms, x.index)).collect()
    };
    assert_eq!(key(&a), key(&b));
    let (_d2, mut s2) = scenario(body);
    s2.seed = 43;
    let c = FakeRunner::new(Duration::from_millis(10), false);
    run(&s2, c.clone()).await;
    assert_ne!(key(&a), key(&c), "another seed, another schedule");
}

#[tokio::test(start_paused = true)]
async fn failures_back_off_per_tr069_and_count_retries() {
    // Real time = simulated: retry waits are 5-10 s, then 10-20 s, then 20-40 s.
    let (_d, s) = scenario(
        "name: retry
seed: 9
duration: 60s
fleet:
  max_sessions: 100
  groups: [{ name: gw, template: TEMPLATE, count: 20 }]
",
    );
    let r = FakeRunner::new(Duration::from_millis(10), true);
    let res = run(&s, r.clone()).await;
    let seen = r.seen();
    for dev in 0..20u32 {
        let mine: Vec<&Seen> = seen.iter().filter(|x| x.index == dev).collect();
        assert!(mine.len() >= 3, "device {dev}: {} attempts", mine.len());
        let retries: Vec<u32> = mine.iter().map(|x| x.retry).collect();
        assert_eq!(&retries[..3], &[0, 1, 2], "RetryCount counts the failures");
        assert!(
            mine.iter()
                .all(|x| x.events.contains(&"0 BOOTSTRAP".into())),
            "events kept until delivered"
        );
        let gap1 = mine[1].at_ms - mine[0].at_ms;
        let gap2 = mine[2].at_ms - mine[1].at_ms;
        assert!((5_000..=10_100).contains(&gap1), "first wait {gap1}");
        assert!((10_000..=20_100).contains(&gap2), "second wait {gap2}");
    }
    assert_eq!(res.stats.succeeded, 0);
    assert_eq!(
        res.stats.errors.get("http_5xx").copied(),
        Some(res.stats.failed)
    );
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn outage_brings_a_boot_storm_after_power_returns() {
    let (_d, s) = scenario(
        "name: outage
seed: 2
duration: 40s
fleet:
  max_sessions: 10000
  groups: [{ name: gw, template: TEMPLATE, count: 400 }]
phases:
  - boot: { over: 2s }
  - steady: { for: 3s }
  - outage: { share: 50%, down: 10s, recover_over: 5s, then: 20s }
",
    );
    let r = FakeRunner::new(Duration::from_millis(10), false);
    let res = run(&s, r.clone()).await;
    let seen = r.seen();
    // Power goes at 5 s and returns between 15 and 20 s: those devices boot again (BOOT only:
    // they bootstrapped before the outage).
    let second: Vec<&Seen> = seen
        .iter()
        .filter(|x| x.at_ms >= 5_000 && x.events.contains(&"1 BOOT".into()))
        .collect();
    assert!(
        (150..=250).contains(&second.len()),
        "{} reboots",
        second.len()
    );
    assert!(
        second.iter().all(|x| (15_000..20_100).contains(&x.at_ms)),
        "after the outage"
    );
    assert!(second
        .iter()
        .all(|x| !x.events.contains(&"0 BOOTSTRAP".into())));
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn cap_queues_devices_and_lag_is_measured() {
    // 200 devices at once, 4 sessions at a time of 1 s each: the last wait ~50 s.
    let (_d, s) = scenario(
        "name: capped
seed: 1
duration: 70s
fleet:
  max_sessions: 4
  groups: [{ name: gw, template: TEMPLATE, count: 200 }]
",
    );
    let r = FakeRunner::new(Duration::from_secs(1), false);
    let res = run(&s, r.clone()).await;
    assert_eq!(res.stats.started, 200);
    let max_lag_s = res.stats.lag.max() as f64 / 1e6;
    assert!((45.0..=55.0).contains(&max_lag_s), "max lag {max_lag_s}");
    // Latency from the intended start includes the wait (coordinated omission corrected).
    assert!(res.stats.session_intended.max() > res.stats.session.max() * 40);
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn cancellation_accounts_for_every_session() {
    let (_d, s) = scenario(
        "name: cancel
seed: 1
duration: 1h
fleet:
  max_sessions: 50
  groups: [{ name: gw, template: TEMPLATE, count: 100 }]
",
    );
    // Sessions that never end on their own: the grace period cancels them.
    let r = FakeRunner::new(Duration::from_secs(3600 * 10), false);
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        c2.cancel();
    });
    let opts = RunOptions {
        shards: Some(2),
        runner: Some(r.clone()),
        grace: Duration::from_secs(2),
        ..RunOptions::default()
    };
    let res = fleet::run(&s, "http://127.0.0.1:9/", &opts, cancel)
        .await
        .unwrap();
    assert_eq!(res.stats.started, 50, "the cap");
    assert_eq!(res.stats.cancelled, 50);
    accounted(&res);
}
