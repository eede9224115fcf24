//! Arguments of every CWMP RPC, named after the spec (snake_case of the XSD element names).
//! Empty-argument RPCs (FactoryReset, GetRPCMethods, ...) are bare enum variants in `message`.

use super::error::DecodeError;
use super::time::DateTime;
use super::value::XsdType;

/// `ParameterValueStruct`. `kind` is the `xsi:type` of `Value`; None when the sender gave none.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParameterValueStruct {
    pub name: String,
    pub value: String,
    pub kind: Option<XsdType>,
}

impl ParameterValueStruct {
    pub fn new(name: impl Into<String>, value: impl Into<String>, kind: XsdType) -> Self {
        ParameterValueStruct {
            name: name.into(),
            value: value.into(),
            kind: Some(kind),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParameterInfoStruct {
    pub name: String,
    pub writable: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParameterAttributeStruct {
    pub name: String,
    pub notification: u8,
    pub access_list: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetParameterAttributesStruct {
    pub name: String,
    pub notification_change: bool,
    /// None when NotificationChange is false and the sender left `<Notification>` empty.
    pub notification: Option<u8>,
    pub access_list_change: bool,
    pub access_list: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceIdStruct {
    pub manufacturer: String,
    pub oui: String,
    pub product_class: String,
    pub serial_number: String,
}

/// Inform event codes. Vendor and future codes are kept verbatim in `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventCode {
    Bootstrap,
    Boot,
    Periodic,
    Scheduled,
    ValueChange,
    Kicked,
    ConnectionRequest,
    TransferComplete,
    DiagnosticsComplete,
    RequestDownload,
    AutonomousTransferComplete,
    DuStateChangeComplete,
    AutonomousDuStateChangeComplete,
    Wakeup,
    Heartbeat,
    MReboot,
    MScheduleInform,
    MDownload,
    MScheduleDownload,
    MUpload,
    MChangeDuState,
    Other(String),
}

impl EventCode {
    /// Every named code (without `Other`), in spec order.
    pub const STANDARD: [EventCode; 21] = [
        EventCode::Bootstrap,
        EventCode::Boot,
        EventCode::Periodic,
        EventCode::Scheduled,
        EventCode::ValueChange,
        EventCode::Kicked,
        EventCode::ConnectionRequest,
        EventCode::TransferComplete,
        EventCode::DiagnosticsComplete,
        EventCode::RequestDownload,
        EventCode::AutonomousTransferComplete,
        EventCode::DuStateChangeComplete,
        EventCode::AutonomousDuStateChangeComplete,
        EventCode::Wakeup,
        EventCode::Heartbeat,
        EventCode::MReboot,
        EventCode::MScheduleInform,
        EventCode::MDownload,
        EventCode::MScheduleDownload,
        EventCode::MUpload,
        EventCode::MChangeDuState,
    ];

    pub fn as_str(&self) -> &str {
        match self {
            Self::Bootstrap => "0 BOOTSTRAP",
            Self::Boot => "1 BOOT",
            Self::Periodic => "2 PERIODIC",
            Self::Scheduled => "3 SCHEDULED",
            Self::ValueChange => "4 VALUE CHANGE",
            Self::Kicked => "5 KICKED",
            Self::ConnectionRequest => "6 CONNECTION REQUEST",
            Self::TransferComplete => "7 TRANSFER COMPLETE",
            Self::DiagnosticsComplete => "8 DIAGNOSTICS COMPLETE",
            Self::RequestDownload => "9 REQUEST DOWNLOAD",
            Self::AutonomousTransferComplete => "10 AUTONOMOUS TRANSFER COMPLETE",
            Self::DuStateChangeComplete => "11 DU STATE CHANGE COMPLETE",
            Self::AutonomousDuStateChangeComplete => "12 AUTONOMOUS DU STATE CHANGE COMPLETE",
            Self::Wakeup => "13 WAKEUP",
            Self::Heartbeat => "14 HEARTBEAT",
            Self::MReboot => "M Reboot",
            Self::MScheduleInform => "M ScheduleInform",
            Self::MDownload => "M Download",
            Self::MScheduleDownload => "M ScheduleDownload",
            Self::MUpload => "M Upload",
            Self::MChangeDuState => "M ChangeDUState",
            Self::Other(s) => s,
        }
    }

    /// Exact match on the spec spelling (surrounding whitespace ignored); anything else is `Other`.
    pub fn parse(s: &str) -> EventCode {
        let s = s.trim();
        Self::STANDARD
            .iter()
            .find(|c| c.as_str() == s)
            .cloned()
            .unwrap_or_else(|| Self::Other(s.to_owned()))
    }

    /// "M ..." codes: one EventStruct per occurrence, each with its CommandKey.
    pub fn is_multiple(&self) -> bool {
        self.as_str().starts_with("M ")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventStruct {
    pub code: EventCode,
    pub command_key: String,
}

impl EventStruct {
    pub fn new(code: EventCode, command_key: impl Into<String>) -> Self {
        EventStruct {
            code,
            command_key: command_key.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inform {
    pub device_id: DeviceIdStruct,
    pub events: Vec<EventStruct>,
    pub max_envelopes: u32,
    pub current_time: DateTime,
    pub retry_count: u32,
    pub parameter_list: Vec<ParameterValueStruct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InformResponse {
    pub max_envelopes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetParameterNames {
    pub parameter_path: String,
    pub next_level: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetParameterNamesResponse {
    pub parameter_list: Vec<ParameterInfoStruct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetParameterValues {
    pub parameter_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetParameterValuesResponse {
    pub parameter_list: Vec<ParameterValueStruct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetParameterValues {
    pub parameter_list: Vec<ParameterValueStruct>,
    pub parameter_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetParameterValuesResponse {
    pub status: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetParameterAttributes {
    pub parameter_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetParameterAttributesResponse {
    pub parameter_list: Vec<ParameterAttributeStruct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SetParameterAttributes {
    pub parameter_list: Vec<SetParameterAttributesStruct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddObject {
    pub object_name: String,
    pub parameter_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddObjectResponse {
    pub instance_number: u32,
    pub status: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeleteObject {
    pub object_name: String,
    pub parameter_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeleteObjectResponse {
    pub status: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reboot {
    pub command_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Download {
    pub command_key: String,
    pub file_type: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub file_size: u32,
    pub target_file_name: String,
    pub delay_seconds: u32,
    pub success_url: String,
    pub failure_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DownloadResponse {
    pub status: u32,
    pub start_time: DateTime,
    pub complete_time: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Upload {
    pub command_key: String,
    pub file_type: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub delay_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UploadResponse {
    pub status: u32,
    pub start_time: DateTime,
    pub complete_time: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleInform {
    pub delay_seconds: u32,
    pub command_key: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TimeWindowStruct {
    pub window_start: u32,
    pub window_end: u32,
    pub window_mode: String,
    pub user_message: String,
    pub max_retries: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleDownload {
    pub command_key: String,
    pub file_type: String,
    pub url: String,
    pub username: String,
    pub password: String,
    pub file_size: u32,
    pub target_file_name: String,
    pub time_window_list: Vec<TimeWindowStruct>,
}

impl ScheduleDownload {
    /// The download each attempt makes (TR-069 A.4.1.8: the arguments a Download has, at a
    /// time within one of the windows; no delay, no success or failure URL).
    pub fn download(&self) -> Download {
        Download {
            command_key: self.command_key.clone(),
            file_type: self.file_type.clone(),
            url: self.url.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            file_size: self.file_size,
            target_file_name: self.target_file_name.clone(),
            ..Download::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CancelTransfer {
    pub command_key: String,
}

/// `state`: 1 not yet started, 2 in progress, 3 completed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueuedTransferStruct {
    pub command_key: String,
    pub state: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetQueuedTransfersResponse {
    pub transfer_list: Vec<QueuedTransferStruct>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllQueuedTransferStruct {
    pub command_key: String,
    pub state: u32,
    pub is_download: bool,
    pub file_type: String,
    pub file_size: u32,
    pub target_file_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetAllQueuedTransfersResponse {
    pub transfer_list: Vec<AllQueuedTransferStruct>,
}

/// One `Operations` element of ChangeDUState; the variant is its `xsi:type`
/// (`cwmp:InstallOpStruct`, `cwmp:UpdateOpStruct`, `cwmp:UninstallOpStruct`). Optional schema
/// elements are empty strings when absent and are not emitted when empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DuOperation {
    Install {
        url: String,
        uuid: String,
        username: String,
        password: String,
        execution_env_ref: String,
    },
    Update {
        uuid: String,
        version: String,
        url: String,
        username: String,
        password: String,
    },
    Uninstall {
        uuid: String,
        version: String,
        execution_env_ref: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChangeDUState {
    pub operations: Vec<DuOperation>,
    pub command_key: String,
}

/// `FaultStruct` of TransferComplete and friends: 0 / "" on success.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransferCompleteFaultStruct {
    pub fault_code: u32,
    pub fault_string: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TransferComplete {
    pub command_key: String,
    pub fault: TransferCompleteFaultStruct,
    pub start_time: DateTime,
    pub complete_time: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AutonomousTransferComplete {
    pub announce_url: String,
    pub transfer_url: String,
    pub is_download: bool,
    pub file_type: String,
    pub file_size: u32,
    pub target_file_name: String,
    pub fault: TransferCompleteFaultStruct,
    pub start_time: DateTime,
    pub complete_time: DateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GetRPCMethodsResponse {
    pub method_list: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArgStruct {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestDownload {
    pub file_type: String,
    pub file_type_arg: Vec<ArgStruct>,
}

/// `OpResultStruct`; with `operation_performed` set it is the `AutonOpResultStruct` of
/// AutonomousDUStateChangeComplete ("Install" / "Update" / "Uninstall").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpResultStruct {
    pub uuid: String,
    pub deployment_unit_ref: String,
    pub version: String,
    pub current_state: String,
    pub resolved: bool,
    pub execution_unit_ref_list: String,
    pub start_time: DateTime,
    pub complete_time: DateTime,
    pub fault: TransferCompleteFaultStruct,
    pub operation_performed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DUStateChangeComplete {
    pub results: Vec<OpResultStruct>,
    pub command_key: String,
}

/// Each result carries `operation_performed`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AutonomousDUStateChangeComplete {
    pub results: Vec<OpResultStruct>,
}

/// A known ACS request whose envelope parsed but whose arguments did not (a required element
/// missing, a number or boolean that is none, an array past the codec's bound). A CPE answers
/// every RPC it can parse the envelope of with a fault, never by dropping the session (TR-069
/// §3.7.1.5, A.5): [`InvalidRequest::fault_code`] is that fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRequest {
    /// The RPC's spec name (one of [`crate::cwmp::AcsRequest::NAMES`]).
    pub method: &'static str,
    /// What was wrong, with the element path.
    pub error: DecodeError,
}

impl InvalidRequest {
    /// 9004 (resources exceeded) for an argument past a bound, else 9003 (invalid arguments).
    pub fn fault_code(&self) -> u32 {
        match self.error {
            DecodeError::Limit { .. } => 9004,
            _ => 9003,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Kicked {
    pub command: String,
    pub referer: String,
    pub arg: String,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KickedResponse {
    pub next_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_round_trip() {
        for c in EventCode::STANDARD {
            assert_eq!(EventCode::parse(c.as_str()), c);
        }
        assert_eq!(EventCode::parse(" 1 BOOT "), EventCode::Boot);
        assert_eq!(
            EventCode::parse("X 00D09E Foo"),
            EventCode::Other("X 00D09E Foo".to_owned())
        );
        assert_eq!(
            EventCode::parse("1 boot"),
            EventCode::Other("1 boot".to_owned())
        );
        assert!(EventCode::MReboot.is_multiple());
        assert!(!EventCode::Boot.is_multiple());
        assert!(EventCode::Other("M X_VENDOR".into()).is_multiple());
    }
}
