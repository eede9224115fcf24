//! Every envelope kind the codec encodes, checked against the official BBF schemas with
//! `tests/data/bbf/validate-cwmp` (xmllint).

use std::process::Command;

use crate::support::schema::{validate, validator};

use cpefleet::cwmp::sample;
use cpefleet::cwmp::{
    decode_acs, decode_cpe, encode_acs, encode_cpe, AcsMessage, AcsRequest, CpeMessage,
    CwmpVersion, Envelope, EventCode, EventStruct, Header, SetParameterAttributes,
    SetParameterAttributesStruct,
};

fn cpe_files() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for v in CwmpVersion::ALL {
        for (label, env) in sample::all_cpe(v) {
            let mut buf = Vec::new();
            encode_cpe(&env, &mut buf);
            // The codec must read back what it wrote before the schema has its say.
            decode_cpe(&buf).unwrap_or_else(|e| panic!("{label}: {e}"));
            files.push((format!("cpe-{label}"), buf));
        }
    }
    // One Inform carrying every event code at once, M codes with their CommandKeys, at 1.4.
    let events = EventCode::STANDARD
        .iter()
        .map(|c| EventStruct::new(c.clone(), "ck"))
        .collect();
    let mut buf = Vec::new();
    encode_cpe(&sample::inform(CwmpVersion::V1_4, events, 30), &mut buf);
    files.push(("cpe-1.4-inform-every-code".into(), buf));
    files
}

fn acs_files() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for v in CwmpVersion::ALL {
        for (label, env) in sample::all_acs(v) {
            let mut buf = Vec::new();
            encode_acs(&env, &mut buf);
            decode_acs(&buf).unwrap_or_else(|e| panic!("{label}: {e}"));
            files.push((format!("acs-{label}"), buf));
        }
    }
    files
}

#[test]
fn every_cpe_message_kind_is_schema_valid() {
    let files = cpe_files();
    // 5 versions x (Informs per event code + requests + responses + faults).
    assert!(
        files.len() > 300,
        "only {} CPE envelopes generated",
        files.len()
    );
    let script = validator();
    let dir = tempfile::tempdir().expect("tempdir");
    validate(&script, dir.path(), &files);
}

#[test]
fn every_acs_message_kind_is_schema_valid() {
    let files = acs_files();
    assert!(
        files.len() > 100,
        "only {} ACS envelopes generated",
        files.len()
    );
    let script = validator();
    let dir = tempfile::tempdir().expect("tempdir");
    validate(&script, dir.path(), &files);
}

/// GenieACS's empty `<Notification>` (NotificationChange false) is its dialect, not the schema's:
/// the validator must reject it, which shows the check really looks at element content.
#[test]
fn genieacs_empty_notification_is_outside_the_schema() {
    let script = validator();
    let env = Envelope {
        version: CwmpVersion::V1_0,
        header: Header::with_id("1"),
        body: AcsMessage::Request(AcsRequest::SetParameterAttributes(SetParameterAttributes {
            parameter_list: vec![SetParameterAttributesStruct {
                name: "InternetGatewayDevice.DeviceInfo.".into(),
                notification_change: false,
                notification: None,
                access_list_change: false,
                access_list: vec![],
            }],
        })),
    };
    let mut buf = Vec::new();
    encode_acs(&env, &mut buf);
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("spa.xml");
    std::fs::write(&p, &buf).expect("write");
    let out = Command::new(&script)
        .arg(&p)
        .output()
        .expect("run validate-cwmp");
    assert!(
        !out.status.success(),
        "an empty Notification should not validate"
    );
    // And the codec still reads it back as "not changing".
    let back = decode_acs(&buf).expect("decode");
    assert_eq!(back.body, env.body);
}

#[test]
fn cpe_never_emits_acs_only_headers_even_if_asked() {
    let mut env = sample::inform(
        CwmpVersion::V1_4,
        vec![EventStruct::new(EventCode::Boot, "")],
        3,
    );
    env.header.hold_requests = Some(true);
    env.header.no_more_requests = Some(true);
    env.header.use_cwmp_version = Some("1.4".into());
    let mut buf = Vec::new();
    encode_cpe(&env, &mut buf);
    let text = String::from_utf8(buf.clone()).expect("utf8");
    for banned in ["HoldRequests", "NoMoreRequests", "UseCWMPVersion"] {
        assert!(!text.contains(banned), "{banned} emitted by a CPE");
    }
    let script = validator();
    let dir = tempfile::tempdir().expect("tempdir");
    validate(
        &script,
        dir.path(),
        &[("inform-with-stray-headers".into(), buf)],
    );
    // A decoded 1.4 Inform keeps its negotiated version.
    let back = decode_cpe(text.as_bytes()).expect("decode");
    assert_eq!(back.version, CwmpVersion::V1_4);
    assert!(matches!(back.body, CpeMessage::Request(_)));
}
