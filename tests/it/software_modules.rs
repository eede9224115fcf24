//! Software modules (TR-157) through the fleet under tokio's paused clock: ChangeDUState's
//! Install, Update and Uninstall fetch their files from a real file server (the embedded
//! ACS's), change `SoftwareModules.DeploymentUnit/ExecutionUnit`, and are reported in a
//! DUStateChangeComplete with `11 DU STATE CHANGE COMPLETE` + `M ChangeDUState`, each operation
//! with the spec's fault code; every report validates against the CWMP schema.

use std::collections::HashMap;
use std::sync::Arc;

use cpefleet::acs::file_server::{self, FileStore};
use cpefleet::cwmp::{
    encode_cpe, AcsRequest, AutonomousDUStateChangeComplete, ChangeDUState, CpeMessage, CpeRequest,
    CpeResponse, CwmpVersion, DUStateChangeComplete, DuOperation, Envelope, GetParameterValues,
    Header, ParameterValueStruct, SetParameterValues, XsdType,
};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::support::script::{run_one, run_with, Script, Seen};

async fn file_server() -> (String, Arc<FileStore>, CancellationToken) {
    let store = Arc::new(FileStore::new(None));
    store.put("hello-1.0.ipk", FileStore::synthetic(3000));
    store.put("hello-2.0.ipk", FileStore::synthetic(3100));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cancel = CancellationToken::new();
    tokio::spawn(file_server::serve(listener, store.clone(), cancel.clone()));
    (base, store, cancel)
}

fn install(url: &str, uuid: &str, ee: &str) -> DuOperation {
    DuOperation::Install {
        url: url.into(),
        uuid: uuid.into(),
        username: String::new(),
        password: String::new(),
        execution_env_ref: ee.into(),
    }
}

fn cdu(key: &str, operations: Vec<DuOperation>) -> AcsRequest {
    AcsRequest::ChangeDUState(ChangeDUState {
        operations,
        command_key: key.into(),
    })
}

fn gpv_sm() -> AcsRequest {
    AcsRequest::GetParameterValues(GetParameterValues {
        parameter_names: vec!["Device.SoftwareModules.".into()],
    })
}

fn report(s: &Seen) -> &DUStateChangeComplete {
    s.reports
        .iter()
        .find_map(|r| match r {
            CpeRequest::DUStateChangeComplete(d) => Some(d),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no DUStateChangeComplete: {s:#?}"))
}

fn codes(d: &DUStateChangeComplete) -> Vec<u32> {
    d.results.iter().map(|r| r.fault.fault_code).collect()
}

fn values(s: &Seen) -> HashMap<String, String> {
    s.answers
        .iter()
        .filter_map(|a| match a {
            CpeMessage::Response(CpeResponse::GetParameterValuesResponse(r)) => {
                Some(r.parameter_list.clone())
            }
            _ => None,
        })
        .flatten()
        .map(|p| (p.name, p.value))
        .collect()
}

const UUID: &str = "6ba7b810-9dad-51d1-80b4-00c04fd430c8";

#[tokio::test(start_paused = true)]
async fn install_update_uninstall_with_their_faults() {
    let (base, store, cancel) = file_server().await;
    let v1 = format!("{base}/hello-1.0.ipk");
    let v2 = format!("{base}/hello-2.0.ipk");
    let script = Script::new(vec![
        vec![cdu(
            "cdu-1",
            vec![
                install(&v1, UUID, ""),
                install(&format!("{base}/missing-1.0.ipk"), "", ""),
                install(&v1, "not-a-uuid", ""),
                install(&v1, "", "Device.SoftwareModules.ExecEnv.9"),
            ],
        )],
        vec![
            gpv_sm(),
            cdu(
                "cdu-2",
                vec![
                    DuOperation::Update {
                        uuid: UUID.into(),
                        version: String::new(),
                        url: v2.clone(),
                        username: String::new(),
                        password: String::new(),
                    },
                    install(&v2, UUID, ""),
                ],
            ),
        ],
        vec![
            gpv_sm(),
            cdu(
                "cdu-3",
                vec![
                    DuOperation::Update {
                        uuid: UUID.into(),
                        version: String::new(),
                        url: v1.clone(),
                        username: String::new(),
                        password: String::new(),
                    },
                    DuOperation::Uninstall {
                        uuid: UUID.into(),
                        version: String::new(),
                        execution_env_ref: String::new(),
                    },
                    DuOperation::Uninstall {
                        uuid: UUID.into(),
                        version: String::new(),
                        execution_env_ref: String::new(),
                    },
                ],
            ),
        ],
        vec![gpv_sm()],
    ]);
    run_one(script.clone(), "tr181-gateway", "5m", "reboot_time: 10s").await;
    cancel.cancel();
    let seen = script.seen();
    assert_eq!(seen.len(), 4, "{seen:#?}");
    assert!(
        seen[0].faults.is_empty(),
        "ChangeDUState is accepted: {seen:#?}"
    );

    // Install: one unit in, each bad operation with its own code.
    let r1 = report(&seen[1]);
    assert_eq!(r1.command_key, "cdu-1");
    assert_eq!(codes(r1), vec![0, 9016, 9022, 9023]);
    assert!(seen[1]
        .events
        .contains(&"11 DU STATE CHANGE COMPLETE".to_string()));
    assert!(seen[1]
        .events
        .contains(&"M ChangeDUState(cdu-1)".to_string()));
    let ok = &r1.results[0];
    assert_eq!(
        (
            ok.uuid.as_str(),
            ok.version.as_str(),
            ok.current_state.as_str()
        ),
        (UUID, "1.0", "Installed")
    );
    assert_eq!(r1.results[1].current_state, "Failed");
    let v = values(&seen[1]);
    let du = &ok.deployment_unit_ref;
    assert_eq!(v[&format!("{du}.UUID")], UUID);
    assert_eq!(v[&format!("{du}.Status")], "Installed");
    assert_eq!(v[&format!("{du}.Name")], "hello");
    assert_eq!(v[&format!("{}.Name", ok.execution_unit_ref_list)], "hello");

    // Update to 2.0; installing the same version again is a duplicate.
    let r2 = report(&seen[2]);
    assert_eq!(codes(r2), vec![0, 9026]);
    assert_eq!(r2.results[0].version, "2.0");
    assert_eq!(values(&seen[2])[&format!("{du}.Version")], "2.0");

    // A downgrade is refused, the uninstall removes unit and execution unit, a second one
    // finds nothing.
    let r3 = report(&seen[3]);
    assert_eq!(codes(r3), vec![9030, 0, 9028]);
    assert_eq!(r3.results[1].current_state, "Uninstalled");
    let v = values(&seen[3]);
    assert!(
        !v.keys()
            .any(|k| k.contains("DeploymentUnit.") || k.contains("ExecutionUnit.")),
        "{v:?}"
    );
    assert!(v.contains_key("Device.SoftwareModules.ExecEnv.1.Name"));

    // Every report the device sent is a schema-valid envelope.
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, Vec<u8>)> = [r1, r2, r3]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut buf = Vec::new();
            encode_cpe(
                &Envelope {
                    version: CwmpVersion::V1_4,
                    header: Header::with_id(format!("du-{i}")),
                    body: CpeMessage::Request(CpeRequest::DUStateChangeComplete((*r).clone())),
                },
                &mut buf,
            );
            (format!("du-{i}"), buf)
        })
        .collect();
    // Operations that fail on their arguments fetch nothing: cdu-1 fetched v1 once (the 404
    // counts no download); cdu-2 fetched v2 twice (the duplicate is only one once the update
    // before it is done); cdu-3 fetched v1 for the refused downgrade.
    assert_eq!(store.download_count(), 4);
    crate::support::schema::validate(&crate::support::schema::validator(), dir.path(), &files);
}

#[tokio::test(start_paused = true)]
async fn devices_without_software_modules_answer_9000() {
    let script = Script::new(vec![vec![
        cdu("x", vec![install("http://127.0.0.1:9/a-1.0.ipk", "", "")]),
        AcsRequest::GetRPCMethods,
    ]]);
    run_one(script.clone(), "tr098-igd", "1m", "reboot_time: 10s").await;
    let seen = script.seen();
    assert_eq!(seen[0].faults, vec![9000], "{seen:#?}");
    let CpeMessage::Response(CpeResponse::GetRPCMethodsResponse(m)) = &seen[0].answers[1] else {
        panic!("{seen:#?}")
    };
    assert!(!m.method_list.iter().any(|m| m == "ChangeDUState"));
}

fn set_policy(enable: &str, ops: &str, results: &str, faults: &str) -> AcsRequest {
    let p = "Device.ManagementServer.DUStateChangeComplPolicy.";
    let pv = |n: &str, v: &str, k: XsdType| ParameterValueStruct::new(format!("{p}{n}"), v, k);
    AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: vec![
            pv("Enable", enable, XsdType::Boolean),
            pv("OperationTypeFilter", ops, XsdType::String),
            pv("ResultTypeFilter", results, XsdType::String),
            pv("FaultCodeFilter", faults, XsdType::String),
        ],
        parameter_key: "policy".into(),
    })
}

/// The AutonomousDUStateChangeCompletes of the run, with the events of their sessions.
fn autonomous(seen: &[Seen]) -> Vec<(Vec<String>, AutonomousDUStateChangeComplete)> {
    seen.iter()
        .flat_map(|s| {
            s.reports.iter().filter_map(|r| match r {
                CpeRequest::AutonomousDUStateChangeComplete(a) => {
                    Some((s.events.clone(), a.clone()))
                }
                _ => None,
            })
        })
        .collect()
}

/// One hour of churn after a minute of steady informs, `du_changes` an hour.
fn churn(url: &str, per_hour: u32) -> String {
    format!(
        "phases:\n  - steady: {{ for: 1m }}\n  - churn: {{ for: 1h, du_changes: {per_hour}/h, du_url: \"{url}\" }}\n"
    )
}

#[tokio::test(start_paused = true)]
async fn autonomous_changes_are_reported_as_the_policy_filters_them() {
    let (base, store, cancel) = file_server().await;
    let url = format!("{base}/hello-1.0.ipk");
    // Installs reported, uninstalls (the change after each install) not.
    let script = Script::new(vec![vec![set_policy("true", "Install", "Success", "")]]);
    run_with(
        script.clone(),
        "tr181-gateway",
        "62m",
        "reboot_time: 10s",
        &churn(&url, 12),
    )
    .await;
    cancel.cancel();
    let seen = script.seen();
    let reports = autonomous(&seen);
    assert!(reports.len() >= 2, "{seen:#?}");
    for (events, r) in &reports {
        assert!(
            events.contains(&"12 AUTONOMOUS DU STATE CHANGE COMPLETE".to_string()),
            "{events:?}"
        );
        assert_eq!(r.results.len(), 1);
        let op = &r.results[0];
        assert_eq!(op.operation_performed.as_deref(), Some("Install"));
        assert_eq!(
            (op.fault.fault_code, op.current_state.as_str()),
            (0, "Installed")
        );
        assert_eq!(op.version, "1.0");
    }
    // Every install fetched the file once and was reported once; between two installs the
    // unit was uninstalled, silently.
    assert_eq!(store.download_count(), reports.len() as u64);
    // The reports and the Informs announcing them are schema-valid envelopes.
    let mut files = Vec::new();
    for (i, (_, r)) in reports.iter().enumerate() {
        let mut buf = Vec::new();
        encode_cpe(
            &Envelope {
                version: CwmpVersion::V1_4,
                header: Header::with_id(format!("adu-{i}")),
                body: CpeMessage::Request(CpeRequest::AutonomousDUStateChangeComplete(r.clone())),
            },
            &mut buf,
        );
        files.push((format!("adu-{i}"), buf));
    }
    let dir = tempfile::tempdir().unwrap();
    crate::support::schema::validate(&crate::support::schema::validator(), dir.path(), &files);
}

#[tokio::test(start_paused = true)]
async fn failures_are_reported_only_with_their_code_in_the_filter() {
    let (base, _store, cancel) = file_server().await;
    let url = format!("{base}/missing-1.0.ipk");
    let run = |faults: &'static str| {
        let url = url.clone();
        async move {
            let script = Script::new(vec![vec![set_policy(
                "1",
                "Install,Update,Uninstall",
                "Failure",
                faults,
            )]]);
            run_with(
                script.clone(),
                "tr181-gateway",
                "62m",
                "reboot_time: 10s",
                &churn(&url, 6),
            )
            .await;
            autonomous(&script.seen())
        }
    };
    // A file the server does not have: 9016 (file not found), reported when 9016 is listed.
    let reported = run("9010,9016").await;
    assert!(!reported.is_empty());
    for (_, r) in &reported {
        let op = &r.results[0];
        assert_eq!(op.fault.fault_code, 9016, "{r:?}");
        assert_eq!(op.current_state, "Failed");
        assert_eq!(op.operation_performed.as_deref(), Some("Install"));
    }
    assert!(run("9010").await.is_empty(), "9016 is not in the filter");
    assert!(
        run("").await.is_empty(),
        "an empty filter reports no failure"
    );
    cancel.cancel();
}

#[tokio::test(start_paused = true)]
async fn a_disabled_policy_reports_nothing_and_the_unit_still_changes() {
    let (base, store, cancel) = file_server().await;
    let url = format!("{base}/hello-1.0.ipk");
    let script = Script::new(vec![vec![set_policy(
        "false",
        "Install,Uninstall",
        "Both",
        "",
    )]]);
    run_with(
        script.clone(),
        "tr181-gateway",
        "62m",
        "reboot_time: 10s",
        &churn(&url, 12),
    )
    .await;
    cancel.cancel();
    assert!(autonomous(&script.seen()).is_empty());
    assert!(store.download_count() >= 2, "the installs happened");
}
