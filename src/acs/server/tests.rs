//! Unit tests of the ACS's HTTP side.

use super::*;

#[test]
fn cookies_parse_among_others() {
    let mut h = http::HeaderMap::new();
    h.insert(
        header::COOKIE,
        "a=b; session=8f63df79ebed4b36".parse().unwrap(),
    );
    assert_eq!(session_cookie(&h), Some(0x8f63df79ebed4b36));
    h.insert(header::COOKIE, "session=xyz".parse().unwrap());
    assert_eq!(session_cookie(&h), None);
    assert_eq!(session_cookie(&http::HeaderMap::new()), None);
}

#[test]
fn nonces_are_stateless_and_expire() {
    let a = Auth {
        user: "u".into(),
        pass: "p".into(),
        secret: "k".into(),
    };
    let n = a.nonce(1000);
    assert_eq!(n.len(), 32);
    assert!(n.bytes().all(|c| c.is_ascii_hexdigit()));
    assert!(a.nonce_fresh(&n, 1000 + NONCE_TTL_S));
    assert!(!a.nonce_fresh(&n, 1001 + NONCE_TTL_S));
    let other = Auth {
        secret: "x".into(),
        ..a
    };
    assert!(!other.nonce_fresh(&n, 1000));
    assert!(!other.nonce_fresh("short", 1000));
    let c = other.challenge(5, false);
    assert!(
        c.starts_with("Digest realm=\"cpefleet\",qop=\"auth\",nonce=\""),
        "{c}"
    );
}

#[test]
fn file_urls_use_the_host_the_cpe_used() {
    let fs: SocketAddr = "0.0.0.0:7567".parse().unwrap();
    assert_eq!(
        file_base_url(Some("10.1.2.3:7547"), fs),
        "http://10.1.2.3:7567"
    );
    assert_eq!(file_base_url(Some("[::1]:7547"), fs), "http://[::1]:7567");
    assert_eq!(
        file_base_url(Some("acs.example"), fs),
        "http://acs.example:7567"
    );
    assert_eq!(file_base_url(None, fs), "http://127.0.0.1:7567");
}

#[test]
fn ids_are_sniffed_from_undecodable_requests() {
    let b = br#"<e><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">cpe-9</cwmp:ID></soap-env:Header><x/></e>"#;
    assert_eq!(sniff_id(b), Some("cpe-9".into()));
    assert_eq!(sniff_id(b"nothing"), None);
    assert_eq!(sniff_id(b"<a:ID>unterminated"), None);
}

#[test]
fn the_cwmp_1_3_namespace_is_echoed() {
    let store = Store::default();
    let env = session::inform_response(CwmpVersion::V1_3, &crate::cwmp::Header::with_id("1"), None);
    let out = encode(&store, &env, true, Misbehaviour::default());
    assert!(contains(&out, b"xmlns:cwmp=\"urn:dslforum-org:cwmp-1-3\""));
    let out = encode(&store, &env, false, Misbehaviour::default());
    assert!(contains(&out, b"xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\""));
}

#[test]
fn session_slots_are_bounded() {
    let s = Sessions::new();
    assert!(s.reserve(Some(2)));
    assert!(s.reserve(Some(2)));
    assert!(!s.reserve(Some(2)));
    s.release();
    assert!(s.reserve(Some(2)));
    s.release();
    s.release();
    s.release();
    assert_eq!(s.count.load(Relaxed), 0);
}

#[test]
fn nbi_software_and_schedule_tasks() {
    use crate::cwmp::{AcsRequest, DuOperation};
    let files = FileStore::new(None);
    files.put("fw.bin", FileStore::synthetic(5000));
    let task = |json: &str, bad: &[Misbehave]| {
        let t: serde_json::Value = serde_json::from_str(json).unwrap();
        nbi_request(&t, 3, "http://f:1", Misbehaviour::of(bad), &files)
    };
    let two = r#"{"name": "scheduleDownload", "fileName": "fw.bin", "timeWindows": [
        {"start": 0, "end": 600, "mode": "2 Immediately", "maxRetries": 1},
        {"start": 900, "end": 1200}]}"#;
    let Some(AcsRequest::ScheduleDownload(sd)) = task(two, &[]) else {
        panic!()
    };
    assert_eq!(
        (sd.command_key.as_str(), sd.url.as_str(), sd.file_size),
        ("nbi-3", "http://f:1/fw.bin", 5000)
    );
    assert_eq!(sd.time_window_list[0].window_mode, "2 Immediately");
    assert_eq!(sd.time_window_list[1].window_mode, "1 At Any Time");
    assert!(crate::device::window::validate(&sd.time_window_list).is_ok());
    // The deliberate bug: the windows overlap, which a CPE refuses (9003).
    let Some(AcsRequest::ScheduleDownload(sd)) = task(two, &[Misbehave::OverlappingWindows]) else {
        panic!()
    };
    assert!(crate::device::window::validate(&sd.time_window_list).is_err());
    let Some(AcsRequest::CancelTransfer(c)) =
        task(r#"{"name": "cancelTransfer", "commandKey": "k"}"#, &[])
    else {
        panic!()
    };
    assert_eq!(c.command_key, "k");
    let cdu = r#"{"name": "changeDUState", "commandKey": "c", "operations": [
        {"install": {"fileName": "a-1.0.ipk"}}, {"update": {"uuid": "u", "url": "http://x/a-2.0.ipk"}},
        {"uninstall": {"uuid": "u", "version": "2.0"}}]}"#;
    let Some(AcsRequest::ChangeDUState(c)) = task(cdu, &[]) else {
        panic!()
    };
    assert_eq!(c.command_key, "c");
    assert!(
        matches!(&c.operations[0], DuOperation::Install { url, .. } if url == "http://f:1/a-1.0.ipk")
    );
    assert!(
        matches!(&c.operations[1], DuOperation::Update { url, .. } if url == "http://x/a-2.0.ipk")
    );
    assert!(matches!(&c.operations[2], DuOperation::Uninstall { version, .. } if version == "2.0"));
    assert!(task(r#"{"name": "changeDUState", "operations": []}"#, &[]).is_none());
    assert!(task(
        r#"{"name": "changeDUState", "operations": [{"reinstall": {}}]}"#,
        &[]
    )
    .is_none());
}

#[test]
fn the_split_spv_bug_sends_one_parameter_per_request_in_name_order() {
    use crate::cwmp::{AcsRequest, ParameterValueStruct, SetParameterValues, XsdType};
    let spv = AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: vec![
            ParameterValueStruct::new("X.Host", "h", XsdType::String),
            ParameterValueStruct::new("X.DiagnosticsState", "Requested", XsdType::String),
        ],
        parameter_key: "k".into(),
    });
    let names: Vec<String> = nbi_tasks::split_spv(spv)
        .into_iter()
        .map(|r| match r {
            AcsRequest::SetParameterValues(s) => s.parameter_list[0].name.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(names, vec!["X.DiagnosticsState", "X.Host"]);
}
