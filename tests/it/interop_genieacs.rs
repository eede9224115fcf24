//! The interop tier: cpefleet against a real GenieACS (1.2.16 from `../shared/genieacs-live`,
//! or any GenieACS) given by `CPEFLEET_GENIEACS_CWMP` and `CPEFLEET_GENIEACS_NBI`.
//! `scripts/test.sh` starts one on a fresh database with its own ports and sets them, plus
//! `CPEFLEET_GENIEACS_CONFIG` (its `config.sh`, to set `cwmp.auth`) and `..._DB_PORT`.
//!
//! Without them each test prints `SKIPPED: ...` to stderr and returns; with `CI=true` and
//! `../shared/genieacs-live` present, their absence is a failure instead.
//!
//! The tests share one GenieACS (its config is global: the auth test changes it), so they run
//! one at a time under a lock.

use std::path::{Path, PathBuf};
use std::process::Command;

use cpefleet::conformance::{case, run_suite, AcsProfile, Dialect, SuiteOptions};

pub(crate) struct Genie {
    pub(crate) cwmp: String,
    pub(crate) nbi: String,
}

pub(crate) fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The GenieACS to use, or None after a loud skip.
pub(crate) fn genieacs(test: &str) -> Option<Genie> {
    let slash = |s: String| if s.ends_with('/') { s } else { s + "/" };
    match (
        std::env::var("CPEFLEET_GENIEACS_CWMP"),
        std::env::var("CPEFLEET_GENIEACS_NBI"),
    ) {
        (Ok(c), Ok(n)) if !c.is_empty() && !n.is_empty() => Some(Genie {
            cwmp: slash(c),
            nbi: slash(n),
        }),
        _ => {
            let live = root().join("../shared/genieacs-live");
            let why = "no GenieACS: set CPEFLEET_GENIEACS_CWMP and CPEFLEET_GENIEACS_NBI \
                       (scripts/test.sh starts ../shared/genieacs-live and sets them)";
            if std::env::var("CI").as_deref() == Ok("true") && live.is_dir() {
                panic!("{test}: {why}; CI=true and {} exists", live.display());
            }
            crate::support::skip::say(&format!("interop_genieacs::{test}: {why}"));
            None
        }
    }
}

/// One test at a time against the shared GenieACS.
pub(crate) fn lock() -> &'static tokio::sync::Mutex<()> {
    static L: std::sync::OnceLock<tokio::sync::Mutex<()>> = std::sync::OnceLock::new();
    L.get_or_init(|| tokio::sync::Mutex::new(()))
}

pub(crate) fn nbi_get(url: &str) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-m", "10", "-w", "\n%{http_code}", url])
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

fn options(g: &Genie) -> SuiteOptions {
    let mut o = SuiteOptions::new(&g.cwmp);
    o.nbi_url = Some(g.nbi.clone());
    o.profile = AcsProfile {
        dialect: Dialect::GenieAcs,
        session_cap: None,
        cpe_auth: false,
        xmpp: None,
    };
    o.session_gap = std::time::Duration::from_millis(500);
    o.run_id = Some(cpefleet::conformance::new_run_id());
    o
}

/// The shipped suite against GenieACS with its stock presets: no case fails, every skip names
/// its reason, the NBI is still up, and nothing of the run's devices is left in GenieACS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conformance_suite_holds_on_genieacs() {
    let Some(g) = genieacs("the_conformance_suite_holds_on_genieacs") else {
        return;
    };
    let _l = lock().lock().await;
    let (cases, _, _) = case::load_suite(&root().join("scenarios/conformance")).unwrap();
    let mut opts = options(&g);
    // The XMPP case through the Prosody GenieACS sends through, its devices as components.
    let prosody = xmpp_prosody("the_conformance_suite_holds_on_genieacs");
    if let Some((p, _)) = &prosody {
        opts.profile.xmpp = Some(cpefleet::conformance::XmppJoin {
            server: p.component,
            domain: p.component_domain.clone(),
            secret: p.secret.clone(),
        });
    }
    let run_id = opts.run_id.unwrap();
    let r = run_suite(&cases, &opts).await;
    eprintln!("{}", r.text());
    assert!(r.passed(), "{}", r.text());
    let x = r
        .cases
        .iter()
        .find(|c| c.name == "xmpp-connection-request")
        .unwrap();
    assert_eq!(x.skipped.is_none(), prosody.is_some(), "{}", r.text());
    for c in &r.cases {
        if let Some(why) = &c.skipped {
            assert!(why.len() > 10, "{}: skip without a reason", c.name);
        }
    }
    // The scheduleInform case is skipped (GenieACS 1.2 has no such task), never posted.
    let si = r
        .cases
        .iter()
        .find(|c| c.name == "schedule-inform")
        .unwrap();
    assert!(si
        .skipped
        .as_deref()
        .unwrap_or("")
        .contains("scheduleInform"));
    assert!(r.skipped_cases() < cases.len() / 2, "{}", r.text());
    // The NBI answers, and the run's devices are gone.
    let q = format!(
        "{}devices/?query=%7B%22_deviceId._SerialNumber%22%3A%7B%22%24regex%22%3A%22%5ECPF{run_id}%22%7D%7D&projection=_id",
        g.nbi
    );
    let (status, body) = tokio::task::block_in_place(|| nbi_get(&q));
    assert_eq!(status, 200, "NBI after the suite: {body}");
    let left: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        left,
        serde_json::json!([]),
        "devices of run {run_id} left behind"
    );
}

/// A case that drives every GenieACS 1.2 task through a connection request and wants each one
/// answered 200 (done in the session the request triggered).
const TASKS_CASE: &str = r#"
name: nbi-tasks
section: "3.2.2, A.3.2"
device: { template: TEMPLATE, cwmp_version: "1.4" }
requires: [nbi, files, device_record]
steps:
  - inform: { events: ["0 BOOTSTRAP", "1 BOOT"] }
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "getParameterValues", "parameterNames": ["Device.DeviceInfo.UpTime"]}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "setParameterValues", "parameterValues": [["Device.DeviceInfo.ProvisioningCode", "pc-{serial}", "xsd:string"]]}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - expect: { rpc: SetParameterValues, params: { Device.DeviceInfo.ProvisioningCode: "pc-{serial}" } }
  - expect_acs_value: { path: Device.DeviceInfo.ProvisioningCode, value: "pc-{serial}" }
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "refreshObject", "objectName": "Device.DeviceInfo"}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "addObject", "objectName": "Device.NAT.PortMapping"}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - expect: { rpc: AddObject, capture: { instance: InstanceNumber } }
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "deleteObject", "objectName": "Device.NAT.PortMapping.{captured.instance}"}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - expect: { rpc: DeleteObject, fields: { AnsweredFault: { present: false } } }
  - put_file: { name: "fw-{serial}.bin", file_type: "1 Firmware Upgrade Image", size: 4096 }
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "download", "fileType": "1 Firmware Upgrade Image", "fileName": "fw-{serial}.bin"}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - expect: { rpc: Download, fields: { URL: { contains: "fw-{serial}.bin" } } }
  - inform: {}
  - expect: { rpc: TransferCompleteResponse }
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "reboot"}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - expect: { rpc: Reboot }
  - inform: {}
  - http:
      url: "{nbi}devices/{device_id}/tasks?connection_request"
      body: '{"name": "factoryReset"}'
      expect_status: [200]
  - expect_connection_request: { within: 5s }
  - expect: { rpc: FactoryReset }
  - inform: {}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_nbi_task_completes_through_a_connection_request() {
    let Some(g) = genieacs("every_nbi_task_completes_through_a_connection_request") else {
        return;
    };
    let _l = lock().lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tasks.yaml");
    let template = root().join("data-models/tr181-gateway.yaml");
    std::fs::write(
        &path,
        TASKS_CASE.replace("TEMPLATE", &template.display().to_string()),
    )
    .unwrap();
    let c = case::Case::load(&path).unwrap();
    let r = run_suite(std::slice::from_ref(&c), &options(&g)).await;
    assert!(r.passed() && r.cases[0].passed, "{}", r.text());
}

/// `cpefleet run SCENARIO --acs URL --devices N --duration D --report-json P`: exit code and the
/// JSON report.
fn run_scenario(scenario: &Path, acs: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let out = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .arg("run")
        .arg(scenario)
        .args(["--acs", acs, "--quiet", "--report-json"])
        .arg(&json)
        .args(extra)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = std::fs::read_to_string(&json)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), doc, text)
}

/// The shipped scenarios, scaled down, run against GenieACS with no failed session; a scenario
/// written for the embedded ACS runs unchanged (its policy reported unused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shipped_scenarios_run_against_genieacs_without_failed_sessions() {
    let Some(g) = genieacs("shipped_scenarios_run_against_genieacs_without_failed_sessions") else {
        return;
    };
    let _l = lock().lock().await;
    for (name, devices, duration) in [
        ("quickstart", "20", "12s"),
        ("steady-periodic", "20", "10s"),
        ("boot-storm", "30", "10s"),
        ("firmware-wave", "20", "10s"),
        ("outage-recovery", "20", "12s"),
        ("open-rate", "20", "10s"),
    ] {
        let path = root().join(format!("scenarios/{name}.yaml"));
        let (code, doc, text) = tokio::task::block_in_place(|| {
            run_scenario(
                &path,
                &g.cwmp,
                &["--devices", devices, "--duration", duration],
            )
        });
        // 0: passed; 3: a latency threshold written for the embedded ACS failed.
        assert!(code == 0 || code == 3, "{name}: exit {code}\n{text}");
        let s = &doc["sessions"];
        assert!(s["started"].as_u64().unwrap_or(0) > 0, "{name}: {text}");
        assert_eq!(s["failed"], 0, "{name}: {}\n{text}", doc["errors"]);
        if text.contains("acs.policy") {
            assert!(
                text.contains("warning: ") && text.contains("unused with --acs"),
                "{text}"
            );
        }
    }
}

/// Waits (at most 15 s) until GenieACS's workers see the `cwmp.auth` change: an Inform without
/// credentials from a fresh device (index recorded in `probes`) gets 401 while auth is on.
fn wait_for_auth(g: &Genie, on: bool, probes: &mut Vec<u32>) {
    let template = root().join("data-models/tr181-gateway.yaml");
    for _ in 0..30 {
        let index = 3_999_900 + probes.len() as u32;
        probes.push(index);
        let inform = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
            .arg("render")
            .arg(&template)
            .args(["--index", &index.to_string(), "--inform", "2 PERIODIC"])
            .output()
            .unwrap()
            .stdout;
        let dir = tempfile::tempdir().unwrap();
        let body = dir.path().join("inform.xml");
        std::fs::write(&body, inform).unwrap();
        let out = Command::new("curl")
            .args([
                "-s",
                "-m",
                "5",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-X",
                "POST",
            ])
            .arg("--data-binary")
            .arg(format!("@{}", body.display()))
            .arg(&g.cwmp)
            .output()
            .unwrap();
        let code = String::from_utf8_lossy(&out.stdout).to_string();
        if (code == "401") == on {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!(
        "GenieACS did not take cwmp.auth {} within 15 s",
        if on { "on" } else { "off" }
    );
}

/// With `cwmp.auth` set, devices with the right credentials get in and wrong ones are counted
/// as `auth_failed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpe_auth_right_credentials_in_wrong_ones_counted() {
    let Some(g) = genieacs("cpe_auth_right_credentials_in_wrong_ones_counted") else {
        return;
    };
    let (Ok(config), Ok(db_port)) = (
        std::env::var("CPEFLEET_GENIEACS_CONFIG"),
        std::env::var("CPEFLEET_GENIEACS_DB_PORT"),
    ) else {
        crate::support::skip::say(
            "interop_genieacs::cpe_auth: needs CPEFLEET_GENIEACS_CONFIG (config.sh) and \
             CPEFLEET_GENIEACS_DB_PORT to set cwmp.auth",
        );
        return;
    };
    let _l = lock().lock().await;
    let set = |args: &[&str]| {
        let ok = Command::new(&config)
            .args(args)
            .env("DB_PORT", &db_port)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "config.sh {args:?}");
    };
    set(&["set", "cwmp.auth", "AUTH(\"cpe\", \"cpe-secret\")"]);
    let mut probes = Vec::new();
    wait_for_auth(&g, true, &mut probes);
    let dir = tempfile::tempdir().unwrap();
    let template = root().join("data-models/tr181-gateway.yaml");
    let scenario = |user: &str, pass: &str, seed: u32| {
        let p = dir.path().join(format!("{user}-{pass}.yaml"));
        std::fs::write(
            &p,
            format!(
                "name: auth\nseed: {seed}\ntime_scale: 60\nduration: 6s\n\
                 fleet:\n  groups:\n    - {{ name: gw, template: {}, count: 10, username: {user}, password: {pass} }}\n\
                 phases:\n  - boot: {{ over: 2s }}\n  - steady: {{ for: 4s }}\n",
                template.display()
            ),
        )
        .unwrap();
        p
    };
    let good = tokio::task::block_in_place(|| {
        run_scenario(&scenario("cpe", "cpe-secret", 11), &g.cwmp, &[])
    });
    let bad =
        tokio::task::block_in_place(|| run_scenario(&scenario("cpe", "wrong", 12), &g.cwmp, &[]));
    set(&["del", "cwmp.auth"]);
    wait_for_auth(&g, false, &mut probes);
    for p in probes {
        let url = format!("{}devices/00D09E-HGW181-CPF{p}", g.nbi);
        let _ = Command::new("curl")
            .args(["-s", "-X", "DELETE", &url])
            .status();
    }
    let (_, doc, text) = good;
    assert!(
        doc["sessions"]["succeeded"].as_u64().unwrap_or(0) >= 10,
        "{text}"
    );
    assert_eq!(doc["sessions"]["failed"], 0, "{text}");
    let (_, doc, text) = bad;
    assert_eq!(doc["sessions"]["succeeded"], 0, "{text}");
    assert!(
        doc["errors"]["auth_failed"].as_u64().unwrap_or(0) >= 10,
        "{}\n{text}",
        doc["errors"]
    );
}

/// XMPP connection requests (TR-069 Annex K) from GenieACS: `scripts/test.sh` starts it with
/// `GENIEACS_XMPP_JID`/`_PASSWORD` (and passes them on as `CPEFLEET_GENIEACS_XMPP_JID`/
/// `_PASSWORD`); this test starts Prosody where GenieACS looks for it (the JID's domain, port
/// 5222), registers GenieACS's account and one per device, and runs two devices in client mode.
/// Each logs in, reports its ConnReqJabberID (a value change), and an NBI task posted with
/// `?connection_request` reaches it as an XMPP IQ through Prosody, opens a
/// `6 CONNECTION REQUEST` session and completes: 200.
///
/// GenieACS keeps one XMPP login for its life and does not notice a server that vanished
/// without closing its stream (its IQs then time out: 202 "Did not receive IQ stanza response
/// in a timely manner"); the test's Prosody therefore always ends with SIGTERM, which closes
/// every stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_nbi_task_reaches_a_device_over_xmpp_and_completes() {
    use std::sync::Arc;
    let test = "an_nbi_task_reaches_a_device_over_xmpp_and_completes";
    let Some(g) = genieacs(test) else {
        return;
    };
    let _l = lock().lock().await;
    let Some((p, jid)) = xmpp_prosody(test) else {
        return;
    };
    let (user, domain) = jid.split_once('@').expect("XMPP JID user@domain");
    // Serials carry a run id, so a persistent GenieACS never meets an earlier run's devices.
    let run_id = cpefleet::conformance::new_run_id();
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("gw.yaml");
    let original = std::fs::read_to_string(root().join("data-models/tr181-gateway.yaml")).unwrap();
    let serial = format!("X{run_id}N{{index}}");
    std::fs::write(&template, original.replace("CPF{index:08}", &serial)).unwrap();
    let ids: Vec<String> = (0..2)
        .map(|i| format!("00D09E-HGW181-X{run_id}N{i}"))
        .collect();
    for i in 0..2 {
        p.register(&format!("cpe{i}"), &format!("xmpp-{i}"));
    }
    let text = format!(
        "name: xmpp\nseed: 5\ntime_scale: 1\nduration: 40s\nfleet:\n  groups:\n    - name: xmpp\n      template: {}\n      count: 2\n      connection_requests:\n        transport: xmpp\n        xmpp: {{ mode: client, server: '{}', domain: {domain}, user: 'cpe{{index}}', password: 'xmpp-{{index}}', allowed_jids: [{user}@{domain}] }}\nphases:\n  - boot: {{ over: 1s }}\n  - steady: {{ for: 39s }}\n",
        template.display(),
        p.c2s,
    );
    let s = cpefleet::scenario::Scenario::parse(
        &text,
        &root().join("s.yaml"),
        &cpefleet::scenario::Overrides::default(),
    )
    .unwrap();
    let live = Arc::new(cpefleet::metrics::stats::Live::default());
    let opts = cpefleet::fleet::RunOptions {
        grace: std::time::Duration::from_secs(3),
        live: Some(live.clone()),
        ..Default::default()
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let (acs, stop) = (g.cwmp.clone(), cancel.clone());
    let run = tokio::spawn(async move { cpefleet::fleet::run(&s, &acs, &opts, stop).await });
    let known = |id: &str| {
        let url = format!(
            "{}devices?query=%7B%22_id%22%3A%22{id}%22%7D&projection=Device.ManagementServer.ConnReqJabberID",
            g.nbi
        );
        let (code, body) = nbi_get(&url);
        code == 200 && body.contains(&format!("@{domain}/cwmp"))
    };
    // Bounded: 60 × 500 ms.
    for _ in 0..60 {
        if ids.iter().all(|id| known(id)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert!(
        ids.iter().all(|id| known(id)),
        "GenieACS never learnt the JIDs; prosody log:\n{}",
        p.log()
    );
    for id in &ids {
        let url = format!(
            "{}devices/{id}/tasks?connection_request&timeout=10000",
            g.nbi
        );
        let out = tokio::task::block_in_place(|| {
            Command::new("curl")
                .args(["-s", "-m", "20", "-i", "-w", "\n%{http_code}", "-X", "POST"])
                .args(["-d", r#"{"name":"getParameterValues","parameterNames":["Device.DeviceInfo.UpTime"]}"#])
                .arg(&url)
                .output()
                .expect("curl")
        });
        let text = String::from_utf8_lossy(&out.stdout);
        let code = text.rsplit('\n').next().unwrap_or_default();
        assert_eq!(code, "200", "{id}: {text}\nprosody log:\n{}", p.log());
    }
    cancel.cancel();
    let result = run.await.unwrap().unwrap();
    for id in &ids {
        let _ = Command::new("curl")
            .args(["-s", "-X", "DELETE", &format!("{}devices/{id}", g.nbi)])
            .status();
    }
    let x = &live.xmpp;
    assert_eq!(x.get(cpefleet::cr::xmpp::XmppCrResult::Accepted), 2);
    assert_eq!(x.logins.load(std::sync::atomic::Ordering::Relaxed), 2);
    let woken = result.stats.cr_to_inform_by[cpefleet::cr::CrTransport::Xmpp.slot()].len();
    assert_eq!(woken, 2, "{:?}", result.stats.events);
}

/// The Prosody GenieACS sends XMPP connection requests through: on port 5222 of its JID's
/// domain (where GenieACS connects), GenieACS's account registered. `None` after a loud skip
/// when GenieACS has no XMPP login, prosody is missing, or the port is taken. Returns the JID.
fn xmpp_prosody(test: &str) -> Option<(crate::support::prosody::Prosody, String)> {
    use crate::support::skip::skip;
    let (Ok(jid), Ok(secret)) = (
        std::env::var("CPEFLEET_GENIEACS_XMPP_JID"),
        std::env::var("CPEFLEET_GENIEACS_XMPP_PASSWORD"),
    ) else {
        skip(&format!(
            "interop_genieacs::{test} (XMPP): GenieACS was not started with XMPP (scripts/test.sh \
             sets CPEFLEET_GENIEACS_XMPP_JID and _PASSWORD)"
        ));
        return None;
    };
    if std::net::TcpStream::connect("127.0.0.1:5222").is_ok() {
        skip(&format!(
            "interop_genieacs::{test} (XMPP): 127.0.0.1:5222 is taken (another XMPP server?); \
             GenieACS connects to port 5222 of its JID's domain"
        ));
        return None;
    }
    let Some(p) = crate::support::prosody::Prosody::start(Some(5222), false) else {
        skip(&format!(
            "interop_genieacs::{test} (XMPP): prosody is not installed (apt-get install prosody)"
        ));
        return None;
    };
    let (user, domain) = jid.split_once('@').expect("XMPP JID user@domain");
    assert_eq!(
        domain, p.domain,
        "GenieACS's JID must be on the test Prosody's domain"
    );
    p.register(user, &secret);
    Some((p, jid))
}
