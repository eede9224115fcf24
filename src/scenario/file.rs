//! The raw YAML shape of a scenario (`scenarios/*.yaml`).
//!
//! Quantities are [`crate::units`]' newtypes, which parse themselves during deserialisation, so
//! a bad value (`duration: 5 parsecs`) fails inside serde_yaml, which reports its line and column.
//! Every struct denies unknown fields: a misspelt key is an error, not a silently ignored one.

use serde::Deserialize;

use crate::units::{Count, Dur, Rate, Share, Size};

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Seed of every random choice (schedules, jitter, impairments, generated values).
    #[serde(default)]
    pub seed: Option<u64>,
    /// How long the run lasts (wall clock). Defaults to the sum of the phases.
    #[serde(default)]
    pub duration: Option<Dur>,
    /// Simulated seconds per real second for device timers (periodic intervals, delays,
    /// retry waits, reboot times): 60 runs an hour of periodic behaviour in a minute.
    #[serde(default)]
    pub time_scale: Option<f64>,
    #[serde(default)]
    pub acs: AcsSpec,
    pub fleet: FleetSpec,
    #[serde(default)]
    pub phases: Vec<PhaseSpec>,
    /// Pass/fail limits (see [`crate::threshold`]).
    #[serde(default)]
    pub thresholds: Vec<crate::threshold::ThresholdSpec>,
}

/// The ACS under test. No URL: the embedded ACS is started in-process.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcsSpec {
    #[serde(default)]
    pub url: Option<String>,
    /// Embedded ACS only: `null` or a policy file (relative to the scenario).
    #[serde(default)]
    pub policy: Option<String>,
    /// Default ManagementServer.Username / Password (a group or template may override).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub tls: TlsSpec,
    /// Per HTTP exchange.
    #[serde(default)]
    pub exchange_timeout: Option<Dur>,
    /// Per session.
    #[serde(default)]
    pub session_timeout: Option<Dur>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSpec {
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub insecure: bool,
    /// mTLS: a client certificate per device; `{serial}`/`{index}` patterns, relative to the
    /// scenario (e.g. `certs/{serial}.pem`).
    #[serde(default)]
    pub client_cert: Option<String>,
    #[serde(default)]
    pub client_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetSpec {
    /// Sessions running at once, over the whole fleet.
    #[serde(default)]
    pub max_sessions: Option<Count>,
    /// How early a shard's timer may fire a device so that devices due close together share
    /// one wake-up (default 0: each at its due time). See [`crate::scenario::Scenario::timer_slack`].
    #[serde(default)]
    pub timer_slack: Option<Dur>,
    /// Source addresses to spread connections over (beats one address's ephemeral ports).
    #[serde(default)]
    pub source_addresses: Vec<String>,
    #[serde(default)]
    pub connection_requests: CrSpec,
    pub groups: Vec<GroupSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrSpec {
    /// Listener address (default 127.0.0.1:0).
    #[serde(default)]
    pub listen: Option<String>,
    /// Base URL the devices advertise (default: http://<bound listen address>).
    #[serde(default)]
    pub url: Option<String>,
    /// digest (default), basic, digest-or-basic, none.
    #[serde(default)]
    pub auth: Option<String>,
    /// Per device: at most one accepted request per this interval (TR-069 §3.2.2 lets a CPE rate-limit connection requests).
    #[serde(default)]
    pub min_interval: Option<Dur>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    /// Template file, relative to the scenario.
    pub template: String,
    pub count: Count,
    /// CWMP version override ("1.0" … "1.4").
    #[serde(default)]
    pub cwmp_version: Option<String>,
    /// Devices already bootstrapped with this ACS (first Inform is `1 BOOT`, not
    /// `0 BOOTSTRAP`).
    #[serde(default)]
    pub bootstrapped: bool,
    /// Per-device credentials (patterns over `{index}`, `{serial}`, `{oui}`, …).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// How long a reboot keeps the device offline (simulated time).
    #[serde(default)]
    pub reboot_time: Option<Dur>,
    /// Periodic inform interval override (simulated time).
    #[serde(default)]
    pub periodic_interval: Option<Dur>,
    /// Periodic jitter as a share of the interval.
    #[serde(default)]
    pub jitter: Option<Share>,
    #[serde(default)]
    pub downloads: DownloadSpec,
    #[serde(default)]
    pub impairments: ImpairmentSpec,
    /// The WAN between these devices and the ACS (see [`super::wan`]).
    #[serde(default)]
    pub wan: Option<super::wan::WanSpec>,
    /// What one device builds in answer to one ACS request; beyond it the device answers
    /// fault 9004 (Resources exceeded), as a real CPE with finite memory does.
    #[serde(default)]
    pub answer_limit: AnswerLimitSpec,
    /// The network its diagnostic tests see (scenario/diagnostics.rs).
    #[serde(default)]
    pub diagnostics: super::diagnostics::DiagnosticsSpec,
    /// How the ACS reaches this group: transport, STUN, NAT (see `scenario::cr_transport`).
    #[serde(default)]
    pub connection_requests: Option<super::cr_transport::GroupCrSpec>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerLimitSpec {
    /// Most parameters named in a request or listed in an answer (default 32768).
    #[serde(default)]
    pub parameters: Option<Count>,
    /// Most bytes of an answer's parameter list (default 4MiB).
    #[serde(default)]
    pub bytes: Option<Size>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DownloadSpec {
    /// Delay between the end of a download and applying it (simulated time).
    #[serde(default)]
    pub apply_delay: Option<Dur>,
    /// Share of downloads that fail on purpose (fault 9010).
    #[serde(default)]
    pub failure_rate: Option<Share>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpairmentSpec {
    /// Retired (it was one wait before the session): an error pointing at `wan.delay`.
    #[serde(default)]
    pub latency: Option<Dur>,
    /// Share of sessions whose connection is reset after the Inform.
    #[serde(default)]
    pub reset_rate: Option<Share>,
    /// Share of POSTs sent slowly (body trickled).
    #[serde(default)]
    pub slow_body_rate: Option<Share>,
}

/// One phase: exactly one of the keys (a map rather than a serde enum, because serde_yaml
/// wants YAML tags for enums and `- boot: {over: 10s}` is what people write).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    #[serde(default)]
    pub boot: Option<BootPhase>,
    #[serde(default)]
    pub steady: Option<SteadyPhase>,
    #[serde(default)]
    pub rate: Option<RatePhase>,
    #[serde(default)]
    pub outage: Option<OutagePhase>,
    #[serde(default)]
    pub churn: Option<ChurnPhase>,
    #[serde(default)]
    pub acs_outage: Option<super::wan::AcsOutagePhase>,
}

impl PhaseSpec {
    /// How many kinds the entry names (valid: exactly one).
    pub fn kinds(&self) -> usize {
        usize::from(self.boot.is_some())
            + usize::from(self.steady.is_some())
            + usize::from(self.rate.is_some())
            + usize::from(self.outage.is_some())
            + usize::from(self.churn.is_some())
            + usize::from(self.acs_outage.is_some())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BootPhase {
    /// Power-ups spread over this long (0 = all at once: a boot storm).
    #[serde(default)]
    pub over: Option<Dur>,
    /// Only these groups (default: all).
    #[serde(default)]
    pub groups: Vec<String>,
    /// Share of the group's devices (default all).
    #[serde(default)]
    pub share: Option<Share>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SteadyPhase {
    #[serde(rename = "for")]
    pub duration: Dur,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatePhase {
    #[serde(rename = "for")]
    pub duration: Dur,
    /// Sessions per second at the start.
    pub target: Rate,
    /// Ramp linearly to this rate by the end of the phase.
    #[serde(default)]
    pub ramp_to: Option<Rate>,
    /// `constant` (evenly spaced, default) or `poisson`.
    #[serde(default)]
    pub arrivals: Option<String>,
    /// Event code of the sessions (default `6 CONNECTION REQUEST`).
    #[serde(default)]
    pub event: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutagePhase {
    /// Share of the fleet losing power (default all).
    #[serde(default)]
    pub share: Option<Share>,
    /// How long the power stays off.
    pub down: Dur,
    /// Power returns spread over this long (default at once).
    #[serde(default)]
    pub recover_over: Option<Dur>,
    /// Observation time after power returns (default 1 minute).
    #[serde(default, rename = "then")]
    pub settle: Option<Dur>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChurnPhase {
    #[serde(rename = "for")]
    pub duration: Dur,
    /// Local value changes of notified parameters, per device per hour (simulated).
    #[serde(default)]
    pub value_changes: Option<Rate>,
    /// Reboots (power cycles) per device per hour (simulated).
    #[serde(default)]
    pub reboots: Option<Rate>,
    /// The parameter changed by value-change churn (default the template's first parameter
    /// with active notification).
    #[serde(default)]
    pub parameter: Option<String>,
    /// Autonomous deployment-unit changes (TR-157) per device per hour (simulated): the unit at
    /// `du_url` is installed where absent, updated where another version is, uninstalled where
    /// this one is; reported per ManagementServer.DUStateChangeComplPolicy.
    #[serde(default)]
    pub du_changes: Option<Rate>,
    /// The unit's file (fetched for real); without it, a change uninstalls the first unit.
    #[serde(default)]
    pub du_url: Option<String>,
}
