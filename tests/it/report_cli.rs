//! The run command's verdicts and report files, through the real binary: exit 0 when every
//! threshold holds, 3 with the failures listed when one does not, 2 with line and column for a
//! malformed threshold; `report merge` and `report compare` and their exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn template() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-models/tr181-gateway.yaml")
        .display()
        .to_string()
}

/// A short run against the embedded ACS with `thresholds` (YAML list lines).
fn scenario(dir: &Path, name: &str, thresholds: &str) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &path,
        format!(
            "name: {name}
time_scale: 60
duration: 2s
fleet:
  groups:
    - {{ name: gw, template: {}, count: 4, bootstrapped: true, periodic_interval: 60s }}
phases:
  - boot: {{ over: 500ms }}
thresholds:
{thresholds}",
            template()
        ),
    )
    .unwrap();
    path
}

fn cpefleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .args(args)
        .output()
        .expect("run cpefleet")
}

fn run(scenario: &Path, out: &Path) -> Output {
    cpefleet(&[
        "run",
        scenario.to_str().unwrap(),
        "--quiet",
        "--report-json",
        out.join("r.json").to_str().unwrap(),
        "--report-html",
        out.join("r.html").to_str().unwrap(),
        "--junit",
        out.join("r.xml").to_str().unwrap(),
    ])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn passing_thresholds_exit_0_and_every_report_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(
        dir.path(),
        "pass",
        "  - { metric: session, p99: 5s }\n  - { metric: inform, max: 5s }\n  - { error_rate: 0% }\n",
    );
    let o = run(&s, dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let th = doc["thresholds"].as_array().unwrap();
    assert_eq!(th.len(), 3);
    assert!(th.iter().all(|t| t["ok"] == true), "{th:?}");
    assert!(doc["sessions"]["succeeded"].as_u64().unwrap() >= 4);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("thresholds: 3 of 3 passed"), "{stdout}");
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(xml.contains("tests=\"3\" failures=\"0\""));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("Thresholds PASSED"));
}

#[test]
fn a_failed_threshold_exits_3_and_lists_the_failures() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(
        dir.path(),
        "fail",
        "  - { metric: session, p99: 5s }\n  - { name: impossible, metric: session, p50: 0ms }\n  - { metric: cr_to_inform, p99: 2s }\n",
    );
    let o = run(&s, dir.path());
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("2 threshold(s) failed"), "{err}");
    assert!(err.contains("impossible: measured"), "{err}");
    assert!(err.contains("cr_to_inform p99 <= 2s: no samples"), "{err}");
    assert!(
        !err.contains("session p99 <= 5s"),
        "passing ones are not listed"
    );
    // The reports are still written, with the verdicts.
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(xml.contains("tests=\"3\" failures=\"2\""));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(html.contains("Thresholds FAILED"));
}

#[test]
fn malformed_thresholds_exit_2_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    for (body, line, what) in [
        (
            "  - { metric: session, p99: 1s }\n  - { metric: sesion, p99: 1s }\n",
            11,
            "unknown metric \"sesion\"",
        ),
        (
            "  - { metric: \"rpc:GetParameterValues\", p95: fast }\n",
            10,
            "invalid duration \"fast\"",
        ),
        (
            "  - { metric: session, p98: 1s }\n",
            10,
            "unknown field `p98`",
        ),
        ("  - { metric: session }\n", 10, "needs a limit"),
        (
            "  - { metric: \"group:cpe\", p99: 1s }\n",
            10,
            "no group named \"cpe\"",
        ),
    ] {
        let s = scenario(dir.path(), "bad", body);
        let o = cpefleet(&["check", s.to_str().unwrap()]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{body}: {err}");
        assert!(
            err.contains(&format!("bad.yaml:{line}:")),
            "{body}: expected line {line}: {err}"
        );
        assert!(err.contains(what), "{body}: {err}");
    }
}

#[test]
fn merge_and_compare_through_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let s = scenario(dir.path(), "m", "  - { metric: session, p99: 5s }\n");
    // The two processes of a "distributed" run, side by side.
    let (oa, ob) = std::thread::scope(|t| {
        let ha = t.spawn(|| run(&s, &a));
        let hb = t.spawn(|| run(&s, &b));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert_eq!(oa.status.code(), Some(0), "{}", stderr(&oa));
    assert_eq!(ob.status.code(), Some(0), "{}", stderr(&ob));
    let (ja, jb) = (a.join("r.json"), b.join("r.json"));
    let merged = dir.path().join("merged.json");
    let o = cpefleet(&[
        "report",
        "merge",
        ja.to_str().unwrap(),
        jb.to_str().unwrap(),
        "-o",
        merged.to_str().unwrap(),
        "--report-html",
        dir.path().join("merged.html").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (da, db, dm) = (read(&ja), read(&jb), read(&merged));
    assert_eq!(dm["runs"], 2);
    assert_eq!(dm["devices"], 8);
    for k in ["started", "succeeded", "failed"] {
        assert_eq!(
            dm["sessions"][k].as_u64().unwrap(),
            da["sessions"][k].as_u64().unwrap() + db["sessions"][k].as_u64().unwrap(),
            "{k}"
        );
    }
    assert_eq!(
        dm["latency_ms"]["session"]["count"].as_u64().unwrap(),
        da["latency_ms"]["session"]["count"].as_u64().unwrap()
            + db["latency_ms"]["session"]["count"].as_u64().unwrap()
    );
    assert_eq!(dm["thresholds"].as_array().unwrap().len(), 1);
    assert!(dir.path().join("merged.html").is_file());

    // A run compared with itself has no regression.
    let o = cpefleet(&[
        "report",
        "compare",
        ja.to_str().unwrap(),
        ja.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no regression"));

    // A run whose sessions all took 100 ms longer regresses.
    let mut slow = cpefleet::report::Report::load(&ja).unwrap();
    let h = slow.latencies.get_mut("session").unwrap();
    let mut shifted = cpefleet::metrics::stats::histogram();
    for v in h.iter_recorded() {
        shifted
            .record_n(v.value_iterated_to() + 100_000, v.count_at_value())
            .unwrap();
    }
    *h = shifted;
    let slow_path = dir.path().join("slow.json");
    std::fs::write(&slow_path, slow.to_json()).unwrap();
    let o = cpefleet(&[
        "report",
        "compare",
        ja.to_str().unwrap(),
        slow_path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines()
            .any(|l| l.starts_with("session ") && l.contains("REGRESSION")),
        "{out}"
    );

    // Not a report: exit 2.
    let o = cpefleet(&[
        "report",
        "compare",
        s.to_str().unwrap(),
        ja.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
