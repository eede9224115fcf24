//! XMPP connection requests (TR-069 Annex K) with no XMPP server at all: the embedded ACS
//! accepts the fleet's XEP-0114 component connection and sends its IQs down it. The shipped
//! `scenarios/cr-xmpp.yaml` accounts for every request end to end, and the NBI's
//! `?connection_request&transport=` picks the transport, with refusals counted by reason.

use std::process::Command;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use cpefleet::acs::xmpp::XmppGatewayConfig;
use cpefleet::acs::{self, AcsConfig, Policy};
use cpefleet::cr::xmpp::XmppCrResult;
use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::stats::Live;
use cpefleet::scenario::{Overrides, Scenario};
use tokio_util::sync::CancellationToken;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the shipped scenario (shortened) and reads its JSON report: every request the ACS sent
/// over XMPP was received, accepted with a result IQ, and led to a `6 CONNECTION REQUEST`
/// session.
#[test]
fn the_shipped_xmpp_scenario_accounts_for_every_connection_request() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let out = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .arg("run")
        .arg(root().join("scenarios/cr-xmpp.yaml"))
        .args(["--duration", "12s", "--quiet", "--report-json"])
        .arg(&report)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let x = &doc["connection_requests"]["xmpp"];
    let n = |k: &str| x[k].as_u64().unwrap_or_else(|| panic!("xmpp.{k}: {x}"));
    let sent = doc["embedded_acs"]["connection_requests_by_transport"]["xmpp"]
        .as_u64()
        .unwrap();
    assert!(sent >= 20, "the ACS woke every device at least once: {doc}");
    assert_eq!(
        doc["embedded_acs"]["connection_requests"]["ok"].as_u64(),
        Some(sent),
        "every IQ answered with a result"
    );
    assert_eq!((n("received"), n("accepted")), (sent, sent), "{x}");
    assert_eq!(n("sessions"), sent, "each led to a session: {x}");
    assert_eq!(
        doc["events"]["6 CONNECTION REQUEST"].as_u64(),
        Some(sent),
        "{doc}"
    );
    assert_eq!(
        (n("connections_peak"), n("logins")),
        (1, 1),
        "one socket: {x}"
    );
    assert_eq!(
        doc["latency_ms"]["cr_to_inform:xmpp"]["count"].as_u64(),
        Some(sent)
    );
    assert_eq!(
        doc["connection_requests"]["http"]["sessions"].as_u64(),
        Some(0)
    );
}

/// `POST /devices/<id>/tasks` with a body, through curl (as the interop tier does).
fn nbi_post(url: &str, body: &str) -> u16 {
    let out = Command::new("curl")
        .args(["-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}"])
        .args(["-X", "POST", "-d", body, url])
        .output()
        .expect("curl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

async fn until(what: &str, mut f: impl FnMut() -> bool) {
    // Bounded by count: 300 × 50 ms.
    for _ in 0..300 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Two groups behind the embedded ACS's component port: `open` takes requests from the ACS,
/// `strict` only from another JID. The NBI reaches `open` over XMPP (200) and HTTP (200),
/// finds no STUN binding for UDP (202), refuses an unknown transport (400); `strict` answers
/// the ACS's IQ with service-unavailable (202), counted as not_allowed on the device side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nbi_picks_the_transport_and_refusals_are_counted() {
    let cancel = CancellationToken::new();
    let policy = Policy::parse("seed: x\nbootstrap:\n  discover: false\n").unwrap();
    let mut cfg = AcsConfig::new(([127, 0, 0, 1], 0).into(), policy);
    cfg.xmpp = Some(XmppGatewayConfig {
        listen: ([127, 0, 0, 1], 0).into(),
        secret: "sesame".into(),
    });
    let acs = acs::start(cfg, cancel.clone()).await.unwrap();
    let server = acs.xmpp_addr().unwrap();
    let template = root().join("data-models/tr181-gateway.yaml");
    let group = |name: &str, domain: &str, allowed: &str| {
        format!(
            "    - name: {name}\n      template: {}\n      count: 1\n      connection_requests:\n        transport: xmpp\n        xmpp: {{ server: '{server}', domain: {domain}, secret: sesame, allowed_jids: [{allowed}] }}\n",
            template.display()
        )
    };
    let text = format!(
        "name: nbi\nseed: 3\ntime_scale: 1\nduration: 10s\nfleet:\n  connection_requests: {{ min_interval: 0s }}\n  groups:\n{}{}phases:\n  - boot: {{ over: 1s }}\n  - steady: {{ for: 9s }}\n",
        group("open", "open.example", "acs@cpefleet.invalid"),
        group("strict", "strict.example", "other@acs.example"),
    );
    let s = Scenario::parse(&text, &root().join("s.yaml"), &Overrides::default()).unwrap();
    let live = Arc::new(Live::default());
    let opts = RunOptions {
        grace: Duration::from_secs(3),
        live: Some(live.clone()),
        ..RunOptions::default()
    };
    let url = acs.url();
    let run = tokio::spawn(async move { fleet::run(&s, &url, &opts, cancel.child_token()).await });
    let ids = ["00D09E-HGW181-CPF00000000", "00D09E-HGW181-CPF00000001"];
    let ready = |id: &str| {
        acs.device(id).is_some_and(|d| {
            !d.in_session
                && d.cr_username.is_some()
                && d.parameters
                    .contains_key("Device.ManagementServer.ConnReqJabberID")
        })
    };
    until("both devices provisioned, their JIDs known", || {
        ids.iter().all(|id| ready(id)) && live.xmpp.connected.load(Relaxed) == 2
    })
    .await;
    let task = r#"{"name": "getParameterValues", "parameterNames": ["Device.DeviceInfo.UpTime"]}"#;
    let post = |id: &str, transport: &str| {
        let url = format!(
            "{}devices/{id}/tasks?connection_request&transport={transport}",
            acs.url()
        );
        tokio::task::spawn_blocking(move || nbi_post(&url, task))
    };
    assert_eq!(post(ids[0], "xmpp").await.unwrap(), 200);
    until("the XMPP-woken session to end", || ready(ids[0])).await;
    assert_eq!(post(ids[0], "udp").await.unwrap(), 202, "no STUN binding");
    assert_eq!(post(ids[0], "pigeon").await.unwrap(), 400);
    assert_eq!(
        post(ids[1], "xmpp").await.unwrap(),
        202,
        "not an allowed JID"
    );
    until("the HTTP listener free again", || ready(ids[0])).await;
    assert_eq!(post(ids[0], "http").await.unwrap(), 200);
    let result = run.await.unwrap().unwrap();
    let x = &live.xmpp;
    assert_eq!(x.get(XmppCrResult::Accepted), 1);
    assert_eq!(x.get(XmppCrResult::NotAllowed), 1);
    let st = acs.status();
    assert_eq!(st.connection_requests_by_transport["xmpp"], 2);
    assert_eq!(st.connection_requests_by_transport["http"], 1);
    assert_eq!(
        st.connection_requests["unreachable"], 1,
        "service-unavailable"
    );
    let by = result.stats.cr_to_inform_by.each_ref().map(|h| h.len());
    assert_eq!(by, [1, 0, 1], "one session woken over HTTP, one over XMPP");
}
