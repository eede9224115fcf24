//! Reproducible by seed: one scenario run twice with one seed against the embedded ACS (the null
//! policy: InformResponse, then done — deterministic) under tokio's paused clock gives the same
//! per-device session times and the same counts, and `report compare` of the two JSON reports
//! finds nothing. Every random choice the scenario exercises — periodic jitter, connection
//! resets, slow bodies, the WAN's jitter and stalls, TR-069 §3.2.1.1 retry waits, an outage's
//! share and recovery, open-model arrivals, churn — derives from (seed, device, event ordinal),
//! never from a clock reading nor from the shard layout: the same run split over 1 or 3 shards,
//! or over two processes' slices, gives every device the same sessions at the same times.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpefleet::acs::{self, AcsConfig, Policy};
use cpefleet::fleet::cpe::Cpe;
use cpefleet::fleet::runner::{Runner, SessionFuture};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::report::Report;
use cpefleet::scenario::{Overrides, Scenario};
use cpefleet::session::trace::Trace;
use cpefleet::session::SessionConfig;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The real network session, with who started when (ms of the paused clock) written down.
struct Recording {
    t0: Instant,
    seen: Mutex<Vec<(u32, u64)>>,
}

impl Runner for Recording {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        let at = self.t0.elapsed().as_millis() as u64;
        self.seen.lock().unwrap().push((cpe.device.index(), at));
        Box::pin(cpefleet::session::run(cfg, cpe, trace))
    }
}

const SCENARIO: &str = "name: seeded
seed: 1234
time_scale: 60
duration: 40s
fleet:
  max_sessions: 8
  groups:
    - name: gw
      template: TEMPLATE
      count: 24
      bootstrapped: true
      periodic_interval: 5m
      jitter: 60%
      impairments: { reset_rate: 15%, slow_body_rate: 5% }
      wan: { delay: 30ms, jitter: 40ms, loss: 3%, bandwidth: 2Mbit/s }
phases:
  - boot: { over: 3s }
  - steady: { for: 10s }
  - outage: { share: 50%, down: 2s, recover_over: 3s, then: 3s }
  - rate: { for: 6s, target: 1/s, ramp_to: 3/s, arrivals: poisson, event: \"6 CONNECTION REQUEST\" }
  - churn: { for: 10s, value_changes: 20/h, reboots: 10/h }
";

struct Run {
    /// Per device, its session start times in order.
    per_device: Vec<Vec<u64>>,
    report: Report,
}

async fn run_once(s: &Scenario) -> Run {
    run_layout(s, 2, None).await
}

/// One run over `shards` shards, of the whole fleet or of one process's slice (`shard_of`).
async fn run_layout(s: &Scenario, shards: u32, shard_of: Option<(u32, u32)>) -> Run {
    let cancel = CancellationToken::new();
    let acs = acs::start(
        AcsConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Policy::from_arg("null").unwrap(),
        ),
        cancel.clone(),
    )
    .await
    .unwrap();
    let rec = Arc::new(Recording {
        t0: Instant::now(),
        seen: Mutex::new(vec![]),
    });
    let opts = RunOptions {
        shards: Some(shards),
        shard_of,
        grace: Duration::from_secs(5),
        runner: Some(rec.clone()),
        ..RunOptions::default()
    };
    let result = fleet::run(s, &acs.url(), &opts, cancel.child_token())
        .await
        .unwrap();
    cancel.cancel();
    let mut per_device = vec![vec![]; 24];
    for (index, at) in rec.seen.lock().unwrap().iter() {
        per_device[*index as usize].push(*at);
    }
    for v in &mut per_device {
        v.sort_unstable();
    }
    Run {
        per_device,
        report: Report::from_run(&result, &s.name),
    }
}

fn scenario(dir: &Path, max_sessions: u32) -> Scenario {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let path = dir.join("seeded.yaml");
    let src = SCENARIO
        .replace("TEMPLATE", &template.display().to_string())
        .replace("max_sessions: 8", &format!("max_sessions: {max_sessions}"));
    std::fs::write(&path, &src).unwrap();
    Scenario::parse(&src, &path, &Overrides::default()).unwrap()
}

#[tokio::test(start_paused = true)]
async fn one_seed_gives_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), 8);

    let a = run_once(&s).await;
    let b = run_once(&s).await;
    let (ra, rb) = (&a.report, &b.report);
    // The run did what the test is about: periodic sessions, failures and their retries.
    assert!(ra.sessions.started > 150, "{:?}", ra.sessions);
    assert!(ra.sessions.failed > 5, "resets happened: {:?}", ra.sessions);
    // Boots: 24 power-ups, half of them again after the outage, and churn's reboots.
    for (event, least) in [
        ("2 PERIODIC", 50),
        ("6 CONNECTION REQUEST", 5),
        ("1 BOOT", 40),
    ] {
        assert!(
            ra.events.get(event).copied().unwrap_or(0) >= least,
            "{event}: {:?}",
            ra.events
        );
    }
    for (i, (x, y)) in a.per_device.iter().zip(&b.per_device).enumerate() {
        assert_eq!(
            x, y,
            "device {i}: session start times (ms) differ between the runs"
        );
    }
    assert_eq!(ra.sessions, rb.sessions);
    assert_eq!(ra.events, rb.events);
    assert_eq!(ra.errors, rb.errors);
    assert_eq!(ra.faults, rb.faults);

    // `report compare` of the two reports finds nothing.
    let (ja, jb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&ja, ra.to_json()).unwrap();
    std::fs::write(&jb, rb.to_json()).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .args(["report", "compare"])
        .args([&ja, &jb])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(!out.contains("REGRESSION"), "{out}");
}

#[tokio::test(start_paused = true)]
async fn one_seed_gives_one_run_whatever_the_shard_layout() {
    // Enough session slots that no device ever waits for one: the cap is split per shard, and
    // a wait would be the layout's doing, not a random choice's.
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path(), 1000);
    let one = run_layout(&s, 1, None).await;
    let three = run_layout(&s, 3, None).await;
    // Two processes' slices (12 devices each, 2 shards each), put back together.
    let first = run_layout(&s, 2, Some((0, 2))).await;
    let second = run_layout(&s, 2, Some((1, 2))).await;
    assert!(
        one.report.sessions.started > 150,
        "{:?}",
        one.report.sessions
    );
    for i in 0..24 {
        let split = if first.per_device[i].is_empty() {
            &second.per_device[i]
        } else {
            assert!(second.per_device[i].is_empty(), "device {i} in both slices");
            &first.per_device[i]
        };
        assert!(!one.per_device[i].is_empty(), "device {i} never ran");
        assert_eq!(
            one.per_device[i], three.per_device[i],
            "device {i}: 1 shard vs 3 shards"
        );
        assert_eq!(&one.per_device[i], split, "device {i}: 1 process vs 2");
    }
    let (r1, r3) = (&one.report, &three.report);
    assert_eq!(r1.sessions, r3.sessions);
    assert_eq!(r1.events, r3.events);
    assert_eq!(r1.errors, r3.errors);
    assert!(
        r1.events.contains_key("6 CONNECTION REQUEST"),
        "{:?}",
        r1.events
    );
    assert!(
        r1.events.get("1 BOOT").is_some_and(|n| *n >= 40),
        "{:?}",
        r1.events
    );
}
