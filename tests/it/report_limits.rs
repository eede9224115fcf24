//! The report says what limited a run, with separate figures: a run behind a small
//! `max_sessions` shows the wait for a slot; a run against an ACS with a session cap shows its
//! 503s and the session rate at which they began; neither is blamed on the simulator.

use std::net::SocketAddr;
use std::path::Path;

use cpefleet::acs::{self, AcsConfig, Policy};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::report::{limits::Limits, Report};
use cpefleet::scenario::{Overrides, Scenario};
use tokio_util::sync::CancellationToken;

async fn run(max_sessions: u32, policy: &str) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let scenario = format!(
        "name: limits\nseed: 2\ntime_scale: 60\nduration: 4s\n\
         fleet:\n  max_sessions: {max_sessions}\n  groups:\n    - {{ name: gw, template: {}, count: 40 }}\n\
         phases:\n  - boot: {{ over: 0s }}\n  - steady: {{ for: 4s }}\n",
        template.display()
    );
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, &scenario).unwrap();
    let s = Scenario::parse(&scenario, &path, &Overrides::default()).unwrap();
    let cancel = CancellationToken::new();
    let acs = acs::start(
        AcsConfig::new(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            Policy::parse(policy).unwrap(),
        ),
        cancel.clone(),
    )
    .await
    .unwrap();
    let r = fleet::run(&s, &acs.url(), &RunOptions::default(), cancel.child_token())
        .await
        .unwrap();
    cancel.cancel();
    Report::from_run(&r, "limits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_max_sessions_shows_as_slot_wait_not_simulator_lag() {
    // 40 devices due at once, one session at a time, each session slowed by the ACS's
    // discovery: most wait for the slot.
    let r = run(
        1,
        "seed: l\nbootstrap: { events: [\"0 BOOTSTRAP\"], discover: true, next_level_depth: 2 }\n",
    )
    .await;
    let l = Limits::of(&r);
    assert!(l.slot_wait_p99_ms > 100.0, "{l:?}");
    assert!(l.slot_wait_p99_ms > 10.0 * l.simulator_lag_p99_ms, "{l:?}");
    assert!(l.diagnosis.contains("for a slot"), "{l:?}");
    assert_eq!(l.http_503, 0);
    let text = cpefleet::report::text::render(&r);
    assert!(text.contains("diagnosis sessions waited"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(json["limits"]["diagnosis"], l.diagnosis.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acs_503s_show_as_saturation_with_the_rate_they_began_at() {
    let r = run(
        64,
        "seed: l\nmax_concurrent_sessions: 1\nbootstrap: { events: [\"0 BOOTSTRAP\"], discover: true, next_level_depth: 2 }\n",
    )
    .await;
    let l = Limits::of(&r);
    assert!(l.http_503 > 0, "{l:?} {:?}", r.errors);
    assert!(l.first_503_s.is_some(), "{l:?}");
    assert!(
        l.sessions_per_s_at_first_503.is_some_and(|x| x > 0.0),
        "{l:?}"
    );
    assert!(l.diagnosis.starts_with("the ACS is saturated"), "{l:?}");
    // The figure survives the JSON round trip (merged reports keep it).
    let back = Report::from_json(&r.to_json(), "r.json").unwrap();
    assert_eq!(Limits::of(&back), l);
}
