//! Scenarios: what load to apply and when. `file` is the raw YAML shape, this module validates
//! it into a [`Scenario`] (paths resolved, quantities typed, command-line overrides applied),
//! and `plan` turns phases into arrival times (pure maths, no clock).
//!
//! # Precedence
//! One rule, applied here and nowhere else: a command-line flag beats the scenario file, which
//! beats the built-in default. `--devices N` rescales the groups' counts proportionally to
//! reach N in total.

pub mod file;
pub mod plan;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cr::CrAuth;
use crate::cwmp::{CwmpVersion, EventCode};
use crate::device::AnswerLimit;
use crate::net::tls::TlsOptions;
use crate::units::line_column;

use file::ScenarioFile;
pub use plan::{Phase, PhaseKind};

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
    pub time_scale: Option<f64>,
    pub cr_listen: Option<SocketAddr>,
    /// Device credentials for every group (beat the groups' own and `acs.*`).
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The ACS side of a validated scenario.
#[derive(Debug, Clone)]
pub struct Acs {
    /// `None`: start the embedded ACS.
    pub url: Option<String>,
    /// Embedded ACS policy file; `None` = the built-in null policy.
    pub policy: Option<PathBuf>,
    /// Default device credentials (below a group's, above the template's).
    pub username: Option<String>,
    pub password: Option<String>,
    /// The credentials came from `--username` / `--password` (shown by `check`).
    pub flag_credentials: (bool, bool),
    pub tls: TlsOptions,
    pub client_cert: Option<String>,
    pub client_key: Option<String>,
    pub exchange_timeout: Duration,
    pub session_timeout: Duration,
}

/// The connection-request listener.
#[derive(Debug, Clone)]
pub struct Cr {
    pub listen: SocketAddr,
    pub url: Option<String>,
    pub auth: CrAuth,
    pub min_interval: Duration,
}

/// A device group.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub template: PathBuf,
    pub count: u32,
    pub version: Option<CwmpVersion>,
    pub bootstrapped: bool,
    pub username: Option<String>,
    pub password: Option<String>,
    pub reboot_time: Duration,
    pub periodic_interval: Option<Duration>,
    pub jitter: f64,
    pub apply_delay: Duration,
    pub download_failure_rate: f64,
    pub latency: Duration,
    pub reset_rate: f64,
    pub slow_body_rate: f64,
    /// What one device builds in answer to one ACS request (9004 beyond).
    pub answer_limit: AnswerLimit,
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
    pub source_addresses: Vec<IpAddr>,
    pub cr: Cr,
    pub groups: Vec<Group>,
    pub phases: Vec<Phase>,
    /// Pass/fail limits, judged on the end-of-run report (exit 3 when one fails); the default
    /// verdict ([`crate::threshold::default_thresholds`]) when the file sets none.
    pub thresholds: Vec<crate::threshold::Threshold>,
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

struct Validator<'a> {
    src: &'a str,
    origin: &'a str,
    base: &'a Path,
}

impl Validator<'_> {
    /// An error located at the first occurrence of `needle` (a key or value as written).
    fn err(&self, needle: &str, message: impl Into<String>) -> ScenarioError {
        let (line, column) = locate(self.src, needle);
        ScenarioError::Invalid {
            path: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A group's `answer_limit:` over the defaults; a zero would fault every request.
    fn answer_limit(&self, g: &file::GroupSpec) -> Result<AnswerLimit, ScenarioError> {
        let mut limit = AnswerLimit::default();
        if let Some(n) = g.answer_limit.parameters {
            if n.0 == 0 || n.0 > u64::from(u32::MAX) {
                return Err(self.err(
                    "parameters",
                    format!("answer_limit.parameters {}: use 1 to 4294967295", n.0),
                ));
            }
            limit.parameters = n.0 as u32;
        }
        if let Some(b) = g.answer_limit.bytes {
            if b.0 < crate::device::ENTRY_OVERHEAD {
                return Err(self.err(
                    "bytes",
                    format!(
                        "answer_limit.bytes {}: at least {} (one list entry)",
                        b.0,
                        crate::device::ENTRY_OVERHEAD
                    ),
                ));
            }
            limit.bytes = b.0;
        }
        Ok(limit)
    }

    fn resolve(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base.join(p)
        }
    }

    fn validate(&self, raw: ScenarioFile, ov: &Overrides) -> Result<Scenario, ScenarioError> {
        let time_scale = ov.time_scale.or(raw.time_scale).unwrap_or(1.0);
        if !(time_scale.is_finite() && time_scale > 0.0 && time_scale <= 1e6) {
            let msg = "time_scale must be a number above 0 (at most 1000000)";
            return Err(match ov.time_scale {
                Some(_) => flag_err("--time-scale", msg),
                None => self.err("time_scale", msg),
            });
        }

        // --- ACS ---
        let a = &raw.acs;
        let url = ov.acs_url.clone().or(a.url.clone());
        if let Some(u) = &url {
            if crate::net::client::Endpoint::parse(u).is_err() {
                let msg = format!("ACS URL {u:?} is not an http(s) URL");
                return Err(match ov.acs_url {
                    Some(_) => flag_err("--acs", msg),
                    None => self.err(u, msg),
                });
            }
        }
        let policy = match a.policy.as_deref() {
            None | Some("null") => None,
            Some(p) => {
                let path = self.resolve(p);
                if !path.exists() {
                    return Err(self.err(p, format!("policy file {} not found", path.display())));
                }
                Some(path)
            }
        };
        if url.is_some() && policy.is_some() {
            return Err(self.err(
                "policy",
                "acs.policy configures the embedded ACS; it cannot be used with acs.url",
            ));
        }
        let acs = Acs {
            url,
            policy,
            username: ov.username.clone().or(a.username.clone()),
            password: ov.password.clone().or(a.password.clone()),
            flag_credentials: (ov.username.is_some(), ov.password.is_some()),
            tls: TlsOptions {
                ca_file: a.tls.ca_file.as_deref().map(|p| self.resolve(p)),
                insecure: a.tls.insecure,
            },
            // Relative to the scenario; may hold {serial}/{index}/{oui}/{product_class}.
            client_cert: a
                .tls
                .client_cert
                .as_deref()
                .map(|p| self.resolve(p).display().to_string()),
            client_key: a
                .tls
                .client_key
                .as_deref()
                .map(|p| self.resolve(p).display().to_string()),
            exchange_timeout: a.exchange_timeout.map_or(Duration::from_secs(30), |d| d.0),
            session_timeout: a.session_timeout.map_or(Duration::from_secs(300), |d| d.0),
        };
        if acs.client_cert.is_some() != acs.client_key.is_some() {
            return Err(self.err("client_", "tls.client_cert and tls.client_key go together"));
        }

        // --- fleet ---
        let f = &raw.fleet;
        if f.groups.is_empty() {
            return Err(self.err("groups", "the fleet needs at least one group"));
        }
        let mut source_addresses = Vec::new();
        for s in &f.source_addresses {
            let ip: IpAddr = s
                .parse()
                .map_err(|_| self.err(s, format!("{s:?} is not an IP address")))?;
            source_addresses.push(ip);
        }
        let crs = &f.connection_requests;
        let listen = match (ov.cr_listen, crs.listen.as_deref()) {
            (Some(a), _) => a,
            (None, Some(l)) => l
                .parse()
                .map_err(|_| self.err(l, format!("{l:?} is not an address:port")))?,
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let auth = match crs.auth.as_deref().unwrap_or("digest") {
            "digest" => CrAuth::Digest,
            "basic" => CrAuth::Basic,
            "digest-or-basic" => CrAuth::DigestOrBasic,
            "none" => CrAuth::None,
            other => {
                return Err(self.err(
                    other,
                    format!("connection_requests.auth {other:?}: use digest, basic, digest-or-basic or none"),
                ))
            }
        };
        let cr = Cr {
            listen,
            url: crs.url.clone(),
            auth,
            min_interval: crs.min_interval.map_or(Duration::from_secs(1), |d| d.0),
        };

        let mut groups = Vec::new();
        let mut names = std::collections::HashSet::new();
        for g in &f.groups {
            if !names.insert(g.name.clone()) {
                return Err(self.err(&g.name, format!("group name {:?} is used twice", g.name)));
            }
            let template = self.resolve(&g.template);
            if !template.exists() {
                return Err(self.err(
                    &g.template,
                    format!("template {} not found", template.display()),
                ));
            }
            if g.count.0 > u64::from(u32::MAX) {
                return Err(self.err(&g.name, "a group holds at most 4294967295 devices"));
            }
            if let Some(d) = g.periodic_interval {
                // TR-069 PeriodicInformInterval is unsignedInt[1:] seconds: 0 made every device
                // inform back to back (20 devices, 1,651 sessions/s).
                if d.0 < Duration::from_secs(1) || d.0.as_secs() > u64::from(u32::MAX) {
                    let at = self.src.find(&format!("name: {}", g.name)).unwrap_or(0);
                    let off = self.src[at..]
                        .find("periodic_interval")
                        .map_or(at, |o| at + o);
                    let (line, column) = crate::units::line_column(self.src, off);
                    return Err(ScenarioError::Invalid {
                        path: self.origin.to_string(),
                        line,
                        column,
                        message: format!(
                            "periodic_interval {}: must be at least 1s (at most {}s)",
                            crate::units::fmt_duration(d.0),
                            u32::MAX
                        ),
                    });
                }
            }
            let version = match g.cwmp_version.as_deref() {
                None => None,
                Some(v) => Some(CwmpVersion::parse(v).ok_or_else(|| {
                    self.err(
                        v,
                        format!("cwmp_version {v:?}: use 1.0, 1.1, 1.2, 1.3 or 1.4"),
                    )
                })?),
            };
            groups.push(Group {
                name: g.name.clone(),
                template,
                count: g.count.0 as u32,
                version,
                bootstrapped: g.bootstrapped,
                // A flag beats the group's pattern.
                username: g.username.clone().filter(|_| ov.username.is_none()),
                password: g.password.clone().filter(|_| ov.password.is_none()),
                reboot_time: g.reboot_time.map_or(Duration::from_secs(30), |d| d.0),
                periodic_interval: g.periodic_interval.map(|d| d.0),
                jitter: g.jitter.map_or(0.0, |s| s.0),
                apply_delay: g
                    .downloads
                    .apply_delay
                    .map_or(Duration::from_secs(5), |d| d.0),
                download_failure_rate: g.downloads.failure_rate.map_or(0.0, |s| s.0),
                latency: g.impairments.latency.map_or(Duration::ZERO, |d| d.0),
                reset_rate: g.impairments.reset_rate.map_or(0.0, |s| s.0),
                slow_body_rate: g.impairments.slow_body_rate.map_or(0.0, |s| s.0),
                answer_limit: self.answer_limit(g)?,
            });
        }
        if let Some(total) = ov.devices {
            if total == 0 || total > u64::from(u32::MAX) {
                return Err(flag_err(
                    "--devices",
                    format!("{total} devices: use 1 to {}", u32::MAX),
                ));
            }
            rescale(&mut groups, total);
        }
        let devices: u64 = groups.iter().map(|g| u64::from(g.count)).sum();
        if devices == 0 {
            return Err(self.err("count", "the fleet has no devices"));
        }
        // Zero sessions at once would run nothing; it used to be coerced to 1 silently.
        const SESSIONS_RANGE: &str = "sessions at once: at least 1";
        let max_sessions = match (ov.max_sessions, f.max_sessions.map(|c| c.0)) {
            (Some(0), _) => return Err(flag_err("--max-sessions", format!("0 {SESSIONS_RANGE}"))),
            (None, Some(0)) => {
                return Err(self.err("max_sessions", format!("max_sessions: 0 {SESSIONS_RANGE}")))
            }
            (flag, file) => flag.or(file).unwrap_or(1000),
        };
        let max_sessions = usize::try_from(max_sessions).unwrap_or(usize::MAX);

        // --- phases ---
        let group_names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
        let mut phases = Vec::new();
        let mut t = Duration::ZERO;
        if raw.phases.first().is_none_or(|p| p.boot.is_none()) {
            // Devices that never power up never inform: without a boot phase, all boot at once.
            phases.push(Phase {
                start: Duration::ZERO,
                kind: PhaseKind::Boot {
                    over: Duration::ZERO,
                    groups: vec![],
                    share: 1.0,
                },
            });
        }
        for (i, p) in raw.phases.iter().enumerate() {
            if p.kinds() != 1 {
                return Err(self.err(
                    "phases",
                    format!(
                        "phase {} must name exactly one of boot, steady, rate, outage, churn",
                        i + 1
                    ),
                ));
            }
            let (kind, len) = match (&p.boot, &p.steady, &p.rate, &p.outage, &p.churn) {
                (Some(b), ..) => {
                    for g in &b.groups {
                        if !group_names.contains(&g.as_str()) {
                            return Err(self.err(g, format!("no group named {g:?}")));
                        }
                    }
                    let over = b.over.map_or(Duration::ZERO, |d| d.0);
                    (
                        PhaseKind::Boot {
                            over,
                            groups: b.groups.clone(),
                            share: b.share.map_or(1.0, |s| s.0),
                        },
                        over,
                    )
                }
                (_, Some(s), ..) => (PhaseKind::Steady, s.duration.0),
                (_, _, Some(r), ..) => {
                    let poisson = match r.arrivals.as_deref().unwrap_or("constant") {
                        "constant" => false,
                        "poisson" => true,
                        other => {
                            return Err(self.err(
                                other,
                                format!("arrivals {other:?}: use constant or poisson"),
                            ))
                        }
                    };
                    let event =
                        EventCode::parse(r.event.as_deref().unwrap_or("6 CONNECTION REQUEST"));
                    if matches!(event, EventCode::Other(_)) {
                        let e = r.event.clone().unwrap_or_default();
                        return Err(self.err(&e, format!("{e:?} is not a TR-069 event code")));
                    }
                    (
                        PhaseKind::Rate {
                            from: r.target.0,
                            to: r.ramp_to.map_or(r.target.0, |x| x.0),
                            poisson,
                            event,
                        },
                        r.duration.0,
                    )
                }
                (_, _, _, Some(o), _) => {
                    let recover = o.recover_over.map_or(Duration::ZERO, |d| d.0);
                    let settle = o.settle.map_or(Duration::from_secs(60), |d| d.0);
                    (
                        PhaseKind::Outage {
                            share: o.share.map_or(1.0, |s| s.0),
                            down: o.down.0,
                            recover_over: recover,
                        },
                        o.down.0 + recover + settle,
                    )
                }
                (.., Some(c)) => (
                    PhaseKind::Churn {
                        value_changes_per_s: c.value_changes.map_or(0.0, |r| r.0),
                        reboots_per_s: c.reboots.map_or(0.0, |r| r.0),
                        parameter: c.parameter.clone(),
                    },
                    c.duration.0,
                ),
                _ => unreachable!("exactly one kind was checked above"),
            };
            phases.push(Phase { start: t, kind });
            t += len;
        }
        let duration = ov
            .duration
            .or(raw.duration.map(|d| d.0))
            .unwrap_or(if t.is_zero() {
                Duration::from_secs(60)
            } else {
                t
            });
        if duration.is_zero() {
            return Err(match ov.duration {
                Some(_) => flag_err("--duration", "the run's duration must be above zero"),
                None => self.err("duration", "duration must be above zero"),
            });
        }

        // --- thresholds ---
        let mut thresholds = Vec::new();
        for t in &raw.thresholds {
            let v = t.validate(&group_names).map_err(|e| {
                // Point into the thresholds section, not at the first "session" of the file.
                let from = self.src.find("thresholds").unwrap_or(0);
                let at = self.src[from..].find(&e.near).map_or(from, |o| from + o);
                let (line, column) = line_column(self.src, at);
                ScenarioError::Invalid {
                    path: self.origin.to_string(),
                    line,
                    column,
                    message: e.message,
                }
            })?;
            thresholds.push(v);
        }
        if thresholds.is_empty() {
            thresholds = crate::threshold::default_thresholds();
        }

        Ok(Scenario {
            name: raw.name,
            description: raw.description,
            path: PathBuf::from(self.origin),
            seed: ov.seed.or(raw.seed).unwrap_or(1),
            duration,
            time_scale,
            acs,
            max_sessions,
            source_addresses,
            cr,
            groups,
            phases,
            thresholds,
        })
    }
}

/// An error in a command-line value, named by its flag (never at a line of the file).
fn flag_err(flag: &'static str, message: impl Into<String>) -> ScenarioError {
    ScenarioError::Flag {
        flag,
        message: message.into(),
    }
}

/// Rescales group counts to `total`, proportionally, exactly (largest remainders).
fn rescale(groups: &mut [Group], total: u64) {
    let old: u64 = groups
        .iter()
        .map(|g| u64::from(g.count))
        .sum::<u64>()
        .max(1);
    let mut assigned = 0u64;
    let mut rema: Vec<(u64, usize)> = Vec::new();
    for (i, g) in groups.iter_mut().enumerate() {
        let exact = u128::from(g.count) * u128::from(total);
        let q = (exact / u128::from(old)) as u64;
        rema.push(((exact % u128::from(old)) as u64, i));
        g.count = q.min(u64::from(u32::MAX)) as u32;
        assigned += q;
    }
    rema.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rema
        .into_iter()
        .take(total.saturating_sub(assigned) as usize)
    {
        groups[i].count = groups[i].count.saturating_add(1);
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

#[cfg(test)]
mod tests;
