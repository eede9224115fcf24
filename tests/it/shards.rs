//! A distributed run on loopback: N `cpefleet run --shard I/N` processes against one embedded
//! ACS, their reports merged with `cpefleet report merge`, compared with a single-process run
//! of the same scenario: the same devices reach the ACS (none missing, none twice) and the
//! merged counts and histogram totals equal the single run's.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use cpefleet::acs::{self, AcsConfig, Policy};
use tokio_util::sync::CancellationToken;

use crate::support::child::output as run;

const DEVICES: u64 = 60;
const SHARDS: u32 = 3;

fn scenario(dir: &Path) -> PathBuf {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let body = format!(
        "name: sharded
seed: 5
duration: 4s
fleet:
  max_sessions: 100
  groups:
    - {{ name: gw, template: {}, count: {DEVICES}, periodic_interval: 1h }}
phases:
  - boot: {{ over: 1s }}
",
        template.display()
    );
    let p = dir.join("sharded.yaml");
    std::fs::write(&p, body).unwrap();
    p
}

async fn acs() -> (acs::AcsHandle, CancellationToken) {
    let cancel = CancellationToken::new();
    // A policy (not `null`) so the ACS keeps a record per device.
    let policy = Policy::parse("seed: shards\nbootstrap: { discover: false }\n").unwrap();
    let h = acs::start(
        AcsConfig::new(SocketAddr::from(([127, 0, 0, 1], 0)), policy),
        cancel.clone(),
    )
    .await
    .unwrap();
    (h, cancel)
}

fn json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_shards_merge_into_the_single_run() {
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(dir.path());

    // N processes at once against one ACS.
    let (sharded_acs, c1) = acs().await;
    let mut handles = Vec::new();
    for i in 0..SHARDS {
        let args = vec![
            "run".into(),
            s.display().to_string(),
            "--acs".into(),
            sharded_acs.url(),
            "--shard".into(),
            format!("{i}/{SHARDS}"),
            "--quiet".into(),
            "--report-json".into(),
            dir.path()
                .join(format!("shard-{i}.json"))
                .display()
                .to_string(),
        ];
        handles.push(tokio::task::spawn_blocking(move || run(&args)));
    }
    for h in handles {
        let out = h.await.unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut args = vec!["report".to_string(), "merge".to_string()];
    for i in 0..SHARDS {
        args.push(
            dir.path()
                .join(format!("shard-{i}.json"))
                .display()
                .to_string(),
        );
    }
    let merged_path = dir.path().join("merged.json");
    args.extend(["-o".into(), merged_path.display().to_string()]);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sharded_status = sharded_acs.status();
    c1.cancel();

    // The same scenario in one process, against a fresh ACS.
    let (single_acs, c2) = acs().await;
    let single_path = dir.path().join("single.json");
    let args = vec![
        "run".into(),
        s.display().to_string(),
        "--acs".into(),
        single_acs.url(),
        "--quiet".into(),
        "--report-json".into(),
        single_path.display().to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || run(&args))
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let single_status = single_acs.status();
    c2.cancel();

    // At the ACS: every device once, in both runs.
    assert_eq!(sharded_status.devices.known as u64, DEVICES);
    assert_eq!(single_status.devices.known as u64, DEVICES);
    assert_eq!(
        sharded_status.sessions.started,
        single_status.sessions.started
    );
    assert_eq!(
        sharded_status.sessions.started, DEVICES,
        "one boot session each"
    );

    // The merged report equals the single run in counts and histogram totals.
    let (m, one) = (json(&merged_path), json(&single_path));
    assert_eq!(m["runs"], SHARDS);
    assert_eq!(m["devices"], one["devices"]);
    for k in ["started", "succeeded", "failed", "cancelled"] {
        assert_eq!(m["sessions"][k], one["sessions"][k], "sessions.{k}");
    }
    assert_eq!(m["events"], one["events"]);
    for (name, s) in one["latency_ms"].as_object().unwrap() {
        assert_eq!(m["latency_ms"][name]["count"], s["count"], "{name} count");
    }
    // Each shard took a disjoint slice.
    let per: Vec<u64> = (0..SHARDS)
        .map(|i| {
            json(&dir.path().join(format!("shard-{i}.json")))["devices"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(per.iter().sum::<u64>(), DEVICES);
}

#[test]
fn shard_arguments_are_checked() {
    for bad in ["3/3", "1", "a/2", "0/0"] {
        let out = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
            .args(["run", "scenarios/quickstart.yaml", "--shard", bad])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--shard {bad}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .args(["run", "scenarios/quickstart.yaml", "--shard-from-env"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("JOB_COMPLETION_INDEX"));
}
