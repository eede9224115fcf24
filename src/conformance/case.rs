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

use crate::cwmp::CwmpVersion;
use crate::units::Dur;

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
    #[serde(with = "serde_yaml::with::singleton_map_recursive")]
    pub steps: Vec<Step>,
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
    /// A connection request must arrive within the time; its session follows.
    ExpectConnectionRequest(WaitStep),
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
pub struct WaitStep {
    pub within: Dur,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverloadStep {
    pub sessions: u32,
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
pub const RESPONSE_NAMES: &[&str] = &["GetRPCMethodsResponse", "TransferCompleteResponse"];

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

/// A condition on a value: a plain scalar means "equals".
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Cond {
    Ops(Ops),
    Eq(Scalar),
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Num(f64),
    Str(String),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Num(n) if n.fract() == 0.0 => format!("{}", *n as i64),
            Scalar::Num(n) => n.to_string(),
            Scalar::Str(s) => s.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ops {
    #[serde(default)]
    pub eq: Option<Scalar>,
    #[serde(default)]
    pub ne: Option<Scalar>,
    #[serde(default)]
    pub lt: Option<f64>,
    #[serde(default)]
    pub le: Option<f64>,
    #[serde(default)]
    pub gt: Option<f64>,
    #[serde(default)]
    pub ge: Option<f64>,
    #[serde(default)]
    pub present: Option<bool>,
    #[serde(default)]
    pub contains: Option<String>,
    #[serde(default)]
    pub ends_with: Option<String>,
    #[serde(default)]
    pub not_empty: Option<bool>,
}

impl Cond {
    /// A short human form ("<= 3600", "present").
    pub fn describe(&self) -> String {
        let o = match self {
            Cond::Eq(s) => return format!("= {:?}", s.text()),
            Cond::Ops(o) => o,
        };
        let mut v: Vec<String> = Vec::new();
        let mut num = |op: &str, b: Option<f64>| {
            if let Some(b) = b {
                v.push(format!("{op} {b}"));
            }
        };
        num("<", o.lt);
        num("<=", o.le);
        num(">", o.gt);
        num(">=", o.ge);
        if let Some(e) = &o.eq {
            v.push(format!("= {:?}", e.text()));
        }
        if let Some(e) = &o.ne {
            v.push(format!("!= {:?}", e.text()));
        }
        if let Some(p) = o.present {
            v.push(if p { "present" } else { "absent" }.into());
        }
        if let Some(c) = &o.contains {
            v.push(format!("contains {c:?}"));
        }
        if let Some(c) = &o.ends_with {
            v.push(format!("ends with {c:?}"));
        }
        if o.not_empty == Some(true) {
            v.push("not empty".into());
        }
        v.join(" and ")
    }

    /// Whether `value` (None: absent) satisfies the condition; `x` expands variables.
    pub fn holds(&self, value: Option<&str>, x: &dyn Fn(&str) -> String) -> bool {
        let o = match self {
            Cond::Eq(s) => return value.is_some_and(|v| same(v, &x(&s.text()))),
            Cond::Ops(o) => o,
        };
        if let Some(p) = o.present {
            if value.is_some() != p {
                return false;
            }
        }
        let Some(v) = value else {
            return o.present == Some(false);
        };
        let num = v.trim().parse::<f64>().ok();
        let cmp = |bound: Option<f64>, f: fn(f64, f64) -> bool| {
            bound.is_none_or(|b| num.is_some_and(|n| f(n, b)))
        };
        o.eq.as_ref().is_none_or(|e| same(v, &x(&e.text())))
            && o.ne.as_ref().is_none_or(|e| !same(v, &x(&e.text())))
            && cmp(o.lt, |n, b| n < b)
            && cmp(o.le, |n, b| n <= b)
            && cmp(o.gt, |n, b| n > b)
            && cmp(o.ge, |n, b| n >= b)
            && o.contains.as_ref().is_none_or(|c| v.contains(&x(c)))
            && o.ends_with.as_ref().is_none_or(|c| v.ends_with(&x(c)))
            && o.not_empty.is_none_or(|ne| ne != v.is_empty())
    }
}

/// Equal as text, or as numbers, or as booleans ("1" = "true").
fn same(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    if let (Ok(x), Ok(y)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        return x == y;
    }
    let bool_of = |s: &str| match s.trim() {
        "1" | "true" => Some(true),
        "0" | "false" => Some(false),
        _ => None,
    };
    matches!((bool_of(a), bool_of(b)), (Some(x), Some(y)) if x == y)
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
mod tests {
    use super::*;
    use std::time::Duration;

    const CASE: &str = r#"
name: t
section: "3.7"
device: { template: x.yaml, cwmp_version: "1.4" }
steps:
  - inform: { events: ["0 BOOTSTRAP"] }
  - expect:
      rpc: SetParameterValues
      params: { Device.X: { le: 3600 }, Device.Y: "v" }
      capture: { x: Device.X }
  - answer: { rpc: Download, fault: 9010 }
  - reboot
  - sleep: 1s
"#;

    #[test]
    fn parses_the_step_language() {
        let c = Case::parse(CASE, Path::new("/s/c.yaml")).unwrap();
        assert_eq!(c.spec.steps.len(), 5);
        assert_eq!(c.template_path(), Path::new("/s/x.yaml"));
        let Step::Expect(e) = &c.spec.steps[1] else {
            panic!("{:?}", c.spec.steps[1])
        };
        assert_eq!(e.rpc, RpcName("SetParameterValues"));
        let x = |s: &str| s.to_string();
        assert!(e.params["Device.X"].holds(Some("300"), &x));
        assert!(!e.params["Device.X"].holds(Some("7200"), &x));
        assert!(!e.params["Device.X"].holds(None, &x));
        assert!(e.params["Device.Y"].holds(Some("v"), &x));
        assert!(matches!(c.spec.steps[4], Step::Sleep(Dur(d)) if d == Duration::from_secs(1)));
    }

    #[test]
    fn errors_are_located() {
        let bad = CASE.replace("rpc: Download", "rpc: Downlaod");
        let e = Case::parse(&bad, Path::new("c.yaml")).unwrap_err();
        let CaseError::Yaml { line, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!(*line, 11, "{e}");
        assert!(e.to_string().starts_with("c.yaml:11:"), "{e}");
        let bad = CASE.replace("sleep: 1s", "sleep: soon");
        let e = Case::parse(&bad, Path::new("c.yaml")).unwrap_err();
        assert!(e.to_string().contains("c.yaml:13:"), "{e}");
        let bad = CASE.replace("fault: 9010", "times: 2");
        let e = Case::parse(&bad, Path::new("c.yaml")).unwrap_err();
        assert_eq!(e.label(), "case_invalid");
    }
}
