//! The WAN model and the `acs_outage` phase, under tokio's paused clock against the embedded
//! ACS: a WAN delays every exchange in both directions (and the TCP handshake) by exactly what
//! the seeded model says, stalls included, and its bandwidth cap slows bodies and a real
//! file server's Download by their bytes; an ACS outage refuses the devices' connections (or,
//! blackholed, lets them time out) for its window while they keep running and retry with the
//! TR-069 §3.2.1.1 back-off, and they are back once it ends; the scenario keys parse, and bad
//! ones fail at their line and column.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::device::TestDevice;
use crate::support::script::{run_one, Script};
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
        // The cap alone: the same seed without it draws the same delays, jitter and stalls,
        // so what the cap adds is the bodies' carrying time. The Inform and its response
        // (~1.6 kB together) at 20 kB/s are ~80 ms more; the empty POST and its 204 carry no
        // body, so that exchange is not slowed at all (the 1 ms: the paused clock's rounding).
        let uncapped = cpefleet::session::run(
            &config(
                &acs.url(),
                Impairments {
                    wan: WanModel {
                        bandwidth: None,
                        ..wan
                    },
                    seed,
                    ..Impairments::default()
                },
            ),
            &mut TestDevice::default(),
            None,
        )
        .await;
        let u = &uncapped.timings;
        assert_eq!(u.wan.stalls, t.wan.stalls, "seed {seed}");
        let added = t.exchanges[0].1.saturating_sub(u.exchanges[0].1);
        assert!(
            (Duration::from_millis(60)..=Duration::from_millis(120)).contains(&added),
            "seed {seed}: the cap added {added:?} to the Inform"
        );
        assert!(
            t.exchanges[1].1.abs_diff(u.exchanges[1].1) <= Duration::from_millis(1),
            "seed {seed}: {:?} vs {:?}",
            t.exchanges[1],
            u.exchanges[1]
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

/// One session attempt: device, start and end (ms of the paused clock), its error label if
/// it failed.
#[derive(Debug, Clone, Copy)]
struct Attempt {
    device: u32,
    at: u64,
    end: u64,
    label: Option<&'static str>,
}

/// Every session attempt, as it ended.
struct Recording {
    t0: Instant,
    seen: Mutex<Vec<Attempt>>,
}

impl Recording {
    fn new() -> Arc<Recording> {
        Arc::new(Recording {
            t0: Instant::now(),
            seen: Mutex::new(vec![]),
        })
    }

    /// One device's attempts in the order they started.
    fn of(&self, device: u32) -> Vec<Attempt> {
        let mut v: Vec<Attempt> = self
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.device == device)
            .copied()
            .collect();
        v.sort_by_key(|a| a.at);
        v
    }
}

impl Runner for Recording {
    fn run<'a>(
        &'a self,
        cfg: &'a SessionConfig,
        cpe: &'a mut Cpe,
        trace: Option<&'a mut Trace>,
    ) -> SessionFuture<'a> {
        Box::pin(async move {
            let (device, at) = (cpe.device.index(), self.t0.elapsed().as_millis() as u64);
            let r = cpefleet::session::run(cfg, cpe, trace).await;
            self.seen.lock().unwrap().push(Attempt {
                device,
                at,
                end: self.t0.elapsed().as_millis() as u64,
                label: r.outcome.as_ref().err().map(|e| e.label()),
            });
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
    let (res, rec) = run_recorded(&s).await;
    let to = 15_000u64;
    for d in 0..6u32 {
        let mine = rec.of(d);
        // Inside the window every attempt is refused, at once; outside, none is.
        for a in &mine {
            let inside = a.at < to;
            assert_eq!(
                a.label == Some("acs_outage_refused"),
                inside,
                "device {d}: {a:?}"
            );
            if inside {
                assert_eq!(a.end, a.at, "refused without a wait: {a:?}");
            }
        }
        assert!(
            mine.iter().filter(|a| a.label.is_some()).count() >= 3,
            "device {d}: {mine:?}"
        );
        retries_follow_the_spec(d, &mine);
        // And is back: a successful session after the ACS returned.
        assert!(
            mine.iter().any(|a| a.at >= to && a.label.is_none()),
            "device {d} never came back: {mine:?}"
        );
    }
    let seen = rec.seen.lock().unwrap().clone();
    let refused = res
        .stats
        .errors
        .get("acs_outage_refused")
        .copied()
        .unwrap_or(0);
    assert_eq!(
        refused,
        seen.iter().filter(|a| a.label.is_some()).count() as u64
    );
    assert!(res.stats.sessions.succeeded >= 6, "{:?}", res.stats.errors);
}

/// Each wait between a failed attempt's end and the next attempt is in TR-069 §3.2.1.1's range
/// for its retry count (5-10 s, 10-20 s… at 10x: 0.5-1 s, 1-2 s…), counted from the first
/// failure in a row.
/// Runs `s` in one shard against the embedded ACS, every session attempt recorded.
async fn run_recorded(s: &Scenario) -> (cpefleet::metrics::RunResult, Arc<Recording>) {
    let cancel = CancellationToken::new();
    let acs = embedded_acs(&cancel).await;
    let rec = Recording::new();
    let opts = RunOptions {
        shards: Some(1),
        grace: Duration::from_secs(5),
        runner: Some(rec.clone()),
        ..RunOptions::default()
    };
    let res = fleet::run(s, &acs.url(), &opts, cancel.child_token())
        .await
        .unwrap();
    cancel.cancel();
    (res, rec)
}

fn retries_follow_the_spec(d: u32, mine: &[Attempt]) {
    let mut k = 0u32;
    for (a, b) in mine.iter().zip(mine.iter().skip(1)) {
        if a.label.is_none() {
            k = 0;
            continue;
        }
        k += 1;
        let (lo, hi) = (500 * 2u64.pow(k - 1), 500 * 2u64.pow(k));
        let waited = b.at - a.end;
        assert!(
            (lo..=hi + 1).contains(&waited),
            "device {d}, retry {k}: waited {waited} ms, the spec says {lo}..{hi}: {mine:?}"
        );
    }
}

/// `mode: blackhole`: nothing answers, so each attempt inside the window hangs for the
/// connect timeout (10 s, network time, not scaled) before it fails; the device waits its
/// back-off after that and tries again, and is back once the ACS is. An attempt that started
/// inside the window fails even if the ACS returns while it hangs: its SYN went nowhere.
#[tokio::test(start_paused = true)]
async fn a_blackholed_acs_times_sessions_out_and_devices_back_off_and_return() {
    let s = parse(
        "name: acs-blackhole
seed: 7
time_scale: 10
duration: 60s
fleet:
  groups:
    - { name: gw, template: TEMPLATE, count: 4, bootstrapped: true, periodic_interval: 1h }
phases:
  - acs_outage: { down: 25s, mode: blackhole, then: 35s }
",
    )
    .unwrap();
    let (res, rec) = run_recorded(&s).await;
    let to = 25_000u64;
    for d in 0..4u32 {
        let mine = rec.of(d);
        for a in &mine {
            let inside = a.at < to;
            assert_eq!(
                a.label == Some("acs_outage_blackhole"),
                inside,
                "device {d}: {a:?}"
            );
            if inside {
                // Timed out, not refused: the whole connect timeout (paused clock, exact).
                assert_eq!(a.end - a.at, 10_000, "device {d}: {a:?}");
            }
        }
        // 10 s hangs and 0.5-1 s, 1-2 s… waits: two or three attempts in 25 s, not a storm.
        let failed = mine.iter().filter(|a| a.label.is_some()).count();
        assert!((2..=3).contains(&failed), "device {d}: {mine:?}");
        retries_follow_the_spec(d, &mine);
        assert!(
            mine.iter().any(|a| a.at >= to && a.label.is_none()),
            "device {d} never came back: {mine:?}"
        );
    }
    let seen = rec.seen.lock().unwrap().clone();
    let blackholed = res.stats.errors.get("acs_outage_blackhole").copied();
    assert_eq!(
        blackholed,
        Some(seen.iter().filter(|a| a.label.is_some()).count() as u64)
    );
    assert!(res.stats.sessions.succeeded >= 4, "{:?}", res.stats.errors);
}

/// A firmware Download through a real file server: under `wan.bandwidth` the device reads
/// the file at the cap, so from TransferComplete's StartTime to its CompleteTime (the fleet's
/// clock, paused here) is at least bytes / cap; the same Download without a WAN takes none of
/// that. Returns that span in ms.
async fn download_span_ms(group: &str) -> i64 {
    use cpefleet::acs::file_server::{self, FileStore};
    use cpefleet::cwmp::{AcsRequest, CpeRequest, Download};
    const SIZE: usize = 500_000;
    let store = Arc::new(FileStore::new(None));
    store.put("fw-9.9.bin", FileStore::synthetic(SIZE));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/fw-9.9.bin", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(file_server::serve(listener, store.clone(), cancel.clone()));
    let script = Script::new(vec![vec![AcsRequest::Download(Download {
        command_key: "fw".into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url,
        file_size: SIZE as u32,
        ..Download::default()
    })]]);
    run_one(script.clone(), "tr181-gateway", "2m", group).await;
    cancel.cancel();
    let seen = script.seen();
    let tc = seen
        .iter()
        .flat_map(|s| &s.reports)
        .find_map(|r| match r {
            CpeRequest::TransferComplete(tc) => Some(tc.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no TransferComplete: {seen:#?}"));
    assert_eq!(tc.fault.fault_code, 0, "{tc:?}");
    assert_eq!(store.download_count(), 1);
    let last = seen.last().unwrap();
    assert_eq!(last.software_version, "9.9", "installed");
    tc.complete_time.unix_ms() - tc.start_time.unix_ms()
}

#[tokio::test(start_paused = true)]
async fn a_download_under_the_bandwidth_cap_takes_its_bytes_at_the_cap() {
    // 500 kB at 800 kbit/s (100 kB/s): 5 s, plus a 20 ms each way round trip.
    let capped =
        download_span_ms("reboot_time: 10s, wan: { delay: 20ms, bandwidth: 800kbit/s }").await;
    assert!(
        (5_000..=5_200).contains(&capped),
        "500 kB at 100 kB/s took {capped} ms"
    );
    let free = download_span_ms("reboot_time: 10s").await;
    assert!(free < 100, "without a WAN, loopback: {free} ms");
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
