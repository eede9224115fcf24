//! The TR-069 session retry wait (TR-069 §3.2.1.1), pure.
//!
//! After the n-th consecutive failed session the CPE waits a uniformly random time in
//! `[m·c^(n−1), m·c^n]` seconds, where m = CWMPRetryMinimumWaitInterval (default 5) and
//! c = CWMPRetryIntervalMultiplier / 1000 (default 2000 → 2.0); from the 10th retry on the range
//! stays at its maximum. Randomness de-synchronises a fleet that failed together (a boot storm
//! against a dead ACS must not come back as one wave), and it is drawn from the caller's seeded
//! RNG so a run is reproducible.

use rand::Rng;

/// Retry parameters as the data model holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// CWMPRetryMinimumWaitInterval, seconds (1..=65535).
    pub min_wait_s: u32,
    /// CWMPRetryIntervalMultiplier, thousandths (1000..=65535).
    pub multiplier: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            min_wait_s: 5,
            multiplier: 2000,
        }
    }
}

impl RetryPolicy {
    /// Clamps to the ranges the data model allows, so an ACS that writes nonsense cannot make a
    /// device retry in a tight loop.
    pub fn new(min_wait_s: u32, multiplier: u32) -> Self {
        RetryPolicy {
            min_wait_s: min_wait_s.clamp(1, 65535),
            multiplier: multiplier.clamp(1000, 65535),
        }
    }

    /// The wait range in milliseconds after `failures` consecutive failures (≥ 1).
    pub fn range_ms(&self, failures: u32) -> (u64, u64) {
        let n = failures.clamp(1, 10) as i32;
        let m = self.min_wait_s as f64 * 1000.0;
        let c = self.multiplier as f64 / 1000.0;
        let lo = m * c.powi(n - 1);
        let hi = m * c.powi(n);
        (lo.round() as u64, hi.round() as u64)
    }

    /// A wait drawn uniformly from the range.
    pub fn wait_ms<R: Rng + ?Sized>(&self, failures: u32, rng: &mut R) -> u64 {
        let (lo, hi) = self.range_ms(failures);
        if hi <= lo {
            return lo;
        }
        rng.random_range(lo..=hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn default_table_matches_the_spec() {
        let p = RetryPolicy::default();
        let expect = [
            (5, 10),
            (10, 20),
            (20, 40),
            (40, 80),
            (80, 160),
            (160, 320),
            (320, 640),
            (640, 1280),
            (1280, 2560),
            (2560, 5120),
        ];
        for (i, (lo, hi)) in expect.iter().enumerate() {
            assert_eq!(
                p.range_ms(i as u32 + 1),
                (lo * 1000, hi * 1000),
                "retry {}",
                i + 1
            );
        }
        // The 10th and later retries keep the maximum range.
        assert_eq!(p.range_ms(11), (2_560_000, 5_120_000));
        assert_eq!(p.range_ms(1000), (2_560_000, 5_120_000));
    }

    #[test]
    fn waits_are_uniform_within_range_and_reproducible() {
        let p = RetryPolicy::new(30, 1500);
        let mut a = SmallRng::seed_from_u64(7);
        let mut b = SmallRng::seed_from_u64(7);
        for n in 1..=12 {
            let (lo, hi) = p.range_ms(n);
            let w = p.wait_ms(n, &mut a);
            assert!(lo <= w && w <= hi, "retry {n}: {w} not in {lo}..={hi}");
            assert_eq!(w, p.wait_ms(n, &mut b));
        }
        // Spread: 1000 draws of the first retry cover most of [m, m·c].
        let mut r = SmallRng::seed_from_u64(1);
        let draws: Vec<u64> = (0..1000).map(|_| p.wait_ms(1, &mut r)).collect();
        let (min, max) = (draws.iter().min().unwrap(), draws.iter().max().unwrap());
        assert!(*min < 31_000 && *max > 44_000, "{min}..{max}");
    }

    #[test]
    fn nonsense_parameters_are_clamped() {
        let p = RetryPolicy::new(0, 10);
        assert_eq!(p.range_ms(1), (1000, 1000));
        assert_eq!(p.range_ms(0), (1000, 1000));
    }
}
