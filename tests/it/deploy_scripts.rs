//! The shard and merge scripts of deploy/kubernetes/ (shipped to the pods in a ConfigMap), run
//! with `sh` and the real binary on a temporary reports directory: two shards give one verdict;
//! a shard that ends without a report makes the merge stop at once with its name; a shard whose
//! report never comes makes the merge stop after its timeout with the missing shard named.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes")
        .join(name)
}

/// `sh deploy/kubernetes/<name> args` with `cpefleet` on PATH, reports in `reports`.
fn sh(name: &str, reports: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_cpefleet")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("sh")
        .arg(script(name))
        .args(args)
        .env("PATH", path)
        .env("CPEFLEET_REPORTS_DIR", reports)
        .env("CPEFLEET_MERGE_POLL", "0.2")
        .envs(env.iter().copied())
        .output()
        .expect("sh")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A short run against the embedded ACS, its thresholds easily met.
fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("scenario.yaml");
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    std::fs::write(
        &path,
        format!(
            "name: k8s
time_scale: 60
duration: 2s
fleet:
  groups:
    - {{ name: gw, template: {}, count: 4, bootstrapped: true, periodic_interval: 60s }}
phases:
  - boot: {{ over: 500ms }}
thresholds:
  - {{ error_rate: 0% }}
",
            template.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn two_shards_and_the_merge_give_one_verdict() {
    let tmp = tempfile::tempdir().unwrap();
    let s = scenario(tmp.path());
    let reports = tmp.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    for i in ["0", "1"] {
        let env = [
            ("CPEFLEET_SCENARIO", s.to_str().unwrap()),
            ("CPEFLEET_SHARDS", "2"),
            ("JOB_COMPLETION_INDEX", i),
        ];
        let o = sh("shard.sh", &reports, &env, &["--quiet"]);
        assert_eq!(o.status.code(), Some(0), "shard {i}: {}", stderr(&o));
        assert!(reports.join(format!("shard-{i}.json")).is_file());
        assert!(!reports.join(format!(".shard-{i}.json.part")).exists());
    }
    let env = [("CPEFLEET_SHARDS", "2"), ("CPEFLEET_MERGE_TIMEOUT", "60")];
    let o = sh("merge.sh", &reports, &env, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let merged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(reports.join("merged.json")).unwrap())
            .unwrap();
    assert_eq!(merged["runs"], 2);
    assert_eq!(merged["devices"], 4);
    assert!(reports.join("merged.junit.xml").is_file());
}

#[test]
fn a_failed_shard_stops_the_merge_with_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "name: broken\nfleet: [\n").unwrap();
    let reports = tmp.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    let env = [
        ("CPEFLEET_SCENARIO", bad.to_str().unwrap()),
        ("CPEFLEET_SHARDS", "3"),
        ("JOB_COMPLETION_INDEX", "1"),
    ];
    let o = sh("shard.sh", &reports, &env, &["--quiet"]);
    assert_eq!(o.status.code(), Some(2), "invalid input: {}", stderr(&o));
    let marker = std::fs::read_to_string(reports.join("shard-1.failed")).unwrap();
    assert!(marker.contains("exit code 2"), "{marker}");

    // A generous timeout: the merge must not wait for it, the marker stops it.
    let env = [("CPEFLEET_SHARDS", "3"), ("CPEFLEET_MERGE_TIMEOUT", "600")];
    let o = sh("merge.sh", &reports, &env, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("shard-1 failed: exit code 2"), "{err}");
    assert!(!err.contains("timed out"), "{err}");
    assert!(!reports.join("merged.json").exists());
}

#[test]
fn a_missing_shard_times_the_merge_out_with_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = tmp.path().join("reports");
    std::fs::create_dir(&reports).unwrap();
    std::fs::write(reports.join("shard-0.json"), "{}").unwrap();
    std::fs::write(reports.join("shard-2.json"), "{}").unwrap();
    // A stale report of another run's shard 7 is not counted.
    std::fs::write(reports.join("shard-7.json"), "{}").unwrap();
    let env = [("CPEFLEET_SHARDS", "3"), ("CPEFLEET_MERGE_TIMEOUT", "0")];
    let o = sh("merge.sh", &reports, &env, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("timed out after 0s waiting for 3 shard reports; missing: shard-1"),
        "{err}"
    );
}
