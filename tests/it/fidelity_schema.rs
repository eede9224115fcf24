//! Every envelope a device sends while it runs diagnostics, changes deployment units (by the
//! ACS's ChangeDUState and on its own) and takes a ScheduleDownload — its Informs (8, 11, 12,
//! 7 + M ScheduleDownload), its reports (DUStateChangeComplete, AutonomousDUStateChangeComplete,
//! TransferComplete), its answers with the results and its faults for wrong arguments — is
//! valid against the official BBF schemas (`tests/data/bbf/validate-cwmp`).

use std::sync::Arc;

use cpefleet::acs::file_server::{self, FileStore};
use cpefleet::cwmp::*;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::support::schema::{validate, validator};
use crate::support::script::{run_with, Script, Seen};

fn spv(pairs: &[(&str, &str, XsdType)]) -> AcsRequest {
    AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: pairs
            .iter()
            .map(|(n, v, k)| ParameterValueStruct::new(*n, *v, *k))
            .collect(),
        parameter_key: "fid".into(),
    })
}

fn gpv(names: &[&str]) -> AcsRequest {
    AcsRequest::GetParameterValues(GetParameterValues {
        parameter_names: names.iter().map(|n| n.to_string()).collect(),
    })
}

/// Every envelope of the run as the device would put it on the wire, labelled.
fn envelopes(seen: &[Seen]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut push = |label: String, body: CpeMessage| {
        let mut buf = Vec::new();
        encode_cpe(
            &Envelope {
                version: CwmpVersion::V1_4,
                header: Header::with_id(label.clone()),
                body,
            },
            &mut buf,
        );
        out.push((label, buf));
    };
    for (i, s) in seen.iter().enumerate() {
        push(
            format!("s{i}-inform"),
            CpeMessage::Request(CpeRequest::Inform(s.inform.clone())),
        );
        for (j, r) in s.reports.iter().enumerate() {
            push(format!("s{i}-report{j}"), CpeMessage::Request(r.clone()));
        }
        for (j, a) in s.answers.iter().enumerate() {
            push(format!("s{i}-answer{j}"), a.clone());
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn what_the_device_sends_is_schema_valid() {
    let store = Arc::new(FileStore::new(None));
    store.put("app-1.0.ipk", FileStore::synthetic(2000));
    store.put("fw-3.0.bin", FileStore::synthetic(4000));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(file_server::serve(listener, store.clone(), cancel.clone()));
    let p = "Device.ManagementServer.DUStateChangeComplPolicy.";
    let script = Script::new(vec![
        vec![
            spv(&[
                (
                    "Device.IP.Diagnostics.IPPing.Host",
                    "acs.example.net",
                    XsdType::String,
                ),
                (
                    "Device.IP.Diagnostics.IPPing.DiagnosticsState",
                    "Requested",
                    XsdType::String,
                ),
                (
                    "Device.IP.Diagnostics.TraceRoute.Host",
                    "acs.example.net",
                    XsdType::String,
                ),
                (
                    "Device.IP.Diagnostics.TraceRoute.DiagnosticsState",
                    "Requested",
                    XsdType::String,
                ),
                (
                    "Device.IP.Diagnostics.UploadDiagnostics.UploadURL",
                    "http://up.example.net/u",
                    XsdType::String,
                ),
                (
                    "Device.IP.Diagnostics.UploadDiagnostics.DiagnosticsState",
                    "Requested",
                    XsdType::String,
                ),
                (&format!("{p}Enable"), "true", XsdType::Boolean),
                (
                    &format!("{p}OperationTypeFilter"),
                    "Install,Update,Uninstall",
                    XsdType::String,
                ),
                (&format!("{p}ResultTypeFilter"), "Both", XsdType::String),
                (&format!("{p}FaultCodeFilter"), "9016", XsdType::String),
            ]),
            AcsRequest::ChangeDUState(ChangeDUState {
                operations: vec![
                    DuOperation::Install {
                        url: format!("{base}/app-1.0.ipk"),
                        uuid: String::new(),
                        username: String::new(),
                        password: String::new(),
                        execution_env_ref: String::new(),
                    },
                    DuOperation::Install {
                        url: format!("{base}/gone-1.0.ipk"),
                        uuid: String::new(),
                        username: String::new(),
                        password: String::new(),
                        execution_env_ref: String::new(),
                    },
                ],
                command_key: "cdu".into(),
            }),
            AcsRequest::ScheduleDownload(ScheduleDownload {
                command_key: "sd".into(),
                file_type: "1 Firmware Upgrade Image".into(),
                url: format!("{base}/fw-3.0.bin"),
                time_window_list: vec![TimeWindowStruct {
                    window_start: 30,
                    window_end: 600,
                    window_mode: "2 Immediately".into(),
                    user_message: String::new(),
                    max_retries: 1,
                }],
                ..ScheduleDownload::default()
            }),
            AcsRequest::ScheduleDownload(ScheduleDownload {
                command_key: "later".into(),
                file_type: "1 Firmware Upgrade Image".into(),
                url: format!("{base}/fw-3.0.bin"),
                time_window_list: vec![TimeWindowStruct {
                    window_start: 86_000,
                    window_end: 86_400,
                    window_mode: "1 At Any Time".into(),
                    user_message: String::new(),
                    max_retries: -1,
                }],
                ..ScheduleDownload::default()
            }),
            AcsRequest::CancelTransfer(CancelTransfer {
                command_key: "later".into(),
            }),
            // Wrong arguments: faults, one with its SetParameterValuesFault.
            spv(&[(
                "Device.IP.Diagnostics.IPPing.DiagnosticsState",
                "Complete",
                XsdType::String,
            )]),
            AcsRequest::Reboot(Reboot {
                command_key: "k".repeat(40),
            }),
        ],
        vec![gpv(&[
            "Device.IP.Diagnostics.IPPing.",
            "Device.IP.Diagnostics.TraceRoute.",
            "Device.IP.Diagnostics.UploadDiagnostics.",
            "Device.SoftwareModules.",
        ])],
    ]);
    let churn = "phases:\n  - steady: { for: 5m }\n  - churn: { for: 1h, du_changes: 6/h }\n";
    run_with(
        script.clone(),
        "tr181-gateway",
        "65m",
        "reboot_time: 10s",
        churn,
    )
    .await;
    cancel.cancel();
    let seen = script.seen();
    let all: Vec<&str> = seen
        .iter()
        .flat_map(|s| s.events.iter().map(String::as_str))
        .collect();
    for e in [
        "8 DIAGNOSTICS COMPLETE",
        "11 DU STATE CHANGE COMPLETE",
        "M ChangeDUState(cdu)",
        "12 AUTONOMOUS DU STATE CHANGE COMPLETE",
        "7 TRANSFER COMPLETE",
        "M ScheduleDownload(sd)",
    ] {
        assert!(all.contains(&e), "{e} never informed: {all:?}");
    }
    let reports: Vec<&str> = seen
        .iter()
        .flat_map(|s| s.reports.iter().map(|r| r.name()))
        .collect();
    for r in [
        "DUStateChangeComplete",
        "AutonomousDUStateChangeComplete",
        "TransferComplete",
    ] {
        assert!(reports.contains(&r), "{r} never sent: {reports:?}");
    }
    assert_eq!(seen[0].faults, vec![9003, 9003], "{:?}", seen[0].answers);
    let files = envelopes(&seen);
    let dir = tempfile::tempdir().unwrap();
    validate(&validator(), dir.path(), &files);
}

/// The same for TR-098's diagnostics objects (TR-098 Amendment 2, TR-143): the Inform with
/// `8 DIAGNOSTICS COMPLETE` and the answer carrying TR-098's result names (its `RouteHops`'
/// `Hop…` parameters, `Completed` for a transfer test) validate against the schemas too.
#[tokio::test(start_paused = true)]
async fn tr098_diagnostics_envelopes_are_schema_valid() {
    let (ping, trace, down, up) = (
        "InternetGatewayDevice.IPPingDiagnostics.",
        "InternetGatewayDevice.TraceRouteDiagnostics.",
        "InternetGatewayDevice.DownloadDiagnostics.",
        "InternetGatewayDevice.UploadDiagnostics.",
    );
    let s = XsdType::String;
    let script = Script::new(vec![
        vec![spv(&[
            (&format!("{ping}Host"), "10.9.9.9", s),
            (&format!("{ping}DiagnosticsState"), "Requested", s),
            (&format!("{trace}Host"), "10.9.9.9", s),
            (&format!("{trace}DiagnosticsState"), "Requested", s),
            (
                &format!("{down}DownloadURL"),
                "http://files.example.net/64KiB",
                s,
            ),
            (&format!("{down}DiagnosticsState"), "Requested", s),
            (&format!("{up}UploadURL"), "http://files.example.net/up", s),
            (
                &format!("{up}TestFileLength"),
                "65536",
                XsdType::UnsignedInt,
            ),
            (&format!("{up}DiagnosticsState"), "Requested", s),
        ])],
        vec![gpv(&[ping, trace, down, up])],
    ]);
    let model = "diagnostics: { latency: 30ms, hops: 3, download_size: 64KiB, upload_per_s: 1MiB, duration: 5s }";
    run_with(script.clone(), "tr098-igd", "2m", model, "").await;
    let seen = script.seen();
    assert!(seen.len() >= 2, "{seen:#?}");
    assert_eq!(seen[1].events, vec!["8 DIAGNOSTICS COMPLETE"], "{seen:#?}");
    let files = envelopes(&seen);
    let answer = files
        .iter()
        .find(|(label, _)| label == "s1-answer0")
        .map(|(_, body)| String::from_utf8_lossy(body).into_owned())
        .expect("the GetParameterValues answer");
    for name in [
        "InternetGatewayDevice.TraceRouteDiagnostics.RouteHops.3.HopHost",
        "InternetGatewayDevice.DownloadDiagnostics.TestBytesReceived",
        "InternetGatewayDevice.UploadDiagnostics.TotalBytesSent",
        "InternetGatewayDevice.IPPingDiagnostics.AverageResponseTime",
    ] {
        assert!(answer.contains(name), "{name} not in the answer");
    }
    assert!(answer.contains(">Completed<"), "a transfer test's success");
    let dir = tempfile::tempdir().unwrap();
    validate(&validator(), dir.path(), &files);
}
