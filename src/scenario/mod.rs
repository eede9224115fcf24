//! Scenarios: what load to apply and when. `file` is the raw YAML shape, this module validates
//! it into a [`Scenario`] (paths resolved, quantities typed, command-line overrides applied),
//! and `plan` turns phases into arrival times (pure maths, no clock).
//!
//! # Precedence
//! One rule, applied here and nowhere else: a command-line flag beats the scenario file, which
//! beats the built-in default. `--devices N` rescales the groups' counts proportionally to
//! reach N in total.

mod acs;
mod connection_requests;
pub mod cr_transport;
pub mod diagnostics;
pub mod file;
mod groups;
mod phases;
pub mod plan;
mod thresholds;
mod validate;
pub mod wan;
pub mod xmpp;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use file::ScenarioFile;
use validate::Validator;

pub use acs::Acs;
pub use connection_requests::Cr;
pub use groups::Group;
pub use plan::{Phase, PhaseKind};
pub use validate::locate;

/// A scenario error: where and what. Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A command-line value (an override), named by its flag.
    #[error("{flag}: {message}")]
    Flag { flag: &'static str, message: String },
}

impl ScenarioError {
    pub fn label(&self) -> &'static str {
        match self {
            ScenarioError::Read { .. } => "scenario_read",
            ScenarioError::Invalid { .. } => "scenario_invalid",
            ScenarioError::Flag { .. } => "scenario_flag",
        }
    }
}

/// Command-line overrides (each `None` leaves the file's value).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub acs_url: Option<String>,
    pub devices: Option<u64>,
    pub duration: Option<Duration>,
    pub seed: Option<u64>,
    pub max_sessions: Option<u64>,
    pub timer_slack: Option<Duration>,
    pub time_scale: Option<f64>,
    pub cr_listen: Option<SocketAddr>,
    /// Device credentials for every group (beat the groups' own and `acs.*`).
    pub username: Option<String>,
    pub password: Option<String>,
}

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub path: PathBuf,
    pub seed: u64,
    pub duration: Duration,
    pub time_scale: f64,
    pub acs: Acs,
    pub max_sessions: usize,
    /// A shard's timer, when it wakes, also fires every device due within this much (real
    /// time) of now: devices due close together share one wake-up of the process instead of
    /// one each (issue #17: at light load the wake-up, not the session, is most of the CPU).
    /// A device fired early has no lag (it is not late); a late one's lag counts as before.
    pub timer_slack: Duration,
    pub source_addresses: Vec<IpAddr>,
    pub cr: Cr,
    pub groups: Vec<Group>,
    pub phases: Vec<Phase>,
    /// Pass/fail limits, judged on the end-of-run report (exit 3 when one fails); the default
    /// verdict ([`crate::threshold::default_thresholds`]) when the file sets none.
    pub thresholds: Vec<crate::threshold::Threshold>,
    /// Settings the run will not use, located (`file:line:column: ...`): the embedded ACS's
    /// when `--acs` points the fleet at another ACS. Warnings, not errors.
    pub unused: Vec<String>,
}

impl Scenario {
    /// Where a group's device username and password are configured, by the one precedence:
    /// flag > group > scenario `acs.*` > template (`None`: the template's value, if any).
    pub fn credential_sources(&self, g: &Group) -> [Option<String>; 2] {
        let source = |flag: bool, flag_name: &str, group: bool, acs: bool, key: &str| {
            if flag {
                Some(flag_name.to_string())
            } else if group {
                Some(format!("group {}", g.name))
            } else if acs {
                Some(format!("acs.{key}"))
            } else {
                None
            }
        };
        [
            source(
                self.acs.flag_credentials.0,
                "--username",
                g.username.is_some(),
                self.acs.username.is_some(),
                "username",
            ),
            source(
                self.acs.flag_credentials.1,
                "--password",
                g.password.is_some(),
                self.acs.password.is_some(),
                "password",
            ),
        ]
    }
}

impl Scenario {
    pub fn devices(&self) -> u64 {
        self.groups.iter().map(|g| u64::from(g.count)).sum()
    }

    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path, ov: &Overrides) -> Result<Scenario, ScenarioError> {
        let src = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::parse(&src, path, ov)
    }

    /// Parses and validates scenario text; `path` names it in errors and anchors relative paths.
    pub fn parse(src: &str, path: &Path, ov: &Overrides) -> Result<Scenario, ScenarioError> {
        let origin = path.display().to_string();
        let raw: ScenarioFile = serde_yaml::from_str(src).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line(), l.column()))
                .unwrap_or((1, 1));
            ScenarioError::Invalid {
                path: origin.clone(),
                line,
                column,
                message: strip_location(&e.to_string()),
            }
        })?;
        let v = Validator {
            src,
            origin: &origin,
            base: path.parent().unwrap_or(Path::new(".")),
        };
        v.validate(raw, ov)
    }
}

/// serde_yaml appends " at line L column C" to its messages; the location is printed once, in
/// front, like a compiler.
fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests;
