//! The policy file's YAML shape: serde types and their defaults.

use super::*;

/// The YAML policy file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Salt of every share hash and of the generated connection-request passwords.
    #[serde(default)]
    pub seed: String,
    /// Discovery and provisioning of new devices.
    #[serde(default)]
    pub bootstrap: Option<BootstrapSpec>,
    /// RPCs queued per event code and/or per share of the fleet.
    #[serde(default)]
    pub tasks: Vec<TaskSpec>,
    /// Files generated on the ACS's file server (Download tasks refer to them by name).
    #[serde(default)]
    pub files: Vec<FileSpec>,
    #[serde(default)]
    pub firmware_wave: Option<WaveSpec>,
    #[serde(default)]
    pub connection_requests: Option<CrSpec>,
    /// New sessions beyond this many open ones get 503 + Retry-After.
    #[serde(default)]
    pub max_concurrent_sessions: Option<usize>,
    /// Deliberate ACS bugs (conformance tests of the conformance suite); see `misbehave.rs`.
    #[serde(default)]
    pub misbehave: Vec<crate::acs::misbehave::Misbehave>,
}

pub(super) fn yes() -> bool {
    true
}
pub(super) fn one_u8() -> u8 {
    1
}
pub(super) fn gpv_batch() -> usize {
    DEFAULT_GPV_BATCH
}
pub(super) fn bootstrap_events() -> Vec<String> {
    vec!["0 BOOTSTRAP".to_string()]
}
/// `share:` in percent, spelt as everywhere else (see [`PolicyShare`]).
pub(super) fn percent<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    PolicyShare::deserialize(d).map(PolicyShare::percent)
}
/// A duration in seconds: a bare number of seconds, or `30s`, `5m`, ... as in scenarios.
pub(super) fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Dur::deserialize(d).map(|d| d.0.as_secs_f64())
}
/// A rate per second: a bare number, or `100/s`, `6000/min`, ... as in scenarios.
pub(super) fn per_second<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Rate::deserialize(d).map(|r| r.0)
}
pub(super) fn hundred() -> f64 {
    100.0
}
pub(super) fn firmware_type() -> String {
    "1 Firmware Upgrade Image".to_string()
}
pub(super) fn config_upload_type() -> String {
    "1 Vendor Configuration File".to_string()
}
pub(super) fn two() -> f64 {
    2.0
}
pub(super) fn in_flight() -> usize {
    64
}
pub(super) fn retry_after() -> u32 {
    60
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootstrapSpec {
    /// Sessions with any of these events are bootstrapped.
    #[serde(default = "bootstrap_events")]
    pub events: Vec<String>,
    /// Walk the tree (GPN) and read every value (GPV), like GenieACS on a new device.
    #[serde(default = "yes")]
    pub discover: bool,
    /// Levels below the root walked with NextLevel=1; deeper objects are read whole with
    /// NextLevel=0.
    #[serde(default = "one_u8")]
    pub next_level_depth: u8,
    /// Names per GetParameterValues (GenieACS: 32).
    #[serde(default = "gpv_batch")]
    pub gpv_batch: usize,
    /// Set ConnectionRequestUsername (the device id) and ConnectionRequestPassword (generated
    /// per device) so the ACS can send connection requests.
    #[serde(default = "yes")]
    pub connection_request_credentials: bool,
    #[serde(default)]
    pub periodic_inform: Option<PeriodicSpec>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodicSpec {
    #[serde(default = "yes")]
    pub enable: bool,
    /// PeriodicInformInterval in seconds.
    pub interval: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSpec {
    /// Results are recorded under this name; once-only tasks remember it per device.
    pub name: String,
    /// Sessions with any of these event codes ("2 PERIODIC", "M Reboot", ...); empty: every
    /// session.
    #[serde(default)]
    pub events: Vec<String>,
    /// Share of the fleet (`25%` or "0.25", by device-id hash), held in percent.
    #[serde(default = "hundred", deserialize_with = "percent")]
    pub share: f64,
    /// Run again in every matching session instead of once per device.
    #[serde(default)]
    pub repeat: bool,
    /// Written `- Name: arguments` (or just `- Name` for RPCs without arguments).
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub rpcs: Vec<RpcSpec>,
}

/// One RPC of a task, spelled as the spec names it. Strings may use `{root}` ("Device." or
/// "InternetGatewayDevice."), `{device_id}`, `{oui}`, `{product_class}` and `{serial}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum RpcSpec {
    GetRPCMethods,
    GetParameterNames(GpnSpec),
    GetParameterValues(Vec<String>),
    SetParameterValues(BTreeMap<String, ValueSpec>),
    GetParameterAttributes(Vec<String>),
    SetParameterAttributes(Vec<SpaSpec>),
    /// The table path, ending in ".".
    AddObject(String),
    /// The instance path, ending in ".".
    DeleteObject(String),
    Reboot(RebootSpec),
    FactoryReset,
    Download(DownloadSpec),
    Upload(UploadSpec),
    ScheduleInform(ScheduleInformSpec),
    ScheduleDownload(ScheduleDownloadSpec),
    /// The operations, in order.
    ChangeDUState(Vec<DuOpSpec>),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpnSpec {
    pub path: String,
    #[serde(default)]
    pub next_level: bool,
}

/// A value to set: a plain scalar (its YAML type picks the xsi:type unless the device
/// reported one) or `{ value, type }` with an explicit TR-106 type name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ValueSpec {
    Typed(TypedValue),
    Plain(Scalar),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypedValue {
    pub value: Scalar,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Scalar {
    pub(super) fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Str(s) => s.clone(),
        }
    }

    pub(super) fn natural_kind(&self) -> XsdType {
        match self {
            Scalar::Bool(_) => XsdType::Boolean,
            Scalar::Int(i) if *i >= 0 => XsdType::UnsignedInt,
            Scalar::Int(_) => XsdType::Int,
            Scalar::Float(_) => XsdType::Decimal,
            Scalar::Str(_) => XsdType::String,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaSpec {
    pub name: String,
    /// New Notification (0-6); absent: unchanged.
    #[serde(default)]
    pub notification: Option<u8>,
    /// New AccessList; absent: unchanged.
    #[serde(default)]
    pub access_list: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebootSpec {
    #[serde(default)]
    pub command_key: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadSpec {
    /// A file of `files:` (or the firmware wave's), served by the ACS's file server.
    #[serde(default)]
    pub file: Option<String>,
    /// Or any URL (then `file_size` is sent as given).
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub file_size: Option<u32>,
    #[serde(default = "firmware_type")]
    pub file_type: String,
    #[serde(default)]
    pub target_file_name: String,
    #[serde(default)]
    pub delay_seconds: u32,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadSpec {
    #[serde(default = "config_upload_type")]
    pub file_type: String,
    /// Default: the ACS's file server, `/uploads/<device id>/<task name>`.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub delay_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInformSpec {
    pub delay_seconds: u32,
    #[serde(default)]
    pub command_key: String,
}

/// ScheduleDownload (TR-069 A.4.1.8): a served file or a URL, in one or two time windows.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleDownloadSpec {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default = "firmware_type")]
    pub file_type: String,
    #[serde(default)]
    pub target_file_name: String,
    pub windows: Vec<WindowSpec>,
}

/// One TimeWindowStruct, in seconds after the CPE accepts the request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub start: u32,
    pub end: u32,
    /// `1 At Any Time` (default), `2 Immediately`, `3 When Idle`, `4 Confirmation Needed`.
    #[serde(default = "any_time")]
    pub mode: String,
    #[serde(default)]
    pub user_message: String,
    /// -1 (default): the CPE decides.
    #[serde(default = "minus_one")]
    pub max_retries: i32,
}

fn any_time() -> String {
    "1 At Any Time".into()
}

fn minus_one() -> i32 {
    -1
}

/// One ChangeDUState operation (TR-069 A.4.1.10): exactly one of install, update, uninstall.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DuOpSpec {
    Install(DuFileSpec),
    Update(DuFileSpec),
    Uninstall(DuFileSpec),
}

/// A DU operation's arguments: the unit's file (served, or a URL), UUID, version and
/// execution environment, each optional where TR-069 allows it empty.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuFileSpec {
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub uuid: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub execution_env_ref: String,
}

/// A byte size: a number or a string with a unit ("4MiB", "512KiB", "1MB").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Bytes(u64),
    Text(String),
}

impl Size {
    pub fn bytes(&self) -> Result<u64, PolicyError> {
        match self {
            Size::Bytes(n) => Ok(*n),
            Size::Text(s) => parse_size(s).ok_or_else(|| {
                PolicyError::Invalid(format!(
                    "size {s:?}: expected e.g. 4096, \"512KiB\", \"4MiB\""
                ))
            }),
        }
    }
}

pub(super) fn parse_size(s: &str) -> Option<u64> {
    crate::units::parse_size(s).ok()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Served at `/<name>`.
    pub name: String,
    /// Generated content of this size.
    pub size: Size,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaveSpec {
    /// The image's name on the file server.
    pub file: String,
    /// Size of the generated image.
    pub size: Size,
    #[serde(default = "firmware_type")]
    pub file_type: String,
    /// Share of the fleet upgraded (`25%`, by device-id hash), held in percent.
    #[serde(default = "hundred", deserialize_with = "percent")]
    pub share: f64,
    /// Downloads started per second, fleet-wide.
    #[serde(deserialize_with = "per_second")]
    pub rate: f64,
    /// Seconds after the ACS starts before the first Download.
    #[serde(default, deserialize_with = "seconds")]
    pub start_after: f64,
    /// Only in sessions with any of these events; empty: any session.
    #[serde(default)]
    pub events: Vec<String>,
    /// Devices whose Inform shows this SoftwareVersion are already upgraded.
    #[serde(default)]
    pub skip_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrSpec {
    /// Connection requests sent per second, fleet-wide.
    #[serde(deserialize_with = "per_second")]
    pub rate: f64,
    /// Share of known devices (`25%`, by device-id hash), held in percent.
    #[serde(default = "hundred", deserialize_with = "percent")]
    pub share: f64,
    /// Seconds after the ACS starts before the first one.
    #[serde(default, deserialize_with = "seconds")]
    pub start_after: f64,
    /// Seconds between two requests to the same device; 0: once per device.
    #[serde(default, deserialize_with = "seconds")]
    pub interval: f64,
    /// Seconds per request (GenieACS: 2).
    #[serde(default = "two", deserialize_with = "seconds")]
    pub timeout: f64,
    /// Credentials for devices whose ConnectionRequestUsername/Password the ACS did not set.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// Requests in flight at most.
    #[serde(default = "in_flight")]
    pub max_in_flight: usize,
    /// auto (UDP when the device reported a UDPConnectionRequestAddress, else HTTP), http, udp.
    #[serde(default)]
    pub transport: crate::acs::udp_cr::CrTransportChoice,
}
