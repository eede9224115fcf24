use super::*;
use crate::cwmp::decode::{decode_acs, decode_cpe};
use crate::cwmp::message::{AcsRequest, CpeResponse};
use crate::cwmp::sample;

/// What a decoder can see of the version: 1.3/1.4 only show through the Inform headers
/// (or UseCWMPVersion), every other message of theirs reads as 1.2.
fn visible_version(v: CwmpVersion, h: &Header) -> CwmpVersion {
    if v >= CwmpVersion::V1_2
        && h.session_timeout.is_none()
        && h.supported_cwmp_versions.is_none()
        && h.use_cwmp_version.is_none()
    {
        CwmpVersion::V1_2
    } else {
        v
    }
}

fn text(buf: &[u8]) -> &str {
    std::str::from_utf8(buf).unwrap_or("<not utf-8>")
}

#[test]
fn every_cpe_message_round_trips() {
    let mut buf = Vec::new();
    let mut n = 0;
    for v in CwmpVersion::ALL {
        for (label, env) in sample::all_cpe(v) {
            buf.clear();
            encode_cpe(&env, &mut buf);
            let back = decode_cpe(&buf).unwrap_or_else(|e| panic!("{label}: {e}\n{}", text(&buf)));
            assert_eq!(back.body, env.body, "{label}");
            assert_eq!(back.header, env.header, "{label}");
            assert_eq!(back.version, visible_version(v, &env.header), "{label}");
            n += 1;
        }
    }
    assert!(n > 250, "{n}");
}

#[test]
fn every_acs_message_round_trips() {
    let mut buf = Vec::new();
    for v in CwmpVersion::ALL {
        for (label, env) in sample::all_acs(v) {
            buf.clear();
            encode_acs(&env, &mut buf);
            let back = decode_acs(&buf).unwrap_or_else(|e| panic!("{label}: {e}\n{}", text(&buf)));
            assert_eq!(back.body, env.body, "{label}");
            assert_eq!(back.header, env.header, "{label}");
            assert_eq!(back.version, visible_version(v, &env.header), "{label}");
        }
    }
}

#[test]
fn envelope_shape() {
    let mut buf = Vec::new();
    encode_cpe(&sample::gpv_response(CwmpVersion::V1_0, 3), &mut buf);
    let s = text(&buf);
    assert!(s.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap-env:Envelope "));
    for ns in [
        "xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"",
        "xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\"",
        "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"",
        "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
        "xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"",
    ] {
        let envelope_tag = s
            .split("?>\n")
            .nth(1)
            .and_then(|r| r.split('>').next())
            .unwrap_or_default();
        assert!(envelope_tag.contains(ns), "{ns} on Envelope");
    }
    assert!(s.contains("<cwmp:ID soap-env:mustUnderstand=\"1\">1a2137f31190003</cwmp:ID>"));
    assert!(s.contains("<ParameterList soap-enc:arrayType=\"cwmp:ParameterValueStruct[3]\">"));
    assert_eq!(s.matches("<Value xsi:type=\"xsd:string\">").count(), 3);
    assert!(s.ends_with("</cwmp:GetParameterValuesResponse></soap-env:Body></soap-env:Envelope>"));
}

#[test]
fn array_counts_match_items() {
    let mut buf = Vec::new();
    let mut arrays = 0;
    for v in CwmpVersion::ALL {
        for (label, env) in sample::all_cpe(v) {
            buf.clear();
            encode_cpe(&env, &mut buf);
            let s = text(&buf);
            // Each arrayType="T[n]" is followed by exactly n items before its close tag.
            for (pos, _) in s.match_indices("soap-enc:arrayType=\"") {
                let rest = s.get(pos..).unwrap_or_default();
                let decl = rest.split('"').nth(1).unwrap_or_default();
                let (ty, count) = decl
                    .trim_end_matches(']')
                    .split_once('[')
                    .unwrap_or_default();
                let count: usize = count.parse().unwrap_or(usize::MAX);
                let item = ty.rsplit(':').next().unwrap_or_default();
                let open_tag = s.get(..pos).and_then(|b| b.rfind('<')).unwrap_or(0);
                let tag = s.get(open_tag + 1..pos - 1).unwrap_or_default();
                let body = rest.split(&format!("</{tag}>")).next().unwrap_or_default();
                assert_eq!(
                    body.matches(&format!("<{item}>")).count(),
                    count,
                    "{label}: {decl}"
                );
                arrays += 1;
            }
        }
    }
    assert!(arrays > 250, "{arrays} arrays checked");
}

#[test]
fn headers_follow_role_and_version() {
    let mut buf = Vec::new();
    let mut env = sample::inform(CwmpVersion::V1_2, vec![], 0);
    env.header.session_timeout = Some(60);
    env.header.supported_cwmp_versions = Some("1.0,1.1,1.2".into());
    encode_cpe(&env, &mut buf);
    // A 1.2 CPE has neither header in its schema.
    assert!(
        !text(&buf).contains("SessionTimeout") && !text(&buf).contains("SupportedCWMPVersions")
    );

    buf.clear();
    env.version = CwmpVersion::V1_3;
    encode_cpe(&env, &mut buf);
    assert!(text(&buf)
        .contains("<cwmp:SessionTimeout soap-env:mustUnderstand=\"0\">60</cwmp:SessionTimeout>"));
    assert!(!text(&buf).contains("SupportedCWMPVersions"));

    // Inform-only headers never ride on other CPE messages.
    buf.clear();
    let mut resp = sample::gpv_response(CwmpVersion::V1_4, 1);
    resp.header.session_timeout = Some(60);
    resp.header.supported_cwmp_versions = Some("1.4".into());
    encode_cpe(&resp, &mut buf);
    assert!(!text(&buf).contains("SessionTimeout") && !text(&buf).contains("Supported"));

    // No ID and nothing else: no Header at all.
    buf.clear();
    resp.header = Header::default();
    encode_cpe(&resp, &mut buf);
    assert!(!text(&buf).contains("Header"));

    // ACS side: HoldRequests anywhere, UseCWMPVersion only on InformResponse.
    buf.clear();
    let acs = Envelope {
        version: CwmpVersion::V1_4,
        header: Header {
            id: Some("9".into()),
            hold_requests: Some(false),
            use_cwmp_version: Some("1.4".into()),
            no_more_requests: Some(true),
            ..Header::default()
        },
        body: AcsMessage::Request(AcsRequest::GetRPCMethods),
    };
    encode_acs(&acs, &mut buf);
    assert!(text(&buf)
        .contains("<cwmp:HoldRequests soap-env:mustUnderstand=\"1\">0</cwmp:HoldRequests>"));
    assert!(!text(&buf).contains("UseCWMPVersion") && !text(&buf).contains("NoMoreRequests"));
}

#[test]
fn text_is_escaped_and_always_well_formed() {
    let mut out = Vec::new();
    escape_text(&mut out, "a<b>&c\"d'e\r\nf\u{1}g\u{FFFF}h\u{FFFE}é");
    assert_eq!(
        text(&out),
        "a&lt;b&gt;&amp;c\"d'e&#13;\nf\u{FFFD}g\u{FFFD}h\u{FFFD}é"
    );

    let mut env = sample::gpv_response(CwmpVersion::V1_0, 1);
    let hostile = "</Value><x>&amp;\r\n\0 ]]> \u{7}";
    if let CpeMessage::Response(CpeResponse::GetParameterValuesResponse(g)) = &mut env.body {
        g.parameter_list[0].value = hostile.into();
    }
    let mut buf = Vec::new();
    encode_cpe(&env, &mut buf);
    let back = decode_cpe(&buf).expect("still well-formed");
    let CpeMessage::Response(CpeResponse::GetParameterValuesResponse(g)) = back.body else {
        panic!("kind")
    };
    assert_eq!(
        g.parameter_list[0].value,
        "</Value><x>&amp;\r\n\u{FFFD} ]]> \u{FFFD}"
    );
}

#[test]
fn attribute_escaping_is_text_escaping_plus_quotes() {
    let hostile = "p99 <= 5 & \"x\" 'y'\u{1}\r\n\u{FFFF}é";
    assert_eq!(
        escape(hostile),
        "p99 &lt;= 5 &amp; &quot;x&quot; &apos;y&apos;\u{FFFD}&#13;\n\u{FFFD}é"
    );
    let mut text_only = Vec::new();
    escape_text(&mut text_only, hostile);
    assert_eq!(
        escape(hostile),
        String::from_utf8(text_only)
            .unwrap()
            .replace('"', "&quot;")
            .replace('\'', "&apos;")
    );
}

#[test]
fn appends_to_a_reused_buffer() {
    let env = sample::gpv_response(CwmpVersion::V1_0, 2);
    let mut one = Vec::new();
    encode_cpe(&env, &mut one);
    let mut buf = b"prefix".to_vec();
    encode_cpe(&env, &mut buf);
    assert_eq!(buf.get(6..), Some(&one[..]));
}

#[test]
fn untyped_value_goes_out_as_string_and_unknown_rpc_names_stay_valid() {
    let env = Envelope::new(
        CwmpVersion::V1_0,
        Header::with_id("1"),
        AcsMessage::Request(AcsRequest::SetParameterValues(SetParameterValues {
            parameter_list: vec![ParameterValueStruct {
                name: "A.b".into(),
                value: "1".into(),
                kind: None,
            }],
            parameter_key: String::new(),
        })),
    );
    let mut buf = Vec::new();
    encode_acs(&env, &mut buf);
    assert!(text(&buf).contains("<Value xsi:type=\"xsd:string\">1</Value>"));

    for (name, expect) in [
        ("X_Vendor.Thing-2", "X_Vendor.Thing-2"),
        ("bad name<", "Unknown"),
        ("", "Unknown"),
    ] {
        buf.clear();
        let env = Envelope::new(
            CwmpVersion::V1_0,
            Header::default(),
            AcsMessage::Request(AcsRequest::Unknown(name.into())),
        );
        encode_acs(&env, &mut buf);
        let back = decode_acs(&buf).expect("well-formed");
        assert_eq!(
            back.body,
            AcsMessage::Request(AcsRequest::Unknown(expect.into()))
        );
    }
}

#[test]
fn fault_codes_pick_client_or_server() {
    let mut buf = Vec::new();
    for (code, who) in [
        (9005, "Client"),
        (9002, "Server"),
        (8005, "Server"),
        (8003, "Client"),
    ] {
        buf.clear();
        encode_cpe(
            &Envelope::new(
                CwmpVersion::V1_0,
                Header::default(),
                CpeMessage::Fault(Fault::new(code)),
            ),
            &mut buf,
        );
        assert!(text(&buf).contains(&format!(
            "<faultcode>{who}</faultcode><faultstring>CWMP fault</faultstring>"
        )));
    }
}
