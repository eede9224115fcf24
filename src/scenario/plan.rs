//! Phases as arithmetic: who powers up when, which devices an outage takes, and when the
//! open-model arrivals fall. Pure functions of (seed, phase, device index, time), so the same
//! seed gives the same schedule and nothing is stored per device or per arrival in advance.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::seed::mix;

use crate::cwmp::EventCode;

/// A phase with its start offset from the beginning of the run (wall clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub start: Duration,
    pub kind: PhaseKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PhaseKind {
    /// Power-up of (a share of) the devices, spread uniformly over `over`.
    Boot {
        over: Duration,
        /// Empty: every group.
        groups: Vec<String>,
        share: f64,
    },
    /// Closed model: devices follow their own periodic schedules.
    Steady,
    /// Open model: sessions at a target rate (ramping linearly from `from` to `to`, per second)
    /// drawn uniformly from the fleet, independent of how fast the ACS answers.
    Rate {
        from: f64,
        to: f64,
        poisson: bool,
        event: EventCode,
    },
    /// A share of the fleet loses power at the phase start and comes back after `down`.
    Outage {
        share: f64,
        down: Duration,
        recover_over: Duration,
    },
    /// The ACS unreachable for `down` (the devices stay up and retry), see [`super::wan`].
    AcsOutage {
        down: Duration,
        mode: crate::net::wan::OutageMode,
    },
    /// Value changes, reboots and autonomous DU changes at rates per device per second
    /// (simulated time).
    Churn {
        value_changes_per_s: f64,
        reboots_per_s: f64,
        parameter: Option<String>,
        du_changes_per_s: f64,
        du_url: Option<String>,
    },
}

impl PhaseKind {
    pub fn name(&self) -> &'static str {
        match self {
            PhaseKind::Boot { .. } => "boot",
            PhaseKind::Steady => "steady",
            PhaseKind::Rate { .. } => "rate",
            PhaseKind::Outage { .. } => "outage",
            PhaseKind::Churn { .. } => "churn",
            PhaseKind::AcsOutage { .. } => "acs_outage",
        }
    }
}

/// Arrival times of an open-model phase, as offsets from its start: the k-th arrival is where
/// the cumulative rate Λ(t) = from·t + (to − from)·t²/(2T) reaches k (constant) or the k-th
/// point of a unit Poisson process (poisson) — the time-rescaling construction, so a ramp is
/// exact for both.
#[derive(Debug, Clone)]
pub struct Arrivals {
    from: f64,
    to: f64,
    len: f64,
    poisson: bool,
    /// Cumulative "unit work" reached so far.
    acc: f64,
    rng: SmallRng,
}

impl Arrivals {
    pub fn new(from: f64, to: f64, len: Duration, poisson: bool, seed: u64) -> Self {
        Arrivals {
            from: from.max(0.0),
            to: to.max(0.0),
            len: len.as_secs_f64(),
            poisson,
            acc: 0.0,
            rng: SmallRng::seed_from_u64(mix(seed ^ 0xA221)),
        }
    }

    /// Expected number of arrivals in the phase.
    pub fn expected(&self) -> f64 {
        (self.from + self.to) / 2.0 * self.len
    }

    /// Inverts Λ(t) = y on [0, len].
    fn invert(&self, y: f64) -> Option<f64> {
        let (a, b, t_len) = (self.from, self.to, self.len);
        if t_len <= 0.0 {
            return None;
        }
        let slope = (b - a) / t_len;
        let t = if slope.abs() < 1e-12 {
            if a <= 0.0 {
                return None;
            }
            y / a
        } else {
            // slope/2·t² + a·t − y = 0
            let disc = a * a + 2.0 * slope * y;
            if disc < 0.0 {
                return None;
            }
            (-a + disc.sqrt()) / slope
        };
        (t.is_finite() && t >= 0.0 && t < t_len).then_some(t)
    }
}

impl Iterator for Arrivals {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let step = if self.poisson {
            // Exponential(1) gaps of a unit-rate process.
            let u: f64 = self.rng.random::<f64>();
            -(1.0 - u).ln()
        } else {
            1.0
        };
        self.acc += step;
        self.invert(self.acc).map(Duration::from_secs_f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_is_evenly_spaced() {
        let a: Vec<Duration> =
            Arrivals::new(10.0, 10.0, Duration::from_secs(2), false, 1).collect();
        assert_eq!(a.len(), 19, "arrivals at 0.1 .. 1.9 s (2.0 is the end)");
        assert_eq!(a[0], Duration::from_millis(100));
        assert_eq!(a[9], Duration::from_secs(1));
    }

    #[test]
    fn ramp_integrates_to_the_expected_count() {
        let a = Arrivals::new(0.0, 100.0, Duration::from_secs(10), false, 1);
        assert_eq!(a.expected(), 500.0);
        let times: Vec<Duration> = a.collect();
        assert_eq!(times.len(), 499);
        // A ramp from 0: the first half of the time holds a quarter of the arrivals.
        let first_half = times.iter().filter(|t| t.as_secs_f64() < 5.0).count();
        assert!((120..=130).contains(&first_half), "{first_half}");
    }

    #[test]
    fn poisson_rate_within_tolerance_and_seeded() {
        let a = Arrivals::new(200.0, 200.0, Duration::from_secs(50), true, 9);
        let n = a.clone().count() as f64;
        // 10_000 expected; 4 standard deviations is 400.
        assert!((n - 10_000.0).abs() < 400.0, "{n}");
        let b: Vec<Duration> = a.clone().take(100).collect();
        let c: Vec<Duration> = Arrivals::new(200.0, 200.0, Duration::from_secs(50), true, 9)
            .take(100)
            .collect();
        assert_eq!(b, c);
    }

    #[test]
    fn zero_rate_has_no_arrivals() {
        assert_eq!(
            Arrivals::new(0.0, 0.0, Duration::from_secs(5), false, 1).count(),
            0
        );
        assert_eq!(Arrivals::new(5.0, 5.0, Duration::ZERO, true, 1).count(), 0);
    }
}
