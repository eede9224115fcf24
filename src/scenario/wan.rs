//! The network keys of a scenario: a group's `wan:` (the WAN between its devices and the ACS,
//! see [`crate::net::wan`]) and the `acs_outage:` phase (the ACS unreachable for a while, the
//! devices up and retrying). Parsed here, validated into typed values with located errors.
//!
//! ```yaml
//! groups:
//!   - name: dsl
//!     wan: { delay: 40ms, jitter: 20ms, loss: 1%, rto: 1s, bandwidth: 10Mbit/s }
//! phases:
//!   - acs_outage: { down: 2m, mode: refused, then: 3m }
//! ```

use std::time::Duration;

use serde::Deserialize;

use super::file::GroupSpec;
use super::validate::Validator;
use super::{PhaseKind, ScenarioError};
use crate::net::wan::{OutageMode, WanModel};
use crate::units::{Bandwidth, Dur, Share};

/// A group's `wan:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WanSpec {
    /// One-way delay, each direction of each exchange.
    #[serde(default)]
    pub delay: Option<Dur>,
    /// Up to this much more per leg, drawn per leg from the seed.
    #[serde(default)]
    pub jitter: Option<Dur>,
    /// Share of legs that lose a packet and stall for a retransmission timeout.
    #[serde(default)]
    pub loss: Option<Share>,
    /// The first retransmission timeout (default 1s, RFC 6298's initial RTO).
    #[serde(default)]
    pub rto: Option<Dur>,
    /// Cap on message bodies and file transfers, e.g. `10Mbit/s` or `2MB/s`.
    #[serde(default)]
    pub bandwidth: Option<Bandwidth>,
}

/// The `acs_outage:` phase.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcsOutagePhase {
    /// How long the ACS stays unreachable.
    pub down: Dur,
    /// `refused` (default: connections refused at once, the ACS host up and its service down)
    /// or `blackhole` (nothing answers: a connection attempt hangs until the exchange timeout).
    #[serde(default)]
    pub mode: Option<String>,
    /// Observation time after the ACS is back (default 1 minute).
    #[serde(default, rename = "then")]
    pub settle: Option<Dur>,
}

/// Most one-way delay, jitter and RTO: beyond, every exchange would outlive its timeout.
const MAX_DELAY: Duration = Duration::from_secs(60);

impl Validator<'_> {
    /// A group's `wan:` (and the retired `impairments.latency`, pointed at its replacement).
    pub(super) fn wan(&self, g: &GroupSpec) -> Result<WanModel, ScenarioError> {
        if let Some(l) = g.impairments.latency {
            return Err(self.err(
                "latency",
                format!(
                    "impairments.latency was one wait before each session; write wan: {{ delay: {} }} \
                     for a delay on every exchange in both directions (see README, \"WAN\")",
                    crate::units::fmt_duration(l.0)
                ),
            ));
        }
        let Some(w) = &g.wan else {
            return Ok(WanModel::default());
        };
        let model = WanModel {
            delay: w.delay.map_or(Duration::ZERO, |d| d.0),
            jitter: w.jitter.map_or(Duration::ZERO, |d| d.0),
            loss: w.loss.map_or(0.0, |s| s.0),
            rto: w.rto.map_or(Duration::from_secs(1), |d| d.0),
            bandwidth: w.bandwidth.map(|b| b.0),
        };
        for (key, d) in [
            ("delay", model.delay),
            ("jitter", model.jitter),
            ("rto", model.rto),
        ] {
            if d > MAX_DELAY {
                return Err(self.err_in(&g.name, key, format!("wan.{key}: at most 60s")));
            }
        }
        if model.loss >= 1.0 {
            return Err(self.err_in(
                &g.name,
                "loss",
                "wan.loss: below 100% (every leg lost is no link at all: use an acs_outage phase)",
            ));
        }
        if model.loss > 0.0 && model.rto.is_zero() {
            return Err(self.err_in(&g.name, "rto", "wan.rto: above zero when loss is set"));
        }
        Ok(model)
    }

    /// An `acs_outage:` phase and its length (down plus settle).
    pub(super) fn acs_outage(
        &self,
        o: &AcsOutagePhase,
    ) -> Result<(PhaseKind, Duration), ScenarioError> {
        if o.down.0.is_zero() {
            return Err(self.err("acs_outage", "acs_outage.down: above zero"));
        }
        let mode = match o.mode.as_deref().unwrap_or("refused") {
            "refused" => OutageMode::Refused,
            "blackhole" => OutageMode::Blackhole,
            other => {
                return Err(self.err(
                    other,
                    format!("acs_outage.mode {other:?}: use refused or blackhole"),
                ))
            }
        };
        let settle = o.settle.map_or(Duration::from_secs(60), |d| d.0);
        Ok((
            PhaseKind::AcsOutage {
                down: o.down.0,
                mode,
            },
            o.down.0 + settle,
        ))
    }
}

/// The windows (from, to; since the run's start) in which the ACS is unreachable, and how.
pub fn acs_outages(phases: &[super::Phase]) -> Vec<(Duration, Duration, OutageMode)> {
    phases
        .iter()
        .filter_map(|p| match p.kind {
            PhaseKind::AcsOutage { down, mode } => Some((p.start, p.start + down, mode)),
            _ => None,
        })
        .collect()
}
