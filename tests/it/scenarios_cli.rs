//! Every shipped scenario passes `cpefleet check` and runs against the embedded ACS (scaled
//! down with the command-line overrides so the suite stays quick); invalid scenarios exit 2
//! with their location.

use std::path::{Path, PathBuf};

use crate::support::child::cpefleet;

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
        "device-fidelity",
        "million-idle",
        "cr-udp",
        "cr-xmpp",
        "wan-acs-outage",
    ] {
        assert!(names.contains(&n.to_string()), "scenarios/{n}.yaml missing");
    }
}

#[test]
fn every_scenario_passes_check() {
    for s in scenarios() {
        let out = cpefleet().arg("check").arg(&s).output().unwrap();
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
    let run = |i: usize, s: &Path| {
        let report = dir.path().join(format!("r{i}.json"));
        let out = cpefleet()
            .arg("run")
            .arg(s)
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
        (out, report)
    };
    // The runs mostly wait on their 3 s clock: RUNS_AT_ONCE of them side by side (each its own
    // embedded ACS on port 0, its own report) rather than a dozen one after the other.
    const RUNS_AT_ONCE: usize = 4;
    let all = scenarios();
    let mut done = Vec::new();
    for (n, chunk) in all.chunks(RUNS_AT_ONCE).enumerate() {
        std::thread::scope(|t| {
            let hs: Vec<_> = chunk
                .iter()
                .enumerate()
                .map(|(j, s)| t.spawn(move || run(n * RUNS_AT_ONCE + j, s)))
                .collect();
            done.extend(hs.into_iter().map(|h| h.join().unwrap()));
        });
    }
    for (s, (out, report)) in all.iter().zip(done) {
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
        let out = cpefleet().arg(cmd).arg(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("bad.yaml:4:"), "{cmd}: {err}");
    }
    let out = cpefleet()
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
    let out = cpefleet()
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

fn good_scenario(dir: &Path, group_extra: &str, fleet_extra: &str) -> PathBuf {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let p = dir.join("good.yaml");
    std::fs::write(
        &p,
        format!(
            "name: good
time_scale: 60
duration: 1s
fleet:
{fleet_extra}  groups:
    - name: gw
      template: {}
      count: 2
{group_extra}",
            template.display()
        ),
    )
    .unwrap();
    p
}

/// A zero that used to be accepted (`periodic_interval: 0s` made a session storm) or silently
/// coerced (`max_sessions: 0`, `--shards 0`) is refused with the valid range: at its line and
/// column in the file, by its name on the command line.
#[test]
fn zero_intervals_caps_and_shards_are_refused_with_the_valid_range() {
    let dir = tempfile::tempdir().unwrap();
    let check = |p: &Path, flags: &[&str]| {
        let out = cpefleet().arg("check").arg(p).args(flags).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let p = good_scenario(dir.path(), "      periodic_interval: 0s\n", "");
    let (code, err) = check(&p, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("good.yaml:9:7:"), "{err}");
    assert!(
        err.contains("periodic_interval") && err.contains("at least 1s"),
        "{err}"
    );

    let p = good_scenario(dir.path(), "", "  max_sessions: 0\n");
    let (code, err) = check(&p, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("good.yaml:5:3:"), "{err}");
    assert!(
        err.contains("max_sessions") && err.contains("at least 1"),
        "{err}"
    );

    let p = good_scenario(dir.path(), "", "");
    let (code, err) = check(&p, &["--max-sessions", "0"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("--max-sessions") && err.contains("at least 1"),
        "{err}"
    );

    for flag in ["--shards", "--scheduler-shards"] {
        let out = cpefleet()
            .arg("run")
            .arg(&p)
            .args([flag, "0", "--quiet"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {err}");
        assert!(err.contains("1..=1024"), "{flag}: {err}");
    }
}

/// A bad command-line value is reported by the flag's name, not at a line of the scenario
/// (`--devices 0` was `good.yaml:10:7`).
#[test]
fn bad_flags_are_reported_by_their_name() {
    let dir = tempfile::tempdir().unwrap();
    let p = good_scenario(dir.path(), "", "");
    for (flags, name) in [
        (&["--devices", "0"][..], "--devices"),
        (&["--time-scale", "0"][..], "--time-scale"),
        (&["--timer-slack", "5s"][..], "--timer-slack"),
        (&["--duration", "0s"][..], "--duration"),
        (&["--acs", "ftp://acs/"][..], "--acs"),
    ] {
        let out = cpefleet()
            .arg("check")
            .arg(&p)
            .args(flags)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flags:?}: {err}");
        assert!(
            err.contains(&format!("cpefleet: {name}: ")),
            "{flags:?}: {err}"
        );
        assert!(!err.contains("good.yaml:"), "{flags:?}: {err}");
    }
}

/// A listener that cannot bind is a failure of the run (exit 1, as the README says), named by
/// its flag, with the OS's reason once.
#[test]
fn a_listener_that_cannot_bind_exits_1_with_the_reason_once() {
    let dir = tempfile::tempdir().unwrap();
    let p = good_scenario(dir.path(), "", "");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    for (cmd, flag) in [
        ("run", "--metrics-listen"),
        ("run", "--cr-listen"),
        ("acs", "--listen"),
    ] {
        let mut c = cpefleet();
        c.arg(cmd);
        if cmd == "run" {
            c.arg(&p).arg("--quiet");
        }
        let out = c.args([flag, &addr]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{flag}: {err}");
        assert!(err.contains(flag), "{flag}: {err}");
        assert_eq!(err.matches("in use").count(), 1, "{flag}: {err}");
    }
}

/// `--shard I/N` (this process's slice of a distributed run) and `--scheduler-shards N`
/// (scheduler tasks in this process) are both in the README's table, with every other flag of
/// `run`, so nobody takes one for the other.
#[test]
fn the_readme_lists_every_flag_of_run() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|l| l.starts_with("| `cpefleet run SCENARIO"))
        .expect("the run row");
    let help = cpefleet().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    let flags: Vec<&str> = help
        .split_whitespace()
        .filter(|w| w.starts_with("--"))
        .map(|w| w.trim_end_matches([',', '.', ')']))
        .filter(|w| !matches!(*w, "--help" | "--version"))
        .collect();
    assert!(flags.contains(&"--scheduler-shards"), "{help}");
    assert!(flags.contains(&"--shard"), "{help}");
    for f in flags {
        assert!(
            row.contains(&format!("[{f} ")) || row.contains(&format!("[{f}]")),
            "README's run row lacks {f}"
        );
    }
}

/// The README's scenario example, every key it documents (diagnostics, du_changes …), is a
/// valid scenario.
#[test]
fn the_readme_scenario_example_is_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let section = &readme[readme.find("## Scenarios").unwrap()..];
    let start = section.find("```yaml\n").unwrap() + "```yaml\n".len();
    let yaml = &section[start..start + section[start..].find("```").unwrap()];
    assert!(
        yaml.contains("diagnostics:") && yaml.contains("du_changes"),
        "{yaml}"
    );
    let yaml = yaml.replace(
        "../data-models/",
        &format!("{}/data-models/", root.display()),
    );
    let path = root.join("scenarios/readme-example.yaml");
    let s = cpefleet::scenario::Scenario::parse(&yaml, &path, &Default::default())
        .unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let d = &s.groups[0].diagnostics;
    assert_eq!(d.latency, std::time::Duration::from_millis(20));
    assert!(!d.measure_real);
}

/// `scenarios/device-fidelity.yaml` does what its comments say, scaled down to 20 devices and
/// 8 s: the first boots run their diagnostics (`8 DIAGNOSTICS COMPLETE`, results read by the
/// ACS), install the ACS's deployment unit (`11 DU STATE CHANGE COMPLETE` + `M ChangeDUState`,
/// DUStateChangeComplete received) and, for half of them, take a firmware image in the first
/// window (`M ScheduleDownload`, never `M Download`), as the report and the ACS's record agree.
#[test]
fn device_fidelity_produces_diagnostics_du_changes_and_scheduled_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/device-fidelity.yaml");
    let out = cpefleet()
        .arg("run")
        .arg(&scenario)
        .args(["--devices", "20", "--duration", "8s", "--quiet"])
        .args(["--grace", "2s", "--report-json"])
        .arg(&report)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A wall-clock p99 limit may fail on a loaded machine (exit 3); the run itself may not.
    assert!(
        out.status.success() || (out.status.code() == Some(3) && stderr.contains("threshold")),
        "{stderr}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(doc["sessions"]["failed"].as_u64(), Some(0), "{doc}");
    let acs = &doc["embedded_acs"];
    let count = |v: &serde_json::Value, k: &str| v[k].as_u64().unwrap_or(0);
    for events in [&doc["events"], &acs["events"]] {
        for e in [
            "8 DIAGNOSTICS COMPLETE",
            "11 DU STATE CHANGE COMPLETE",
            "M ChangeDUState",
            "M ScheduleDownload",
            "7 TRANSFER COMPLETE",
        ] {
            assert!(count(events, e) > 0, "no {e:?}: {events}");
        }
        assert_eq!(count(events, "M Download"), 0, "{events}");
        assert_eq!(
            count(events, "11 DU STATE CHANGE COMPLETE"),
            count(events, "M ChangeDUState"),
            "{events}"
        );
    }
    // The ACS read the results, received each DU change's outcome and each window's transfer.
    assert!(
        count(&acs["responses_ok"], "GetParameterValues") > 0,
        "{acs}"
    );
    assert_eq!(
        count(&acs["cpe_requests"], "DUStateChangeComplete"),
        count(&acs["events"], "M ChangeDUState"),
        "{acs}"
    );
    assert!(count(&acs["responses_ok"], "ScheduleDownload") > 0, "{acs}");
    assert_eq!(
        count(&acs["cpe_requests"], "TransferComplete"),
        count(&acs["events"], "M ScheduleDownload"),
        "{acs}"
    );
    assert!(count(&acs["transfers"], "complete_ok") > 0, "{acs}");
}
