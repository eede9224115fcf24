//! The codec against the byte-exact GenieACS 1.2.16 recordings in tests/data/genieacs/transcripts:
//! every XML body GenieACS sent decodes with `decode_acs` (and re-encodes to the same bytes:
//! the embedded ACS speaks GenieACS's dialect), every XML body the test CPE sent decodes with
//! `decode_cpe` (except the deliberately broken inputs of errors/01 and errors/02).

use std::path::{Path, PathBuf};

use cpefleet::cwmp::{
    decode_acs, decode_cpe, encode_acs, encode_cpe, AcsMessage, AcsRequest, AcsResponse,
    CpeMessage, CpeRequest, CpeResponse, CwmpVersion, DateTime, DecodeError, Download, EventCode,
    XsdType,
};

fn transcripts() -> PathBuf {
    crate::support::data("genieacs/transcripts")
}

/// `NN-acs.http` or `NN-cpe.http` files (not the -fs/-cr side channels), sorted.
fn message_files(side: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let groups =
        std::fs::read_dir(transcripts()).expect("transcripts folder (tests/data/genieacs)");
    for g in groups.flatten() {
        for scenario in std::fs::read_dir(g.path()).expect("group").flatten() {
            for f in std::fs::read_dir(scenario.path())
                .expect("scenario")
                .flatten()
            {
                let name = f.file_name().to_string_lossy().into_owned();
                let is_side = name
                    .strip_suffix(&format!("-{side}.http"))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()));
                if is_side {
                    out.push(f.path());
                }
            }
        }
    }
    out.sort();
    out
}

fn rel(p: &Path) -> String {
    p.strip_prefix(transcripts())
        .unwrap_or(p)
        .display()
        .to_string()
}

/// The HTTP body, de-chunked when the message says `Transfer-Encoding: chunked`.
fn http_body(raw: &[u8]) -> Vec<u8> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header/body separator");
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    if !head
        .lines()
        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"))
    {
        return body.to_vec();
    }
    let mut out = Vec::new();
    let mut rest = body;
    loop {
        let eol = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("chunk size line");
        let size_text = String::from_utf8_lossy(&rest[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .expect("chunk size");
        rest = &rest[eol + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Only bodies that are XML count (many are empty or plain text such as "Invalid session").
fn xml_body(path: &Path) -> Option<Vec<u8>> {
    let body = http_body(&std::fs::read(path).expect("read transcript"));
    let trimmed = body.trim_ascii();
    trimmed.starts_with(b"<").then(|| body.clone())
}

fn acs(path: &str) -> cpefleet::cwmp::Envelope<AcsMessage> {
    let p = transcripts().join(path);
    decode_acs(&xml_body(&p).expect("an XML body")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cpe(path: &str) -> cpefleet::cwmp::Envelope<CpeMessage> {
    let p = transcripts().join(path);
    decode_cpe(&xml_body(&p).expect("an XML body")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_genieacs_xml_body_decodes_and_reencodes_byte_for_byte() {
    let files = message_files("acs");
    assert!(
        files.len() > 200,
        "expected the recorded ACS answers, found {}",
        files.len()
    );
    let mut decoded = 0;
    let mut identical = 0;
    for f in &files {
        let Some(body) = xml_body(f) else { continue };
        let env = decode_acs(&body).unwrap_or_else(|e| panic!("{}: {e}", rel(f)));
        decoded += 1;
        let broken_fault = body.windows(11).any(|w| w == b"Body:Fault>");
        let foreign_ns = body.windows(25).any(|w| w == b"urn:dslforum-org:cwmp-1-3");
        if broken_fault || foreign_ns {
            // GenieACS's malformed fault element and its echo of the non-standard cwmp-1-3
            // namespace are not reproduced: the codec writes soap-env:Fault and cwmp-1-2.
            continue;
        }
        let mut out = Vec::new();
        encode_acs(&env, &mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&body),
            "{}: re-encoding differs from GenieACS's bytes",
            rel(f)
        );
        identical += 1;
    }
    // 195 XML answers were recorded; all of them must have been seen.
    assert_eq!(decoded, 195);
    assert_eq!(identical, decoded - 2);
}

#[test]
fn every_test_cpe_xml_body_decodes_except_the_broken_inputs() {
    let files = message_files("cpe");
    let mut decoded = 0;
    let mut reencoded = 0;
    for f in &files {
        let name = rel(f);
        let Some(body) = xml_body(f) else {
            continue;
        };
        let result = decode_cpe(&body);
        if name.starts_with("errors/01-malformed-xml/") {
            let err = result.expect_err("a truncated Inform must not decode");
            assert_eq!(err.label(), "decode_xml", "{name}: {err}");
            continue;
        }
        let env = result.unwrap_or_else(|e| panic!("{name}: {e}"));
        decoded += 1;
        let foreign_ns = body
            .windows(8)
            .any(|w| w == b"cwmp-1-3" || w == b"cwmp-1-4");
        if !foreign_ns {
            let mut out = Vec::new();
            encode_cpe(&env, &mut out);
            assert_eq!(
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&body),
                "{name}: re-encoding differs"
            );
            reencoded += 1;
        }
    }
    // errors/02 sends plain text, never reaching the XML decoder; check it fails cleanly anyway.
    let plain = http_body(
        &std::fs::read(transcripts().join("errors/02-not-xml/01-cpe.http")).expect("read"),
    );
    let err = decode_cpe(&plain).expect_err("plain text is not an envelope");
    assert_eq!(err.label(), "decode_envelope");
    // 206 non-empty CPE bodies were recorded, one of them plain text and one truncated.
    assert_eq!(decoded, 204);
    assert_eq!(
        reencoded,
        decoded - 2,
        "every cwmp-1-0/1-2 CPE body re-encodes identically"
    );
}

#[test]
fn gpv_batch_of_32_names() {
    let env = acs("tasks/09-refreshObject/16-acs.http");
    let AcsMessage::Request(AcsRequest::GetParameterValues(gpv)) = env.body else {
        panic!("not a GPV: {:?}", env.body)
    };
    assert_eq!(gpv.parameter_names.len(), 32);
    assert!(gpv
        .parameter_names
        .iter()
        .all(|n| n.starts_with("InternetGatewayDevice.") && !n.ends_with('.')));
    assert_eq!(env.version, CwmpVersion::V1_0);
    let id = env.header.id.expect("cwmp:ID");
    assert_eq!(id.len(), 15, "GenieACS ids are 15 hex digits: {id}");
}

#[test]
fn download_fields() {
    let env = acs("tasks/14-download/04-acs.http");
    assert_eq!(env.header.id.as_deref(), Some("1a2137fc50b0000"));
    let AcsMessage::Request(AcsRequest::Download(d)) = env.body else {
        panic!("not a Download")
    };
    assert_eq!(
        d,
        Download {
            command_key: "1a2137fc50b0000".into(),
            file_type: "1 Firmware Upgrade Image".into(),
            url: "http://127.0.0.1:37567/fw-V100R001IRQC56B018.bin".into(),
            username: String::new(),
            password: String::new(),
            file_size: 4042,
            target_file_name: String::new(),
            delay_seconds: 0,
            success_url: String::new(),
            failure_url: String::new(),
        }
    );
    // The config file uploaded after GenieACS cached its file list goes out with FileSize 0.
    let files = message_files("acs");
    let zero = files
        .iter()
        .filter(|f| rel(f).starts_with("transfer-complete/04-"))
        .filter_map(|f| xml_body(f))
        .filter_map(|b| decode_acs(&b).ok())
        .find_map(|e| match e.body {
            AcsMessage::Request(AcsRequest::Download(d)) => Some(d),
            _ => None,
        })
        .expect("a Download in transfer-complete/04");
    assert_eq!(zero.file_size, 0);
    assert_eq!(zero.file_type, "3 Vendor Configuration File");
}

#[test]
fn spv_with_empty_parameter_key_and_unchecked_values() {
    let env = acs("tasks/07-setParameterValues-cpe-fault-9003/04-acs.http");
    let AcsMessage::Request(AcsRequest::SetParameterValues(spv)) = env.body else {
        panic!("not an SPV")
    };
    assert_eq!(spv.parameter_key, "");
    assert_eq!(spv.parameter_list.len(), 3);
    let channel = &spv.parameter_list[0];
    assert_eq!(
        channel.name,
        "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Channel"
    );
    // The codec hands the nonsense through; rejecting it (9007) is the device's job.
    assert_eq!(
        (channel.value.as_str(), channel.kind),
        ("eleven", Some(XsdType::Int))
    );
    assert!(!XsdType::Int.is_valid(&channel.value));
    assert_eq!(spv.parameter_list[2].kind, Some(XsdType::Boolean));
    assert_eq!(spv.parameter_list[2].value, "maybe");

    // The CPE's answer: 9003 with two 9007 entries.
    let f = cpe("tasks/07-setParameterValues-cpe-fault-9003/05-cpe.http");
    let CpeMessage::Fault(fault) = f.body else {
        panic!("not a fault")
    };
    assert_eq!(fault.code, 9003);
    assert_eq!(fault.set_parameter_values_faults.len(), 2);
    assert!(fault
        .set_parameter_values_faults
        .iter()
        .all(|p| p.code == 9007));
}

#[test]
fn broken_body_fault_is_fault_8000() {
    let env = acs("errors/12-unsupported-cpe-method-kicked/04-acs.http");
    let AcsMessage::Fault(f) = env.body else {
        panic!("not a fault: {:?}", env.body)
    };
    assert_eq!(f.code, 8000);
    assert_eq!(f.string, "Method not supported");
    assert_eq!(env.header.id.as_deref(), Some("cpe-16"));
    // It answered the CPE's Kicked.
    let kicked = cpe("errors/12-unsupported-cpe-method-kicked/03-cpe.http");
    assert!(matches!(
        kicked.body,
        CpeMessage::Request(CpeRequest::Kicked(_))
    ));
}

#[test]
fn inform_and_response_contents() {
    let inform = cpe("bootstrap/02-device-tr181/01-cpe.http");
    assert_eq!(inform.version, CwmpVersion::V1_2);
    let CpeMessage::Request(CpeRequest::Inform(i)) = inform.body else {
        panic!("not an Inform")
    };
    assert_eq!(i.device_id.oui, "00D09E");
    assert_eq!(i.device_id.serial_number, "HGW181-0001");
    let codes: Vec<EventCode> = i.events.iter().map(|e| e.code.clone()).collect();
    assert_eq!(codes, [EventCode::Bootstrap, EventCode::Boot]);
    assert_eq!(i.max_envelopes, 1);
    assert!(i.current_time > DateTime::from_unix_ms(1_700_000_000_000));
    assert!(i
        .parameter_list
        .iter()
        .any(|p| p.name == "Device.RootDataModelVersion"));

    let resp = acs("bootstrap/02-device-tr181/02-acs.http");
    assert_eq!(resp.version, CwmpVersion::V1_2);
    assert!(
        matches!(resp.body, AcsMessage::Response(AcsResponse::InformResponse(r)) if r.max_envelopes == 1)
    );
    assert_eq!(resp.header.id, inform.header.id);
}

#[test]
fn non_standard_namespaces_decode_as_tolerated_versions() {
    let v14 = cpe("errors/03-namespace-cwmp-1-4/01-cpe.http");
    assert_eq!(v14.version, CwmpVersion::V1_4);
    assert!(matches!(
        v14.body,
        CpeMessage::Request(CpeRequest::Inform(_))
    ));
    let v13 = cpe("errors/04-namespace-cwmp-1-3-accepted/01-cpe.http");
    assert_eq!(v13.version, CwmpVersion::V1_3);
    // GenieACS answers in the same non-standard namespace.
    let answer = acs("errors/04-namespace-cwmp-1-3-accepted/02-acs.http");
    assert_eq!(answer.version, CwmpVersion::V1_3);
    assert!(matches!(
        answer.body,
        AcsMessage::Response(AcsResponse::InformResponse(_))
    ));
}

#[test]
fn gpn_root_discovery_and_responses() {
    let files = message_files("acs");
    let mut root_gpn = 0;
    for f in &files {
        let Some(b) = xml_body(f) else { continue };
        if let Ok(e) = decode_acs(&b) {
            if let AcsMessage::Request(AcsRequest::GetParameterNames(g)) = e.body {
                if g.parameter_path.is_empty() {
                    assert!(g.next_level, "{}: root GPN is NextLevel 1", rel(f));
                    root_gpn += 1;
                }
            }
        }
    }
    assert!(root_gpn >= 5, "root discoveries seen: {root_gpn}");
    // The answer to a GPN walks writable flags sent as 1/0.
    let mut writable = 0;
    for f in message_files("cpe") {
        let Some(b) = xml_body(&f) else { continue };
        if let Ok(e) = decode_cpe(&b) {
            if let CpeMessage::Response(CpeResponse::GetParameterNamesResponse(g)) = e.body {
                writable += g.parameter_list.iter().filter(|p| p.writable).count();
            }
        }
    }
    assert_eq!(
        writable, 338,
        "the recordings hold 338 <Writable>1</Writable>"
    );
}

#[test]
fn empty_and_plain_text_answers_are_not_envelopes() {
    let empty = http_body(
        &std::fs::read(transcripts().join("periodic/01-plain/04-acs.http")).expect("read"),
    );
    assert!(empty.is_empty());
    assert_eq!(decode_acs(&empty).err(), Some(DecodeError::Empty));
    let invalid = http_body(
        &std::fs::read(transcripts().join("errors/05-first-message-getrpcmethods/02-acs.http"))
            .expect("read"),
    );
    assert_eq!(String::from_utf8_lossy(&invalid), "Invalid session");
    assert_eq!(
        decode_acs(&invalid).map_err(|e| e.label()).err(),
        Some("decode_envelope")
    );
}
