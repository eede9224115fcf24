//! The WAN model and the `acs_outage` phase, under tokio's paused clock against the embedded
//! ACS: a WAN delays every exchange in both directions (and the TCP handshake) by exactly what
//! the seeded model says, stalls included; an ACS outage refuses the devices' connections for
//! its window while they keep running and retry with the TR-069 §3.2.1.1 back-off, and they
//! are back once it ends; the scenario keys parse, and bad ones fail at their line and column.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::device::TestDevice;
use cpefleet::acs::{self, AcsConfig, AcsHandle, Policy};
use cpefleet::cwmp::CwmpVersion;
use cpefleet::fleet::cpe::Cpe;
use cpefleet::fleet::runner::{Runner, SessionFuture};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::net::client::{Connector, Endpoint};
use cpefleet::net::wan::{OutageMode, WanModel};
use cpefleet::scenario::{Overrides, PhaseKind, Scenario};
use cpefleet::session::trace::Trace;
use cpefleet::session::{Exchange, Impairments, SessionConfig};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

async fn embedded_acs(cancel: &CancellationToken) -> AcsHandle {
    let mut cfg = AcsConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Policy::from_arg("null").unwrap(),
    );
    // A leg that loses five packets in a row waits 31 RTOs, past the default 30 s.
    cfg.session_timeout = Duration::from_secs(120);
    acs::start(cfg, cancel.clone()).await.unwrap()
}

fn config(url: &str, impairments: Impairments) -> SessionConfig {
    SessionConfig {
        acs: Endpoint::parse(url).unwrap(),
        connector: Connector {
            connect_timeout: Duration::from_secs(10),
            tls: None,
            tls_error: None,
        },
        local_addr: None,
        credentials: None,
        version: CwmpVersion::V1_0,
        exchange_timeout: Duration::from_secs(30),
        session_timeout: Duration::from_secs(300),
        max_body: 64 * 1024,
        max_exchanges: 100,
        user_agent: "cpefleet-test".into(),
        id_prefix: "cpe".into(),
        impairments,
    }
}

#[tokio::test(start_paused = true)]
async fn the_wan_delays_every_exchange_both_ways_by_the_seeded_model() {
    let cancel = CancellationToken::new();
    let acs = embedded_acs(&cancel).await;
    let wan = WanModel {
        delay: Duration::from_millis(80),
        jitter: Duration::from_millis(40),
        loss: 0.25,
        rto: Duration::from_secs(1),
        bandwidth: Some(20_000),
    };
    let mut totals = vec![];
    for seed in 0..8 {
        let imp = Impairments {
            wan,
            seed,
            ..Impairments::default()
        };
        let mut dev = TestDevice::default();
        let report = cpefleet::session::run(&config(&acs.url(), imp), &mut dev, None).await;
        assert!(report.is_ok(), "seed {seed}: {:?}", report.outcome);
        let t = &report.timings;
        // Inform and the empty POST: the handshake and two exchanges, 6 legs.
        assert_eq!(t.exchanges.len(), 2);
        assert_eq!(t.exchanges[0].0, Exchange::Inform);
        // Loopback costs nothing on the paused clock: the session is its WAN time (the
        // paused clock's timers round each of the 6 legs up to the millisecond).
        assert!(t.total >= t.wan.delayed, "seed {seed}");
        assert!(
            t.total - t.wan.delayed <= Duration::from_millis(6),
            "seed {seed}"
        );
        let stalls = u64::from(t.wan.stalls[0] + t.wan.stalls[1]);
        assert!(t.wan.delayed >= Duration::from_millis(6 * 80) + Duration::from_secs(stalls));
        for (x, d) in &t.exchanges {
            assert!(
                *d >= Duration::from_millis(160),
                "{x:?} {d:?}: a way up and down"
            );
        }
        // The Inform (~1 kB up) at 20 kB/s: ~50 ms of carrying on top of the delays.
        assert!(
            t.exchanges[0].1 >= Duration::from_millis(200),
            "{:?}",
            t.exchanges[0]
        );
        totals.push((t.total, stalls));
        // The same seed, the same waits.
        let mut again = TestDevice::default();
        let r2 = cpefleet::session::run(
            &config(
                &acs.url(),
                Impairments {
                    wan,
                    seed,
                    ..Default::default()
                },
            ),
            &mut again,
            None,
        )
        .await;
        assert_eq!(r2.timings.wan, t.wan);
    }
    assert!(
        totals.iter().any(|(_, s)| *s > 0),
        "25 % loss stalls some legs: {totals:?}"
    );
    assert!(totals.iter().any(|(_, s)| *s == 0), "{totals:?}");
    cancel.cancel();
}

/// Every session attempt: device, start (ms of the paused clock), its error label if it failed.
struct Recording {
    t0: Instant,
    seen: Mutex<Vec<(u32, u64, Option<&'static str>)>>,
}

impl Runner for Recording {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        Box::pin(async move {
            let (index, at) = (cpe.device.index(), self.t0.elapsed().as_millis() as u64);
            let r = cpefleet::session::run(cfg, cpe, trace).await;
            let label = r.outcome.as_ref().err().map(|e| e.label());
            self.seen.lock().unwrap().push((index, at, label));
            r
        })
    }
}

fn template() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-models/tr181-gateway.yaml")
        .display()
        .to_string()
}

fn parse(body: &str) -> Result<Scenario, String> {
    let src = body.replace("TEMPLATE", &template());
    Scenario::parse(&src, Path::new("/tmp/wan-test.yaml"), &Overrides::default())
        .map_err(|e| e.to_string())
}

#[tokio::test(start_paused = true)]
async fn devices_retry_with_back_off_through_an_acs_outage_and_come_back() {
    // 10x time: the spec's retry waits (5-10 s, 10-20 s, 20-40 s… simulated) are 0.5-1 s,
    // 1-2 s, 2-4 s… of run time. The devices power up at once into a 15 s outage, with no
    // periodic inform due for an hour: every attempt in the window is a retry.
    let s = parse(
        "name: acs-down
seed: 5
time_scale: 10
duration: 40s
fleet:
  groups:
    - { name: gw, template: TEMPLATE, count: 6, bootstrapped: true, periodic_interval: 1h }
phases:
  - acs_outage: { down: 15s, then: 25s }
",
    )
    .unwrap();
    let cancel = CancellationToken::new();
    let acs = embedded_acs(&cancel).await;
    let rec = Arc::new(Recording {
        t0: Instant::now(),
        seen: Mutex::new(vec![]),
    });
    let opts = RunOptions {
        shards: Some(1),
        grace: Duration::from_secs(5),
        runner: Some(rec.clone()),
        ..RunOptions::default()
    };
    let res = fleet::run(&s, &acs.url(), &opts, cancel.child_token())
        .await
        .unwrap();
    cancel.cancel();
    let (from, to) = (0u64, 15_000u64);
    let seen = rec.seen.lock().unwrap().clone();
    for d in 0..6u32 {
        let mine: Vec<_> = seen.iter().filter(|x| x.0 == d).cloned().collect();
        // Inside the window every attempt is refused; outside, none is.
        for (_, at, label) in &mine {
            let inside = (from..to).contains(at);
            assert_eq!(
                *label == Some("acs_outage_refused"),
                inside,
                "device {d} at {at} ms: {label:?}"
            );
        }
        // The device kept trying, each wait within the spec's range for its retry count.
        let failed: Vec<u64> = mine.iter().filter(|x| x.2.is_some()).map(|x| x.1).collect();
        assert!(failed.len() >= 3, "device {d}: {mine:?}");
        let next = mine.iter().map(|x| x.1).skip(1);
        for (n, (a, b)) in failed.iter().zip(next).enumerate() {
            let k = n as u32 + 1;
            let (lo, hi) = (500 * 2u64.pow(k - 1), 500 * 2u64.pow(k));
            assert!(
                (lo..=hi + 1).contains(&(b - a)),
                "device {d}, retry {k}: waited {} ms, the spec says {lo}..{hi}",
                b - a
            );
        }
        // And is back: a successful session after the ACS returned.
        assert!(
            mine.iter().any(|x| x.1 >= to && x.2.is_none()),
            "device {d} never came back: {mine:?}"
        );
    }
    let refused = res
        .stats
        .errors
        .get("acs_outage_refused")
        .copied()
        .unwrap_or(0);
    assert_eq!(
        refused,
        seen.iter().filter(|x| x.2.is_some()).count() as u64
    );
    assert!(res.stats.sessions.succeeded >= 6, "{:?}", res.stats.errors);
}

#[test]
fn the_network_keys_parse_into_the_model_and_the_phase() {
    let s = parse(
        "name: wan
fleet:
  groups:
    - name: dsl
      template: TEMPLATE
      count: 2
      wan: { delay: 40ms, jitter: 20ms, loss: 1%, bandwidth: 10Mbit/s }
phases:
  - boot: { over: 1s }
  - acs_outage: { down: 2m, mode: blackhole, then: 30s }
",
    )
    .unwrap();
    let w = s.groups[0].wan;
    assert_eq!(w.delay, Duration::from_millis(40));
    assert_eq!(w.jitter, Duration::from_millis(20));
    assert_eq!(w.loss, 0.01);
    assert_eq!(
        w.rto,
        Duration::from_secs(1),
        "RFC 6298's initial RTO by default"
    );
    assert_eq!(w.bandwidth, Some(1_250_000));
    assert_eq!(
        s.phases[1].kind,
        PhaseKind::AcsOutage {
            down: Duration::from_secs(120),
            mode: OutageMode::Blackhole
        }
    );
    assert_eq!(s.duration, Duration::from_secs(151));
}

#[test]
fn bad_network_keys_fail_at_their_place() {
    let group = |extra: &str| {
        format!(
            "name: bad
fleet:
  groups:
    - name: dsl
      template: TEMPLATE
      count: 2
{extra}
"
        )
    };
    for (body, at, says) in [
        (
            group("      impairments: { latency: 20ms }"),
            ":7:22:",
            "write wan: { delay: 20ms }",
        ),
        (
            group("      wan: { loss: 100% }"),
            ":7:14:",
            "wan.loss: below 100%",
        ),
        (
            group("      wan: { delay: 2m }"),
            ":7:14:",
            "wan.delay: at most 60s",
        ),
        (
            group("      wan: { bandwidth: 10Mbit }"),
            ":7:",
            "invalid bandwidth",
        ),
        (
            group("      wan: { dealy: 1s }"),
            ":7:",
            "unknown field `dealy`",
        ),
        (
            group("phases:\n  - acs_outage: { down: 1m, mode: sideways }"),
            ":8:35:",
            "acs_outage.mode \"sideways\": use refused or blackhole",
        ),
        (
            group("phases:\n  - acs_outage: { down: 0s }"),
            ":8:5:",
            "acs_outage.down: above zero",
        ),
    ] {
        let e = parse(&body).unwrap_err();
        assert!(e.contains(at) && e.contains(says), "{body}\n→ {e}");
    }
}

#[test]
fn the_readme_scenario_shows_the_network_keys_and_parses() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let at = readme.find("## Scenarios").unwrap();
    let body = &readme[at..];
    let start = body.find("```yaml\n").unwrap() + "```yaml\n".len();
    let yaml = &body[start..start + body[start..].find("```").unwrap()];
    assert!(
        yaml.contains("wan:") && yaml.contains("acs_outage:"),
        "{yaml}"
    );
    // As if it sat in scenarios/, where its relative template path points.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/readme.yaml");
    let s = Scenario::parse(yaml, &path, &Overrides::default())
        .unwrap_or_else(|e| panic!("the README's scenario: {e}"));
    assert!(!s.groups[0].wan.is_none());
    assert!(s
        .phases
        .iter()
        .any(|p| matches!(p.kind, PhaseKind::AcsOutage { .. })));
}
