//! Unit tests of the ACS's session state machine.
// A test reads as one scripted session from Inform to the end: its length is the script's.
#![allow(clippy::too_many_lines)]

use super::*;

use crate::cwmp::{
    DateTime, Download, GetParameterNamesResponse, GetParameterValuesResponse, Reboot,
    SetParameterValuesFault, SetParameterValuesResponse, TransferComplete,
    TransferCompleteFaultStruct,
};

fn pv(name: &str, value: &str, kind: XsdType) -> ParameterValueStruct {
    ParameterValueStruct {
        name: name.into(),
        value: value.into(),
        kind: Some(kind),
    }
}

fn cpe(id: &str, body: CpeMessage) -> Envelope<CpeMessage> {
    Envelope::new(CwmpVersion::V1_0, Header::with_id(id), body)
}

fn sent(r: &Reply) -> (&str, &AcsMessage) {
    match r {
        Reply::Send(env) => (env.header.id.as_deref().unwrap_or(""), &env.body),
        other => panic!("expected a message, got {other:?}"),
    }
}

fn request(r: &Reply) -> (String, AcsRequest) {
    match sent(r) {
        (id, AcsMessage::Request(q)) => (id.to_string(), q.clone()),
        other => panic!("expected a request, got {other:?}"),
    }
}

fn names(list: &[(&str, bool)]) -> CpeMessage {
    CpeMessage::Response(CpeResponse::GetParameterNamesResponse(
        GetParameterNamesResponse {
            parameter_list: list
                .iter()
                .map(|(n, w)| ParameterInfoStruct {
                    name: n.to_string(),
                    writable: *w,
                })
                .collect(),
        },
    ))
}

#[test]
fn null_plan_ends_at_the_empty_post() {
    let mut s = AcsSession::new(CwmpVersion::V1_0, 1000, SessionPlan::default());
    assert_eq!(s.on_empty(1001), Reply::End(SessionOutcome::Completed));
    assert!(s.is_over());
    assert!(s.take_log().is_empty());
}

#[test]
fn ids_are_fifteen_hex_digits_from_the_start_time() {
    let start = 0x1a2137f3119_i64;
    let plan = SessionPlan {
        steps: vec![
            Step::Rpc(PlannedRpc {
                task: "t".into(),
                request: AcsRequest::Reboot(Reboot::default()),
                firmware: false,
            }),
            Step::Rpc(PlannedRpc {
                task: "t".into(),
                request: AcsRequest::FactoryReset,
                firmware: false,
            }),
        ],
        ..SessionPlan::default()
    };
    let mut s = AcsSession::new(CwmpVersion::V1_0, start, plan);
    let (id0, _) = request(&s.on_empty(start));
    assert_eq!(id0, "1a2137f31190000");
    let r = s.on_message(
        cpe(&id0, CpeMessage::Response(CpeResponse::RebootResponse)),
        start,
    );
    let (id1, req) = request(&r);
    assert_eq!(id1, "1a2137f31190001");
    assert_eq!(req, AcsRequest::FactoryReset);
}

#[test]
fn state_one_answers_cpe_requests_and_faults_the_rest() {
    let mut s = AcsSession::new(CwmpVersion::V1_2, 5, SessionPlan::default());
    let r = s.on_message(
        cpe("cpe-2", CpeMessage::Request(CpeRequest::GetRPCMethods)),
        6,
    );
    match sent(&r) {
        ("cpe-2", AcsMessage::Response(AcsResponse::GetRPCMethodsResponse(m))) => {
            // A 1.2 session: everything up to the DU completion reports.
            assert_eq!(
                m.method_list,
                ACS_METHODS.map(|(m, _)| m.to_string()).to_vec()
            )
        }
        other => panic!("{other:?}"),
    }
    let tc = TransferComplete {
        command_key: "k".into(),
        fault: TransferCompleteFaultStruct {
            fault_code: 9010,
            fault_string: "nope".into(),
        },
        start_time: DateTime::UNKNOWN,
        complete_time: DateTime::UNKNOWN,
    };
    let r = s.on_message(
        cpe(
            "cpe-3",
            CpeMessage::Request(CpeRequest::TransferComplete(tc)),
        ),
        7,
    );
    assert!(matches!(
        sent(&r),
        (
            "cpe-3",
            AcsMessage::Response(AcsResponse::TransferCompleteResponse)
        )
    ));
    let r = s.on_message(
        cpe(
            "cpe-4",
            CpeMessage::Request(CpeRequest::Kicked(Default::default())),
        ),
        8,
    );
    match sent(&r) {
        ("cpe-4", AcsMessage::Fault(f)) => assert_eq!(f.code, 8000),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.on_empty(9), Reply::End(SessionOutcome::Completed));
    let log = s.take_log();
    assert_eq!(log.transfers.len(), 1);
    assert_eq!(log.transfers[0].fault_code, 9010);
}

#[test]
fn inform_twice_and_requests_after_the_empty_post_are_bad_state() {
    let mut s = AcsSession::new(CwmpVersion::V1_0, 5, SessionPlan::default());
    let r = s.on_message(
        cpe(
            "cpe-1",
            CpeMessage::Request(CpeRequest::Inform(Default::default())),
        ),
        6,
    );
    assert!(matches!(
        r,
        Reply::Reject {
            text: "Bad session state",
            ..
        }
    ));
    let plan = SessionPlan {
        steps: vec![Step::Rpc(PlannedRpc {
            task: "reboot".into(),
            request: AcsRequest::Reboot(Reboot::default()),
            firmware: false,
        })],
        ..SessionPlan::default()
    };
    let mut s = AcsSession::new(CwmpVersion::V1_0, 5, plan);
    let _ = request(&s.on_empty(6));
    let r = s.on_message(
        cpe("cpe-2", CpeMessage::Request(CpeRequest::GetRPCMethods)),
        7,
    );
    assert_eq!(
        r,
        Reply::Reject {
            text: "Bad session state",
            outcome: SessionOutcome::BadSessionState
        }
    );
    let log = s.take_log();
    assert_eq!(log.tasks[0].result, "session_terminated");
    assert_eq!(log.tasks[0].task, "reboot");
}

#[test]
fn wrong_id_or_wrong_type_ends_the_session_as_invalid_response() {
    let plan = || SessionPlan {
        steps: vec![Step::Rpc(PlannedRpc {
            task: "r".into(),
            request: AcsRequest::Reboot(Reboot::default()),
            firmware: false,
        })],
        ..SessionPlan::default()
    };
    let mut s = AcsSession::new(CwmpVersion::V1_0, 5, plan());
    let _ = request(&s.on_empty(6));
    let r = s.on_message(
        cpe(
            "not-mine",
            CpeMessage::Response(CpeResponse::RebootResponse),
        ),
        7,
    );
    assert_eq!(r, Reply::End(SessionOutcome::InvalidResponse));
    assert_eq!(s.take_log().tasks[0].result, "invalid_response");

    let mut s = AcsSession::new(CwmpVersion::V1_0, 5, plan());
    let (id, _) = request(&s.on_empty(6));
    let r = s.on_message(
        cpe(&id, CpeMessage::Response(CpeResponse::FactoryResetResponse)),
        7,
    );
    assert_eq!(r, Reply::End(SessionOutcome::InvalidResponse));
}

#[test]
fn discovery_walks_then_reads_in_batches_then_provisions() {
    let plan = SessionPlan {
        device_id: "00D09E-HGW-S1".into(),
        root: "Device.".into(),
        steps: vec![
            Step::Discover(Discovery::new(1, 32)),
            Step::Provision(Provision {
                task: "provisioning".into(),
                entries: vec![
                    Desired {
                        suffix: "ManagementServer.PeriodicInformEnable".into(),
                        value: "true".into(),
                        kind: XsdType::Boolean,
                    },
                    Desired {
                        suffix: "ManagementServer.PeriodicInformInterval".into(),
                        value: "300".into(),
                        kind: XsdType::UnsignedInt,
                    },
                    Desired {
                        suffix: "ManagementServer.ConnectionRequestUsername".into(),
                        value: "00D09E-HGW-S1".into(),
                        kind: XsdType::String,
                    },
                    Desired {
                        suffix: "ManagementServer.Absent".into(),
                        value: "x".into(),
                        kind: XsdType::String,
                    },
                ],
                cr_credentials: Some(("00D09E-HGW-S1".into(), "pw".into())),
            }),
        ],
        known: vec![pv(
            "Device.DeviceInfo.SoftwareVersion",
            "1.0",
            XsdType::String,
        )],
    };
    let mut s = AcsSession::new(CwmpVersion::V1_2, 0x100, plan);
    let (id, q) = request(&s.on_empty(1));
    assert_eq!(
        q,
        AcsRequest::GetParameterNames(GetParameterNames {
            parameter_path: String::new(),
            next_level: true
        })
    );
    let r = s.on_message(cpe(&id, names(&[("Device.", false)])), 2);
    let (id, q) = request(&r);
    assert_eq!(
        q,
        AcsRequest::GetParameterNames(GetParameterNames {
            parameter_path: "Device.".into(),
            next_level: true
        })
    );
    let r = s.on_message(
        cpe(
            &id,
            names(&[
                ("Device.DeviceInfo.", false),
                ("Device.ManagementServer.", false),
                ("Device.RootDataModelVersion", false),
            ]),
        ),
        3,
    );
    let (id, q) = request(&r);
    assert_eq!(
        q,
        AcsRequest::GetParameterNames(GetParameterNames {
            parameter_path: "Device.DeviceInfo.".into(),
            next_level: false
        })
    );
    let mut info: Vec<(String, bool)> = (0..40)
        .map(|i| (format!("Device.DeviceInfo.P{i}"), false))
        .collect();
    info.push(("Device.DeviceInfo.SoftwareVersion".into(), false));
    let info_ref: Vec<(&str, bool)> = info.iter().map(|(n, w)| (n.as_str(), *w)).collect();
    let r = s.on_message(cpe(&id, names(&info_ref)), 4);
    let (id, q) = request(&r);
    assert!(matches!(q, AcsRequest::GetParameterNames(ref g)
        if g.parameter_path == "Device.ManagementServer." && !g.next_level));
    let r = s.on_message(
        cpe(
            &id,
            names(&[
                ("Device.ManagementServer.PeriodicInformEnable", true),
                ("Device.ManagementServer.PeriodicInformInterval", true),
                ("Device.ManagementServer.ConnectionRequestUsername", true),
            ]),
        ),
        5,
    );
    // 40 + 1 (root param) + 3 names to read, SoftwareVersion known from the Inform: 44.
    let mut batches = Vec::new();
    let mut r = r;
    loop {
        let (id, q) = request(&r);
        let AcsRequest::GetParameterValues(g) = q else {
            break;
        };
        assert!(g.parameter_names.len() <= 32);
        assert!(!g
            .parameter_names
            .contains(&"Device.DeviceInfo.SoftwareVersion".to_string()));
        batches.push(g.parameter_names.len());
        let parameter_list = g
            .parameter_names
            .iter()
            .map(|n| match n.as_str() {
                "Device.ManagementServer.PeriodicInformEnable" => pv(n, "1", XsdType::Boolean),
                "Device.ManagementServer.PeriodicInformInterval" => {
                    pv(n, "60", XsdType::UnsignedInt)
                }
                _ => pv(n, "v", XsdType::String),
            })
            .collect();
        let msg = CpeMessage::Response(CpeResponse::GetParameterValuesResponse(
            GetParameterValuesResponse { parameter_list },
        ));
        r = s.on_message(cpe(&id, msg), 6);
    }
    assert_eq!(batches, vec![32, 12]);
    let (id, q) = request(&r);
    let AcsRequest::SetParameterValues(spv) = q else {
        panic!("expected SPV, got {q:?}");
    };
    // Enable was "1" (= true): not sent. The absent parameter is dropped.
    let got: Vec<(&str, &str)> = spv
        .parameter_list
        .iter()
        .map(|p| (p.name.as_str(), p.value.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "Device.ManagementServer.ConnectionRequestUsername",
                "00D09E-HGW-S1"
            ),
            ("Device.ManagementServer.PeriodicInformInterval", "300"),
        ]
    );
    let r = s.on_message(
        cpe(
            &id,
            CpeMessage::Response(CpeResponse::SetParameterValuesResponse(
                SetParameterValuesResponse { status: 0 },
            )),
        ),
        7,
    );
    assert_eq!(r, Reply::End(SessionOutcome::Completed));
    let log = s.take_log();
    assert_eq!(
        log.cr_credentials,
        Some(("00D09E-HGW-S1".into(), "pw".into()))
    );
    assert_eq!(log.values.len(), 44);
    assert!(log
        .tasks
        .iter()
        .any(|t| t.task == "discovery" && t.result == "ok"));
    assert!(log
        .tasks
        .iter()
        .any(|t| t.task == "provisioning" && t.rpc == "SetParameterValues"));
}

#[test]
fn discovery_ignores_names_outside_the_asked_path() {
    let mut d = Discovery::new(5, 32);
    let mut w = HashMap::new();
    let known = HashMap::new();
    let _ = d.next(&known);
    d.on_names(
        "Device.",
        true,
        1,
        vec![
            ParameterInfoStruct {
                name: "Device.".into(),
                writable: false,
            },
            ParameterInfoStruct {
                name: "Other.X".into(),
                writable: false,
            },
        ],
        &mut w,
    );
    assert!(d.next(&known).is_none());
}

#[test]
fn faults_are_recorded_and_the_firmware_download_settles() {
    let plan = SessionPlan {
        steps: vec![
            Step::Rpc(PlannedRpc {
                task: "firmware_wave".into(),
                request: AcsRequest::Download(Download {
                    file_type: "1 Firmware Upgrade Image".into(),
                    ..Download::default()
                }),
                firmware: true,
            }),
            Step::Rpc(PlannedRpc {
                task: "ssid".into(),
                request: AcsRequest::SetParameterValues(SetParameterValues::default()),
                firmware: false,
            }),
        ],
        ..SessionPlan::default()
    };
    let mut s = AcsSession::new(CwmpVersion::V1_0, 0x200, plan);
    assert!(s.firmware_unsent());
    let r = s.on_empty(1);
    let (id, q) = request(&r);
    let AcsRequest::Download(d) = q else {
        panic!("{q:?}")
    };
    assert_eq!(d.command_key, id);
    assert!(!s.firmware_unsent());
    let r = s.on_message(
        cpe(
            &id,
            CpeMessage::Fault(Fault {
                code: 9010,
                string: "x".into(),
                set_parameter_values_faults: vec![],
            }),
        ),
        2,
    );
    let (id, _) = request(&r);
    let r = s.on_message(
        cpe(
            &id,
            CpeMessage::Fault(Fault {
                code: 9003,
                string: "Invalid arguments".into(),
                set_parameter_values_faults: vec![SetParameterValuesFault::new("Device.X", 9007)],
            }),
        ),
        3,
    );
    assert_eq!(r, Reply::End(SessionOutcome::Completed));
    let log = s.take_log();
    let fw = log.firmware.unwrap();
    assert_eq!((fw.result, fw.fault_code), ("failed", Some(9010)));
    let spv = log.tasks.iter().find(|t| t.task == "ssid").unwrap();
    assert_eq!(spv.fault_code, Some(9003));
    assert_eq!(spv.parameter_faults, vec![("Device.X".to_string(), 9007)]);
    assert_eq!(log.tasks_done, vec!["ssid".to_string()]);
}

#[test]
fn negotiation_picks_the_highest_common_version() {
    let h = |s: &str| Header {
        supported_cwmp_versions: Some(s.into()),
        ..Header::default()
    };
    assert_eq!(negotiate(&Header::default()), Ok(None));
    assert_eq!(
        negotiate(&h("1.0,1.1,1.2,1.3,1.4")),
        Ok(Some(CwmpVersion::V1_4))
    );
    assert_eq!(negotiate(&h("1.2, 1.0")), Ok(Some(CwmpVersion::V1_2)));
    assert_eq!(negotiate(&h("2.0,3.1")).map_err(|f| f.code), Err(8006));
    let env = inform_response(
        CwmpVersion::V1_4,
        &Header::with_id("cpe-1"),
        Some(CwmpVersion::V1_4),
    );
    assert_eq!(env.header.use_cwmp_version.as_deref(), Some("1.4"));
    assert_eq!(env.header.id.as_deref(), Some("cpe-1"));
}

#[test]
fn abandon_marks_the_outstanding_request() {
    let plan = SessionPlan {
        steps: vec![Step::Rpc(PlannedRpc {
            task: "r".into(),
            request: AcsRequest::Reboot(Reboot::default()),
            firmware: false,
        })],
        ..SessionPlan::default()
    };
    let mut s = AcsSession::new(CwmpVersion::V1_0, 1, plan);
    let _ = s.on_empty(2);
    // An empty POST instead of the RebootResponse.
    assert!(matches!(s.on_empty(3), Reply::Reject { .. }));
    let log = s.take_log();
    assert_eq!(log.tasks[0].result, "session_terminated");
    let mut s = AcsSession::new(CwmpVersion::V1_0, 1, SessionPlan::default());
    s.abandon(5);
    assert!(s.is_over());
}
