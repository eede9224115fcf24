use super::*;
use crate::cwmp::EventCode;

fn with_template(body: &str) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.yaml"), "name: t\n").unwrap();
    let path = dir.path().join("s.yaml");
    std::fs::write(&path, body).unwrap();
    (dir, path, body.to_string())
}

const BASIC: &str = "name: demo
seed: 7
time_scale: 60
fleet:
  max_sessions: 50
  groups:
    - name: gw
      template: t.yaml
      count: 10k
    - name: stb
      template: t.yaml
      count: 2500
phases:
  - boot: { over: 10s }
  - steady: { for: 1m }
  - rate: { for: 30s, target: 100/s, ramp_to: 200/s, arrivals: poisson }
  - outage: { share: 50%, down: 20s, then: 40s }
";

#[test]
fn parses_a_full_scenario() {
    let (_d, path, src) = with_template(BASIC);
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    assert_eq!(s.devices(), 12_500);
    assert_eq!(s.seed, 7);
    assert_eq!(s.time_scale, 60.0);
    assert_eq!(s.max_sessions, 50);
    assert!(s.acs.url.is_none(), "no URL: embedded ACS");
    let starts: Vec<u64> = s.phases.iter().map(|p| p.start.as_secs()).collect();
    assert_eq!(starts, vec![0, 10, 70, 100]);
    assert_eq!(s.duration, Duration::from_secs(160), "sum of phases");
    match &s.phases[2].kind {
        PhaseKind::Rate {
            from,
            to,
            poisson,
            event,
        } => {
            assert_eq!((*from, *to, *poisson), (100.0, 200.0, true));
            assert_eq!(*event, EventCode::ConnectionRequest);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn overrides_win_over_the_file() {
    let (_d, path, src) = with_template(BASIC);
    let ov = Overrides {
        acs_url: Some("http://127.0.0.1:7547/".into()),
        devices: Some(1001),
        duration: Some(Duration::from_secs(5)),
        seed: Some(99),
        max_sessions: Some(3),
        time_scale: Some(2.0),
        cr_listen: None,
        ..Overrides::default()
    };
    let s = Scenario::parse(&src, &path, &ov).unwrap();
    assert_eq!(s.acs.url.as_deref(), Some("http://127.0.0.1:7547/"));
    assert_eq!(s.devices(), 1001, "rescaled exactly");
    assert_eq!(s.groups[0].count, 801);
    assert_eq!(s.groups[1].count, 200);
    assert_eq!((s.seed, s.max_sessions, s.time_scale), (99, 3, 2.0));
    assert_eq!(s.duration, Duration::from_secs(5));
}

#[test]
fn implicit_boot_when_no_boot_phase() {
    let (_d, path, src) = with_template(
        "name: x\nfleet:\n  groups:\n    - { name: a, template: t.yaml, count: 3 }\nphases:\n  - steady: { for: 10s }\n",
    );
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    assert!(matches!(s.phases[0].kind, PhaseKind::Boot { .. }));
    assert_eq!(s.phases.len(), 2);
}

fn error_of(body: &str) -> String {
    let (_d, path, src) = with_template(body);
    let e = Scenario::parse(&src, &path, &Overrides::default()).unwrap_err();
    let s = e.to_string();
    // Always "file:line:column: message".
    let name = path.display().to_string();
    assert!(s.starts_with(&name), "{s}");
    s[name.len()..].to_string()
}

#[test]
fn errors_name_line_and_column() {
    // A bad quantity, reported by serde_yaml at the value.
    let e = error_of("name: x\nfleet:\n  groups:\n    - name: a\n      template: t.yaml\n      count: 3\nphases:\n  - steady: { for: 5 parsecs }\n");
    assert!(e.starts_with(":8:"), "{e}");
    assert!(e.contains("unknown duration unit"), "{e}");
    // A misspelt key.
    let e = error_of(
        "name: x\nfleet:\n  groups:\n    - name: a\n      templte: t.yaml\n      count: 3\n",
    );
    assert!(e.starts_with(":5:"), "{e}");
    assert!(e.contains("templte"), "{e}");
    // A missing template file, located at its name.
    let e = error_of(
        "name: x\nfleet:\n  groups:\n    - name: a\n      template: missing.yaml\n      count: 3\n",
    );
    assert_eq!(&e[..6], ":5:17:", "{e}");
    assert!(e.contains("not found"), "{e}");
    // Semantic errors.
    let e = error_of("name: x\nfleet:\n  groups:\n    - { name: a, template: t.yaml, count: 3, cwmp_version: \"2.0\" }\n");
    assert!(e.contains("cwmp_version"), "{e}");
    let e = error_of("name: x\nfleet:\n  groups:\n    - { name: a, template: t.yaml, count: 0 }\n");
    assert!(e.contains("no devices"), "{e}");
    let e = error_of("name: x\nfleet:\n  groups:\n    - { name: a, template: t.yaml, count: 1 }\nphases:\n  - boot: { groups: [b] }\n");
    assert!(e.starts_with(":6:"), "{e}");
    let e = error_of("name: x\nacs: { url: \"ftp://acs\" }\nfleet:\n  groups:\n    - { name: a, template: t.yaml, count: 1 }\n");
    assert!(e.starts_with(":2:"), "{e}");
    let e = error_of("name: x\nfleet:\n  groups:\n    - { name: a, template: t.yaml, count: 1 }\nphases:\n  - rate: { for: 1s, target: 5/s, event: \"99 NONSENSE\" }\n");
    assert!(e.contains("event code"), "{e}");
}

#[test]
fn locate_finds_line_and_column() {
    assert_eq!(locate("a\nbb: x\n", "x"), (2, 5));
    assert_eq!(locate("abc", "zz"), (1, 1));
}

#[test]
fn acs_flag_replaces_an_embedded_acs_and_reports_its_policy_unused() {
    let body = BASIC.replace("seed: 7\n", "seed: 7\nacs:\n  policy: p.yaml\n");
    let (d, path, src) = with_template(&body);
    std::fs::write(d.path().join("p.yaml"), "seed: x\n").unwrap();
    // Without the flag the embedded ACS gets its policy.
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    assert!(s.acs.policy.is_some() && s.unused.is_empty());
    let ov = Overrides {
        acs_url: Some("http://127.0.0.1:7547/".into()),
        ..Overrides::default()
    };
    let s = Scenario::parse(&src, &path, &ov).unwrap();
    assert_eq!(s.acs.url.as_deref(), Some("http://127.0.0.1:7547/"));
    assert!(s.acs.policy.is_none());
    assert_eq!(s.unused.len(), 1, "{:?}", s.unused);
    assert!(
        s.unused[0].contains("s.yaml:4:3: acs.policy"),
        "{:?}",
        s.unused
    );
    // Both in the file is still a contradiction of the file itself.
    let both = body.replace("  policy: p.yaml\n", "  url: http://x/\n  policy: p.yaml\n");
    let (d2, path, src) = with_template(&both);
    std::fs::write(d2.path().join("p.yaml"), "seed: x\n").unwrap();
    let e = Scenario::parse(&src, &path, &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("cannot be used with acs.url"), "{e}");
}

#[test]
fn timer_slack_from_the_file_or_the_flag_and_bounded() {
    let (_d, path, src) = with_template(BASIC);
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    assert_eq!(s.timer_slack, Duration::ZERO, "default: no slack");
    let body = BASIC.replace(
        "  max_sessions: 50\n",
        "  max_sessions: 50\n  timer_slack: 10ms\n",
    );
    let (_d, path, src) = with_template(&body);
    let s = Scenario::parse(&src, &path, &Overrides::default()).unwrap();
    assert_eq!(s.timer_slack, Duration::from_millis(10));
    let ov = Overrides {
        timer_slack: Some(Duration::from_millis(3)),
        ..Overrides::default()
    };
    let s = Scenario::parse(&src, &path, &ov).unwrap();
    assert_eq!(s.timer_slack, Duration::from_millis(3), "the flag wins");

    // Too much slack: located in the file, or named by its flag.
    let body = BASIC.replace(
        "  max_sessions: 50\n",
        "  max_sessions: 50\n  timer_slack: 2s\n",
    );
    let (_d, path, src) = with_template(&body);
    let e = Scenario::parse(&src, &path, &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("s.yaml:6:3: timer_slack"), "{e}");
    let ov = Overrides {
        timer_slack: Some(Duration::from_secs(5)),
        ..Overrides::default()
    };
    let e = Scenario::parse(&src, &path, &ov).unwrap_err();
    assert!(e.to_string().starts_with("--timer-slack: "), "{e}");
    // Not a duration: serde's error at its line and column.
    let body = BASIC.replace(
        "  max_sessions: 50\n",
        "  max_sessions: 50\n  timer_slack: soon\n",
    );
    let (_d, path, src) = with_template(&body);
    let e = Scenario::parse(&src, &path, &Overrides::default()).unwrap_err();
    assert!(e.to_string().contains("s.yaml:6:"), "{e}");
}
