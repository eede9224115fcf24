//! Validation of a parsed [`ScenarioFile`] into a [`Scenario`]: the order of the checks (which
//! error a file with several shows first) and the top-level settings. Each section is
//! validated in the file that declares it; a new section is one file plus one call here.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::file::ScenarioFile;
use super::{Overrides, Scenario, ScenarioError};
use crate::units::line_column;
use crate::units::{Count, Dur};

pub(super) struct Validator<'a> {
    pub(super) src: &'a str,
    pub(super) origin: &'a str,
    pub(super) base: &'a Path,
}

impl Validator<'_> {
    /// An error located at the first occurrence of `needle` (a key or value as written).
    pub(super) fn err(&self, needle: &str, message: impl Into<String>) -> ScenarioError {
        let (line, column) = locate(self.src, needle);
        ScenarioError::Invalid {
            path: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// An error at `key` within the group named `group` (the first `key` after its name).
    pub(super) fn err_in(
        &self,
        group: &str,
        key: &str,
        message: impl Into<String>,
    ) -> ScenarioError {
        let at = self.src.find(&format!("name: {group}")).unwrap_or(0);
        let off = self.src[at..].find(key).map_or(at, |o| at + o);
        let (line, column) = line_column(self.src, off);
        ScenarioError::Invalid {
            path: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A path as written in the scenario, relative to the scenario's directory.
    pub(super) fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    pub(super) fn validate(
        &self,
        raw: ScenarioFile,
        ov: &Overrides,
    ) -> Result<Scenario, ScenarioError> {
        let time_scale = self.time_scale(raw.time_scale, ov)?;
        let mut unused = Vec::new();
        let acs = self.acs(&raw.acs, ov, &mut unused)?;
        let f = &raw.fleet;
        if f.groups.is_empty() {
            return Err(self.err("groups", "the fleet needs at least one group"));
        }
        let source_addresses = self.source_addresses(&f.source_addresses)?;
        let cr = self.connection_requests(&f.connection_requests, ov)?;
        let groups = self.groups(&f.groups, ov)?;
        let max_sessions = self.max_sessions(f.max_sessions, ov)?;
        let timer_slack = self.timer_slack(f.timer_slack, ov)?;
        let group_names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let (phases, phases_end) = self.phases(&raw.phases, &group_names)?;
        let duration = self.duration(raw.duration, phases_end, ov)?;
        let thresholds = self.thresholds(&raw.thresholds, &group_names)?;
        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            path: PathBuf::from(self.origin),
            seed: ov.seed.or(raw.seed).unwrap_or(1),
            duration,
            time_scale,
            acs,
            max_sessions,
            timer_slack,
            source_addresses,
            cr,
            groups,
            phases,
            thresholds,
            unused,
        })
    }

    fn time_scale(&self, file: Option<f64>, ov: &Overrides) -> Result<f64, ScenarioError> {
        let time_scale = ov.time_scale.or(file).unwrap_or(1.0);
        if !(time_scale.is_finite() && time_scale > 0.0 && time_scale <= 1e6) {
            let msg = "time_scale must be a number above 0 (at most 1000000)";
            return Err(match ov.time_scale {
                Some(_) => flag_err("--time-scale", msg),
                None => self.err("time_scale", msg),
            });
        }
        Ok(time_scale)
    }

    fn source_addresses(&self, addrs: &[String]) -> Result<Vec<IpAddr>, ScenarioError> {
        addrs
            .iter()
            .map(|s| {
                s.parse()
                    .map_err(|_| self.err(s, format!("{s:?} is not an IP address")))
            })
            .collect()
    }

    fn max_sessions(&self, file: Option<Count>, ov: &Overrides) -> Result<usize, ScenarioError> {
        // Zero sessions at once would run nothing; it used to be coerced to 1 silently.
        const SESSIONS_RANGE: &str = "sessions at once: at least 1";
        let max_sessions = match (ov.max_sessions, file.map(|c| c.0)) {
            (Some(0), _) => return Err(flag_err("--max-sessions", format!("0 {SESSIONS_RANGE}"))),
            (None, Some(0)) => {
                return Err(self.err("max_sessions", format!("max_sessions: 0 {SESSIONS_RANGE}")))
            }
            (flag, file) => flag.or(file).unwrap_or(1000),
        };
        Ok(usize::try_from(max_sessions).unwrap_or(usize::MAX))
    }

    /// `fleet.timer_slack` / `--timer-slack`: at most [`MAX_TIMER_SLACK`]. Slack is how early
    /// a device may start; past a second it would move schedules more than it saves wake-ups
    /// (the shortest periodic interval is 1 s).
    fn timer_slack(&self, file: Option<Dur>, ov: &Overrides) -> Result<Duration, ScenarioError> {
        let slack = ov.timer_slack.or(file.map(|d| d.0)).unwrap_or_default();
        if slack > MAX_TIMER_SLACK {
            let msg = format!(
                "at most 1s of slack, not {}",
                crate::units::fmt_duration(slack)
            );
            return Err(match ov.timer_slack {
                Some(_) => flag_err("--timer-slack", msg),
                None => self.err("timer_slack", format!("timer_slack: {msg}")),
            });
        }
        Ok(slack)
    }

    /// The run's duration: flag, file, else the phases' length (60 s when they have none).
    fn duration(
        &self,
        file: Option<Dur>,
        phases_end: Duration,
        ov: &Overrides,
    ) -> Result<Duration, ScenarioError> {
        let duration = ov
            .duration
            .or(file.map(|d| d.0))
            .unwrap_or(if phases_end.is_zero() {
                Duration::from_secs(60)
            } else {
                phases_end
            });
        if duration.is_zero() {
            return Err(match ov.duration {
                Some(_) => flag_err("--duration", "the run's duration must be above zero"),
                None => self.err("duration", "duration must be above zero"),
            });
        }
        Ok(duration)
    }
}

/// The most timer slack a scenario or `--timer-slack` may ask for.
pub const MAX_TIMER_SLACK: Duration = Duration::from_secs(1);

/// An error in a command-line value, named by its flag (never at a line of the file).
pub(super) fn flag_err(flag: &'static str, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Flag {
        flag,
        message: message.into(),
    }
}

/// 1-based line and column of the first occurrence of `needle` (start of file if absent).
pub fn locate(src: &str, needle: &str) -> (usize, usize) {
    if needle.is_empty() {
        return (1, 1);
    }
    match src.find(needle) {
        None => (1, 1),
        Some(off) => line_column(src, off),
    }
}
