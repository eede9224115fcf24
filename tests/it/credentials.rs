//! Device credentials (ManagementServer.Username/Password) against an ACS that requires them:
//! one precedence, flag > group > scenario `acs.*` > template, and `check` names the source.
//! The ACS is the embedded one, in this process, with Digest auth on; the fleet is the binary.

use std::path::{Path, PathBuf};
use std::process::Output;

use cpefleet::acs::{self, AcsConfig, Policy};
use tokio_util::sync::CancellationToken;

fn template() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-models/tr181-gateway.yaml")
        .display()
        .to_string()
}

/// A short scenario against `url`; `acs_extra` and `group_extra` are YAML lines / flow entries.
fn scenario(dir: &Path, url: &str, acs_extra: &str, group_extra: &str) -> PathBuf {
    let path = dir.join("creds.yaml");
    std::fs::write(
        &path,
        format!(
            "name: creds
time_scale: 60
duration: 2s
acs:
  url: {url}
{acs_extra}fleet:
  groups:
    - {{ name: gw, template: {}, count: 3, bootstrapped: true, periodic_interval: 60s{group_extra} }}
phases:
  - boot: {{ over: 300ms }}
",
            template()
        ),
    )
    .unwrap();
    path
}

/// Runs the binary off the runtime's threads (the ACS it talks to runs on them).
async fn cpefleet(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cpefleet"))
            .args(&args)
            .output()
            .expect("run cpefleet")
    })
    .await
    .unwrap()
}

async fn acs_requiring(user: &str, pass: &str) -> (acs::AcsHandle, CancellationToken) {
    let cancel = CancellationToken::new();
    let mut cfg = AcsConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        Policy::from_arg("null").unwrap(),
    );
    cfg.auth = Some((user.into(), pass.into()));
    (acs::start(cfg, cancel.clone()).await.unwrap(), cancel)
}

fn sessions(report: &Path) -> serde_json::Value {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    doc
}

/// Runs the scenario with extra flags; asserts every session authenticated.
async fn assert_all_authenticated(dir: &Path, s: &Path, flags: &[&str]) {
    let report = dir.join("r.json");
    let mut args: Vec<String> = vec!["run".into(), s.display().to_string(), "--quiet".into()];
    args.extend(flags.iter().map(|f| f.to_string()));
    args.extend(["--report-json".into(), report.display().to_string()]);
    let out = cpefleet(args).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let doc = sessions(&report);
    assert_eq!(doc["sessions"]["failed"], 0, "{}", doc["errors"]);
    assert!(doc["sessions"]["succeeded"].as_u64().unwrap() >= 3, "{doc}");
}

/// The README's way to reach an ACS with `cwmp.auth`: `acs.username`/`acs.password`. The
/// template's own non-empty ManagementServer.Username used to win (every session auth_failed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_acs_credentials_beat_the_templates() {
    let (h, cancel) = acs_requiring("fleet-user", "fleet-pass").await;
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(
        dir.path(),
        &h.url(),
        "  username: fleet-user\n  password: fleet-pass\n",
        "",
    );
    assert_all_authenticated(dir.path(), &s, &[]).await;
    cancel.cancel();
}

/// `--username`/`--password` beat a group's patterns, which beat `acs.*`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_flags_beat_group_patterns() {
    let (h, cancel) = acs_requiring("flag-user", "flag-pass").await;
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(
        dir.path(),
        &h.url(),
        "  username: scenario-user\n  password: scenario-pass\n",
        ", username: \"{serial}\", password: group-pass",
    );
    assert_all_authenticated(
        dir.path(),
        &s,
        &["--username", "flag-user", "--password", "flag-pass"],
    )
    .await;
    cancel.cancel();
}

/// `check` says where each group's effective username and password come from (never the
/// password itself).
#[test]
fn check_names_the_source_of_the_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let check = |s: &Path, flags: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cpefleet"))
            .arg("check")
            .arg(s)
            .args(flags)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let s = scenario(
        dir.path(),
        "http://127.0.0.1:1/",
        "  password: s3cret-scenario\n",
        ", username: \"{serial}\"",
    );
    let text = check(&s, &[]);
    assert!(
        text.contains("credentials: username from group gw, password from acs.password"),
        "{text}"
    );
    assert!(
        !text.contains("s3cret-scenario"),
        "the password is never printed"
    );
    let text = check(&s, &["--username", "u", "--password", "p"]);
    assert!(
        text.contains("credentials: username from --username, password from --password"),
        "{text}"
    );
    let s = scenario(dir.path(), "http://127.0.0.1:1/", "", "");
    let text = check(&s, &[]);
    assert!(
        text.contains("credentials: username from the template, password from the template"),
        "{text}"
    );
}
