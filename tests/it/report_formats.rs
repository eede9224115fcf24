//! The report's forms, checked against their contracts: the JSON against the committed schema
//! (docs/report.schema.json, with a real validator), JUnit against docs/junit.xsd (xmllint),
//! exact merging (two halves merge into the whole, through JSON), re-judged thresholds, and
//! comparison against a baseline. Figures come from the shard's own recording API, fed
//! sessions with known timings, so every expected value is computed, not copied.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use cpefleet::cr::CrStats;
use cpefleet::cwmp::CwmpVersion;
use cpefleet::metrics::stats::{Live, SessionEnd, ShardStats};
use cpefleet::metrics::RunResult;
use cpefleet::report::compare::{self, Tolerance};
use cpefleet::report::{html, junit, Report};
use cpefleet::session::{Exchange, SessionError, SessionReport, Timings};
use cpefleet::threshold::{Threshold, ThresholdSpec};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Session `i` of a synthetic run: its timings are a function of `i`.
fn session(i: u64) -> SessionReport {
    let total = Duration::from_micros(2_000 + (i * 7919) % 50_000);
    let outcome = if i % 50 == 0 {
        Err(SessionError::Status(503))
    } else {
        Ok(())
    };
    SessionReport {
        inform_acknowledged: outcome.is_ok(),
        outcome,
        timings: Timings {
            connect: Some(Duration::from_micros(100 + i % 300)),
            tls: None,
            auth_challenge: None,
            exchanges: vec![
                (Exchange::Inform, total / 3),
                (Exchange::EmptyPost, total / 6),
                (Exchange::AcsRpc("GetParameterValues"), total / 4),
            ],
            total,
            wan: Default::default(),
        },
        version: CwmpVersion::V1_2,
        acs_requests: vec!["GetParameterValues"],
        connections: 1,
        checks: Default::default(),
        auth: None,
    }
}

/// Records sessions `range` (filtered by `keep`) into one shard's stats.
fn record(keep: impl Fn(u64) -> bool) -> ShardStats {
    let live = Live::default();
    let mut s = ShardStats::default();
    for i in 0..2000u64 {
        if !keep(i) {
            continue;
        }
        let at = i * 40; // 80 s of run, 40 ms apart
        let lag = Duration::from_micros((i * 31) % 5_000);
        s.record_start(at, lag, Duration::ZERO, ["2 PERIODIC"], &live);
        let r = session(i);
        let faults: &[(&'static str, u32)] = if i % 97 == 0 {
            &[("GetParameterValues", 9005)]
        } else {
            &[]
        };
        s.record_end(
            &SessionEnd {
                report: &r,
                group: (i % 2) as u16,
                group_name: if i % 2 == 0 { "gw" } else { "stb" },
                at_ms: at + 30,
                from_due: Some(r.timings.total + lag),
                cr_to_inform: (i % 10 == 0).then(|| {
                    let via = if i % 20 == 0 {
                        cpefleet::cr::CrTransport::Xmpp
                    } else {
                        cpefleet::cr::CrTransport::Http
                    };
                    (Duration::from_millis(5 + i % 20), via)
                }),
                faults,
            },
            &live,
        );
    }
    s
}

fn report(stats: ShardStats, devices: u64) -> Report {
    let r = RunResult {
        stats,
        ready: Duration::ZERO,
        devices,
        elapsed: Duration::from_secs(80),
        cr: Arc::new(CrStats::default()),
        udp: None,
        xmpp: None,
        cr_url_base: "http://127.0.0.1:7548".into(),
        acs_url: "http://127.0.0.1:7547/".into(),
    };
    Report::from_run(&r, "synthetic")
}

fn thresholds() -> Vec<Threshold> {
    [
        "{ metric: session, p99: 1s }",
        "{ metric: \"rpc:GetParameterValues\", p95: 1ms }",
        "{ error_rate: 5% }",
        "{ metric: cr_to_inform, p99: 2s }",
    ]
    .iter()
    .map(|y| {
        serde_yaml::from_str::<ThresholdSpec>(y)
            .unwrap()
            .validate(&["gw", "stb"])
            .unwrap()
    })
    .collect()
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/report.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::validator_for(&schema).expect("the committed schema compiles")
}

fn assert_valid(v: &jsonschema::Validator, doc: &serde_json::Value) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "schema violations: {errors:#?}");
}

#[test]
fn the_json_report_matches_its_schema_and_reads_back_exactly() {
    let mut r = report(record(|_| true), 2000);
    assert!(!r.judge(&thresholds()), "the GPV limit of 1 ms fails");
    let text = r.to_json();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = validator();
    assert_valid(&v, &doc);

    // The figures the issue asks for are there, and right.
    assert_eq!(doc["devices"], 2000);
    assert_eq!(doc["sessions"]["started"], 2000);
    assert_eq!(doc["sessions"]["failed"], 40, "every 50th session failed");
    assert_eq!(doc["errors"]["http_5xx"], 40);
    assert_eq!(doc["faults"]["9005"], 21);
    assert_eq!(doc["rpcs"]["GetParameterValues"]["fault"], 21);
    let max_ms = (0..2000u64)
        .map(|i| 2_000 + (i * 7919) % 50_000)
        .max()
        .unwrap() as f64
        / 1000.0;
    let got = doc["latency_ms"]["session"]["max"].as_f64().unwrap();
    assert!((got - max_ms).abs() <= max_ms * 0.001, "{got} vs {max_ms}");
    for key in ["inform", "empty_post", "rpc:GetParameterValues", "group:gw"] {
        assert!(
            doc["latency_ms"][key]["count"].as_u64().unwrap() > 0,
            "{key}"
        );
    }
    let th = doc["thresholds"].as_array().unwrap();
    assert_eq!(th.len(), 4);
    assert_eq!(th.iter().filter(|t| t["ok"] == false).count(), 1);

    let back = Report::from_json(&text, "mem").unwrap();
    assert_eq!(back, r, "nothing is lost through JSON");

    // The schema is not vacuous: a report without histograms, or with a misspelt field, fails.
    let mut broken = doc.clone();
    broken.as_object_mut().unwrap().remove("histograms");
    assert!(!v.is_valid(&broken));
    let mut broken = doc.clone();
    broken["sessions"]["sucseeded"] = serde_json::json!(1);
    assert!(!v.is_valid(&broken));
    let mut broken = doc;
    broken["latency_ms"]["session"]["p99"] = serde_json::json!("fast");
    assert!(!v.is_valid(&broken));
}

#[test]
fn merging_two_halves_equals_the_whole() {
    let mut whole = report(record(|_| true), 2000);
    whole.judge(&thresholds());
    let mut a = report(record(|i| i % 2 == 0), 1000);
    a.judge(&thresholds());
    let mut b = report(record(|i| i % 2 == 1), 1000);
    b.judge(&thresholds());
    // Through JSON, as `cpefleet report merge` does.
    let mut merged = Report::from_json(&a.to_json(), "a").unwrap();
    merged.merge(&Report::from_json(&b.to_json(), "b").unwrap());

    assert_eq!(merged.runs, 2);
    assert_eq!(merged.devices, whole.devices);
    assert_eq!(merged.sessions, whole.sessions);
    assert_eq!(merged.events, whole.events);
    assert_eq!(merged.errors, whole.errors);
    assert_eq!(merged.faults, whole.faults);
    assert_eq!(merged.rpcs, whole.rpcs);
    assert_eq!(
        merged.latencies.keys().collect::<Vec<_>>(),
        whole.latencies.keys().collect::<Vec<_>>()
    );
    for (k, h) in &whole.latencies {
        assert_eq!(&merged.latencies[k], h, "histogram {k}");
    }
    assert_eq!(merged.timeline, whole.timeline);
    assert_eq!(
        merged.thresholds, whole.thresholds,
        "judged again on the whole"
    );
    assert_eq!(merged.latency_ms(), whole.latency_ms());
    assert_valid(
        &validator(),
        &serde_json::from_str(&merged.to_json()).unwrap(),
    );
}

#[test]
fn junit_has_one_case_per_threshold_and_passes_the_schema() {
    let mut r = report(record(|_| true), 2000);
    r.scenario = "a <quoted> & \"odd\" name".into();
    r.judge(&thresholds());
    let xml = junit::render(&r);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, &xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(root().join("docs/junit.xsd"))
        .arg(&path)
        .output()
        .expect("xmllint is needed (apt-get install libxml2-utils)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(xml.matches("<testcase ").count(), 4);
    assert_eq!(xml.matches("<failure ").count(), 1);
    assert!(xml.contains("tests=\"4\" failures=\"1\""));
    assert!(xml.contains("rpc:GetParameterValues p95 &lt;= 1ms"));
}

#[test]
fn html_is_self_contained() {
    let mut r = report(record(|_| true), 2000);
    r.judge(&thresholds());
    let page = html::render(&r);
    for id in [
        "summary",
        "thresholds",
        "chart-rate",
        "chart-latency",
        "chart-distribution",
        "latency-table",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(!page.contains("<script"), "no scripts");
    assert!(!page.contains("src="), "nothing loaded from elsewhere");
    assert!(
        !page.contains("@import") && !page.contains("url("),
        "no external CSS or fonts"
    );
    // Three charts with lines: 3 rate series, 5 latency series, 4 distributions and CR →
    // Inform per transport (the synthetic run's requests came over HTTP and XMPP).
    assert_eq!(page.matches("<polyline").count(), 3 + 5 + 4 + 2);
}

#[test]
fn compare_flags_regressions_past_the_tolerance() {
    let base = report(record(|_| true), 2000);
    let same = compare::compare(&base, &base, Tolerance::default());
    assert!(same.iter().all(|r| !r.is_regression()));
    assert!(same
        .iter()
        .any(|r| r.metric == "session" && r.stat == "p99"));

    // The new run's sessions are 30 % slower and it fails more.
    let live = Live::default();
    let mut slow = ShardStats::default();
    for i in 0..2000u64 {
        slow.record_start(
            i * 40,
            Duration::ZERO,
            Duration::ZERO,
            ["2 PERIODIC"],
            &live,
        );
        let mut r = session(i);
        r.timings.total = r.timings.total.mul_f64(1.3);
        if i % 20 == 0 {
            r.outcome = Err(SessionError::Status(500));
        }
        slow.record_end(
            &SessionEnd {
                report: &r,
                group: 0,
                group_name: "gw",
                at_ms: i * 40,
                from_due: None,
                cr_to_inform: None,
                faults: &[],
            },
            &live,
        );
    }
    let new = report(slow, 2000);
    let rows = compare::compare(&base, &new, Tolerance::default());
    let reg = |m: &str, s: &str| {
        rows.iter()
            .find(|r| r.metric == m && r.stat == s)
            .unwrap_or_else(|| panic!("{m} {s}"))
            .is_regression()
    };
    assert!(reg("session", "p50") && reg("session", "p99"));
    assert!(reg("error_rate", "ratio"));
    assert!(!reg("inform", "p50"), "the exchanges did not change");
    let loose = Tolerance {
        ratio: 0.5,
        error_rate: 0.05,
        ..Tolerance::default()
    };
    assert!(compare::compare(&base, &new, loose)
        .iter()
        .all(|r| !r.is_regression()));
    assert!(compare::render(&rows).contains("REGRESSION"));
}

#[test]
fn two_small_runs_of_one_distribution_are_not_a_regression() {
    // Two runs of 28 sessions drawn from one distribution (issue 14: flagged as a 30 %
    // regression). The naive rule — past the tolerance and the floor — does fire on them…
    let base = report(record(|i| i < 112 && i % 4 == 1), 28);
    let new = report(record(|i| i < 112 && i % 4 == 2), 28);
    let rows = compare::compare(&base, &new, Tolerance::default());
    let tol = Tolerance::default();
    let naive = rows.iter().filter(|r| match r.stat {
        "ratio" => r.new - r.base > tol.error_rate,
        "per_s" | "max" => false,
        _ => r.new > r.base * (1.0 + tol.ratio) && r.new - r.base > tol.min_ms,
    });
    assert!(
        naive.count() > 0,
        "the samples differ as run-to-run noise does"
    );
    // …but nothing stands out of the noise: no regression, and the figures 28 samples cannot
    // bound (p90 and up, under the minimum sample count) say so.
    assert!(rows.iter().all(|r| !r.is_regression()), "{rows:#?}");
    let p99 = rows
        .iter()
        .find(|r| r.metric == "session" && r.stat == "p99")
        .unwrap();
    assert_eq!(p99.verdict, compare::Verdict::NotEnoughData);
    assert!(p99.base_ci.is_none(), "28 samples cannot bound a p99");
    let text = compare::render(&rows);
    assert!(!text.contains("REGRESSION"), "{text}");
    assert!(text.contains("not enough data"), "{text}");

    // With the sample floor lifted the p50 is judged, on its interval: still no regression.
    let loose = Tolerance {
        min_samples: 0,
        ..Tolerance::default()
    };
    let rows = compare::compare(&base, &new, loose);
    let p50 = rows
        .iter()
        .find(|r| r.metric == "session" && r.stat == "p50")
        .unwrap();
    assert_eq!(p50.verdict, compare::Verdict::Same, "{p50:?}");
    assert!(p50.base_ci.unwrap().lo <= p50.base && p50.base <= p50.base_ci.unwrap().hi);
    assert!(rows.iter().all(|r| !r.is_regression()), "{rows:#?}");
}

#[test]
fn large_runs_of_one_distribution_are_not_a_regression() {
    // Even and odd sessions: two 1000-session samples of one distribution.
    let base = report(record(|i| i % 2 == 0), 1000);
    let new = report(record(|i| i % 2 == 1), 1000);
    let rows = compare::compare(&base, &new, Tolerance::default());
    assert!(rows.iter().all(|r| !r.is_regression()), "{rows:#?}");
    let judged = rows
        .iter()
        .filter(|r| r.verdict == compare::Verdict::Same)
        .count();
    assert!(judged >= 10, "1000 samples bound p50..p99: {rows:#?}");
}

/// Reports written by a real run of the binary before the JSON and in-memory forms were made
/// one (tests/data/reports/PROVENANCE.md): each reads into the in-memory form and writes
/// again byte for byte, reads back equal, and still matches the schema.
#[test]
fn stored_reports_read_and_write_again_byte_for_byte() {
    let v = validator();
    let dir = root().join("tests/data/reports");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        seen += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        assert_valid(&v, &serde_json::from_str(&text).unwrap());
        let r = Report::load(&path).unwrap();
        // As `--report-json` writes it: the pretty JSON and a newline.
        let again = r.to_json() + "\n";
        assert!(
            again == text,
            "{}: written again, the report differs",
            path.display()
        );
        assert_eq!(Report::from_json(&again, "again").unwrap(), r);
    }
    assert_eq!(seen, 4, "the four stored reports");
}
