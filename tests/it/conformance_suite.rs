//! The shipped conformance suite against the embedded ACS: it passes with the suite's
//! provisioning policy, and every case fails against the ACS bug it is meant to catch (the
//! embedded ACS misbehaving on purpose), so no case passes vacuously. The binary's JUnit output
//! parses back with one testcase per case and per check, and a failure exits 3.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use cpefleet::acs::{self, AcsConfig, Policy};
use cpefleet::conformance::{case, run_suite, AcsProfile, Check, SuiteOptions, XmppJoin};
use tokio_util::sync::CancellationToken;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/conformance")
}

fn policy_text() -> String {
    std::fs::read_to_string(suite_dir().join("acs/policy.yaml")).unwrap()
}

async fn with_acs(misbehave: &[&str], cases: &[case::Case]) -> cpefleet::conformance::SuiteResult {
    let mut text = policy_text();
    if !misbehave.is_empty() {
        text.push_str(&format!("misbehave: [{}]\n", misbehave.join(", ")));
    }
    let cancel = CancellationToken::new();
    let mut cfg = AcsConfig::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Policy::parse(&text).unwrap(),
    );
    cfg.auth = Some(("cpe".into(), "cpe-secret".into()));
    cfg.xmpp = Some(acs::xmpp::XmppGatewayConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        secret: "suite".into(),
    });
    let acs = acs::start(cfg, cancel.clone()).await.unwrap();
    let mut opts = SuiteOptions::new(&acs.url());
    opts.username = Some("cpe".into());
    opts.password = Some("cpe-secret".into());
    opts.profile = AcsProfile::embedded(Some(2), true);
    opts.profile.xmpp = acs.xmpp_addr().map(|server| XmppJoin {
        server,
        domain: "cpe.suite.invalid".into(),
        secret: "suite".into(),
    });
    let r = run_suite(cases, &opts).await;
    cancel.cancel();
    r
}

fn case_names(cases: &[case::Case]) -> Vec<&str> {
    cases.iter().map(|c| c.spec.name.as_str()).collect()
}

/// The shipped cases in file order: every case of [`BUGS`], each once.
fn shipped_cases() -> Vec<&'static str> {
    let mut names: Vec<&str> = BUGS.iter().map(|b| b.0).collect();
    names.dedup();
    names
}

/// The suite is exactly the known cases (each with an ACS bug that fails it), numbered 01..N
/// in their files without a gap or a repeat, and the README counts them right.
#[test]
fn the_suite_is_the_known_cases_numbered_once_each() {
    let (cases, _, _) = case::load_suite(&suite_dir()).unwrap();
    assert_eq!(case_names(&cases), shipped_cases());
    let numbers: Vec<u32> = cases
        .iter()
        .map(|c| {
            let stem = c.path.file_stem().unwrap().to_string_lossy().into_owned();
            let (n, _) = stem.split_once('-').expect("NN-name.yaml");
            n.parse()
                .unwrap_or_else(|_| panic!("{stem}: a number first"))
        })
        .collect();
    let expected: Vec<u32> = (1..=cases.len() as u32).collect();
    assert_eq!(numbers, expected, "one file per number, none skipped");
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let said = format!("`scenarios/conformance/` ({} of them", cases.len());
    assert!(readme.contains(&said), "README should say {said:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_suite_passes_against_the_embedded_acs() {
    let (cases, suite, _) = case::load_suite(&suite_dir()).unwrap();
    assert_eq!(
        case_names(&cases),
        shipped_cases(),
        "the suite is the known list"
    );
    assert_eq!(suite.username.as_deref(), Some("cpe"));
    let r = with_acs(&[], &cases).await;
    assert!(r.passed(), "{}", r.text());
    // Every check but the one a correct ACS never gives a chance to fail was exercised.
    for c in Check::ALL {
        if c != Check::NoRpcBeforeEmptyPost {
            assert!(r.checks.passed(c) > 0, "{} never exercised", c.label());
        }
    }
}

/// Each case with the ACS bug(s) that must make it fail.
const BUGS: &[(&str, &[&str])] = &[
    ("bootstrap-provisioning", &["ignore_bootstrap"]),
    ("periodic-inform", &["max_envelopes2"]),
    ("cwmp-id-echo", &["wrong_id"]),
    ("value-change", &["ignore_value_change"]),
    ("connection-request", &["no_connection_request"]),
    ("firmware-download", &["reject_transfer_complete"]),
    ("reboot-command-key", &["repeat_tasks"]),
    ("factory-reset-rebootstrap", &["ignore_rebootstrap"]),
    ("fault-9005-invalid-name", &["retry_faulted"]),
    ("fault-9007-invalid-value", &["retry_faulted"]),
    ("set-parameter-values-fault", &["retry_faulted"]),
    ("retry-after-503", &["no_retry_after"]),
    ("digest-auth", &["no_auth"]),
    ("cwmp-versions", &["wrong_namespace"]),
    ("add-delete-object", &["object_name_without_dot"]),
    ("get-rpc-methods", &["rpc_methods_incomplete"]),
    ("get-rpc-methods", &["rpc_before_empty_post"]),
    ("schedule-inform", &["schedule_inform_zero_delay"]),
    ("spv-parameter-key-and-types", &["no_parameter_key"]),
    ("spv-parameter-key-and-types", &["wrong_xsi_type"]),
    ("session-end-and-cookies", &["end_with200_body"]),
    ("session-end-and-cookies", &["change_cookie"]),
    ("diagnostics", &["one_parameter_per_spv"]),
    ("schedule-download", &["overlapping_windows"]),
    ("schedule-download", &["reject_transfer_complete"]),
    ("change-du-state", &["reject_du_state_change_complete"]),
    (
        "autonomous-du-state-change",
        &["reject_du_state_change_complete"],
    ),
    ("xmpp-connection-request", &["http_instead_of_xmpp"]),
    ("xmpp-connection-request", &["xmpp_wrong_password"]),
    ("xmpp-connection-request", &["no_connection_request"]),
    ("udp-connection-request", &["no_connection_request"]),
    ("udp-connection-request", &["udp_bad_signature"]),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_fails_against_its_acs_bug() {
    let (cases, _, _) = case::load_suite(&suite_dir()).unwrap();
    for c in &cases {
        assert!(
            BUGS.iter().any(|(n, _)| *n == c.spec.name),
            "case {} has no misbehaviour test",
            c.spec.name
        );
    }
    for (name, bugs) in BUGS {
        let case = cases
            .iter()
            .find(|c| c.spec.name == *name)
            .unwrap_or_else(|| panic!("no case {name}"));
        let r = with_acs(bugs, std::slice::from_ref(case)).await;
        assert!(
            !r.passed() && !r.cases[0].passed,
            "{name} passed against {bugs:?}:\n{}",
            r.text()
        );
        // The failure names what went wrong.
        assert!(!r.cases[0].failures.is_empty());
    }
}

/// The one check a correct ACS never gives a chance to fail: an ACS that answers the CPE's own
/// request (GetRPCMethods, in a bootstrap session with provisioning queued) with its next
/// request instead of the response must fail it, by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acs_request_before_the_empty_post_fails_its_check() {
    let (cases, _, _) = case::load_suite(&suite_dir()).unwrap();
    let case = cases
        .iter()
        .find(|c| c.spec.name == "get-rpc-methods")
        .unwrap();
    let good = with_acs(&[], std::slice::from_ref(case)).await;
    assert!(good.passed(), "{}", good.text());
    assert_eq!(good.checks.failed(Check::NoRpcBeforeEmptyPost), 0);
    let r = with_acs(&["rpc_before_empty_post"], std::slice::from_ref(case)).await;
    assert!(!r.passed(), "{}", r.text());
    assert_eq!(
        r.checks.failed(Check::NoRpcBeforeEmptyPost),
        1,
        "{}",
        r.text()
    );
    assert!(
        r.check_failures
            .iter()
            .any(|(c, d)| *c == Check::NoRpcBeforeEmptyPost
                && d.contains("an ACS request in answer to a CPE request")),
        "{:?}",
        r.check_failures
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_failures_name_the_device_session_and_message() {
    let (cases, _, _) = case::load_suite(&suite_dir()).unwrap();
    let case = cases
        .iter()
        .find(|c| c.spec.name == "periodic-inform")
        .unwrap();
    let r = with_acs(&["max_envelopes2"], std::slice::from_ref(case)).await;
    assert_eq!(r.checks.failed(Check::MaxEnvelopes), 3);
    let (c, detail) = &r.check_failures[0];
    assert_eq!(*c, Check::MaxEnvelopes);
    assert!(
        detail.contains("device CPF")
            && detail.contains("session 1")
            && detail.contains("message InformResponse"),
        "{detail}"
    );
}

fn run_binary(dir: &Path, junit: &Path) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .arg("conformance")
        .arg(dir)
        .arg("--junit")
        .arg(junit)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// (testcase name, failed) per testcase, parsed back with quick-xml.
fn testcases(xml: &str) -> Vec<(String, bool)> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut out: Vec<(String, bool)> = Vec::new();
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                let name = e
                    .try_get_attribute("name")
                    .unwrap()
                    .unwrap()
                    .unescape_value()
                    .unwrap()
                    .to_string();
                out.push((name, false));
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"failure" => {
                out.last_mut().unwrap().1 = true;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn the_binary_writes_junit_and_exits_3_on_failure() {
    let tmp = tempfile::tempdir().unwrap();
    let copy_case = |dir: &Path| {
        std::fs::create_dir_all(dir.join("acs")).unwrap();
        let src = std::fs::read_to_string(suite_dir().join("02-periodic-inform.yaml")).unwrap();
        let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
        std::fs::write(
            dir.join("periodic.yaml"),
            src.replace(
                "../../data-models/tr181-gateway.yaml",
                &template.display().to_string(),
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("suite.yaml"),
            "policy: acs/policy.yaml\nusername: cpe\npassword: pw\n",
        )
        .unwrap();
    };
    let good = tmp.path().join("good");
    copy_case(&good);
    std::fs::write(good.join("acs/policy.yaml"), policy_text()).unwrap();
    let bad = tmp.path().join("bad");
    copy_case(&bad);
    std::fs::write(
        bad.join("acs/policy.yaml"),
        format!("{}misbehave: [max_envelopes2]\n", policy_text()),
    )
    .unwrap();

    let junit = tmp.path().join("good.xml");
    let (code, stdout) = run_binary(&good, &junit);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("PASS periodic-inform"), "{stdout}");
    let cases = testcases(&std::fs::read_to_string(&junit).unwrap());
    assert_eq!(cases.len(), 1 + Check::ALL.len());
    assert!(cases.iter().all(|(_, failed)| !failed), "{cases:?}");
    assert!(cases[0].0.starts_with("periodic-inform (TR-069 "));

    let junit = tmp.path().join("bad.xml");
    let (code, stdout) = run_binary(&bad, &junit);
    assert_eq!(code, 3, "{stdout}");
    assert!(stdout.contains("FAIL periodic-inform"), "{stdout}");
    let cases = testcases(&std::fs::read_to_string(&junit).unwrap());
    assert_eq!(cases.len(), 1 + Check::ALL.len());
    let failed: Vec<&str> = cases.iter().filter(|c| c.1).map(|c| c.0.as_str()).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[1].starts_with("inform_response_max_envelopes"));
}

/// The XMPP case says why it failed: the ACS's IQ carried the wrong credentials (the device
/// answered not-authorized, TR-069 Annex K), or the request came over HTTP instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_xmpp_case_names_the_refusal() {
    let (cases, _, _) = case::load_suite(&suite_dir()).unwrap();
    let case = cases
        .iter()
        .find(|c| c.spec.name == "xmpp-connection-request")
        .unwrap();
    for (bug, says) in [
        ("xmpp_wrong_password", "not-authorized"),
        ("http_instead_of_xmpp", "over HTTP"),
    ] {
        let r = with_acs(&[bug], std::slice::from_ref(case)).await;
        let text = r.cases[0].failures.join("\n");
        assert!(text.contains(says), "{bug}: {text}");
    }
}
