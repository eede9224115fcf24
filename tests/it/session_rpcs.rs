//! Every ACS request kind, in one real session over loopback, answered by a real device of the
//! TR-181 template through the fleet's session adapter: the right response (or the spec's
//! fault where the CPE must refuse), the ACS's cwmp:ID echoed, the effects handed to the
//! scheduler, and every envelope the CPE sent valid against the official schema.

use std::sync::Arc;
use std::time::Duration;

use crate::support::schema::{validate, validator};
use crate::support::{inform_response, Reply, ScriptedAcs, NS12};
use cpefleet::cwmp::*;
use cpefleet::device::life::Life;
use cpefleet::device::{Device, Effect};
use cpefleet::fleet::cpe::Cpe;
use cpefleet::model::Template;
use cpefleet::net::client::{Connector, Endpoint};
use cpefleet::session::{run, SessionConfig};

fn requests() -> Vec<(AcsRequest, &'static str)> {
    let ms = "Device.ManagementServer.";
    vec![
        (AcsRequest::GetRPCMethods, "GetRPCMethodsResponse"),
        (
            AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: String::new(),
                next_level: true,
            }),
            "GetParameterNamesResponse",
        ),
        (
            AcsRequest::GetParameterNames(GetParameterNames {
                parameter_path: "Device.DeviceInfo.".into(),
                next_level: false,
            }),
            "GetParameterNamesResponse",
        ),
        (
            AcsRequest::GetParameterValues(GetParameterValues {
                parameter_names: vec![
                    "Device.DeviceInfo.".into(),
                    format!("{ms}PeriodicInformInterval"),
                ],
            }),
            "GetParameterValuesResponse",
        ),
        (
            AcsRequest::SetParameterValues(SetParameterValues {
                parameter_list: vec![ParameterValueStruct::new(
                    format!("{ms}PeriodicInformInterval"),
                    "900",
                    XsdType::UnsignedInt,
                )],
                parameter_key: "pk-1".into(),
            }),
            "SetParameterValuesResponse",
        ),
        (
            AcsRequest::SetParameterValues(SetParameterValues {
                parameter_list: vec![
                    ParameterValueStruct::new(
                        format!("{ms}PeriodicInformInterval"),
                        "eleven",
                        XsdType::UnsignedInt,
                    ),
                    ParameterValueStruct::new(
                        "Device.DeviceInfo.Manufacturer",
                        "x",
                        XsdType::String,
                    ),
                    ParameterValueStruct::new("Device.NoSuch.Thing", "x", XsdType::String),
                ],
                parameter_key: "pk-2".into(),
            }),
            "Fault 9003",
        ),
        (
            AcsRequest::GetParameterAttributes(GetParameterAttributes {
                parameter_names: vec!["Device.DeviceInfo.SoftwareVersion".into()],
            }),
            "GetParameterAttributesResponse",
        ),
        (
            AcsRequest::SetParameterAttributes(SetParameterAttributes {
                parameter_list: vec![SetParameterAttributesStruct {
                    name: "Device.WiFi.SSID.1.SSID".into(),
                    notification_change: true,
                    notification: Some(2),
                    access_list_change: false,
                    access_list: vec![],
                }],
            }),
            "SetParameterAttributesResponse",
        ),
        (
            AcsRequest::AddObject(AddObject {
                object_name: "Device.NAT.PortMapping.".into(),
                parameter_key: "pk-3".into(),
            }),
            "AddObjectResponse",
        ),
        (
            AcsRequest::DeleteObject(DeleteObject {
                object_name: "Device.NAT.PortMapping.1.".into(),
                parameter_key: "pk-4".into(),
            }),
            "DeleteObjectResponse",
        ),
        (
            AcsRequest::Download(Download {
                command_key: "dl-1".into(),
                file_type: "1 Firmware Upgrade Image".into(),
                url: "http://127.0.0.1:9/fw-2.0.bin".into(),
                file_size: 4042,
                delay_seconds: 3600,
                ..Default::default()
            }),
            "DownloadResponse",
        ),
        (
            AcsRequest::Download(Download {
                command_key: "dl-ftp".into(),
                file_type: "1 Firmware Upgrade Image".into(),
                url: "ftp://127.0.0.1/fw.bin".into(),
                ..Default::default()
            }),
            "Fault 9013",
        ),
        (
            AcsRequest::Upload(Upload {
                command_key: "ul-1".into(),
                file_type: "1 Vendor Configuration File".into(),
                url: "http://127.0.0.1:9/upload".into(),
                delay_seconds: 3600,
                ..Default::default()
            }),
            "UploadResponse",
        ),
        (
            AcsRequest::ScheduleInform(ScheduleInform {
                delay_seconds: 60,
                command_key: "si-1".into(),
            }),
            "ScheduleInformResponse",
        ),
        (
            AcsRequest::ScheduleDownload(ScheduleDownload {
                command_key: "sd-1".into(),
                file_type: "1 Firmware Upgrade Image".into(),
                url: "http://127.0.0.1:9/fw-3.0.bin".into(),
                time_window_list: vec![TimeWindowStruct {
                    window_start: 3600,
                    window_end: 7200,
                    window_mode: "1 At Any Time".into(),
                    user_message: String::new(),
                    max_retries: -1,
                }],
                ..Default::default()
            }),
            "ScheduleDownloadResponse",
        ),
        (AcsRequest::GetQueuedTransfers, "GetQueuedTransfersResponse"),
        (
            AcsRequest::GetAllQueuedTransfers,
            "GetAllQueuedTransfersResponse",
        ),
        (
            AcsRequest::CancelTransfer(CancelTransfer {
                command_key: "sd-1".into(),
            }),
            "CancelTransferResponse",
        ),
        (
            AcsRequest::ChangeDUState(ChangeDUState {
                operations: vec![DuOperation::Uninstall {
                    uuid: "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b".into(),
                    version: String::new(),
                    execution_env_ref: String::new(),
                }],
                command_key: "du-1".into(),
            }),
            // Accepted (TR-157 SoftwareModules is in the model); the unknown unit is reported
            // in the DUStateChangeComplete that follows, not here.
            "ChangeDUStateResponse",
        ),
        (
            AcsRequest::Unknown("X_ACME_SelfDestruct".into()),
            "Fault 9000",
        ),
        (
            AcsRequest::Reboot(Reboot {
                command_key: "rb-1".into(),
            }),
            "RebootResponse",
        ),
        (AcsRequest::FactoryReset, "FactoryResetResponse"),
    ]
}

#[tokio::test]
async fn every_acs_request_kind_in_one_session() {
    let reqs = requests();
    let mut script = vec![inform_response(NS12)];
    for (i, (r, _)) in reqs.iter().enumerate() {
        let mut body = Vec::new();
        encode_acs(
            &Envelope::new(
                CwmpVersion::V1_2,
                Header::with_id(format!("acs-{i}")),
                AcsMessage::Request(r.clone()),
            ),
            &mut body,
        );
        script.push(Reply::ok(String::from_utf8(body).unwrap()));
    }
    script.push(Reply::end());
    let acs = ScriptedAcs::start(script).await;

    let template = Arc::new(
        Template::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("data-models/tr181-gateway.yaml"),
        )
        .unwrap(),
    );
    let mut cpe = Cpe {
        template,
        device: Device::new(0),
        life: Life::first_boot(),
        seed: 1,
        now: DateTime::from_unix_ms(1_795_000_000_000),
        cr_url_base: Arc::from("http://127.0.0.1:7548"),
        answer_limit: Default::default(),
        effects: vec![],
        faults: vec![],
        cr_router: None,
        udp_addrs: None,
        events: None,
    };
    let cfg = SessionConfig {
        acs: Endpoint::parse(&acs.url).unwrap(),
        connector: Connector {
            connect_timeout: Duration::from_secs(2),
            tls: None,
            tls_error: None,
        },
        local_addr: None,
        credentials: None,
        version: CwmpVersion::V1_4,
        exchange_timeout: Duration::from_secs(5),
        session_timeout: Duration::from_secs(20),
        max_body: 1 << 20,
        max_exchanges: 100,
        user_agent: "cpefleet-test".into(),
        id_prefix: "cpe".into(),
        impairments: Default::default(),
    };
    let report = run(&cfg, &mut cpe, None).await;
    assert!(report.is_ok(), "{:?}", report.outcome);

    let recorded = acs.recorded();
    // Inform, empty POST, then one answer per request.
    assert_eq!(recorded.len(), reqs.len() + 2);
    let mut files = Vec::new();
    for (i, ((req, expected), rec)) in reqs.iter().zip(&recorded[2..]).enumerate() {
        let env = decode_cpe(rec.body.as_bytes()).unwrap();
        assert_eq!(env.header.id.as_deref(), Some(format!("acs-{i}").as_str()));
        let got = match &env.body {
            CpeMessage::Response(r) => r.name().to_string(),
            CpeMessage::Fault(f) => format!("Fault {}", f.code),
            CpeMessage::Request(r) => panic!("request {}", r.name()),
        };
        assert_eq!(&got, expected, "{}", req.name());
        if let CpeMessage::Fault(f) = &env.body {
            if f.code == 9003 {
                let codes: Vec<u32> = f
                    .set_parameter_values_faults
                    .iter()
                    .map(|x| x.code)
                    .collect();
                assert_eq!(
                    codes.len(),
                    3,
                    "one SetParameterValuesFault per bad parameter"
                );
                assert!(
                    codes.contains(&9007) && codes.contains(&9008) && codes.contains(&9005),
                    "{codes:?}"
                );
            }
        }
        files.push((
            format!("rpc-{i}-{}", req.name()),
            rec.body.clone().into_bytes(),
        ));
    }
    files.push(("inform".into(), recorded[0].body.clone().into_bytes()));

    // The effects the scheduler carries out after the session.
    let kinds: Vec<&str> = cpe
        .effects
        .iter()
        .map(|e| match e {
            Effect::Reboot { .. } => "reboot",
            Effect::FactoryReset => "factory_reset",
            Effect::Download(_) => "download",
            Effect::Upload(_) => "upload",
            Effect::ScheduleInform { .. } => "schedule_inform",
            Effect::ScheduleDownload(_) => "schedule_download",
            Effect::CancelTransfer { .. } => "cancel",
            Effect::PeriodicInformChanged => "periodic",
            _ => "other",
        })
        .collect();
    for k in [
        "periodic",
        "download",
        "upload",
        "schedule_inform",
        "schedule_download",
        "cancel",
        "reboot",
        "factory_reset",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    validate(&validator(), dir.path(), &files);
}
