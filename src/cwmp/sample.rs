//! Sample envelopes of every message kind, in both directions, with realistic contents. Shared by
//! the codec's unit tests, the schema check (tests/codec_schema.rs) and the benchmarks; also handy
//! for other layers' tests. Every sample is valid for the schema of its version.

use super::envelope::{Envelope, Header};
use super::fault::{Fault, SetParameterValuesFault};
use super::message::{AcsMessage, AcsRequest, AcsResponse, CpeMessage, CpeRequest, CpeResponse};
use super::rpc::*;
use super::time::DateTime;
use super::value::XsdType;
use super::version::CwmpVersion;

/// The header a CPE of `version` puts on its Inform: cwmp:ID, plus SessionTimeout (1.3+) and
/// SupportedCWMPVersions (1.4).
pub fn inform_header(version: CwmpVersion, id: &str) -> Header {
    Header {
        id: Some(id.to_owned()),
        session_timeout: (version >= CwmpVersion::V1_3).then_some(30),
        supported_cwmp_versions: (version >= CwmpVersion::V1_4)
            .then(|| version.supported_list().to_owned()),
        ..Header::default()
    }
}

/// The forced Inform parameters of a TR-181 device (sent in every Inform), with sample values.
const FORCED: [(&str, &str, XsdType); 7] = [
    ("Device.RootDataModelVersion", "2.17", XsdType::String),
    (
        "Device.DeviceInfo.HardwareVersion",
        "HW-1.0",
        XsdType::String,
    ),
    (
        "Device.DeviceInfo.SoftwareVersion",
        "V100R001 <beta> & co",
        XsdType::String,
    ),
    ("Device.DeviceInfo.ProvisioningCode", "", XsdType::String),
    (
        "Device.ManagementServer.ParameterKey",
        "key-1",
        XsdType::String,
    ),
    (
        "Device.ManagementServer.ConnectionRequestURL",
        "http://10.0.0.42:7547/cr/0042",
        XsdType::String,
    ),
    (
        "Device.ManagementServer.AliasBasedAddressing",
        "0",
        XsdType::Boolean,
    ),
];

/// A TR-181 Inform with the given events and `n_params` parameters (the 7 forced ones first,
/// then counters), like a real Device:2 gateway sends.
pub fn inform(
    version: CwmpVersion,
    events: Vec<EventStruct>,
    n_params: usize,
) -> Envelope<CpeMessage> {
    let mut params: Vec<ParameterValueStruct> = FORCED
        .iter()
        .take(n_params)
        .map(|&(n, v, k)| ParameterValueStruct::new(n, v, k))
        .collect();
    params.extend((params.len()..n_params).map(counter_param));
    Envelope {
        version,
        header: inform_header(version, "cpe-1"),
        body: CpeMessage::Request(CpeRequest::Inform(Inform {
            device_id: DeviceIdStruct {
                manufacturer: "Sim & Co".into(),
                oui: "00D09E".into(),
                product_class: "HGW181".into(),
                serial_number: "HGW181-0042".into(),
            },
            events,
            max_envelopes: 1,
            current_time: DateTime::from_unix_ms(1_795_969_032_000),
            retry_count: 0,
            parameter_list: params,
        })),
    }
}

/// The `i`th counter-like parameter that fills an Inform past its forced ones.
fn counter_param(i: usize) -> ParameterValueStruct {
    match i % 4 {
        0 => ParameterValueStruct::new(
            format!("Device.Ethernet.Interface.{}.Stats.BytesSent", i),
            (i as u64 * 7_919_993).to_string(),
            XsdType::UnsignedLong,
        ),
        1 => ParameterValueStruct::new(
            format!("Device.WiFi.Radio.{}.Channel", i),
            "11",
            XsdType::UnsignedInt,
        ),
        2 => ParameterValueStruct::new(
            format!("Device.WiFi.SSID.{}.Enable", i),
            "1",
            XsdType::Boolean,
        ),
        _ => ParameterValueStruct::new(
            format!("Device.Time.{}.CurrentLocalTime", i),
            "2026-11-25T16:17:12Z",
            XsdType::DateTime,
        ),
    }
}

/// The event codes the schema of `version` allows (cwmp-1-0 enumerates its codes; later
/// schemas take any `N WORD` and `M Word`).
pub fn events_for(version: CwmpVersion) -> Vec<EventCode> {
    EventCode::STANDARD
        .iter()
        .filter(|c| {
            version >= CwmpVersion::V1_1
                || !matches!(
                    c,
                    EventCode::AutonomousTransferComplete
                        | EventCode::DuStateChangeComplete
                        | EventCode::AutonomousDuStateChangeComplete
                        | EventCode::Wakeup
                        | EventCode::Heartbeat
                        | EventCode::MScheduleDownload
                        | EventCode::MChangeDuState
                )
        })
        .cloned()
        .collect()
}

/// 32 TR-098 parameter names, as GenieACS batches a GetParameterValues.
pub fn gpv_names(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            format!(
                "InternetGatewayDevice.LANDevice.1.Hosts.Host.{}.{}",
                i / 3 + 1,
                ["HostName", "IPAddress", "MACAddress"][i % 3]
            )
        })
        .collect()
}

/// A GetParameterValuesResponse with `n` values.
pub fn gpv_response(version: CwmpVersion, n: usize) -> Envelope<CpeMessage> {
    let list = gpv_names(n)
        .into_iter()
        .enumerate()
        .map(|(i, name)| ParameterValueStruct::new(name, format!("host-{i}"), XsdType::String))
        .collect();
    Envelope {
        version,
        header: Header::with_id("1a2137f31190003"),
        body: CpeMessage::Response(CpeResponse::GetParameterValuesResponse(
            GetParameterValuesResponse {
                parameter_list: list,
            },
        )),
    }
}

fn t(ms: i64) -> DateTime {
    DateTime::from_unix_ms(ms)
}

fn op_result(operation: Option<&str>) -> OpResultStruct {
    OpResultStruct {
        uuid: "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b".into(),
        deployment_unit_ref: "Device.SoftwareModules.DeploymentUnit.1".into(),
        version: "1.2.3".into(),
        current_state: "Installed".into(),
        resolved: true,
        execution_unit_ref_list: "Device.SoftwareModules.ExecutionUnit.1".into(),
        start_time: t(1_795_969_000_000),
        complete_time: t(1_795_969_030_500),
        fault: TransferCompleteFaultStruct::default(),
        operation_performed: operation.map(str::to_owned),
    }
}

/// Every CPE -> ACS request kind the schema of `version` has.
pub fn cpe_requests(version: CwmpVersion) -> Vec<CpeRequest> {
    let mut v = vec![
        CpeRequest::TransferComplete(TransferComplete {
            command_key: "1a2137fc50b0000".into(),
            fault: TransferCompleteFaultStruct::default(),
            start_time: t(1_795_969_000_000),
            complete_time: t(1_795_969_012_345),
        }),
        CpeRequest::TransferComplete(TransferComplete {
            command_key: "dl-2".into(),
            fault: TransferCompleteFaultStruct {
                fault_code: 9010,
                fault_string: "Download failure: 404".into(),
            },
            start_time: DateTime::UNKNOWN,
            complete_time: DateTime::UNKNOWN,
        }),
        CpeRequest::GetRPCMethods,
        CpeRequest::RequestDownload(RequestDownload {
            file_type: "1 Firmware Upgrade Image".into(),
            file_type_arg: vec![ArgStruct {
                name: "Version".into(),
                value: "2.0".into(),
            }],
        }),
        CpeRequest::Kicked(Kicked {
            command: "reset".into(),
            referer: "http://lan/".into(),
            arg: "a=1&b=2".into(),
            next: "http://lan/done".into(),
        }),
    ];
    if version >= CwmpVersion::V1_1 {
        v.push(CpeRequest::AutonomousTransferComplete(
            AutonomousTransferComplete {
                announce_url: "http://announce.example/".into(),
                transfer_url: "http://files.example/fw.bin".into(),
                is_download: true,
                file_type: "1 Firmware Upgrade Image".into(),
                file_size: 4042,
                target_file_name: "fw.bin".into(),
                fault: TransferCompleteFaultStruct::default(),
                start_time: t(1_795_969_000_000),
                complete_time: t(1_795_969_001_000),
            },
        ));
    }
    if version >= CwmpVersion::V1_2 {
        v.push(CpeRequest::DUStateChangeComplete(DUStateChangeComplete {
            results: vec![
                op_result(None),
                OpResultStruct {
                    current_state: "Failed".into(),
                    ..op_result(None)
                },
            ],
            command_key: "du-1".into(),
        }));
        v.push(CpeRequest::AutonomousDUStateChangeComplete(
            AutonomousDUStateChangeComplete {
                results: vec![op_result(Some("Install"))],
            },
        ));
    }
    v
}

/// Every CPE -> ACS response kind the schema of `version` has.
pub fn cpe_responses(version: CwmpVersion) -> Vec<CpeResponse> {
    let mut v = vec![
        CpeResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
            method_list: [
                "GetRPCMethods",
                "GetParameterNames",
                "GetParameterValues",
                "SetParameterValues",
            ]
            .map(String::from)
            .to_vec(),
        }),
        sample_gpn_response(),
        sample_gpv_response(),
        CpeResponse::SetParameterValuesResponse(SetParameterValuesResponse { status: 0 }),
        CpeResponse::SetParameterValuesResponse(SetParameterValuesResponse { status: 1 }),
        sample_gpa_response(),
        CpeResponse::SetParameterAttributesResponse,
        CpeResponse::AddObjectResponse(AddObjectResponse {
            instance_number: 3,
            status: 0,
        }),
        CpeResponse::DeleteObjectResponse(DeleteObjectResponse { status: 1 }),
        CpeResponse::RebootResponse,
        CpeResponse::FactoryResetResponse,
        CpeResponse::DownloadResponse(DownloadResponse {
            status: 1,
            start_time: DateTime::UNKNOWN,
            complete_time: DateTime::UNKNOWN,
        }),
        CpeResponse::UploadResponse(UploadResponse {
            status: 0,
            start_time: t(1_795_969_000_000),
            complete_time: t(1_795_969_000_250),
        }),
        CpeResponse::ScheduleInformResponse,
        sample_queued_transfers_response(),
    ];
    if version >= CwmpVersion::V1_1 {
        v.push(CpeResponse::GetAllQueuedTransfersResponse(
            GetAllQueuedTransfersResponse {
                transfer_list: vec![AllQueuedTransferStruct {
                    command_key: "dl-1".into(),
                    state: 2,
                    is_download: true,
                    file_type: "1 Firmware Upgrade Image".into(),
                    file_size: 4042,
                    target_file_name: "fw.bin".into(),
                }],
            },
        ));
    }
    if version >= CwmpVersion::V1_2 {
        v.push(CpeResponse::ScheduleDownloadResponse);
        v.push(CpeResponse::CancelTransferResponse);
        v.push(CpeResponse::ChangeDUStateResponse);
    }
    v
}

/// A GetParameterNamesResponse listing an object, a writable table and a parameter.
fn sample_gpn_response() -> CpeResponse {
    CpeResponse::GetParameterNamesResponse(GetParameterNamesResponse {
        parameter_list: vec![
            ParameterInfoStruct {
                name: "Device.".into(),
                writable: false,
            },
            ParameterInfoStruct {
                name: "Device.NAT.PortMapping.".into(),
                writable: true,
            },
            ParameterInfoStruct {
                name: "Device.DeviceInfo.UpTime".into(),
                writable: false,
            },
        ],
    })
}

/// A GetParameterValuesResponse with one value of each XSD type.
fn sample_gpv_response() -> CpeResponse {
    CpeResponse::GetParameterValuesResponse(GetParameterValuesResponse {
        parameter_list: vec![
            ParameterValueStruct::new("Device.DeviceInfo.UpTime", "3600", XsdType::UnsignedInt),
            ParameterValueStruct::new("Device.Time.NTPServer1", "pool.ntp.org", XsdType::String),
            ParameterValueStruct::new("Device.X_Vendor.Blob", "aGVsbG8=", XsdType::Base64),
            ParameterValueStruct::new("Device.X_Vendor.Hex", "00ff", XsdType::HexBinary),
            ParameterValueStruct::new("Device.X_Vendor.Offset", "-5", XsdType::Int),
            ParameterValueStruct::new("Device.X_Vendor.Big", "-9000000000", XsdType::Long),
            ParameterValueStruct::new("Device.X_Vendor.Ratio", "0.75", XsdType::Decimal),
            ParameterValueStruct::new(
                "Device.Time.CurrentLocalTime",
                "2026-11-25T16:17:12.473Z",
                XsdType::DateTime,
            ),
        ],
    })
}

/// A GetParameterAttributesResponse with and without an access list.
fn sample_gpa_response() -> CpeResponse {
    CpeResponse::GetParameterAttributesResponse(GetParameterAttributesResponse {
        parameter_list: vec![
            ParameterAttributeStruct {
                name: "Device.DeviceInfo.SoftwareVersion".into(),
                notification: 2,
                access_list: vec![],
            },
            ParameterAttributeStruct {
                name: "Device.WiFi.SSID.1.SSID".into(),
                notification: 1,
                access_list: vec!["Subscriber".into()],
            },
        ],
    })
}

/// A GetQueuedTransfersResponse with two transfers.
fn sample_queued_transfers_response() -> CpeResponse {
    CpeResponse::GetQueuedTransfersResponse(GetQueuedTransfersResponse {
        transfer_list: vec![
            QueuedTransferStruct {
                command_key: "dl-1".into(),
                state: 1,
            },
            QueuedTransferStruct {
                command_key: "dl-2".into(),
                state: 2,
            },
        ],
    })
}

/// CPE faults: every standard code the schema of `version` allows, the vendor range, and a
/// SetParameterValues fault with per-parameter entries.
pub fn cpe_faults(version: CwmpVersion) -> Vec<Fault> {
    let mut v: Vec<Fault> = (9000..=9032)
        .chain([9850])
        .map(Fault::new)
        .filter(|f| f.min_version() <= version)
        .collect();
    v.push(Fault {
        code: 9003,
        string: Fault::standard_string(9003).into(),
        set_parameter_values_faults: vec![
            SetParameterValuesFault::new(
                "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Channel",
                9007,
            ),
            SetParameterValuesFault::new("InternetGatewayDevice.DeviceInfo.UpTime", 9008),
            SetParameterValuesFault::new("InternetGatewayDevice.Nope", 9005),
            SetParameterValuesFault::new(
                "InternetGatewayDevice.ManagementServer.PeriodicInformEnable",
                9006,
            ),
        ],
    });
    v
}

/// Every ACS -> CPE request kind the schema of `version` has.
pub fn acs_requests(version: CwmpVersion) -> Vec<AcsRequest> {
    let mut v = vec![
        AcsRequest::GetRPCMethods,
        AcsRequest::GetParameterNames(GetParameterNames { parameter_path: String::new(), next_level: true }),
        AcsRequest::GetParameterNames(GetParameterNames {
            parameter_path: "InternetGatewayDevice.DeviceInfo.".into(),
            next_level: false,
        }),
        AcsRequest::GetParameterValues(GetParameterValues { parameter_names: gpv_names(32) }),
        sample_set_parameter_values(),
        AcsRequest::GetParameterAttributes(GetParameterAttributes {
            parameter_names: vec!["InternetGatewayDevice.DeviceInfo.".into()],
        }),
        sample_set_parameter_attributes(),
        AcsRequest::AddObject(AddObject {
            object_name: "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMapping.".into(),
            parameter_key: String::new(),
        }),
        AcsRequest::DeleteObject(DeleteObject {
            object_name: "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.1.WANIPConnection.1.PortMapping.1.".into(),
            parameter_key: "pk-7".into(),
        }),
        AcsRequest::Reboot(Reboot { command_key: String::new() }),
        AcsRequest::FactoryReset,
        AcsRequest::Download(Download {
            command_key: "1a2137fc50b0000".into(),
            file_type: "1 Firmware Upgrade Image".into(),
            url: "http://127.0.0.1:37567/fw-V100R001IRQC56B018.bin".into(),
            file_size: 4042,
            ..Download::default()
        }),
        AcsRequest::Upload(Upload {
            command_key: "up-1".into(),
            file_type: "1 Vendor Configuration File".into(),
            url: "http://acs.example/upload?dev=1&kind=cfg".into(),
            username: "u".into(),
            password: "p".into(),
            delay_seconds: 5,
        }),
        AcsRequest::ScheduleInform(ScheduleInform { delay_seconds: 60, command_key: "si-1".into() }),
        AcsRequest::GetQueuedTransfers,
    ];
    if version >= CwmpVersion::V1_1 {
        v.push(AcsRequest::GetAllQueuedTransfers);
    }
    if version >= CwmpVersion::V1_2 {
        v.push(sample_schedule_download());
        v.push(AcsRequest::CancelTransfer(CancelTransfer {
            command_key: "sd-1".into(),
        }));
        v.push(sample_change_du_state());
    }
    v
}

/// A SetParameterValues with several value types and a string that needs escaping.
fn sample_set_parameter_values() -> AcsRequest {
    AcsRequest::SetParameterValues(SetParameterValues {
        parameter_list: vec![
            ParameterValueStruct::new(
                "InternetGatewayDevice.ManagementServer.PeriodicInformInterval",
                "300",
                XsdType::UnsignedInt,
            ),
            ParameterValueStruct::new(
                "InternetGatewayDevice.ManagementServer.PeriodicInformEnable",
                "true",
                XsdType::Boolean,
            ),
            ParameterValueStruct::new(
                "InternetGatewayDevice.ManagementServer.PeriodicInformTime",
                "1970-01-01T17:38:06.555Z",
                XsdType::DateTime,
            ),
            ParameterValueStruct::new(
                "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID",
                "lab <5GHz> & \"guests\"",
                XsdType::String,
            ),
            ParameterValueStruct::new(
                "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.Channel",
                "-1",
                XsdType::Int,
            ),
        ],
        parameter_key: String::new(),
    })
}

/// A SetParameterAttributes changing the notification alone, then both it and the access list.
fn sample_set_parameter_attributes() -> AcsRequest {
    AcsRequest::SetParameterAttributes(SetParameterAttributes {
        parameter_list: vec![
            SetParameterAttributesStruct {
                name: "InternetGatewayDevice.DeviceInfo.SoftwareVersion".into(),
                notification_change: true,
                notification: Some(2),
                access_list_change: false,
                access_list: vec![],
            },
            SetParameterAttributesStruct {
                name: "InternetGatewayDevice.LANDevice.1.WLANConfiguration.1.SSID".into(),
                notification_change: true,
                notification: Some(0),
                access_list_change: true,
                access_list: vec!["Subscriber".into()],
            },
        ],
    })
}

/// A ScheduleDownload with two time windows (cwmp-1-2 on).
fn sample_schedule_download() -> AcsRequest {
    AcsRequest::ScheduleDownload(ScheduleDownload {
        command_key: "sd-1".into(),
        file_type: "1 Firmware Upgrade Image".into(),
        url: "http://files.example/fw.bin".into(),
        username: String::new(),
        password: String::new(),
        file_size: 0,
        target_file_name: String::new(),
        time_window_list: vec![
            TimeWindowStruct {
                window_start: 0,
                window_end: 3600,
                window_mode: "1 At Any Time".into(),
                user_message: String::new(),
                max_retries: -1,
            },
            TimeWindowStruct {
                window_start: 7200,
                window_end: 10800,
                window_mode: "4 Confirmation Needed".into(),
                user_message: "Update now?".into(),
                max_retries: 3,
            },
        ],
    })
}

/// A ChangeDUState with one operation of each kind (cwmp-1-2 on).
fn sample_change_du_state() -> AcsRequest {
    AcsRequest::ChangeDUState(ChangeDUState {
        operations: vec![
            DuOperation::Install {
                url: "http://files.example/app.ipk".into(),
                uuid: "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b".into(),
                username: String::new(),
                password: String::new(),
                execution_env_ref: "Device.SoftwareModules.ExecEnv.1".into(),
            },
            DuOperation::Update {
                uuid: "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b".into(),
                version: "1.2.4".into(),
                url: String::new(),
                username: String::new(),
                password: String::new(),
            },
            DuOperation::Uninstall {
                uuid: "3f1e2d4c-5b6a-4798-8a9b-0c1d2e3f4a5b".into(),
                version: String::new(),
                execution_env_ref: String::new(),
            },
        ],
        command_key: "du-1".into(),
    })
}

/// Every ACS -> CPE response kind the schema of `version` has.
pub fn acs_responses(version: CwmpVersion) -> Vec<AcsResponse> {
    let mut v = vec![
        AcsResponse::InformResponse(InformResponse { max_envelopes: 1 }),
        AcsResponse::TransferCompleteResponse,
        AcsResponse::GetRPCMethodsResponse(GetRPCMethodsResponse {
            method_list: ["Inform", "GetRPCMethods", "TransferComplete"]
                .map(String::from)
                .to_vec(),
        }),
        AcsResponse::RequestDownloadResponse,
        AcsResponse::KickedResponse(KickedResponse {
            next_url: "http://lan/next".into(),
        }),
    ];
    if version >= CwmpVersion::V1_1 {
        v.push(AcsResponse::AutonomousTransferCompleteResponse);
    }
    if version >= CwmpVersion::V1_2 {
        v.push(AcsResponse::DUStateChangeCompleteResponse);
        v.push(AcsResponse::AutonomousDUStateChangeCompleteResponse);
    }
    v
}

/// ACS faults 8000-8006 (8006 from 1.1 on, by schema) and a vendor code.
pub fn acs_faults(version: CwmpVersion) -> Vec<Fault> {
    (8000..=8006)
        .chain([8850])
        .map(Fault::new)
        .filter(|f| f.min_version() <= version)
        .collect()
}

/// Every CPE -> ACS envelope kind for `version`, labelled, headers as a CPE of that version sends.
pub fn all_cpe(version: CwmpVersion) -> Vec<(String, Envelope<CpeMessage>)> {
    let mut out = Vec::new();
    let v = version.as_str();
    for code in events_for(version) {
        let key = if code.is_multiple() { "cmd-1" } else { "" };
        let env = inform(version, vec![EventStruct::new(code.clone(), key)], 7);
        out.push((
            format!("{v}-inform-{}", code.as_str().replace(' ', "_")),
            env,
        ));
    }
    let all_events = events_for(version)
        .into_iter()
        .map(|c| EventStruct::new(c, "k"))
        .collect();
    out.push((
        format!("{v}-inform-all-events-30-params"),
        inform(version, all_events, 30),
    ));
    out.push((
        format!("{v}-inform-empty-lists"),
        inform(version, vec![], 0),
    ));
    let plain = |body: CpeMessage, id: &str| Envelope {
        version,
        header: Header::with_id(id),
        body,
    };
    for (i, r) in cpe_requests(version).into_iter().enumerate() {
        out.push((
            format!("{v}-req{i}-{}", r.name()),
            plain(CpeMessage::Request(r), &format!("cpe-{i}")),
        ));
    }
    for (i, r) in cpe_responses(version).into_iter().enumerate() {
        out.push((
            format!("{v}-resp{i}-{}", r.name()),
            plain(CpeMessage::Response(r), "1a2137f31190000"),
        ));
    }
    for (i, f) in cpe_faults(version).into_iter().enumerate() {
        out.push((
            format!("{v}-fault{i}-{}", f.code),
            plain(CpeMessage::Fault(f), "1a2137f31190001"),
        ));
    }
    out
}

/// Every ACS -> CPE envelope kind for `version`, labelled, with GenieACS-style IDs; the
/// InformResponse of a 1.4 session carries UseCWMPVersion and one request carries HoldRequests.
pub fn all_acs(version: CwmpVersion) -> Vec<(String, Envelope<AcsMessage>)> {
    let mut out = Vec::new();
    let v = version.as_str();
    for (i, r) in acs_requests(version).into_iter().enumerate() {
        let mut header = Header::with_id(format!("1a2137f3119{i:04x}"));
        if i == 1 {
            header.hold_requests = Some(true);
        }
        out.push((
            format!("{v}-req{i}-{}", r.name()),
            Envelope {
                version,
                header,
                body: AcsMessage::Request(r),
            },
        ));
    }
    for (i, r) in acs_responses(version).into_iter().enumerate() {
        let mut header = Header::with_id("cpe-1");
        if version == CwmpVersion::V1_4 && matches!(r, AcsResponse::InformResponse(_)) {
            header.use_cwmp_version = Some("1.4".into());
        }
        out.push((
            format!("{v}-resp{i}-{}", r.name()),
            Envelope {
                version,
                header,
                body: AcsMessage::Response(r),
            },
        ));
    }
    for (i, f) in acs_faults(version).into_iter().enumerate() {
        let body = AcsMessage::Fault(f);
        out.push((
            format!("{v}-fault{i}-{}", body.name()),
            Envelope {
                version,
                header: Header::with_id("cpe-2"),
                body,
            },
        ));
    }
    out
}
