use super::*;
use crate::cwmp::encode::{encode_acs, encode_cpe};
use crate::cwmp::message::{AcsRequest, CpeResponse};
use crate::cwmp::sample;

const ENV_OPEN: &str = r#"<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0">"#;

/// A cwmp-1-0 envelope with cwmp:ID "1" around `body`.
fn env(body: &str) -> Vec<u8> {
    format!(
        "{ENV_OPEN}<soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">1</cwmp:ID></soap-env:Header><soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
    )
    .into_bytes()
}

fn acs_request(xml: &[u8]) -> AcsRequest {
    match decode_acs(xml) {
        Ok(Envelope {
            body: AcsMessage::Request(r),
            ..
        }) => r,
        other => panic!("not a request: {other:?}"),
    }
}

/// The argument error of a request whose envelope parsed (answered with a fault, not dropped).
fn arg_error(xml: &[u8]) -> DecodeError {
    match acs_request(xml) {
        AcsRequest::Invalid(r) => r.error,
        other => panic!("arguments read: {other:?}"),
    }
}

fn gpn(next_level: &str) -> Vec<u8> {
    env(&format!(
        "<cwmp:GetParameterNames><ParameterPath>Device.</ParameterPath><NextLevel>{next_level}</NextLevel></cwmp:GetParameterNames>"
    ))
}

#[test]
fn booleans_in_all_four_spellings() {
    for (text, want) in [
        ("1", true),
        ("0", false),
        ("true", true),
        ("false", false),
        (" true\n", true),
    ] {
        let r = acs_request(&gpn(text));
        assert_eq!(
            r,
            AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: "Device.".into(),
                next_level: want
            })
        );
    }
}

#[test]
fn non_numeric_or_non_boolean_values_name_their_element() {
    let err = arg_error(&gpn("maybe"));
    assert_eq!(err.label(), "decode_value");
    assert_eq!(err.path(), "Envelope/Body/GetParameterNames/NextLevel");

    let download = |size: &str| {
        env(&format!(
            "<cwmp:Download><CommandKey>k</CommandKey><FileType>1 Firmware Upgrade Image</FileType><URL>http://x/f</URL><Username></Username><Password></Password><FileSize>{size}</FileSize><TargetFileName></TargetFileName><DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>"
        ))
    };
    for bad in ["x", "-1", "4294967296", "", "1.5"] {
        let err = arg_error(&download(bad));
        assert_eq!(err.path(), "Envelope/Body/Download/FileSize", "{bad}");
        assert_eq!(err.label(), "decode_value");
    }
    let AcsRequest::Download(d) = acs_request(&download(" 4294967295 ")) else {
        panic!("kind")
    };
    assert_eq!(d.file_size, u32::MAX);

    let resp = |t: &str| {
        format!("{ENV_OPEN}<soap-env:Body><cwmp:DownloadResponse><Status>1</Status><StartTime>{t}</StartTime><CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:DownloadResponse></soap-env:Body></soap-env:Envelope>")
    };
    let err = decode_cpe(resp("yesterday").as_bytes()).expect_err("bad dateTime");
    assert_eq!(err.path(), "Envelope/Body/DownloadResponse/StartTime");
    for (t, ms) in [
        ("1970-01-01T00:00:01.5Z", 1_500),
        ("1970-01-01T02:00:00+02:00", 0),
        ("1970-01-01T00:00:00", 0),
    ] {
        let Ok(Envelope {
            body: CpeMessage::Response(CpeResponse::DownloadResponse(d)),
            ..
        }) = decode_cpe(resp(t).as_bytes())
        else {
            panic!("{t}")
        };
        assert_eq!(d.start_time, DateTime::from_unix_ms(ms));
        assert_eq!(d.complete_time, DateTime::UNKNOWN);
    }
}

#[test]
fn missing_required_elements_error() {
    let err = arg_error(&env(
        "<cwmp:GetParameterNames><NextLevel>1</NextLevel></cwmp:GetParameterNames>",
    ));
    assert_eq!(
        err,
        DecodeError::Missing {
            path: "Envelope/Body/GetParameterNames/ParameterPath".into()
        }
    );
    let err = arg_error(&env("<cwmp:GetParameterValues/>"));
    assert_eq!(
        err.path(),
        "Envelope/Body/GetParameterValues/ParameterNames"
    );
    // The method is named, so the CPE can answer with its fault.
    let AcsRequest::Invalid(r) = acs_request(&env("<cwmp:GetParameterValues/>")) else {
        panic!("kind")
    };
    assert_eq!((r.method, r.fault_code()), ("GetParameterValues", 9003));
    let no_body = format!("{ENV_OPEN}<soap-env:Header/></soap-env:Envelope>");
    assert_eq!(
        decode_acs(no_body.as_bytes()).map_err(|e| e.label()).err(),
        Some("decode_missing")
    );
    let err = decode_cpe(&env(
        "<cwmp:AddObjectResponse><Status>0</Status></cwmp:AddObjectResponse>",
    ))
    .expect_err("no InstanceNumber");
    assert_eq!(err.path(), "Envelope/Body/AddObjectResponse/InstanceNumber");
    let inform = "<cwmp:Inform><DeviceId><OUI>00D09E</OUI></DeviceId></cwmp:Inform>";
    assert_eq!(
        decode_cpe(&env(inform))
            .err()
            .map(|e| e.path().to_owned())
            .as_deref(),
        Some("Envelope/Body/Inform/DeviceId/SerialNumber")
    );
}

#[test]
fn lenient_about_prefixes_whitespace_and_headers() {
    // Other prefixes, a default namespace for SOAP, pretty-printing, no Header at all.
    let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/" xmlns:c="urn:dslforum-org:cwmp-1-1">
  <Body>
<c:GetParameterValues>
  <ParameterNames xmlns:enc="http://schemas.xmlsoap.org/soap/encoding/" enc:arrayType="xsd:string[5]">
    <string>Device.DeviceInfo.UpTime</string>
    <string>Device.WiFi.</string>
  </ParameterNames>
</c:GetParameterValues>
  </Body>
</Envelope>
"#;
    let e = decode_acs(xml).expect("decodes");
    assert_eq!(e.version, CwmpVersion::V1_1);
    assert_eq!(e.header, Header::default());
    // The wrong arrayType count is ignored: the items are what counts.
    assert_eq!(
        e.body,
        AcsMessage::Request(AcsRequest::GetParameterValues(GetParameterValues {
            parameter_names: vec!["Device.DeviceInfo.UpTime".into(), "Device.WiFi.".into()]
        }))
    );

    // SOAP-ENV prefix, Header without cwmp:ID, unknown extra elements and header entries.
    let xml = br#"<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" xmlns:cwmp="urn:dslforum-org:cwmp-1-2" xmlns:x="urn:example"><SOAP-ENV:Header><x:Trace>abc</x:Trace><cwmp:HoldRequests SOAP-ENV:mustUnderstand="1">true</cwmp:HoldRequests></SOAP-ENV:Header><SOAP-ENV:Body><cwmp:AddObject><ObjectName>Device.NAT.PortMapping.</ObjectName><X_Extra><deep>1</deep></X_Extra></cwmp:AddObject></SOAP-ENV:Body></SOAP-ENV:Envelope>"#;
    let e = decode_acs(xml).expect("decodes");
    assert_eq!(e.header.id, None);
    assert_eq!(e.header.hold_requests, Some(true));
    assert_eq!(
        e.body,
        AcsMessage::Request(AcsRequest::AddObject(AddObject {
            object_name: "Device.NAT.PortMapping.".into(),
            parameter_key: String::new()
        }))
    );

    // Qualified argument elements (some ACSs put them in the cwmp namespace).
    let r = acs_request(&env(
        "<cwmp:Reboot><cwmp:CommandKey>rb-1</cwmp:CommandKey></cwmp:Reboot>",
    ));
    assert_eq!(
        r,
        AcsRequest::Reboot(Reboot {
            command_key: "rb-1".into()
        })
    );
}

#[test]
fn spa_empty_notification_means_unchanged() {
    let spa = |change: &str, notif: &str| {
        env(&format!("<cwmp:SetParameterAttributes><ParameterList soap-enc:arrayType=\"cwmp:SetParameterAttributesStruct[1]\"><SetParameterAttributesStruct><Name>Device.X.</Name><NotificationChange>{change}</NotificationChange><Notification>{notif}</Notification><AccessListChange>0</AccessListChange><AccessList soap-enc:arrayType=\"xsd:string[0]\"></AccessList></SetParameterAttributesStruct></ParameterList></cwmp:SetParameterAttributes>"))
    };
    let AcsRequest::SetParameterAttributes(s) = acs_request(&spa("false", "")) else {
        panic!("kind")
    };
    assert_eq!(s.parameter_list[0].notification, None);
    assert!(!s.parameter_list[0].notification_change);
    assert!(s.parameter_list[0].access_list.is_empty());
    let AcsRequest::SetParameterAttributes(s) = acs_request(&spa("1", "2")) else {
        panic!("kind")
    };
    assert_eq!(s.parameter_list[0].notification, Some(2));
    let err = arg_error(&spa("true", ""));
    assert_eq!(err.path(), "Envelope/Body/SetParameterAttributes/ParameterList/SetParameterAttributesStruct/Notification");
    assert_eq!(arg_error(&spa("true", "often")).label(), "decode_value");
}

#[test]
fn genieacs_body_fault_is_fault_8000() {
    let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<soap-env:Envelope xmlns:soap-enc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">cpe-16</cwmp:ID></soap-env:Header><soap-env:Body><soap-env:Body:Fault><faultcode>Server</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>8000</FaultCode><FaultString>Method not supported</FaultString></cwmp:Fault></detail></soap-env:Body:Fault></soap-env:Body></soap-env:Envelope>"#;
    let e = decode_acs(xml).expect("tolerated");
    assert_eq!(e.body, AcsMessage::Fault(Fault::new(8000)));
    assert_eq!(e.header.id.as_deref(), Some("cpe-16"));
    // Even without a readable detail it stays the 8000 it stands for.
    let bare = env("<soap-env:Body:Fault><faultcode>Server</faultcode></soap-env:Body:Fault>");
    assert_eq!(
        decode_acs(&bare).map(|e| e.body),
        Ok(AcsMessage::Fault(Fault::new(8000)))
    );
}

#[test]
fn faults_with_parameter_entries_and_prefixed_faultcode() {
    let xml = env("<soap-env:Fault><faultcode>soap-env:Client</faultcode><faultstring>CWMP fault</faultstring><detail><cwmp:Fault><FaultCode>9003</FaultCode><FaultString>Invalid arguments</FaultString><SetParameterValuesFault><ParameterName>A.b</ParameterName><FaultCode>9007</FaultCode></SetParameterValuesFault></cwmp:Fault></detail></soap-env:Fault>");
    let e = decode_cpe(&xml).expect("decodes");
    let CpeMessage::Fault(f) = e.body else {
        panic!("kind")
    };
    assert_eq!((f.code, f.string.as_str()), (9003, "Invalid arguments"));
    assert_eq!(
        f.set_parameter_values_faults,
        vec![SetParameterValuesFault {
            parameter_name: "A.b".into(),
            code: 9007,
            string: String::new()
        }]
    );
    let no_detail = env("<soap-env:Fault><faultcode>Server</faultcode><faultstring>oops</faultstring></soap-env:Fault>");
    assert_eq!(
        decode_acs(&no_detail)
            .err()
            .map(|e| e.path().to_owned())
            .as_deref(),
        Some("Envelope/Body/Fault/detail")
    );
}

#[test]
fn empty_whitespace_and_not_xml_bodies() {
    assert_eq!(decode_acs(b"").err(), Some(DecodeError::Empty));
    assert_eq!(decode_cpe(b" \r\n\t").err(), Some(DecodeError::Empty));
    assert_eq!(
        decode_acs(b"Bad session state")
            .map_err(|e| e.label())
            .err(),
        Some("decode_envelope")
    );
    assert_eq!(
        decode_acs(b"<html><body>502</body></html>")
            .map_err(|e| e.label())
            .err(),
        Some("decode_envelope")
    );
    let truncated = &env("<cwmp:FactoryReset></cwmp:FactoryReset>")[..100];
    assert_eq!(
        decode_acs(truncated).map_err(|e| e.label()).err(),
        Some("decode_xml")
    );
}

#[test]
fn body_must_hold_exactly_one_element() {
    let err = decode_acs(&env("")).expect_err("empty body");
    assert_eq!(
        err,
        DecodeError::Envelope {
            path: "Envelope/Body".into(),
            reason: "the Body holds no element"
        }
    );
    let err = decode_acs(&env("<cwmp:FactoryReset/><cwmp:FactoryReset/>")).expect_err("two");
    assert_eq!(err.label(), "decode_envelope");
    let err = decode_acs(&env("<FactoryReset/>")).expect_err("not in cwmp namespace");
    assert_eq!(err.path(), "Envelope/Body/FactoryReset");
    assert_eq!(
        acs_request(&env(" <cwmp:FactoryReset/> ")),
        AcsRequest::FactoryReset
    );
}

#[test]
fn unknown_rpcs_and_directions() {
    assert_eq!(
        acs_request(&env("<cwmp:SetVouchers/>")),
        AcsRequest::Unknown("SetVouchers".into())
    );
    assert_eq!(
        acs_request(&env(
            "<cwmp:X_ACME_Frobnicate><a>1</a></cwmp:X_ACME_Frobnicate>"
        )),
        AcsRequest::Unknown("X_ACME_Frobnicate".into())
    );
    let err = decode_acs(&env("<cwmp:RebootResponse/>")).expect_err("a CPE message");
    assert_eq!(err.label(), "decode_direction");
    let err = decode_cpe(&env("<cwmp:Reboot/>")).expect_err("an ACS message");
    assert_eq!(err.label(), "decode_direction");
    let err = decode_cpe(&env("<cwmp:X_ACME_Hello/>")).expect_err("unknown");
    assert_eq!(
        err,
        DecodeError::UnknownRpc {
            path: "Envelope/Body/X_ACME_Hello".into(),
            name: "X_ACME_Hello".into()
        }
    );
}

#[test]
fn versions_from_namespace_and_headers() {
    let inform = |ns: &str, header: &str| {
        let mut buf = Vec::new();
        encode_cpe(&sample::inform(CwmpVersion::V1_2, vec![], 1), &mut buf);
        let s = String::from_utf8(buf).unwrap_or_default();
        s.replace("urn:dslforum-org:cwmp-1-2", ns)
            .replace("</soap-env:Header>", &format!("{header}</soap-env:Header>"))
    };
    let v = |s: String| decode_cpe(s.as_bytes()).map(|e| e.version);
    assert_eq!(
        v(inform("urn:dslforum-org:cwmp-1-2", "")),
        Ok(CwmpVersion::V1_2)
    );
    assert_eq!(
        v(inform(
            "urn:dslforum-org:cwmp-1-2",
            "<cwmp:SessionTimeout>60</cwmp:SessionTimeout>"
        )),
        Ok(CwmpVersion::V1_3)
    );
    // GenieACS's lower-case spelling.
    assert_eq!(
        v(inform(
            "urn:dslforum-org:cwmp-1-2",
            "<cwmp:sessionTimeout>60</cwmp:sessionTimeout>"
        )),
        Ok(CwmpVersion::V1_3)
    );
    assert_eq!(
        v(inform(
            "urn:dslforum-org:cwmp-1-2",
            "<cwmp:SupportedCWMPVersions>1.0,1.4</cwmp:SupportedCWMPVersions>"
        )),
        Ok(CwmpVersion::V1_4)
    );
    assert_eq!(
        v(inform("urn:dslforum-org:cwmp-1-3", "")),
        Ok(CwmpVersion::V1_3)
    );
    assert_eq!(
        v(inform("urn:dslforum-org:cwmp-1-4", "")),
        Ok(CwmpVersion::V1_4)
    );
    assert_eq!(
        v(inform("urn:dslforum-org:cwmp-1-0", "")),
        Ok(CwmpVersion::V1_0)
    );
    let err =
        decode_cpe(inform("urn:dslforum-org:cwmp-2-0", "").as_bytes()).expect_err("unknown ns");
    assert_eq!(
        err,
        DecodeError::Version {
            path: "Envelope/Body/Inform".into(),
            namespace: "urn:dslforum-org:cwmp-2-0".into()
        }
    );
    let err = decode_cpe(
        inform(
            "urn:dslforum-org:cwmp-1-2",
            "<cwmp:SessionTimeout>soon</cwmp:SessionTimeout>",
        )
        .as_bytes(),
    );
    assert_eq!(
        err.err().map(|e| e.path().to_owned()).as_deref(),
        Some("Envelope/Header/SessionTimeout")
    );

    let resp = format!("{}<soap-env:Header><cwmp:UseCWMPVersion soap-env:mustUnderstand=\"1\">1.3</cwmp:UseCWMPVersion></soap-env:Header><soap-env:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse></soap-env:Body></soap-env:Envelope>", ENV_OPEN.replace("cwmp-1-0", "cwmp-1-2"));
    let e = decode_acs(resp.as_bytes()).expect("decodes");
    assert_eq!(
        (e.version, e.header.use_cwmp_version.as_deref()),
        (CwmpVersion::V1_3, Some("1.3"))
    );
}

#[test]
fn change_du_state_dispatches_on_xsi_type() {
    let xml = env(
        r#"<cwmp:ChangeDUState><Operations xsi:type="cwmp:UninstallOpStruct"><UUID>u-1</UUID></Operations><Operations xsi:type="cwmp:InstallOpStruct"><URL>http://x/a</URL></Operations></cwmp:ChangeDUState>"#,
    );
    let AcsRequest::ChangeDUState(c) = acs_request(&xml) else {
        panic!("kind")
    };
    assert_eq!(c.operations.len(), 2);
    assert!(matches!(&c.operations[0], DuOperation::Uninstall { uuid, .. } if uuid == "u-1"));
    assert!(matches!(&c.operations[1], DuOperation::Install { url, .. } if url == "http://x/a"));
    let bad = env(
        r#"<cwmp:ChangeDUState><Operations xsi:type="cwmp:RebootOpStruct"/></cwmp:ChangeDUState>"#,
    );
    assert_eq!(
        arg_error(&bad).path(),
        "Envelope/Body/ChangeDUState/Operations"
    );
}

#[test]
fn hostile_input_is_bounded() {
    let items = "<string>a</string>".repeat(MAX_ARRAY_ITEMS + 1);
    let xml = env(&format!("<cwmp:GetParameterValues><ParameterNames>{items}</ParameterNames></cwmp:GetParameterValues>"));
    let err = arg_error(&xml);
    assert_eq!(err.label(), "decode_limit");
    assert_eq!(
        err.path(),
        "Envelope/Body/GetParameterValues/ParameterNames"
    );
    let AcsRequest::Invalid(r) = acs_request(&xml) else {
        panic!("kind")
    };
    assert_eq!(
        r.fault_code(),
        9004,
        "an argument past a bound: resources exceeded"
    );
    let deep = env(&format!("<cwmp:Reboot>{}</cwmp:Reboot>", "<a>".repeat(100)));
    assert_eq!(
        decode_acs(&deep).map_err(|e| e.label()).err(),
        Some("decode_limit")
    );
    // Entity definitions are not expanded (no billion laughs).
    let dtd = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaa">]><x>&a;</x>"#;
    assert_eq!(
        decode_acs(dtd).map_err(|e| e.label()).err(),
        Some("decode_xml")
    );
}

/// Every prefix of every sample (and single-byte corruptions) decodes to Ok or Err, never a panic.
#[test]
fn never_panics_on_truncated_or_corrupted_input() {
    let mut buf = Vec::new();
    encode_acs(
        &sample::all_acs(CwmpVersion::V1_2).swap_remove(4).1,
        &mut buf,
    );
    encode_cpe(&sample::inform(CwmpVersion::V1_4, vec![], 4), &mut buf);
    let mut errors = 0;
    for cut in 0..buf.len() {
        let part = buf.get(..cut).unwrap_or_default();
        errors += usize::from(decode_acs(part).is_err());
        errors += usize::from(decode_cpe(part).is_err());
    }
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..2000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut bad = buf.clone();
        let at = (seed % bad.len() as u64) as usize;
        if let Some(b) = bad.get_mut(at) {
            *b = (seed >> 32) as u8;
        }
        let _ = decode_acs(&bad);
        let _ = decode_cpe(&bad);
    }
    assert!(errors >= buf.len(), "truncated inputs must fail: {errors}");
}
