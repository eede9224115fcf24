//! The scenario's `phases:` section, validated into [`Phase`]s laid end to end.

use std::time::Duration;

use super::file::{PhaseSpec, RatePhase};
use super::validate::Validator;
use super::{Phase, PhaseKind, ScenarioError};
use crate::cwmp::EventCode;

impl Validator<'_> {
    /// The phases with their start times, and the time the last one ends.
    pub(super) fn phases(
        &self,
        specs: &[PhaseSpec],
        group_names: &[&str],
    ) -> Result<(Vec<Phase>, Duration), ScenarioError> {
        let mut phases = Vec::new();
        let mut t = Duration::ZERO;
        if specs.first().is_none_or(|p| p.boot.is_none()) {
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
        for (i, p) in specs.iter().enumerate() {
            let (kind, len) = self.phase(i, p, group_names)?;
            phases.push(Phase { start: t, kind });
            t += len;
        }
        Ok((phases, t))
    }

    /// Phase `i` (0-based) and how long it lasts.
    fn phase(
        &self,
        i: usize,
        p: &PhaseSpec,
        group_names: &[&str],
    ) -> Result<(PhaseKind, Duration), ScenarioError> {
        if p.kinds() != 1 {
            return Err(self.err(
                "phases",
                format!(
                    "phase {} must name exactly one of boot, steady, rate, outage, churn, acs_outage",
                    i + 1
                ),
            ));
        }
        if let Some(o) = &p.acs_outage {
            return self.acs_outage(o);
        }
        Ok(match (&p.boot, &p.steady, &p.rate, &p.outage, &p.churn) {
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
            (_, _, Some(r), ..) => (self.rate(r)?, r.duration.0),
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
                    du_changes_per_s: c.du_changes.map_or(0.0, |r| r.0),
                    du_url: c.du_url.clone(),
                },
                c.duration.0,
            ),
            _ => unreachable!("exactly one kind was checked above"),
        })
    }

    /// A `rate:` phase: its arrival process and the event its sessions carry.
    fn rate(&self, r: &RatePhase) -> Result<PhaseKind, ScenarioError> {
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
        let event = EventCode::parse(r.event.as_deref().unwrap_or("6 CONNECTION REQUEST"));
        if matches!(event, EventCode::Other(_)) {
            let e = r.event.clone().unwrap_or_default();
            return Err(self.err(&e, format!("{e:?} is not a TR-069 event code")));
        }
        Ok(PhaseKind::Rate {
            from: r.target.0,
            to: r.ramp_to.map_or(r.target.0, |x| x.0),
            poisson,
            event,
        })
    }
}
