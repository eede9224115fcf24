//! A conformance case: one scripted device and the steps it plays against the ACS, with
//! expectations on what the ACS does. YAML; errors carry `file:line:column` (durations, RPC
//! names and conditions are parsed inside serde, so serde_yaml locates them).
//!
//! ```yaml
//! name: periodic-interval
//! section: "3.2.1, A.3.2.1"
//! device: { template: ../../data-models/tr181-gateway.yaml, cwmp_version: "1.4" }
//! steps:
//!   - inform: { events: ["0 BOOTSTRAP", "1 BOOT"] }
//!   - expect:
//!       rpc: SetParameterValues
//!       params: { Device.ManagementServer.PeriodicInformInterval: { le: 3600 } }
//!       capture: { interval: Device.ManagementServer.PeriodicInformInterval }
//! ```
//!
//! Variables in strings: `{serial}`, `{device_id}` (GenieACS's, percent-encoded), `{acs}` (the
//! ACS URL), `{nbi}` (the northbound API base, the ACS URL by default), `{captured.NAME}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

use crate::cr::CrTransport;
use crate::cwmp::CwmpVersion;
use crate::units::Dur;

pub use super::cond::{Cond, Ops, Scalar};

/// Why a case or suite could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Yaml {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl CaseError {
    pub fn label(&self) -> &'static str {
        match self {
            CaseError::Io { .. } => "case_io",
            CaseError::Yaml { .. } => "case_yaml",
            CaseError::Invalid { .. } => "case_invalid",
        }
    }
}

/// One loaded case.
#[derive(Debug, Clone)]
pub struct Case {
    pub path: PathBuf,
    pub spec: CaseSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseSpec {
    pub name: String,
    /// The TR-069 section(s) the case checks.
    pub section: String,
    #[serde(default)]
    pub title: String,
    pub device: DeviceSpec,
    /// What the ACS must offer for the case to apply (beyond TR-069 itself); a case whose
    /// needs the ACS lacks is skipped with the reason, never failed.
    #[serde(default)]
    pub requires: Vec<Capability>,
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub steps: Vec<Step>,
}

/// An ACS capability a case may need. TR-069 itself says nothing of how an operator triggers
/// an ACS action, so anything reached through a northbound API is a capability of the ACS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// An NBI that queues a task for a device and sends a connection request
    /// (`POST {nbi}devices/<id>/tasks?connection_request`, GenieACS's dialect).
    Nbi,
    /// Reading back what the ACS recorded of a device (its last reported values).
    DeviceRecord,
    /// Putting a file the ACS can then offer in a Download (`put_file`).
    Files,
    /// The NBI's optional `scheduleInform` task.
    TaskScheduleInform,
    /// Making the ACS answer a new session with 503 on demand (a known session cap).
    #[serde(rename = "force_503")]
    Force503,
    /// The ACS is configured to authenticate CPEs.
    CpeAuth,
    /// The ACS sends XMPP connection requests (TR-069 Annex K) through a server the runner's
    /// device can join as a component: the case's device is reached that way.
    Xmpp,
    /// The NBI's ScheduleDownload and CancelTransfer (cpefleet's `scheduleDownload` and
    /// `cancelTransfer` tasks); TR-069 makes both optional for the ACS (A.4.1.8, A.4.1.9).
    TaskScheduleDownload,
    /// Software modules: the NBI's ChangeDUState (cpefleet's `changeDUState` task) and an ACS
    /// that answers DUStateChangeComplete and AutonomousDUStateChangeComplete.
    SoftwareModules,
}

impl Capability {
    pub fn label(self) -> &'static str {
        match self {
            Capability::Nbi => "nbi",
            Capability::DeviceRecord => "device_record",
            Capability::Files => "files",
            Capability::TaskScheduleInform => "task_schedule_inform",
            Capability::Force503 => "force_503",
            Capability::CpeAuth => "cpe_auth",
            Capability::Xmpp => "xmpp",
            Capability::TaskScheduleDownload => "task_schedule_download",
            Capability::SoftwareModules => "software_modules",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceSpec {
    /// Relative to the case file.
    pub template: PathBuf,
    #[serde(default, deserialize_with = "version")]
    pub cwmp_version: Option<CwmpVersion>,
    /// Device index (serial number); default: derived from the case name.
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

/// One step.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// A session with these events (default: what is pending, else `2 PERIODIC`).
    Inform(InformStep),
    /// The ACS must have sent (or must not send) a message.
    Expect(ExpectStep),
    /// How the device answers the next matching ACS request(s).
    Answer(AnswerStep),
    /// A local value change (reported per its notification attribute).
    SetLocal(SetLocalStep),
    /// An HTTP call to an ACS API (e.g. GenieACS's NBI task with `?connection_request`).
    Http(HttpStep),
    /// A connection request must arrive within the time (over `transport`, HTTP by default);
    /// its session follows.
    ExpectConnectionRequest(WaitStep),
    /// The device goes behind a NAT and learns its public UDP address from STUN (TR-069
    /// Annex G): its UDP connection-request socket is that address, reported as
    /// UDPConnectionRequestAddress with STUNEnable and NATDetected true (local changes,
    /// notified per their attributes); from now on HTTP connection requests cannot reach it.
    StunBinding,
    /// The ACS's record of the device must show this value (read through its NBI dialect).
    ExpectAcsValue(AcsValueStep),
    /// Puts a file on the ACS's file server (GenieACS: `PUT {nbi}files/NAME`), removed at the end.
    PutFile(PutFileStep),
    /// The device changes a deployment unit on its own (TR-157: installs the unit at `url`
    /// where absent, updates it where another version is, uninstalls it where this one is),
    /// reported per its DUStateChangeComplPolicy in the next session.
    DuChange(DuChangeStep),
    /// The device reboots by itself (a `1 BOOT` session).
    Reboot,
    /// The device is reset locally (a `0 BOOTSTRAP` session).
    FactoryReset,
    /// The device sends this request in its next session (`GetRPCMethods`).
    CpeRequest(String),
    /// The last session must have been challenged with this HTTP auth scheme.
    ExpectAuth(String),
    /// Opens this many sessions of other devices and leaves them open (the ACS's session cap).
    Overload(OverloadStep),
    /// Ends the sessions `overload` opened.
    Release,
    Sleep(Dur),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InformStep {
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "version")]
    pub cwmp_version: Option<CwmpVersion>,
    /// "ok" (default) or the session error label expected (e.g. `http_503`).
    #[serde(default)]
    pub outcome: Option<String>,
    /// With `http_503`: whether a Retry-After must come with it.
    #[serde(default)]
    pub retry_after: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectStep {
    /// The ACS RPC (or the ACS's response to a CPE request, e.g. `GetRPCMethodsResponse`).
    pub rpc: RpcName,
    /// Conditions on parameters (SetParameterValues values, GetParameterValues names, ...).
    #[serde(default)]
    pub params: BTreeMap<String, Cond>,
    /// Conditions on fields (FileType, CommandKey, ObjectName, DelaySeconds, ParameterKey,
    /// InstanceNumber from the device's answer, ...).
    #[serde(default)]
    pub fields: BTreeMap<String, Cond>,
    /// Variables to capture from the matching message: NAME: field or parameter.
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
    /// Sessions the ACS has (counting those already run since the last expectation).
    #[serde(default = "one")]
    pub within_sessions: u32,
    /// The ACS must NOT send it within the sessions.
    #[serde(default)]
    pub absent: bool,
    /// At most this many matching messages.
    #[serde(default)]
    pub max_count: Option<u32>,
    /// At least this many (default 1; 0 with `max_count` checks only that it is not repeated,
    /// for an ACS that may legitimately never send it).
    #[serde(default = "one")]
    pub min_count: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerStep {
    pub rpc: RpcName,
    /// Answer with this CWMP fault code.
    #[serde(default)]
    pub fault: Option<u32>,
    /// SetParameterValues: with fault 9003, this code for every parameter.
    #[serde(default)]
    pub parameter_fault: Option<u32>,
    /// Answer late.
    #[serde(default)]
    pub delay: Option<Dur>,
    /// Never answer (the device drops the session).
    #[serde(default)]
    pub drop: bool,
    /// How many matching requests this applies to.
    #[serde(default = "one")]
    pub times: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetLocalStep {
    pub path: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    #[serde(default = "post")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub body: Option<String>,
    /// Accepted statuses (default: any 2xx).
    #[serde(default)]
    pub expect_status: Vec<u16>,
    #[serde(default)]
    pub body_contains: Option<String>,
}

fn post() -> String {
    "POST".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcsValueStep {
    pub path: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutFileStep {
    pub name: String,
    /// TR-069 §A.3.2.8 FileType, e.g. "1 Firmware Upgrade Image".
    pub file_type: String,
    /// Bytes of the file's content (zeros).
    #[serde(default = "default_file_size")]
    pub size: u32,
}

fn default_file_size() -> u32 {
    16 * 1024
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DuChangeStep {
    /// The unit's file (`{file_base}`: the ACS's file server, where the ACS says it is).
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    pub within: Dur,
    /// `http` (default) or `udp` (needs a `stun_binding` step first).
    #[serde(default, deserialize_with = "transport")]
    pub transport: Option<CrTransport>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverloadStep {
    /// Default: the ACS's known session cap.
    #[serde(default)]
    pub sessions: Option<u32>,
}

fn transport<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CrTransport>, D::Error> {
    let s = String::deserialize(d)?;
    CrTransport::parse(&s)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom(format!("transport {s:?}: use http or udp")))
}

fn version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CwmpVersion>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| {
        CwmpVersion::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not a CWMP version")))
    })
    .transpose()
}

/// The ACS's answers to CPE requests an expectation may name, besides the ACS requests
/// (`AcsRequest::NAMES`).
pub const RESPONSE_NAMES: &[&str] = &[
    "GetRPCMethodsResponse",
    "TransferCompleteResponse",
    "DUStateChangeCompleteResponse",
    "AutonomousDUStateChangeCompleteResponse",
];

/// A validated RPC name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcName(pub &'static str);

impl<'de> Deserialize<'de> for RpcName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::cwmp::AcsRequest::NAMES
            .iter()
            .chain(RESPONSE_NAMES)
            .find(|n| **n == s)
            .map(|n| RpcName(n))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown RPC {s:?}")))
    }
}

/// Suite settings (`suite.yaml` beside the cases): the embedded ACS's policy and the ACS
/// credentials the devices use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteSpec {
    /// Embedded ACS policy, relative to suite.yaml.
    #[serde(default)]
    pub policy: Option<PathBuf>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
}

fn yaml_err(path: &Path, e: &serde_yaml::Error) -> CaseError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    CaseError::Yaml {
        path: path.display().to_string(),
        line,
        column,
        message: e.to_string(),
    }
}

fn read(path: &Path) -> Result<String, CaseError> {
    std::fs::read_to_string(path).map_err(|source| CaseError::Io {
        path: path.display().to_string(),
        source,
    })
}

impl Case {
    pub fn parse(src: &str, path: &Path) -> Result<Case, CaseError> {
        let spec: CaseSpec = serde_yaml::from_str(src).map_err(|e| yaml_err(path, &e))?;
        let invalid = |message: String| CaseError::Invalid {
            path: path.display().to_string(),
            message,
        };
        if spec.name.trim().is_empty() || spec.section.trim().is_empty() {
            return Err(invalid(
                "a case needs a name and the TR-069 section it checks".into(),
            ));
        }
        if spec.steps.is_empty() {
            return Err(invalid("a case needs steps".into()));
        }
        for (i, s) in spec.steps.iter().enumerate() {
            match s {
                Step::CpeRequest(r) if r != "GetRPCMethods" => {
                    return Err(invalid(format!(
                        "step {}: cpe_request {r:?}: only GetRPCMethods",
                        i + 1
                    )))
                }
                Step::Answer(a) if a.fault.is_none() && a.delay.is_none() && !a.drop => {
                    return Err(invalid(format!(
                        "step {}: answer needs fault, delay or drop",
                        i + 1
                    )))
                }
                _ => {}
            }
        }
        Ok(Case {
            path: path.to_path_buf(),
            spec,
        })
    }

    pub fn load(path: &Path) -> Result<Case, CaseError> {
        Case::parse(&read(path)?, path)
    }

    /// The template path, resolved against the case file.
    pub fn template_path(&self) -> PathBuf {
        let base = self.path.parent().unwrap_or(Path::new("."));
        base.join(&self.spec.device.template)
    }
}

/// A suite: a case file, or a directory of them (`*.yaml` except `suite.yaml`, by name), with
/// the directory's `suite.yaml` if there is one.
pub fn load_suite(path: &Path) -> Result<(Vec<Case>, SuiteSpec, PathBuf), CaseError> {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    };
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| CaseError::Io {
                path: path.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|e| e == "yaml")
                    && p.file_name().is_some_and(|n| n != "suite.yaml")
            })
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let cases = files
        .iter()
        .map(|p| Case::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let suite_file = dir.join("suite.yaml");
    let suite = if suite_file.is_file() {
        serde_yaml::from_str(&read(&suite_file)?).map_err(|e| yaml_err(&suite_file, &e))?
    } else {
        SuiteSpec::default()
    };
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        if !names.insert(c.spec.name.clone()) {
            return Err(CaseError::Invalid {
                path: c.path.display().to_string(),
                message: format!("case name {:?} is used twice", c.spec.name),
            });
        }
    }
    Ok((cases, suite, dir))
}

#[cfg(test)]
mod tests;
