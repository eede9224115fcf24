//! The run command's verdicts and report files, through the real binary: exit 0 when every
//! threshold holds, 3 with the failures listed when one does not, 2 with line and column for a
//! malformed threshold; `report merge` and `report compare` and their exit codes.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::child::output as cpefleet;

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

    // A run compared with itself has no regression (a short one: too few sessions to judge).
    let o = cpefleet(&[
        "report",
        "compare",
        ja.to_str().unwrap(),
        ja.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(!out.contains("REGRESSION"), "{out}");
    assert!(out.contains("not enough data"), "{out}");

    // A run whose sessions all took 100 ms longer: a dozen sessions cannot tell that from
    // noise, so "not enough data", exit 0; with 50 times the sessions it is a regression.
    let shifted = |r: &cpefleet::report::Report, by_us: u64, times: u64| {
        let mut r = r.clone();
        let h = r.latencies.get_mut("session").unwrap();
        let mut out = cpefleet::metrics::stats::histogram();
        for v in h.iter_recorded() {
            out.record_n(v.value_iterated_to() + by_us, v.count_at_value() * times)
                .unwrap();
        }
        *h = out;
        r
    };
    let compare = |base: &cpefleet::report::Report, new: &cpefleet::report::Report| {
        let (bp, np) = (dir.path().join("base.json"), dir.path().join("new.json"));
        std::fs::write(&bp, base.to_json()).unwrap();
        std::fs::write(&np, new.to_json()).unwrap();
        cpefleet(&[
            "report",
            "compare",
            bp.to_str().unwrap(),
            np.to_str().unwrap(),
        ])
    };
    let small = cpefleet::report::Report::load(&ja).unwrap();
    let o = compare(&small, &shifted(&small, 100_000, 1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("session ") && l.contains("not enough data")),
        "{out}"
    );
    assert!(!out.contains("REGRESSION"), "{out}");
    let o = compare(&shifted(&small, 0, 50), &shifted(&small, 100_000, 50));
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

/// A scenario without thresholds against `acs_url` (none: the embedded ACS).
fn no_thresholds(dir: &Path, name: &str, acs_url: Option<&str>) -> PathBuf {
    let path = dir.join(format!("{name}.yaml"));
    let acs = acs_url.map_or(String::new(), |u| format!("acs:\n  url: {u}\n"));
    std::fs::write(
        &path,
        format!(
            "name: {name}
time_scale: 60
duration: 2s
{acs}fleet:
  groups:
    - {{ name: gw, template: {}, count: 4, bootstrapped: true, periodic_interval: 60s }}
phases:
  - boot: {{ over: 300ms }}
",
            template()
        ),
    )
    .unwrap();
    path
}

/// No thresholds and no session succeeded: the default verdict fails (exit 3) with a one-line
/// diagnosis naming the dominant error and the ACS, in the terminal and in every report.
#[test]
fn a_run_without_thresholds_where_every_session_failed_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    // Port 1 on loopback: nothing listens, every connect is refused.
    let s = no_thresholds(dir.path(), "down", Some("http://127.0.0.1:1/"));
    let o = run(&s, dir.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let failed = doc["sessions"]["failed"].as_u64().unwrap();
    assert!(failed >= 4, "{doc}");
    let line = format!(
        "all {failed} sessions failed: connect_refused — is the ACS at http://127.0.0.1:1/ reachable?"
    );
    assert!(err.contains(&line), "{err}");
    assert_eq!(doc["diagnosis"], line.as_str());
    let th = doc["thresholds"].as_array().unwrap();
    assert_eq!(th.len(), 1, "{th:?}");
    assert_eq!(th[0]["metric"], "error_rate");
    assert_eq!(th[0]["ok"], false);
    assert!(
        th[0]["name"].as_str().unwrap().starts_with("default"),
        "{th:?}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&line), "{stdout}");
    let xml = std::fs::read_to_string(dir.path().join("r.xml")).unwrap();
    assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
    assert!(xml.contains("connect_refused"), "{xml}");
}

/// The same default verdict passes a healthy run (exit 0) and says so.
#[test]
fn a_healthy_run_without_thresholds_passes_the_default_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let s = no_thresholds(dir.path(), "fine", None);
    let o = run(&s, dir.path());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("thresholds: 1 of 1 passed"), "{stdout}");
    assert!(stdout.contains("default"), "{stdout}");
}

fn merge(inputs: &[&Path], out: &Path) -> Output {
    let mut args = vec!["report".to_string(), "merge".into()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["-o".into(), out.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cpefleet(&args)
}

/// A report given twice would count its sessions twice: refused (exit 2) by its run id. Reports
/// of different scenarios merge with a warning that names both.
#[test]
fn merge_refuses_a_report_given_twice_and_warns_on_different_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let sa = scenario(dir.path(), "alpha", "  - { error_rate: 100% }\n");
    let sb = scenario(dir.path(), "beta", "  - { error_rate: 100% }\n");
    let (oa, ob) = std::thread::scope(|t| {
        let ha = t.spawn(|| run(&sa, &a));
        let hb = t.spawn(|| run(&sb, &b));
        (ha.join().unwrap(), hb.join().unwrap())
    });
    assert_eq!(oa.status.code(), Some(0), "{}", stderr(&oa));
    assert_eq!(ob.status.code(), Some(0), "{}", stderr(&ob));
    let (ja, jb) = (a.join("r.json"), b.join("r.json"));
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let id = read(&ja)["run_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32, "{id}");
    assert_ne!(read(&jb)["run_id"].as_str().unwrap(), id);

    let merged = dir.path().join("merged.json");
    let o = merge(&[&ja, &ja], &merged);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("given twice"), "{}", stderr(&o));
    assert!(stderr(&o).contains(&id), "{}", stderr(&o));
    assert!(!merged.exists());

    let o = merge(&[&ja, &jb], &merged);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning") && err.contains("\"alpha\"") && err.contains("\"beta\""),
        "{err}"
    );
    // A merged report carries every run it holds, so merging it again with one of them is
    // refused too.
    let dm = read(&merged);
    assert_eq!(dm["run_ids"].as_array().unwrap().len(), 2, "{dm}");
    let again = dir.path().join("again.json");
    let o = merge(&[&merged, &jb], &again);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
