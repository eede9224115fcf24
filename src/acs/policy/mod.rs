//! The embedded ACS's policy: what it asks of each device, pure (YAML in, planned session
//! steps out; no sockets, no clock).
//!
//! Two kinds:
//! - `null`: InformResponse, then 204 after the empty POST. Nothing is planned or stored per
//!   device; this is the benchmark target.
//! - a YAML file (see `scenarios/policies/*.yaml` for commented examples) that behaves like a
//!   production ACS: GenieACS-style discovery and provisioning on `0 BOOTSTRAP`, tasks queued
//!   per event code or per share of the fleet, a firmware wave at a fixed rate, connection
//!   requests at a fixed rate, and a cap on concurrent sessions.
//!
//! Shares are deterministic: a device is in a share when a hash of (seed, salt, device id)
//! falls below it, so the same devices are picked on every run.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Deserializer};

use crate::cwmp::{
    AcsRequest, AddObject, DeleteObject, DeviceIdStruct, Download, EventStruct,
    GetParameterAttributes, GetParameterNames, GetParameterValues, ParameterValueStruct, Reboot,
    ScheduleInform, SetParameterAttributes, SetParameterAttributesStruct, SetParameterValues,
    Upload, XsdType,
};

use crate::seed::Fnv1a;
use crate::units::{Dur, PolicyShare, Rate};

use super::session::{Desired, Discovery, PlannedRpc, Provision, Step, DEFAULT_GPV_BATCH};
use crate::acs::store::DeviceRecord;

mod ids;
mod rpc;
mod spec;
mod validate;

pub use ids::*;
pub use rpc::*;
pub use spec::*;

/// The largest generated file (images live in memory).
pub const MAX_FILE_SIZE: u64 = 512 * 1024 * 1024;

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read policy {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("policy line {line} column {column}: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("policy: {0}")]
    Invalid(String),
}

impl PolicyError {
    pub fn label(&self) -> &'static str {
        match self {
            PolicyError::Io { .. } => "policy_io",
            PolicyError::Yaml { .. } => "policy_yaml",
            PolicyError::Invalid(_) => "policy_invalid",
        }
    }
}

/// What the ACS does with devices.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Policy {
    /// InformResponse, then 204: as fast as possible, nothing stored per device.
    #[default]
    Null,
    /// A YAML policy.
    Rules(Box<PolicySpec>),
}

/// The 503's `Retry-After` (GenieACS: 60).
pub fn retry_after_s() -> u32 {
    retry_after()
}

/// What the policy needs to know about a session at Inform time.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// GenieACS-style device id ([`device_id`]).
    pub device_id: &'a str,
    pub device: &'a DeviceIdStruct,
    pub events: &'a [EventStruct],
    pub params: &'a [ParameterValueStruct],
    /// "Device." or "InternetGatewayDevice." ([`root_of`]).
    pub root: &'a str,
    /// Seconds since the ACS started.
    pub elapsed_s: f64,
    /// "http://host:port" of the file server as the CPE can reach it.
    pub file_base_url: &'a str,
}

impl Policy {
    /// `null` or a policy file path.
    pub fn from_arg(arg: &str) -> Result<Policy, PolicyError> {
        if arg.trim() == "null" {
            return Ok(Policy::Null);
        }
        Policy::load(Path::new(arg))
    }

    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Policy::parse(&text)
    }

    /// Parses and validates a YAML policy; a document that is just `null` is the null policy.
    pub fn parse(yaml: &str) -> Result<Policy, PolicyError> {
        if matches!(yaml.trim(), "null" | "~") {
            return Ok(Policy::Null);
        }
        let spec: PolicySpec = if yaml.trim().is_empty() {
            PolicySpec::default()
        } else {
            serde_yaml::from_str(yaml).map_err(|e| {
                let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
                PolicyError::Yaml {
                    line,
                    column,
                    message: e.to_string(),
                }
            })?
        };
        spec.validate()?;
        Ok(Policy::Rules(Box::new(spec)))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Policy::Null)
    }

    pub fn spec(&self) -> Option<&PolicySpec> {
        match self {
            Policy::Null => None,
            Policy::Rules(s) => Some(s),
        }
    }

    pub fn max_concurrent_sessions(&self) -> Option<usize> {
        self.spec().and_then(|s| s.max_concurrent_sessions)
    }

    /// The deliberate bugs switched on.
    pub fn misbehaviour(&self) -> crate::acs::misbehave::Misbehaviour {
        crate::acs::misbehave::Misbehaviour::of(self.spec().map_or(&[][..], |s| &s.misbehave))
    }

    pub fn connection_requests(&self) -> Option<&CrSpec> {
        self.spec().and_then(|s| s.connection_requests.as_ref())
    }

    /// Files to generate on the file server: (name, size).
    pub fn files(&self) -> Vec<(String, u64)> {
        let Some(s) = self.spec() else {
            return Vec::new();
        };
        let mut out: Vec<(String, u64)> = s
            .files
            .iter()
            .filter_map(|f| Some((f.name.clone(), f.size.bytes().ok()?)))
            .collect();
        if let Some(w) = &s.firmware_wave {
            if let Ok(n) = w.size.bytes() {
                out.push((w.file.clone(), n));
            }
        }
        out
    }

    /// Firmware-wave Downloads allowed to have started after `elapsed_s` seconds: one at the
    /// start, then `rate` per second.
    pub fn wave_allowance(&self, elapsed_s: f64) -> u64 {
        match self.spec().and_then(|s| s.firmware_wave.as_ref()) {
            Some(w) => allowance(w.rate, w.start_after, elapsed_s),
            None => 0,
        }
    }

    /// The steps of a session. `claim_wave(allowance)` takes a firmware-wave slot if fewer than
    /// `allowance` Downloads have started (the server's counter); it is only called for a
    /// device that should get the firmware now.
    pub fn plan(
        &self,
        ctx: &PlanContext<'_>,
        device: Option<&DeviceRecord>,
        claim_wave: &mut dyn FnMut(u64) -> bool,
    ) -> Vec<Step> {
        let Some(spec) = self.spec() else {
            return Vec::new();
        };
        let mut steps = Vec::new();
        let bad = self.misbehaviour();
        let skip_bootstrap = bad.has(crate::acs::misbehave::Misbehave::IgnoreBootstrap)
            || (bad.has(crate::acs::misbehave::Misbehave::IgnoreRebootstrap)
                && device.is_some_and(|d| d.informs > 1));
        if let Some(b) = spec.bootstrap.as_ref().filter(|_| !skip_bootstrap) {
            if has_event(ctx.events, &b.events) {
                if b.discover {
                    steps.push(Step::Discover(Discovery::new(
                        b.next_level_depth,
                        b.gpv_batch,
                    )));
                }
                if let Some(p) = provisioning(spec, b, ctx) {
                    steps.push(Step::Provision(p));
                }
            }
        }
        for t in &spec.tasks {
            let done = device.is_some_and(|d| d.tasks_done.contains(&t.name));
            if (done && !t.repeat)
                || !(t.events.is_empty() || has_event(ctx.events, &t.events))
                || !in_share(&spec.seed, &t.name, ctx.device_id, t.share)
            {
                continue;
            }
            for r in &t.rpcs {
                if let Some(request) = rpc_request(spec, r, t, ctx, device) {
                    steps.push(Step::Rpc(PlannedRpc {
                        task: t.name.clone(),
                        request,
                        firmware: false,
                    }));
                }
            }
        }
        if let Some(w) = &spec.firmware_wave {
            let eligible = device.is_none_or(|d| d.firmware.is_none())
                && (w.events.is_empty() || has_event(ctx.events, &w.events))
                && in_share(&spec.seed, "firmware_wave", ctx.device_id, w.share)
                && !w.skip_version.as_deref().is_some_and(|v| {
                    ctx.params
                        .iter()
                        .any(|p| p.name.ends_with(".DeviceInfo.SoftwareVersion") && p.value == v)
                })
                && ctx.elapsed_s >= w.start_after;
            if eligible && claim_wave(allowance(w.rate, w.start_after, ctx.elapsed_s)) {
                let size = w.size.bytes().unwrap_or(0);
                steps.push(Step::Rpc(PlannedRpc {
                    task: "firmware_wave".into(),
                    request: AcsRequest::Download(Download {
                        file_type: w.file_type.clone(),
                        url: format!("{}/{}", ctx.file_base_url, w.file),
                        file_size: u32::try_from(size).unwrap_or(u32::MAX),
                        ..Download::default()
                    }),
                    firmware: true,
                }));
            }
        }
        steps
    }
}

fn allowance(rate: f64, start_after: f64, elapsed_s: f64) -> u64 {
    if elapsed_s < start_after {
        return 0;
    }
    ((elapsed_s - start_after) * rate).floor().max(0.0) as u64 + 1
}

fn has_event(events: &[EventStruct], wanted: &[String]) -> bool {
    events
        .iter()
        .any(|e| wanted.iter().any(|w| w == e.code.as_str()))
}

fn provisioning(spec: &PolicySpec, b: &BootstrapSpec, ctx: &PlanContext<'_>) -> Option<Provision> {
    let mut entries = Vec::new();
    let mut cr_credentials = None;
    if b.connection_request_credentials {
        let user = ctx.device_id.to_string();
        let pass = cr_password(&spec.seed, ctx.device_id);
        entries.push(Desired {
            suffix: "ManagementServer.ConnectionRequestUsername".into(),
            value: user.clone(),
            kind: XsdType::String,
        });
        entries.push(Desired {
            suffix: "ManagementServer.ConnectionRequestPassword".into(),
            value: pass.clone(),
            kind: XsdType::String,
        });
        cr_credentials = Some((user, pass));
    }
    if let Some(p) = &b.periodic_inform {
        entries.push(Desired {
            suffix: "ManagementServer.PeriodicInformEnable".into(),
            value: p.enable.to_string(),
            kind: XsdType::Boolean,
        });
        entries.push(Desired {
            suffix: "ManagementServer.PeriodicInformInterval".into(),
            value: p.interval.to_string(),
            kind: XsdType::UnsignedInt,
        });
    }
    (!entries.is_empty()).then(|| Provision {
        task: "provisioning".into(),
        entries,
        cr_credentials,
    })
}

fn file_size(spec: &PolicySpec, name: &str) -> u64 {
    spec.files
        .iter()
        .find(|f| f.name == name)
        .map(|f| &f.size)
        .or_else(|| {
            spec.firmware_wave
                .as_ref()
                .filter(|w| w.file == name)
                .map(|w| &w.size)
        })
        .and_then(|s| s.bytes().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
