//! Sample ACS -> CPE requests: one of every kind, the larger ones built by name.

use super::gpv_names;
use crate::cwmp::message::AcsRequest;
use crate::cwmp::rpc::*;
use crate::cwmp::value::XsdType;
use crate::cwmp::version::CwmpVersion;

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
