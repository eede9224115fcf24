use super::*;
use crate::cwmp::{Header, InformResponse, ParameterValueStruct, SetParameterValues};

fn run(st: &mut CheckState, x: &Observed<'_>) -> Vec<(Check, Result<(), &'static str>)> {
    let mut v = Vec::new();
    check_exchange(
        st,
        x,
        &mut |n| (n == "Device.A").then_some(XsdType::UnsignedInt),
        &mut |c, r| v.push((c, r)),
    );
    v
}

fn ir(id: Option<&str>, max: u32, version: CwmpVersion) -> Envelope<AcsMessage> {
    Envelope::new(
        version,
        Header {
            id: id.map(str::to_string),
            ..Header::default()
        },
        AcsMessage::Response(AcsResponse::InformResponse(InformResponse {
            max_envelopes: max,
        })),
    )
}

#[test]
fn inform_response_checks() {
    let h = HeaderMap::new();
    let good = ir(Some("7"), 1, CwmpVersion::V1_2);
    let x = Observed {
        sent: Sent::Inform("7"),
        status: 200,
        headers: &h,
        body: b"<x/>",
        message: Some(&good),
        version: CwmpVersion::V1_4,
    };
    let v = run(&mut CheckState::default(), &x);
    assert!(v.iter().all(|(_, r)| r.is_ok()), "{v:?}");
    assert!(v.iter().any(|(c, _)| *c == Check::MaxEnvelopes));
    let bad = ir(Some("8"), 2, CwmpVersion::V1_0);
    let v = run(
        &mut CheckState::default(),
        &Observed {
            message: Some(&bad),
            ..x
        },
    );
    let failed: Vec<Check> = v.iter().filter(|(_, r)| r.is_err()).map(|x| x.0).collect();
    assert_eq!(
        failed,
        vec![Check::Namespace, Check::MaxEnvelopes, Check::IdEchoed]
    );
}

#[test]
fn spv_needs_a_key_and_model_types() {
    let h = HeaderMap::new();
    let spv = |kind| {
        Envelope::new(
            CwmpVersion::V1_0,
            Header::with_id("1"),
            AcsMessage::Request(AcsRequest::SetParameterValues(SetParameterValues {
                parameter_list: vec![ParameterValueStruct {
                    name: "Device.A".into(),
                    value: "5".into(),
                    kind,
                }],
                parameter_key: String::new(),
            })),
        )
    };
    let ok = spv(Some(XsdType::UnsignedInt));
    let x = Observed {
        sent: Sent::Empty,
        status: 200,
        headers: &h,
        body: b"<ParameterKey></ParameterKey>",
        message: Some(&ok),
        version: CwmpVersion::V1_0,
    };
    assert!(run(&mut CheckState::default(), &x)
        .iter()
        .all(|(_, r)| r.is_ok()));
    let wrong = spv(Some(XsdType::String));
    let v = run(
        &mut CheckState::default(),
        &Observed {
            message: Some(&wrong),
            body: b"<x/>",
            ..x
        },
    );
    let failed: Vec<Check> = v.iter().filter(|(_, r)| r.is_err()).map(|x| x.0).collect();
    assert_eq!(failed, vec![Check::ParameterKey, Check::XsiTypes]);
}

#[test]
fn end_status_and_requests_after_it() {
    let h = HeaderMap::new();
    let mut st = CheckState::default();
    let end = Observed {
        sent: Sent::Empty,
        status: 204,
        headers: &h,
        body: b"",
        message: None,
        version: CwmpVersion::V1_0,
    };
    assert_eq!(run(&mut st, &end), vec![(Check::SessionEnd, Ok(()))]);
    assert!(st.ended);
    let v = run(&mut CheckState::default(), &Observed { status: 500, ..end });
    assert!(matches!(v.as_slice(), [(Check::SessionEnd, Err(_))]));
    let v = run(
        &mut CheckState::default(),
        &Observed {
            status: 200,
            body: b"done",
            ..end
        },
    );
    assert!(matches!(v.as_slice(), [(Check::SessionEnd, Err(_))]));
    let rpc = Envelope::new(
        CwmpVersion::V1_0,
        Header::with_id("1"),
        AcsMessage::Request(AcsRequest::GetRPCMethods),
    );
    let v = run(
        &mut st,
        &Observed {
            sent: Sent::Request("TransferComplete", "3"),
            status: 200,
            message: Some(&rpc),
            ..end
        },
    );
    assert!(v.contains(&(
        Check::NoRequestAfterEnd,
        Err("an ACS request after the ACS ended the session with 204")
    )));
}

#[test]
fn cookies_must_not_change() {
    let mut st = CheckState::default();
    let mut h = HeaderMap::new();
    h.insert(
        http::header::SET_COOKIE,
        "session=ab; Path=/".parse().unwrap(),
    );
    let mut v = Vec::new();
    cookies(&mut st, &h, &mut |c, r| v.push((c, r)));
    cookies(&mut st, &h, &mut |c, r| v.push((c, r)));
    h.insert(http::header::SET_COOKIE, "session=cd".parse().unwrap());
    cookies(&mut st, &h, &mut |c, r| v.push((c, r)));
    assert_eq!(v.len(), 3);
    assert!(v[0].1.is_ok() && v[1].1.is_ok() && v[2].1.is_err());
}

#[test]
fn counts_merge() {
    let mut a = CheckCounts::default();
    a.record(Check::Cookies, true);
    let mut b = CheckCounts::default();
    b.record(Check::Cookies, false);
    a.merge(&b);
    assert_eq!((a.passed(Check::Cookies), a.failed(Check::Cookies)), (1, 1));
    assert!(a.any_failed());
    assert_eq!(a.to_json()["cwmp_id_echoed"], serde_json::Value::Null);
}
