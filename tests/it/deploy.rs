//! The Kubernetes manifests validate offline against the Kubernetes API schemas
//! (`kubernetes-validate`, from PyPI, which bundles them; scripts/test.sh installs it), both as
//! files and as `kubectl kustomize` renders them (kubectl: Debian's kubernetes-client, also
//! installed by scripts/test.sh), and the parts no bundled schema covers are checked here: the
//! PodMonitor, the kustomization's files, the shard count agreeing everywhere, the Dockerfile's
//! stages, and the shard and merge scripts run for real: a verdict from two shards, and a merge
//! that stops with a message when a shard failed or its reports do not come.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::skip;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

fn yaml(name: &str) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(dir().join(name)).unwrap()).unwrap()
}

/// `kubernetes-validate --strict FILES`; None (after a loud skip, a failure under CI) without
/// it.
fn validate(files: Vec<PathBuf>) -> Option<std::process::Output> {
    match Command::new("kubernetes-validate")
        .arg("--strict")
        .args(files)
        .output()
    {
        Ok(out) => Some(out),
        Err(e) => {
            skip::skip(&format!(
                "kubernetes-validate: {e} (pip install kubernetes-validate; scripts/test.sh does)"
            ));
            None
        }
    }
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
    let Some(out) = validate(files.iter().map(|f| dir().join(f)).collect()) else {
        return;
    };
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
    assert_eq!(c["command"][1], "/scripts/shard.sh");
    let shard_sh = std::fs::read_to_string(dir().join("shard.sh")).unwrap();
    assert!(shard_sh.contains("--shard-from-env"));
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
    // The merge gives up (with a message) only after the scenario could have ended, and the
    // Job's own deadline stays behind the script's.
    let timeout: u64 = m["env"][1]["value"].as_str().unwrap().parse().unwrap();
    assert_eq!(m["env"][1]["name"], "CPEFLEET_MERGE_TIMEOUT");
    let scenario = yaml("scenario.yaml");
    let duration = scenario["duration"].as_str().unwrap();
    let minutes: u64 = duration.strip_suffix('m').unwrap().parse().unwrap();
    assert!(timeout > minutes * 60, "{timeout} s vs {duration}");
    let deadline = merge["spec"]["activeDeadlineSeconds"].as_u64().unwrap();
    assert!(deadline > timeout, "{deadline} vs {timeout}");
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
    for g in k["configMapGenerator"].as_sequence().unwrap() {
        for f in g["files"].as_sequence().unwrap() {
            let f = f.as_str().unwrap();
            let path = f.split_once('=').map_or(f, |(_, p)| p);
            // kustomize refuses files outside its root, symbolic links included.
            assert!(!path.contains(".."), "{f}: outside the kustomization");
            assert!(dir().join(path).is_file(), "{f}");
        }
    }
    let pvc = yaml("reports-pvc.yaml");
    assert_eq!(
        pvc["spec"]["accessModes"][0], "ReadWriteMany",
        "shards on many nodes"
    );
}

#[test]
fn kustomized_templates_are_the_shipped_ones() {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models");
    for e in std::fs::read_dir(dir().join("templates")).unwrap() {
        let e = e.unwrap();
        let ours = std::fs::read(e.path()).unwrap();
        let theirs = std::fs::read(shipped.join(e.file_name())).unwrap();
        assert!(
            ours == theirs,
            "deploy/kubernetes/templates/{0:?} differs from data-models/{0:?}: copy it again",
            e.file_name()
        );
    }
}

/// `kubectl kustomize deploy/kubernetes/` as `kubectl apply -k` would apply it, one value per
/// document; None (after a loud skip) without kubectl.
fn rendered() -> Option<Vec<serde_yaml::Value>> {
    let out = match Command::new("kubectl").arg("kustomize").arg(dir()).output() {
        Ok(out) => out,
        Err(e) => {
            skip::skip(&format!(
                "kubectl kustomize: {e} (apt-get install kubernetes-client; scripts/test.sh does)"
            ));
            return None;
        }
    };
    assert!(
        out.status.success(),
        "kubectl kustomize refused deploy/kubernetes/: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let docs = serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    Some(docs)
}

fn find<'a>(docs: &'a [serde_yaml::Value], kind: &str, name: &str) -> &'a serde_yaml::Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind}/{name} not rendered"))
}

#[test]
fn kustomize_renders_what_validates() {
    if skip::requested("CPEFLEET_SKIP_K8S", "Kubernetes render and validation") {
        return;
    }
    let Some(docs) = rendered() else { return };
    for d in &docs {
        if d["kind"] != "Namespace" {
            assert_eq!(
                d["metadata"]["namespace"], "cpefleet",
                "{:?}",
                d["metadata"]
            );
        }
    }
    // The ConfigMaps carry the scenario, the template it names and the scripts, verbatim.
    let scenario = find(&docs, "ConfigMap", "cpefleet-scenario");
    let file = |p: &str| std::fs::read_to_string(dir().join(p)).unwrap();
    assert_eq!(
        scenario["data"]["scenario.yaml"],
        file("scenario.yaml").as_str()
    );
    assert_eq!(
        scenario["data"]["tr181-gateway.yaml"],
        file("templates/tr181-gateway.yaml").as_str()
    );
    let scripts = find(&docs, "ConfigMap", "cpefleet-scripts");
    for s in ["shard.sh", "merge.sh"] {
        assert_eq!(scripts["data"][s], file(s).as_str(), "{s}");
    }
    for job in ["cpefleet-shards", "cpefleet-merge"] {
        let volumes = &find(&docs, "Job", job)["spec"]["template"]["spec"]["volumes"];
        let names: Vec<_> = volumes
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| &v["configMap"]["name"])
            .collect();
        assert!(names.contains(&&scenario["metadata"]["name"]), "{job}");
        assert!(names.contains(&&scripts["metadata"]["name"]), "{job}");
    }

    // Everything but the PodMonitor (no bundled schema; checked above) against the schemas.
    let (checked, crd): (Vec<_>, Vec<_>) = docs.iter().partition(|d| d["kind"] != "PodMonitor");
    assert_eq!(crd.len(), 1);
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("rendered.yaml");
    let text: String = checked
        .iter()
        .map(|d| format!("---\n{}", serde_yaml::to_string(d).unwrap()))
        .collect();
    std::fs::write(&path, text).unwrap();
    let Some(out) = validate(vec![path]) else {
        return;
    };
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches(" passed ").count(), checked.len(), "{text}");
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
