//! `cpefleet render` from the outside: every ACS request kind, for every shipped template,
//! answered with a schema-valid envelope; Informs for each event set; bad input files are a
//! clear error with exit code 2.

use std::path::{Path, PathBuf};

use crate::support::schema::{validate, validator};
use cpefleet::cwmp::{
    decode_cpe, encode_acs, sample, AcsMessage, AcsRequest, AddObject, CpeMessage, CwmpVersion,
    DeleteObject, Envelope, GetParameterNames, GetParameterValues, Header, ParameterValueStruct,
    SetParameterValues, XsdType,
};
use cpefleet::model::Template;

use crate::support::child::cpefleet;

fn templates() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    v.sort();
    assert!(v.len() >= 4, "the four shipped templates");
    v
}

/// The sample requests (written for an IGD) moved under the template's root, plus requests
/// that succeed on it (a real table for AddObject, writable ManagementServer values).
fn requests_for(t: &Template) -> Vec<(String, AcsRequest)> {
    let root = t.root();
    let v = t.cwmp_version();
    let mut out = Vec::new();
    for r in sample::acs_requests(v) {
        out.push((r.name().to_string(), rebase(r, root)));
    }
    let ms = format!("{root}ManagementServer.");
    out.push((
        "gpv-ms".into(),
        AcsRequest::GetParameterValues(GetParameterValues {
            parameter_names: vec![ms.clone(), format!("{root}DeviceInfo.")],
        }),
    ));
    out.push((
        "gpn-root".into(),
        AcsRequest::GetParameterNames(GetParameterNames {
            parameter_path: root.to_string(),
            next_level: false,
        }),
    ));
    out.push((
        "spv-ok".into(),
        AcsRequest::SetParameterValues(SetParameterValues {
            parameter_list: vec![
                ParameterValueStruct::new(
                    format!("{ms}PeriodicInformInterval"),
                    "600",
                    XsdType::UnsignedInt,
                ),
                ParameterValueStruct::new(
                    format!("{ms}PeriodicInformEnable"),
                    "1",
                    XsdType::Boolean,
                ),
            ],
            parameter_key: "render-1".into(),
        }),
    ));
    // A writable table the template has, for AddObject/DeleteObject that succeed.
    let candidates = [
        "Device.NAT.PortMapping.",
        "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMapping.",
    ];
    if let Some(table) = candidates.iter().find(|c| t.paths().any(|p| p == **c)) {
        out.push((
            "add-object".into(),
            AcsRequest::AddObject(AddObject {
                object_name: table.to_string(),
                parameter_key: "k".into(),
            }),
        ));
        out.push((
            "delete-object".into(),
            AcsRequest::DeleteObject(DeleteObject {
                object_name: format!("{table}1."),
                parameter_key: "k".into(),
            }),
        ));
    }
    out
}

/// Replaces the IGD root in every name of a request with `root`.
fn rebase(r: AcsRequest, root: &str) -> AcsRequest {
    let fix = |s: &mut String| {
        if let Some(rest) = s.strip_prefix("InternetGatewayDevice.") {
            *s = format!("{root}{rest}");
        }
    };
    let mut r = r;
    match &mut r {
        AcsRequest::GetParameterNames(g) => fix(&mut g.parameter_path),
        AcsRequest::GetParameterValues(g) => g.parameter_names.iter_mut().for_each(fix),
        AcsRequest::SetParameterValues(s) => {
            s.parameter_list.iter_mut().for_each(|p| fix(&mut p.name))
        }
        AcsRequest::GetParameterAttributes(g) => g.parameter_names.iter_mut().for_each(fix),
        AcsRequest::SetParameterAttributes(s) => {
            s.parameter_list.iter_mut().for_each(|p| fix(&mut p.name))
        }
        AcsRequest::AddObject(a) => fix(&mut a.object_name),
        AcsRequest::DeleteObject(d) => fix(&mut d.object_name),
        _ => {}
    }
    r
}

/// The fault a fresh device of template `tname` must answer request `label` with (None: its
/// response). The sample requests name IGD paths; moved under `Device.` the WLAN, Hosts and
/// PortMapping instances they name do not exist there.
fn expected_fault(tname: &str, label: &str) -> Option<u32> {
    let igd = tname == "tr098-igd";
    match label {
        // SetParameterValuesFault per bad name under 9003 (TR-069 A.3.2.1).
        "SetParameterValues" if !igd => Some(9003),
        "SetParameterAttributes" | "AddObject" if !igd => Some(9005),
        // Hosts.Host.1..11: the templates hold at most three hosts.
        "GetParameterValues" => Some(9005),
        // Every render is a fresh device: PortMapping.1 was never added.
        "DeleteObject" | "delete-object" => Some(9005),
        // No transfer with that CommandKey (TR-069 A.4.1.7 gives no code; 9003 as for bad args).
        "CancelTransfer" => Some(9003),
        // Only the TR-181 gateway carries SoftwareModules (TR-157); the others do not offer it.
        "ChangeDUState" if tname != "tr181-gateway" => Some(9000),
        _ => None,
    }
}

fn render(args: &[&str]) -> std::process::Output {
    cpefleet()
        .arg("render")
        .args(args)
        .output()
        .expect("run cpefleet")
}

#[test]
fn every_request_kind_for_every_template_is_answered_schema_valid() {
    let script = validator();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    let mut answered = Vec::new();
    for tpath in templates() {
        let t = Template::load(&tpath).unwrap();
        let tname = t.name().to_string();
        for (i, (label, req)) in requests_for(&t).into_iter().enumerate() {
            let env = Envelope::new(
                t.cwmp_version(),
                Header::with_id(format!("acs-{i}")),
                AcsMessage::Request(req.clone()),
            );
            let mut bytes = Vec::new();
            encode_acs(&env, &mut bytes);
            let rf = dir.path().join(format!("{tname}-{i}-req.xml"));
            std::fs::write(&rf, &bytes).unwrap();
            let out = render(&[
                tpath.to_str().unwrap(),
                "--index",
                "3",
                "--request",
                rf.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{tname} {label}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let resp = decode_cpe(&out.stdout).unwrap_or_else(|e| panic!("{tname} {label}: {e}"));
            assert_eq!(
                resp.header.id.as_deref(),
                Some(format!("acs-{i}").as_str()),
                "ID echoed"
            );
            // Each request gets its own response kind or exactly the fault it deserves.
            match (&req, &resp.body, expected_fault(&tname, &label)) {
                (_, CpeMessage::Fault(f), Some(code)) => {
                    assert_eq!(f.code, code, "{tname} {label}: {f:?}")
                }
                (_, other, Some(code)) => {
                    panic!("{tname} {label}: fault {code} expected, got {other:?}")
                }
                (r, CpeMessage::Response(x), None) => {
                    assert_eq!(x.name(), r.response_name(), "{tname} {label}")
                }
                (_, other, None) => panic!("{tname} {label} must succeed: {other:?}"),
            }
            answered.push(format!("{tname} {label}"));
            files.push((format!("{tname}-{i}-{label}"), out.stdout));
        }
        for events in [
            "0 BOOTSTRAP,1 BOOT",
            "1 BOOT,M Reboot:rb-1",
            "2 PERIODIC",
            "6 CONNECTION REQUEST",
            "7 TRANSFER COMPLETE,M Download:dl-9",
        ] {
            for v in ["1.0", "1.2", "1.4"] {
                let out = render(&[
                    tpath.to_str().unwrap(),
                    "--index",
                    "7",
                    "--inform",
                    events,
                    "--cwmp-version",
                    v,
                ]);
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                files.push((
                    format!(
                        "{tname}-inform-{}-{v}",
                        events.replace([' ', ',', ':'], "_")
                    ),
                    out.stdout,
                ));
            }
        }
    }
    // Every sample request of each template's CWMP version plus the template-specific ones, over
    // the four templates: none skipped.
    assert_eq!(answered.len(), 88, "{answered:?}");
    validate(&script, dir.path(), &files);
}

#[test]
fn devices_differ_by_index_and_seed() {
    let t = templates()[0].clone();
    let a = render(&[t.to_str().unwrap(), "--index", "1"]).stdout;
    let b = render(&[t.to_str().unwrap(), "--index", "2"]).stdout;
    assert_ne!(a, b);
    let sn = |o: &[u8]| {
        let s = String::from_utf8_lossy(o).to_string();
        let i = s.find("<SerialNumber>").unwrap();
        s[i..i + 40].to_string()
    };
    assert_ne!(sn(&a), sn(&b), "serial numbers are per device");
}

#[test]
fn bad_inputs_exit_2_with_a_located_message() {
    let dir = tempfile::tempdir().unwrap();
    let t = templates()[0].clone();
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<soap-env:Envelope><oops").unwrap();
    let out = render(&[t.to_str().unwrap(), "--request", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.xml"), "{err}");

    let out = render(&["/nonexistent/template.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/template.yaml"));

    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "name: x\nroot: Device.\nobjects:\n  Device.DeviceInfo.:\n    parameters:\n      Manufacturer: { type: strin }\n").unwrap();
    let out = render(&[broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.yaml:6:"), "line and column: {err}");

    let out = render(&[t.to_str().unwrap(), "--inform", "42 NOT AN EVENT"]);
    assert_eq!(out.status.code(), Some(2));

    // A response is not a request.
    let mut bytes = Vec::new();
    encode_acs(
        &Envelope::new(
            CwmpVersion::V1_0,
            Header::with_id("x"),
            AcsMessage::Response(cpefleet::cwmp::AcsResponse::TransferCompleteResponse),
        ),
        &mut bytes,
    );
    let resp = dir.path().join("resp.xml");
    std::fs::write(&resp, bytes).unwrap();
    let out = render(&[t.to_str().unwrap(), "--request", resp.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

/// UpTime is seconds since the device's boot, not the Unix time.
#[test]
fn uptime_counts_from_boot() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for t in templates() {
        let tpl = Template::load(&t).unwrap();
        let name = format!("{}DeviceInfo.UpTime", tpl.root());
        let req = gpv(&[&name]);
        let path = dir.path().join("gpv.xml");
        std::fs::write(&path, req).unwrap();
        let out = render(&[t.to_str().unwrap(), "--request", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let Some(at) = text.find("UpTime</Name>") else {
            continue;
        };
        let v = &text[at..];
        let v = &v[v.find("<Value").unwrap()..];
        let v = &v[v.find('>').unwrap() + 1..];
        let up: u64 = v[..v.find('<').unwrap()].parse().unwrap();
        assert!(up < 3600, "{}: UpTime {up}", t.display());
        checked += 1;
    }
    assert!(checked >= 2, "templates with an UpTime");
}

fn gpv(names: &[&str]) -> Vec<u8> {
    let mut bytes = Vec::new();
    encode_acs(
        &Envelope::new(
            CwmpVersion::V1_0,
            Header::with_id("up"),
            AcsMessage::Request(AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: names.iter().map(|n| n.to_string()).collect(),
            })),
        ),
        &mut bytes,
    );
    bytes
}

/// A recorded `.http` message (status line, headers, body: as `--trace` and the GenieACS
/// transcripts write them) is answered from its body; an error in the body is located at its
/// line and column in the file.
#[test]
fn render_answers_a_recorded_http_message() {
    let dir = tempfile::tempdir().unwrap();
    let t = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let body = "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"><soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">rec-1</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:GetParameterValues><ParameterNames><string>Device.DeviceInfo.SoftwareVersion</string></ParameterNames></cwmp:GetParameterValues></soap-env:Body></soap-env:Envelope>";
    let msg = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n\r\n{body}",
        body.len()
    );
    let rec = dir.path().join("02-acs.http");
    std::fs::write(&rec, &msg).unwrap();
    let out = render(&[t.to_str().unwrap(), "--request", rec.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("GetParameterValuesResponse"), "{text}");
    assert!(text.contains("rec-1"), "{text}");

    // Malformed XML on the body's second line: line 5 of the file.
    let bad = "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n\r\n<soap-env:Envelope>\n  <oops\n";
    std::fs::write(&rec, bad).unwrap();
    let out = render(&[t.to_str().unwrap(), "--request", rec.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("02-acs.http:5:"), "{err}");

    // A message without a body says so.
    std::fs::write(&rec, "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n").unwrap();
    let out = render(&[t.to_str().unwrap(), "--request", rec.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("02-acs.http:4:1: the HTTP message has no body"),
        "{err}"
    );
}
