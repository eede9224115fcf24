//! Every shipped scenario passes `cpefleet check` and runs against the embedded ACS (scaled
//! down with the command-line overrides so the suite stays quick); invalid scenarios exit 2
//! with their location.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cpefleet")
}

fn scenarios() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    v
}

#[test]
fn the_shipped_scenarios_are_all_there() {
    let names: Vec<String> = scenarios()
        .iter()
        .map(|p| p.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    for n in [
        "quickstart",
        "boot-storm",
        "steady-periodic",
        "open-rate",
        "outage-recovery",
        "firmware-wave",
        "million-idle",
    ] {
        assert!(names.contains(&n.to_string()), "scenarios/{n}.yaml missing");
    }
}

#[test]
fn every_scenario_passes_check() {
    for s in scenarios() {
        let out = Command::new(bin()).arg("check").arg(&s).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: {}",
            s.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("timeline"), "{text}");
        assert!(text.contains("bytes per idle device"), "{text}");
    }
}

#[test]
fn every_scenario_runs_against_the_embedded_acs() {
    let dir = tempfile::tempdir().unwrap();
    for s in scenarios() {
        let report = dir.path().join("r.json");
        let out = Command::new(bin())
            .arg("run")
            .arg(&s)
            .args([
                "--devices",
                "100",
                "--duration",
                "3s",
                "--quiet",
                "--grace",
                "2s",
            ])
            .arg("--report-json")
            .arg(&report)
            .output()
            .unwrap();
        // Scaled down to 3 s, a scenario's thresholds may have no samples (exit 3, listed);
        // anything else is a failure of the run.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() || (out.status.code() == Some(3) && stderr.contains("threshold")),
            "{}: {stderr}",
            s.display(),
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
        let sessions = &doc["sessions"];
        let started = sessions["started"].as_u64().unwrap();
        // Seeded: the same devices boot within the 3 s on every run.
        assert!(started > 0, "{}: no session", s.display());
        assert_eq!(
            started,
            sessions["succeeded"].as_u64().unwrap()
                + sessions["failed"].as_u64().unwrap()
                + sessions["cancelled"].as_u64().unwrap()
        );
        assert_eq!(
            sessions["failed"].as_u64(),
            Some(0),
            "{}: {doc}",
            s.display()
        );
        assert_eq!(doc["devices"].as_u64(), Some(100));
    }
}

#[test]
fn invalid_scenarios_exit_2_with_their_location() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: bad\nfleet:\n  groups:\n    - { name: a, template: nowhere.yaml, count: 1 }\n",
    )
    .unwrap();
    for cmd in ["check", "run"] {
        let out = Command::new(bin()).arg(cmd).arg(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("bad.yaml:4:"), "{cmd}: {err}");
    }
    let out = Command::new(bin())
        .args(["check", "/no/such/scenario.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn trace_writes_the_full_exchanges_of_chosen_devices() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace");
    // The quickstart without its latency thresholds: this test is about the trace, and a
    // wall-clock p99 limit fails on a loaded machine (exit 3) whatever the trace holds.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("scenarios/quickstart.yaml")).unwrap();
    let text = text[..text
        .find("\nthresholds:")
        .expect("quickstart has thresholds")
        + 1]
        .replace(
            "../data-models/",
            &format!("{}/data-models/", root.display()),
        )
        .replace(
            " policies/",
            &format!(" {}/scenarios/policies/", root.display()),
        );
    let quickstart = dir.path().join("quickstart.yaml");
    std::fs::write(&quickstart, text).unwrap();
    let out = Command::new(bin())
        .arg("run")
        .arg(&quickstart)
        .args([
            "--devices",
            "5",
            "--duration",
            "4s",
            "--quiet",
            "--trace",
            "1-2",
        ])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<String> = std::fs::read_dir(&trace)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert!(!files.is_empty());
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("device-1-") || f.starts_with("device-2-")),
        "{files:?}"
    );
    let text = std::fs::read_to_string(trace.join(&files[0])).unwrap();
    assert!(text.contains("POST /"), "{text}");
    assert!(text.contains(":Inform>"), "the Inform body");
    assert!(text.contains("InformResponse"), "the ACS's answer");
    assert!(text.contains("HTTP/1.1 204"), "the end of the session");
}
