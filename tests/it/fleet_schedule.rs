//! The scheduler under tokio's paused clock: each phase starts the sessions it should, when it
//! should. Sessions are played by a runner without sockets that records who started when with
//! which events, so minutes of schedule run in milliseconds and nothing depends on the machine.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpefleet::cwmp::{AcsRequest, Download};
use cpefleet::fleet::cpe::Cpe;
use cpefleet::fleet::runner::{Runner, SessionFuture};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::RunResult;
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
    /// Sessions fail with 503 and this Retry-After.
    overload: Option<Duration>,
    /// The ACS asks every device for a firmware Download from this URL.
    download: Option<String>,
    /// Each session waits for a permit of this before it ends (the test says when).
    gate: Option<Arc<tokio::sync::Semaphore>>,
}

impl FakeRunner {
    fn new(took: Duration, fail: bool) -> Arc<FakeRunner> {
        Arc::new(FakeRunner {
            t0: Instant::now(),
            seen: Mutex::new(vec![]),
            took,
            fail,
            overload: None,
            download: None,
            gate: None,
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
            if let Some(g) = &self.gate {
                g.acquire().await.unwrap().forget();
            }
            let outcome = if let Some(ra) = self.overload {
                Err(SessionError::Overloaded {
                    retry_after: Some(ra),
                })
            } else if self.fail {
                Err(SessionError::Status(500))
            } else {
                cpe.inform_acknowledged();
                while let Some(_r) = cpe.next_request() {}
                if let Some(url) = &self.download {
                    cpe.apply(&AcsRequest::Download(Download {
                        command_key: "fw".into(),
                        file_type: "1 Firmware Upgrade Image".into(),
                        url: url.clone(),
                        ..Download::default()
                    }));
                }
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
                checks: Default::default(),
                auth: None,
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

/// The session counts, without the histograms, for assertion messages.
fn counts(r: &RunResult) -> String {
    let s = &r.stats;
    format!(
        "started {} succeeded {} failed {} cancelled {} errors {:?}",
        s.sessions.started, s.sessions.succeeded, s.sessions.failed, s.sessions.cancelled, s.errors
    )
}

fn accounted(r: &RunResult) {
    let s = &r.stats;
    assert_eq!(
        s.sessions.started,
        s.sessions.succeeded + s.sessions.failed + s.sessions.cancelled,
        "every session started is accounted for: {}",
        counts(r)
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
    assert_eq!(res.stats.sessions.started, seen.len() as u64);
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
    assert_eq!(res.stats.sessions.succeeded, 500, "{:?}", res.stats);
    assert_eq!(res.stats.side_entries, 0);
    accounted(&res);
    // Failed sessions do keep their retry timer as side state.
    let failing = FakeRunner::new(Duration::from_millis(10), true);
    let res = run(&s, failing).await;
    assert!(res.stats.sessions.failed >= 500);
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
    let total = cr + res.stats.sessions.dropped;
    assert!(
        (1800..=2200).contains(&total),
        "{cr} sessions + {} dropped",
        res.stats.sessions.dropped
    );
    assert!(
        res.stats.sessions.dropped < 50,
        "{}",
        res.stats.sessions.dropped
    );
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
    assert_eq!(res.stats.sessions.succeeded, 0);
    assert_eq!(
        res.stats.errors.get("http_5xx").copied(),
        Some(res.stats.sessions.failed)
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
    assert_eq!(res.stats.sessions.started, 200);
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
    assert_eq!(res.stats.sessions.started, 50, "the cap");
    assert_eq!(res.stats.sessions.cancelled, 50);
    accounted(&res);
}

/// Downloads still running when the grace period ends are cut off with the sessions; they are
/// counted as lost transfers, never as cancelled sessions, so the session counts still add up.
#[tokio::test]
async fn transfers_cut_off_at_shutdown_are_not_counted_as_sessions() {
    // A file server that accepts and never answers: every Download hangs until cancelled.
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fw.bin", server.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut conns = vec![];
        while let Ok((c, _)) = server.accept().await {
            conns.push(c);
        }
    });
    let (_d, s) = scenario(
        "name: cut
seed: 1
duration: 1h
fleet:
  groups: [{ name: gw, template: TEMPLATE, count: 4 }]
",
    );
    let r = Arc::new(FakeRunner {
        download: Some(url),
        ..Arc::into_inner(FakeRunner::new(Duration::from_millis(10), false)).unwrap()
    });
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        c2.cancel();
    });
    let opts = RunOptions {
        shards: Some(2),
        runner: Some(r.clone()),
        grace: Duration::from_millis(300),
        ..RunOptions::default()
    };
    let res = tokio::time::timeout(
        Duration::from_secs(20),
        fleet::run(&s, "http://127.0.0.1:9/", &opts, cancel),
    )
    .await
    .expect("the grace period bounds the run")
    .unwrap();
    held.abort();
    assert_eq!(r.seen().len(), 4, "each device had its boot session");
    assert_eq!(res.stats.sessions.started, 4);
    assert_eq!(res.stats.sessions.succeeded, 4);
    assert_eq!(
        res.stats.sessions.cancelled,
        0,
        "no session was cut off: {}",
        counts(&res)
    );
    assert_eq!(
        res.stats.errors.get("transfer_cancelled").copied(),
        Some(4),
        "each hanging Download is counted: {}",
        counts(&res)
    );
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn retry_after_of_a_503_is_a_floor_on_the_next_attempt() {
    let (_d, s) = scenario(
        "name: overload
seed: 9
duration: 200s
fleet:
  max_sessions: 100
  groups: [{ name: gw, template: TEMPLATE, count: 10 }]
",
    );
    let r = Arc::new(FakeRunner {
        t0: Instant::now(),
        seen: Mutex::new(vec![]),
        took: Duration::from_millis(10),
        fail: false,
        overload: Some(Duration::from_secs(60)),
        download: None,
        gate: None,
    });
    let res = run(&s, r.clone()).await;
    let seen = r.seen();
    for dev in 0..10u32 {
        let mine: Vec<&Seen> = seen.iter().filter(|x| x.index == dev).collect();
        // The TR-069 wait would be 5-10 s; the ACS asked for 60 s.
        for w in mine.windows(2) {
            let gap = w[1].at_ms - w[0].at_ms;
            assert!(gap >= 60_000, "device {dev}: retried after {gap} ms");
        }
        assert!(mine.len() >= 3, "device {dev}: {} attempts", mine.len());
    }
    assert_eq!(
        res.stats.errors.get("http_503").copied(),
        Some(res.stats.sessions.failed)
    );
    accounted(&res);
}

/// `Retry-After` is the ACS's wall-clock instruction: under `time_scale: 60` a 120 s
/// Retry-After still holds the device off for 120 real seconds (it used to be divided by the
/// time scale: a retry every 2 s). The TR-069 back-off itself is simulated time and is scaled.
#[tokio::test(start_paused = true)]
async fn retry_after_is_not_scaled_by_the_time_scale() {
    let (_d, s) = scenario(
        "name: overload-scaled
seed: 9
time_scale: 60
duration: 400s
fleet:
  max_sessions: 100
  groups: [{ name: gw, template: TEMPLATE, count: 4, periodic_interval: 24h }]
",
    );
    // (A periodic inform every 24 h simulated, 24 min real: none comes due in the run.)
    let r = Arc::new(FakeRunner {
        t0: Instant::now(),
        seen: Mutex::new(vec![]),
        took: Duration::from_millis(10),
        fail: false,
        overload: Some(Duration::from_secs(120)),
        download: None,
        gate: None,
    });
    let res = run(&s, r.clone()).await;
    let seen = r.seen();
    for dev in 0..4u32 {
        let mine: Vec<&Seen> = seen.iter().filter(|x| x.index == dev).collect();
        for w in mine.windows(2) {
            let gap = w[1].at_ms - w[0].at_ms;
            assert!(gap >= 120_000, "device {dev}: retried after {gap} ms");
        }
        assert!(mine.len() >= 3, "device {dev}: {} attempts", mine.len());
    }
    accounted(&res);
}

/// A connection request that arrives while the device is in a session is answered at once
/// (200) and starts a new `6 CONNECTION REQUEST` session right after the current one
/// (TR-069 §3.2.2). Real time: the request goes through the real listener with Digest. The
/// boot session lasts until the test has its answer (a gate, not a guessed duration), and the
/// run ends once the second session was seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_request_mid_session_starts_a_session_right_after() {
    use cpefleet::auth::Challenge;
    use cpefleet::net::body::Body;
    use cpefleet::net::client::{Connector, Endpoint};

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_d, s) = scenario(&format!(
        "name: cr
seed: 1
duration: 60s
fleet:
  max_sessions: 10
  connection_requests: {{ listen: \"127.0.0.1:{port}\", min_interval: 0s }}
  groups: [{{ name: gw, template: TEMPLATE, count: 1, bootstrapped: true }}]
"
    ));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let r = Arc::new(FakeRunner {
        gate: Some(gate.clone()),
        ..Arc::into_inner(FakeRunner::new(Duration::ZERO, false)).unwrap()
    });
    let runner = r.clone();
    let end = CancellationToken::new();
    let end2 = end.clone();
    let fleet_task = tokio::spawn(async move {
        let opts = RunOptions {
            shards: Some(2),
            runner: Some(runner),
            ..RunOptions::default()
        };
        fleet::run(&s, "http://127.0.0.1:9/acs", &opts, end2)
            .await
            .unwrap()
    });

    // Device 0's credentials, as the template generates them.
    let t = cpefleet::model::Template::load(Path::new(&template())).unwrap();
    let mut dev = cpefleet::device::Device::new(0);
    let env = cpefleet::device::Env {
        seed: 1,
        now: cpefleet::cwmp::DateTime::from_unix_ms(0),
        cr_url_base: "",
        udp: None,
    };
    let v = cpefleet::device::DeviceView::new(&t, &mut dev, &env);
    let user = v
        .get("Device.ManagementServer.ConnectionRequestUsername")
        .unwrap()
        .value;
    let pass = v
        .get("Device.ManagementServer.ConnectionRequestPassword")
        .unwrap()
        .value;

    // Wait for the event (the boot session started), not for a guessed time.
    for _ in 0..1000 {
        if !r.seen().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(r.seen().len(), 1, "the boot session is running");
    let ep = Endpoint::parse(&format!("http://127.0.0.1:{port}/cr/0")).unwrap();
    let c = Connector {
        connect_timeout: Duration::from_secs(1),
        tls: None,
        tls_error: None,
    };
    let mut conn = c.connect(&ep, None).await.unwrap();
    let get = |a: Option<String>| {
        let mut b = http::Request::get("/cr/0").header("Host", ep.authority());
        if let Some(a) = a {
            b = b.header("Authorization", a);
        }
        b.body(Body::full(bytes::Bytes::new())).unwrap()
    };
    let first = conn
        .send(get(None), Duration::from_secs(1), 1024)
        .await
        .unwrap();
    assert_eq!(first.status, 401);
    let Ok(Some(Challenge::Digest(ch))) =
        Challenge::parse(first.headers["www-authenticate"].to_str().unwrap())
    else {
        panic!("no digest challenge")
    };
    let a = ch.authorization(&user, &pass, "GET", "/cr/0", 1, "0123abcd");
    let ok = conn
        .send(get(Some(a)), Duration::from_secs(1), 1024)
        .await
        .unwrap();
    assert_eq!(ok.status, 200, "answered at once, mid-session");
    // At once: the boot session is still held at its gate.
    assert_eq!(r.seen().len(), 1, "answered before the boot session ended");

    // The boot session ends; the connection-request session follows it.
    let released_ms = r.t0.elapsed().as_millis() as u64;
    gate.add_permits(2);
    for _ in 0..1000 {
        if r.seen().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    end.cancel();
    let res = fleet_task.await.unwrap();
    let seen = r.seen();
    // The boot session and the connection-request one, nothing else (the periodic interval is
    // 300 s): without the hand-over there would be no second session.
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].events, vec!["6 CONNECTION REQUEST".to_string()]);
    assert!(
        seen[1].at_ms >= released_ms,
        "started after the first session ended at {released_ms} ms: {seen:?}"
    );
    assert_eq!(res.cr.get(cpefleet::cr::CrResult::Accepted), 1);
    accounted(&res);
}

#[tokio::test(start_paused = true)]
async fn steady_jitter_spreads_periodic_informs_within_bounds() {
    let (_d, s) = scenario(
        "name: jitter
seed: 21
time_scale: 60
duration: 62s
fleet:
  max_sessions: 1000
  groups: [{ name: gw, template: TEMPLATE, count: 50, periodic_interval: 300s, jitter: 20%, bootstrapped: true }]
phases:
  - boot: { over: 0s }
  - steady: { for: 62s }
",
    );
    let r = FakeRunner::new(Duration::from_millis(5), false);
    let res = run(&s, r.clone()).await;
    let seen = r.seen();
    let mut gaps = Vec::new();
    for dev in 0..50u32 {
        let times: Vec<u64> = seen
            .iter()
            .filter(|x| x.index == dev && x.events == vec!["2 PERIODIC".to_string()])
            .map(|x| x.at_ms)
            .collect();
        assert!(times.len() >= 9, "device {dev}: {} periodic", times.len());
        // The first periodic of a device is 5 s after its boot plus its jitter (0-1 s).
        assert!(
            (5_000..=6_100).contains(&times[0]),
            "device {dev} first at {}",
            times[0]
        );
        gaps.extend(times.windows(2).map(|w| w[1] - w[0]));
    }
    // Interval 5 s real, jitter ±20 % of it between consecutive informs.
    assert!(gaps.iter().all(|g| (3_900..=6_100).contains(g)), "{gaps:?}");
    let min = gaps.iter().min().unwrap();
    let max = gaps.iter().max().unwrap();
    assert!(max - min > 1_000, "jitter spreads the fleet: {min}..{max}");
    // Booted all at once, the devices do not inform in lock-step.
    let first: std::collections::BTreeSet<u64> = seen
        .iter()
        .filter(|x| x.events == vec!["2 PERIODIC".to_string()])
        .map(|x| x.at_ms / 100)
        .take(50)
        .collect();
    assert!(first.len() > 5, "{first:?}");
    accounted(&res);
}
