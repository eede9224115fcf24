//! What the store keeps per device and per session, and how values are put into a record.

use super::*;

/// One parameter value as learnt from an Inform or a GetParameterValuesResponse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamValue {
    pub value: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
}

/// The result of one ACS request (a policy task's RPC, discovery, provisioning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskResult {
    /// Policy task name, or "discovery" / "provisioning" / "firmware_wave".
    pub task: String,
    pub rpc: &'static str,
    pub at_ms: i64,
    /// "ok", "fault", "invalid_response" or "session_terminated".
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_code: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_string: Option<String>,
    /// Per-parameter SetParameterValues faults: (name, code).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parameter_faults: Vec<(String, u32)>,
    /// Short result detail (InstanceNumber, Status, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A TransferComplete the CPE reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferResult {
    pub command_key: String,
    pub fault_code: u32,
    pub fault_string: String,
    pub start_time: String,
    pub complete_time: String,
    pub at_ms: i64,
}

/// One deployment-unit operation the CPE reported (DUStateChangeComplete or, `autonomous`,
/// AutonomousDUStateChangeComplete).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuResult {
    /// The ChangeDUState's CommandKey; empty for an autonomous change.
    pub command_key: String,
    pub autonomous: bool,
    /// Install, Update or Uninstall (autonomous reports only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    pub uuid: String,
    pub version: String,
    /// The unit's state after the operation (Installed, Uninstalled, Failed).
    pub state: String,
    pub fault_code: u32,
    pub at_ms: i64,
}

/// Where the device stands in the firmware wave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirmwareState {
    pub command_key: String,
    pub sent_ms: i64,
    /// "pending", "ok" or "failed".
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault_code: Option<u32>,
}

/// Connection requests sent to one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrStats {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_result: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ms: Option<i64>,
}

/// Everything the ACS knows about one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeviceRecord {
    pub device_id: String,
    pub manufacturer: String,
    pub oui: String,
    pub product_class: String,
    pub serial_number: String,
    pub cwmp_version: String,
    /// "Device." or "InternetGatewayDevice." as seen in the Inform.
    pub root: String,
    pub first_inform_ms: i64,
    pub last_inform_ms: i64,
    pub informs: u64,
    /// Informs that carried `0 BOOTSTRAP` (once per device unless it was reset or re-homed).
    pub bootstraps: u32,
    pub last_events: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_request_url: Option<String>,
    pub sessions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_session_outcome: Option<&'static str>,
    pub parameters: BTreeMap<String, ParamValue>,
    pub parameters_dropped: u64,
    /// Bytes of the names and values in `parameters` (bounded by `max_bytes_per_device`).
    #[serde(skip)]
    pub parameter_bytes: usize,
    pub tasks: Vec<TaskResult>,
    /// Policy tasks that ran on this device (once-only tasks are not planned again).
    pub tasks_done: BTreeSet<String>,
    pub transfers: Vec<TransferResult>,
    /// Deployment-unit operations reported, the latest (bounded like `transfers`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub du_changes: Vec<DuResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub firmware: Option<FirmwareState>,
    /// The ConnectionRequestUsername the ACS set (or learnt).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cr_username: Option<String>,
    /// The password that goes with it: used for connection requests, never served.
    #[serde(skip)]
    pub cr_password: Option<String>,
    pub connection_requests: CrStats,
    /// A session of this device is open (from its Inform to the session's end): the ACS sends
    /// it no connection request then, since what the ACS wants done can be done in that
    /// session, and the credentials it is setting are not the CPE's yet (TR-069 §3.2.2).
    #[serde(skip)]
    pub in_session: bool,
}

impl DeviceRecord {
    /// The learnt xsi type of a parameter, if any.
    pub fn kind_of(&self, name: &str) -> Option<XsdType> {
        self.parameters
            .get(name)
            .and_then(|p| p.kind)
            .map(XsdType::from_xsi)
    }
}

/// What an Inform tells the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InformRecord {
    pub device_id: String,
    pub manufacturer: String,
    pub oui: String,
    pub product_class: String,
    pub serial_number: String,
    pub cwmp_version: &'static str,
    pub root: String,
    pub at_ms: i64,
    pub events: Vec<String>,
    pub connection_request_url: Option<String>,
    pub values: Vec<(String, String, Option<XsdType>)>,
}

impl InformRecord {
    /// What the store keeps of an Inform: the device's identity, its data-model root (the
    /// Inform's own, or the version's default), events, ConnectionRequestURL and values.
    /// `keep_values: false` drops the values (the `IgnoreValueChange` misbehaviour).
    pub fn of(inform: &Inform, version: CwmpVersion, at_ms: i64, keep_values: bool) -> Self {
        let root = match crate::acs::policy::root_of(&inform.parameter_list) {
            "" if version >= CwmpVersion::V1_2 => "Device.".to_string(),
            "" => "InternetGatewayDevice.".to_string(),
            r => r.to_string(),
        };
        let connection_request_url = inform
            .parameter_list
            .iter()
            .find(|p| p.name.ends_with("ManagementServer.ConnectionRequestURL"))
            .map(|p| p.value.clone())
            .filter(|u| !u.is_empty());
        let values = if keep_values {
            inform
                .parameter_list
                .iter()
                .map(|p| (p.name.clone(), p.value.clone(), p.kind))
                .collect()
        } else {
            Vec::new()
        };
        InformRecord {
            device_id: crate::acs::policy::device_id(&inform.device_id),
            manufacturer: inform.device_id.manufacturer.clone(),
            oui: inform.device_id.oui.clone(),
            product_class: inform.device_id.product_class.clone(),
            serial_number: inform.device_id.serial_number.clone(),
            cwmp_version: version.as_str(),
            root,
            at_ms,
            events: inform
                .events
                .iter()
                .map(|e| e.code.as_str().to_string())
                .collect(),
            connection_request_url,
            values,
        }
    }
}

/// What one session learnt, applied at its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionLog {
    pub values: Vec<(String, String, Option<XsdType>)>,
    pub tasks: Vec<TaskResult>,
    pub tasks_done: Vec<String>,
    pub transfers: Vec<TransferResult>,
    pub du_changes: Vec<DuResult>,
    /// The firmware-wave Download sent in this session: accepted (pending, or "ok" when the
    /// CPE applied it at once) or refused with a fault ("failed").
    pub firmware: Option<FirmwareState>,
    /// ConnectionRequestUsername/Password the CPE accepted in this session.
    pub cr_credentials: Option<(String, String)>,
    /// Names the CPE reported longer than [`MAX_NAME_LEN`]: not asked for, not stored.
    pub names_skipped: u64,
}

impl SessionLog {
    pub fn is_empty(&self) -> bool {
        *self == SessionLog::default()
    }
}

/// Keeps one value unless it breaks a bound; the reason ([`SKIPPED`]) when it does not.
pub(super) fn put_value(
    d: &mut DeviceRecord,
    limits: StoreLimits,
    name: String,
    value: String,
    kind: Option<XsdType>,
) -> Option<&'static str> {
    if !name_ok(&name) {
        return Some("name_too_long");
    }
    if value.len() > limits.max_value_len {
        return Some("value_too_long");
    }
    let kind = kind.map(XsdType::xsi);
    if let Some(slot) = d.parameters.get_mut(&name) {
        let bytes = d.parameter_bytes - slot.value.len() + value.len();
        if bytes > limits.max_bytes_per_device {
            return Some("device_full");
        }
        d.parameter_bytes = bytes;
        // A value without a type keeps the type learnt before.
        let kind = kind.or(slot.kind);
        *slot = ParamValue { value, kind };
    } else if d.parameters.len() >= limits.max_values_per_device {
        d.parameters_dropped += 1;
    } else {
        let bytes = d.parameter_bytes + name.len() + value.len();
        if bytes > limits.max_bytes_per_device {
            return Some("device_full");
        }
        d.parameter_bytes = bytes;
        d.parameters.insert(name, ParamValue { value, kind });
    }
    None
}

/// Counts of values skipped, by reason, in [`SKIPPED`] order.
#[derive(Default)]
pub(super) struct Skips(pub(super) [u64; 4]);

impl Skips {
    pub(super) fn note(&mut self, reason: Option<&'static str>) {
        if let Some(i) = reason.and_then(|r| SKIPPED.iter().position(|s| *s == r)) {
            self.0[i] += 1;
        }
    }
}
