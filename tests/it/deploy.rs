//! The Kubernetes manifests validate offline against the Kubernetes API schemas
//! (`kubernetes-validate`, from PyPI, which bundles them; scripts/test.sh installs it), and the
//! parts no bundled schema covers are checked here: the PodMonitor, the kustomization's
//! files, the shard count agreeing everywhere, and the Dockerfile's stages.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::skip;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

fn yaml(name: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(dir().join(name)).unwrap()).unwrap()
}

#[test]
fn manifests_validate_against_the_kubernetes_schemas() {
    if skip::requested("CPEFLEET_SKIP_K8S", "Kubernetes schema validation") {
        return;
    }
    let files = [
        "namespace.yaml",
        "reports-pvc.yaml",
        "service.yaml",
        "job.yaml",
        "merge-job.yaml",
    ];
    let out = Command::new("kubernetes-validate")
        .arg("--strict")
        .args(files.iter().map(|f| dir().join(f)))
        .output()
        .expect("kubernetes-validate not found: pip install kubernetes-validate (or CPEFLEET_SKIP_K8S=1 to skip, outside CI)");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches(" passed ").count(), files.len(), "{text}");
}

#[test]
fn shard_job_is_indexed_and_consistent() {
    let job = yaml("job.yaml");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n));
    let c = &spec["template"]["spec"]["containers"][0];
    let env_n = c["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "CPEFLEET_SHARDS")
        .unwrap()["value"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_eq!(env_n, n, "CPEFLEET_SHARDS = completions");
    let args: Vec<&str> = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.contains(&"--shard-from-env"));
    assert!(
        args.iter().any(|a| a.contains("$(POD_IP)")),
        "CR URL from the downward API"
    );
    let merge = yaml("merge-job.yaml");
    let m = &merge["spec"]["template"]["spec"]["containers"][0];
    let merge_n = m["env"][0]["value"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert_eq!(merge_n, n, "the merge waits for every shard");
    let svc = yaml("service.yaml");
    assert_eq!(svc["spec"]["clusterIP"], "None", "headless");
}

#[test]
fn podmonitor_and_kustomization_are_well_formed() {
    let pm = yaml("podmonitor.yaml");
    assert_eq!(pm["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(pm["kind"], "PodMonitor");
    assert_eq!(pm["spec"]["podMetricsEndpoints"][0]["port"], "metrics");
    assert_eq!(
        pm["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"],
        "shard"
    );
    let k = yaml("kustomization.yaml");
    for r in k["resources"].as_sequence().unwrap() {
        assert!(dir().join(r.as_str().unwrap()).is_file(), "{r:?}");
    }
    for f in k["configMapGenerator"][0]["files"].as_sequence().unwrap() {
        let f = f.as_str().unwrap();
        let path = f.split_once('=').map_or(f, |(_, p)| p);
        assert!(dir().join(path).is_file(), "{f}");
    }
}

#[test]
fn the_shipped_cluster_scenario_passes_check() {
    // The ConfigMap puts the template beside the scenario; recreate that layout.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir().join("scenario.yaml"),
        tmp.path().join("scenario.yaml"),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml"),
        tmp.path().join("tr181-gateway.yaml"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .arg("check")
        .arg(tmp.path().join("scenario.yaml"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("10000000 devices"));
}

#[test]
fn dockerfile_is_multi_stage_and_unprivileged() {
    let d =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile")).unwrap();
    assert_eq!(d.lines().filter(|l| l.starts_with("FROM ")).count(), 2);
    assert!(d.contains("--locked"));
    assert!(d.contains("USER 65534"));
    assert!(d.contains("COPY --from=build"));
}
