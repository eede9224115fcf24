//! Sample envelopes of every message kind, in both directions, with realistic contents. Shared by
//! the codec's unit tests, the schema check (tests/codec_schema.rs) and the benchmarks; also handy
//! for other layers' tests. Every sample is valid for the schema of its version.

use super::envelope::{Envelope, Header};
use super::fault::{Fault, SetParameterValuesFault};
use super::message::{AcsMessage, AcsResponse, CpeMessage, CpeRequest, CpeResponse};
use super::rpc::*;
use super::time::DateTime;
use super::value::XsdType;
use super::version::CwmpVersion;

mod acs_requests;
mod cpe_responses;

pub use acs_requests::acs_requests;
pub use cpe_responses::cpe_responses;

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
