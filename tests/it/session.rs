//! Real sessions over loopback against a scripted ACS: the protocol flow, cookies, auth,
//! redirects, overload, and every broken-ACS case ending classified.

use std::time::Duration;

use crate::support::device::TestDevice;
use crate::support::*;
use cpefleet::auth::DigestResponse;
use cpefleet::cwmp::{
    CpeRequest, CwmpVersion, DateTime, TransferComplete, TransferCompleteFaultStruct,
};
use cpefleet::net::client::{Connector, Endpoint};
use cpefleet::session::{run, Exchange, SessionConfig};

fn config(url: &str) -> SessionConfig {
    SessionConfig {
        acs: Endpoint::parse(url).unwrap(),
        connector: Connector {
            connect_timeout: Duration::from_secs(2),
            tls: None,
            tls_error: None,
        },
        local_addr: None,
        credentials: Some(("cpe".into(), "secret".into())),
        version: CwmpVersion::V1_0,
        exchange_timeout: Duration::from_secs(5),
        session_timeout: Duration::from_secs(10),
        max_body: 64 * 1024,
        max_exchanges: 100,
        user_agent: "cpefleet-test".into(),
        id_prefix: "cpe".into(),
        impairments: Default::default(),
    }
}

/// An ACS request with the ACS's own cwmp:ID (as GenieACS numbers them).
fn gpv_request() -> Reply {
    Reply::ok(envelope(
        NS10,
        "<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType=\"xsd:string[1]\"><string>Device.DeviceInfo.UpTime</string></ParameterNames></cwmp:GetParameterValues>",
    ).replace("{ID}", "1a2137f31190001"))
}

fn transfer_complete() -> CpeRequest {
    CpeRequest::TransferComplete(TransferComplete {
        command_key: "dl-1".into(),
        fault: TransferCompleteFaultStruct {
            fault_code: 0,
            fault_string: String::new(),
        },
        start_time: DateTime::from_unix_ms(1_700_000_000_000),
        complete_time: DateTime::from_unix_ms(1_700_000_001_000),
    })
}

#[tokio::test]
async fn inform_empty_post_rpc_and_end() {
    let acs = ScriptedAcs::start(vec![inform_response(NS10), gpv_request(), Reply::end()]).await;
    let mut dev = TestDevice::default();
    let report = run(&config(&acs.url), &mut dev, None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    assert!(dev.acked && report.inform_acknowledged);
    assert_eq!(dev.applied, vec!["GetParameterValues"]);
    assert_eq!(report.acs_requests, vec!["GetParameterValues"]);
    let kinds: Vec<Exchange> = report.timings.exchanges.iter().map(|(e, _)| *e).collect();
    assert_eq!(
        kinds,
        vec![
            Exchange::Inform,
            Exchange::EmptyPost,
            Exchange::AcsRpc("GetParameterValues")
        ]
    );
    let r = acs.recorded();
    assert_eq!(r.len(), 3);
    assert!(r.iter().all(|x| x.connection == 1), "one connection");
    assert!(r[0].request_line.starts_with("POST /acs "));
    assert!(r[0].body.contains("Inform>"));
    assert_eq!(r[0].header("SOAPAction"), Some("\"\""));
    assert_eq!(r[0].header("Cookie"), None);
    // The empty POST: no body, no Content-Type, no SOAPAction, the cookie.
    assert_eq!(r[1].body, "");
    assert_eq!(r[1].header("Content-Length"), Some("0"));
    assert_eq!(r[1].header("Content-Type"), None);
    assert_eq!(r[1].header("SOAPAction"), None);
    assert_eq!(r[1].header("Cookie"), Some("session=0123456789abcdef"));
    // The GPV response echoes the request's cwmp:ID and carries the cookie.
    assert!(r[2].body.contains("GetParameterValuesResponse"));
    assert_eq!(cwmp_id(&r[2].body).as_deref(), Some("1a2137f31190001"));
    assert_eq!(r[2].header("Cookie"), Some("session=0123456789abcdef"));
}

#[tokio::test]
async fn transfer_complete_before_empty_post() {
    let tc_response = Reply::ok(envelope(
        NS10,
        "<cwmp:TransferCompleteResponse></cwmp:TransferCompleteResponse>",
    ));
    let acs = ScriptedAcs::start(vec![inform_response(NS10), tc_response, Reply::end()]).await;
    let mut dev = TestDevice::default();
    dev.requests.push_back(transfer_complete());
    let report = run(&config(&acs.url), &mut dev, None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    assert_eq!(
        dev.answered,
        vec![(
            "TransferComplete".to_string(),
            Ok("TransferCompleteResponse".to_string())
        )]
    );
    let r = acs.recorded();
    assert!(r[1].body.contains("TransferComplete>"));
    assert_eq!(r[1].header("SOAPAction"), Some("\"\""));
    assert_eq!(r[2].body, "");
}

#[tokio::test]
async fn hold_requests_defers_cpe_requests_until_released() {
    let held = Reply::ok(
        envelope(
            NS10,
            "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
        )
        .replace(
            "</cwmp:ID>",
            "</cwmp:ID><cwmp:HoldRequests soap-env:mustUnderstand=\"1\">1</cwmp:HoldRequests>",
        ),
    );
    let tc_response = Reply::ok(envelope(
        NS10,
        "<cwmp:TransferCompleteResponse></cwmp:TransferCompleteResponse>",
    ));
    let acs = ScriptedAcs::start(vec![
        held,
        gpv_request(),
        Reply::status(204),
        tc_response,
        Reply::end(),
    ])
    .await;
    let mut dev = TestDevice::default();
    dev.requests.push_back(transfer_complete());
    let report = run(&config(&acs.url), &mut dev, None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    let bodies: Vec<String> = acs.recorded().into_iter().map(|r| r.body).collect();
    assert!(bodies[0].contains("Inform>"));
    assert_eq!(
        bodies[1], "",
        "held: empty POST instead of TransferComplete"
    );
    assert!(bodies[2].contains("GetParameterValuesResponse"));
    assert!(
        bodies[3].contains("TransferComplete>"),
        "released after the 204"
    );
    assert_eq!(bodies[4], "");
}

#[tokio::test]
async fn digest_challenge_answered_on_the_same_socket() {
    let challenge = Reply::status(401).with_header(
        "WWW-Authenticate",
        "Digest realm=\"GenieACS\",qop=\"auth,auth-int\",nonce=\"0123456789abcdef0123456789abcdef\"",
    );
    let acs = ScriptedAcs::start(vec![challenge, inform_response(NS10), Reply::end()]).await;
    let mut dev = TestDevice::default();
    let report = run(&config(&acs.url), &mut dev, None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    assert!(report.timings.auth_challenge.is_some());
    let r = acs.recorded();
    assert_eq!(r[0].connection, r[1].connection, "retry on the same socket");
    assert_eq!(r[0].body, r[1].body, "the same Inform is re-sent");
    let authz = r[1].header("Authorization").unwrap();
    let d = DigestResponse::parse(authz.trim_start_matches("Digest ")).unwrap();
    assert_eq!(d.username, "cpe");
    assert_eq!(d.uri, "/acs");
    assert!(d.verify("secret", "POST"));
    // Later POSTs keep authenticating with a growing nonce count.
    let later = DigestResponse::parse(
        r[2].header("Authorization")
            .unwrap()
            .trim_start_matches("Digest "),
    )
    .unwrap();
    assert_eq!(later.nc.as_deref(), Some("00000002"));
}

#[tokio::test]
async fn wrong_credentials_and_endless_401_end_as_auth_failed() {
    let challenge = || {
        Reply::status(401).with_header(
            "WWW-Authenticate",
            "Digest realm=\"x\", qop=\"auth\", nonce=\"n\"",
        )
    };
    let acs = ScriptedAcs::start(vec![challenge(), challenge(), challenge(), challenge()]).await;
    let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
    assert_eq!(report.label(), "auth_failed");
    assert!(!report.inform_acknowledged);
    assert_eq!(acs.recorded().len(), 2, "gives up after the second 401");
}

#[tokio::test]
async fn redirect_resends_the_same_post() {
    let target = ScriptedAcs::start(vec![inform_response(NS10), Reply::end()]).await;
    let first =
        ScriptedAcs::start(vec![Reply::status(307).with_header("Location", &target.url)]).await;
    let report = run(&config(&first.url), &mut TestDevice::default(), None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    assert_eq!(first.recorded()[0].body, target.recorded()[0].body);
    assert_eq!(report.connections, 2);
}

#[tokio::test]
async fn more_than_five_redirects_fail() {
    let loop_acs = ScriptedAcs::start(
        (0..10)
            .map(|_| Reply::status(302).with_header("Location", "/again"))
            .collect(),
    )
    .await;
    let report = run(&config(&loop_acs.url), &mut TestDevice::default(), None).await;
    assert_eq!(report.label(), "too_many_redirects");
    assert_eq!(loop_acs.recorded().len(), 6);
}

#[tokio::test]
async fn overload_503_carries_retry_after() {
    let acs = ScriptedAcs::start(vec![Reply::status(503)
        .with_header("Retry-after", "60")
        .with_header("Connection", "close")])
    .await;
    let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
    assert_eq!(report.label(), "http_503");
    let err = report.outcome.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn fault_8005_on_inform_is_retried() {
    let retry = Reply::ok(envelope(
        NS10,
        "<soap-env:Fault><faultcode>Server</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>8005</FaultCode><FaultString>Retry request</FaultString></cwmp:Fault></detail></soap-env:Fault>",
    ));
    let acs = ScriptedAcs::start(vec![retry, inform_response(NS10), Reply::end()]).await;
    let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    let r = acs.recorded();
    assert!(r[1].body.contains("Inform>"), "the Inform is re-sent");
    assert_ne!(cwmp_id(&r[0].body), cwmp_id(&r[1].body));
}

#[tokio::test]
async fn reconnect_with_cookie_when_the_acs_closes_between_exchanges() {
    let closing = inform_response(NS10).with_header("Connection", "close");
    let acs = ScriptedAcs::start(vec![closing, Reply::end()]).await;
    let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    let r = acs.recorded();
    assert_eq!((r[0].connection, r[1].connection), (1, 2));
    assert_eq!(r[1].header("Cookie"), Some("session=0123456789abcdef"));
}

/// Every broken-ACS behaviour ends the session with its own label, promptly, without panic.
#[tokio::test]
async fn broken_acs_cases_are_classified() {
    let cases: Vec<(Vec<Reply>, &str)> = vec![
        (vec![Reply::ok("<not-xml")], "decode_xml"),
        (
            vec![Reply::ok(
                envelope(
                    NS10,
                    "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
                )
                .replace("{ID}", "someone-else"),
            )],
            "wrong_cwmp_id",
        ),
        (vec![Reply::status(500)], "http_5xx"),
        (vec![Reply::status(400)], "http_400"),
        (vec![Reply::status(204)], "unexpected_message"),
        // Closed before answering, or in the middle of the body: an incomplete message.
        (vec![Reply::Close], "http_incomplete"),
        (
            vec![Reply::Truncated {
                declared: 5000,
                body: "<soap-env:Envelope".into(),
            }],
            "http_incomplete",
        ),
        (vec![Reply::Endless], "body_too_large"),
        (vec![Reply::Stall], "exchange_timeout"),
        (
            vec![
                inform_response(NS10),
                Reply::ok(envelope(
                    NS10,
                    "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
                )),
            ],
            "unexpected_message",
        ),
    ];
    for (script, label) in cases {
        let acs = ScriptedAcs::start(script).await;
        let mut cfg = config(&acs.url);
        // Only the stalled ACS needs the timeout to fire; the others keep the default 5 s, so
        // a loaded machine cannot turn a slow read into a timeout instead of their own label.
        if label == "exchange_timeout" {
            cfg.exchange_timeout = Duration::from_millis(300);
        }
        let report = run(&cfg, &mut TestDevice::default(), None).await;
        assert_eq!(report.label(), label, "{:?}", report.outcome);
    }
}

#[tokio::test]
async fn an_acs_that_never_ends_the_session_is_cut_off() {
    let acs = ScriptedAcs::start(
        std::iter::once(inform_response(NS10))
            .chain((0..50).map(|_| gpv_request()))
            .collect(),
    )
    .await;
    let mut cfg = config(&acs.url);
    cfg.max_exchanges = 10;
    let report = run(&cfg, &mut TestDevice::default(), None).await;
    assert_eq!(report.label(), "too_many_exchanges");
}

#[tokio::test]
async fn connection_refused_is_classified() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    drop(listener);
    let report = run(&config(&url), &mut TestDevice::default(), None).await;
    assert_eq!(report.label(), "connect_refused");
}

#[tokio::test]
async fn injected_reset_drops_the_session_after_the_inform_response() {
    let acs = ScriptedAcs::start(vec![inform_response(NS10), Reply::end()]).await;
    let mut cfg = config(&acs.url);
    cfg.impairments.reset_rate = 1.0;
    let mut dev = TestDevice::default();
    let report = run(&cfg, &mut dev, None).await;
    assert_eq!(report.label(), "injected_reset");
    assert!(report.inform_acknowledged, "the Inform was delivered first");
    assert_eq!(acs.recorded().len(), 1, "no empty POST after the reset");
}

#[tokio::test]
async fn slow_bodies_arrive_whole_and_late() {
    let acs = ScriptedAcs::start(vec![inform_response(NS10), Reply::end()]).await;
    let mut cfg = config(&acs.url);
    cfg.impairments.slow_body_rate = 1.0;
    cfg.impairments.slow_chunk = 200;
    cfg.impairments.slow_delay = Duration::from_millis(10);
    let report = run(&cfg, &mut TestDevice::default(), None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    let r = acs.recorded();
    assert!(
        r[0].body.contains("</soap-env:Envelope>"),
        "the whole Inform arrived"
    );
    let pieces = r[0].body.len().div_ceil(200) as u32;
    let inform_time = report.timings.inform().unwrap();
    assert!(
        inform_time >= Duration::from_millis(10) * (pieces - 1),
        "{inform_time:?} for {pieces} pieces"
    );
}

#[tokio::test]
async fn basic_challenge_is_answered() {
    let challenge = Reply::status(401).with_header("WWW-Authenticate", "Basic realm=\"acs\"");
    let acs = ScriptedAcs::start(vec![challenge, inform_response(NS10), Reply::end()]).await;
    let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    let r = acs.recorded();
    assert_eq!(
        cpefleet::auth::basic::parse(r[1].header("Authorization").unwrap()),
        Some(("cpe".to_string(), "secret".to_string()))
    );
}

/// Sessions leave from the source address the pool gives them (loopback aliases here), so one
/// machine can open more sessions than one address's ephemeral ports allow.
#[tokio::test]
async fn sessions_bind_their_source_address() {
    let acs = ScriptedAcs::start(vec![inform_response(NS10), Reply::end()]).await;
    let mut cfg = config(&acs.url);
    cfg.local_addr = Some("127.0.0.7".parse().unwrap());
    let report = run(&cfg, &mut TestDevice::default(), None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    assert_eq!(acs.recorded()[0].peer.ip().to_string(), "127.0.0.7");
}

/// A SOAP fault as SOAP 1.1 §6.2 sends it: HTTP 500 with the Fault in the body.
fn fault_500(code: u32) -> Reply {
    let Reply::Http { headers, body, .. } = Reply::ok(envelope(
        NS10,
        &format!("<soap-env:Fault><faultcode>Server</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>{code}</FaultCode><FaultString>Retry request</FaultString></cwmp:Fault></detail></soap-env:Fault>"),
    )) else {
        unreachable!()
    };
    Reply::Http {
        status: 500,
        headers,
        body,
    }
}

/// 8005 sent with HTTP 500 (SOAP 1.1 §6.2, what many ACSs do) is the same retry request as
/// with 200: the Inform is re-sent (TR-069 §3.4.5), not counted as http_5xx.
#[tokio::test]
async fn fault_8005_with_http_500_on_inform_is_retried() {
    let acs = ScriptedAcs::start(vec![fault_500(8005), inform_response(NS10), Reply::end()]).await;
    let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);
    let r = acs.recorded();
    assert!(r[1].body.contains("Inform>"), "the Inform is re-sent");
}

/// Any other fault with HTTP 500 keeps its code (inform_fault), and a 500 without a SOAP
/// Fault body, or with an envelope that is not a Fault, stays http_5xx.
#[tokio::test]
async fn http_500_is_a_soap_fault_only_with_a_fault_body() {
    let acs = ScriptedAcs::start(vec![fault_500(8002)]).await;
    let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
    assert_eq!(report.label(), "inform_fault", "{:?}", report.outcome);
    assert!(
        matches!(
            report.outcome,
            Err(cpefleet::session::SessionError::InformFault(8002))
        ),
        "{:?}",
        report.outcome
    );
    let html = Reply::Http {
        status: 500,
        headers: vec![("Content-Type".into(), "text/html".into())],
        body: "<html><body>Internal Server Error</body></html>".into(),
    };
    let Reply::Http { body, .. } = inform_response(NS10) else {
        unreachable!()
    };
    let not_a_fault = Reply::Http {
        status: 500,
        headers: vec![],
        body,
    };
    for script in [vec![Reply::status(500)], vec![html], vec![not_a_fault]] {
        let acs = ScriptedAcs::start(script).await;
        let report = run(&config(&acs.url), &mut TestDevice::default(), None).await;
        assert_eq!(report.label(), "http_5xx", "{:?}", report.outcome);
    }
}
