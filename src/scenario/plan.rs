//! Phases as arithmetic: who powers up when, which devices an outage takes, and when the
//! open-model arrivals fall. Pure functions of (seed, phase, device index, time), so the same
//! seed gives the same schedule and nothing is stored per device or per arrival in advance.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

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
    /// Value changes and reboots at rates per device per second (simulated time).
    Churn {
        value_changes_per_s: f64,
        reboots_per_s: f64,
        parameter: Option<String>,
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
        }
    }
}

pub use crate::model::generate::mix;

/// A uniform number in [0, 1) for (seed, stream, index): independent per phase (stream) and
/// device (index), identical across runs with the same seed.
pub fn unit(seed: u64, stream: u64, index: u64) -> f64 {
    let h = mix(mix(seed ^ mix(stream)) ^ index);
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether device `index` is in the `share` a phase selects.
pub fn selected(seed: u64, stream: u64, index: u64, share: f64) -> bool {
    share >= 1.0 || unit(seed, stream, index) < share
}

/// Offset of device `index` within a spread of length `over`.
pub fn spread(seed: u64, stream: u64, index: u64, over: Duration) -> Duration {
    over.mul_f64(unit(seed, stream ^ 0x5EED, index))
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

/// A seeded device picker for open-model arrivals: uniform over `0..devices`.
pub fn picker(seed: u64, phase: u64) -> SmallRng {
    SmallRng::seed_from_u64(mix(seed ^ mix(phase) ^ 0x9107))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_uniform_and_reproducible() {
        let n = 100_000u64;
        let mean: f64 = (0..n).map(|i| unit(7, 1, i)).sum::<f64>() / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert_eq!(unit(7, 1, 42), unit(7, 1, 42));
        assert_ne!(unit(7, 1, 42), unit(8, 1, 42));
        assert_ne!(unit(7, 1, 42), unit(7, 2, 42));
        let picked = (0..n).filter(|&i| selected(7, 3, i, 0.25)).count() as f64 / n as f64;
        assert!((picked - 0.25).abs() < 0.01, "{picked}");
    }

    #[test]
    fn spread_stays_within_and_covers() {
        let over = Duration::from_secs(10);
        let offs: Vec<Duration> = (0..10_000).map(|i| spread(1, 0, i, over)).collect();
        assert!(offs.iter().all(|d| *d < over));
        // Uniform ramp: about a tenth of the devices in each second.
        let first = offs.iter().filter(|d| d.as_secs() == 0).count();
        assert!((900..1100).contains(&first), "{first}");
    }

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
