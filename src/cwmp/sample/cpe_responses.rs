//! Sample CPE -> ACS responses: one of every kind, the larger ones built by name.

use super::t;
use crate::cwmp::message::CpeResponse;
use crate::cwmp::rpc::*;
use crate::cwmp::time::DateTime;
use crate::cwmp::value::XsdType;
use crate::cwmp::version::CwmpVersion;

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
