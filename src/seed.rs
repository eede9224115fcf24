//! Seeded dice: pure functions of (seed, stream, index) that give every random choice of a run
//! (generated values, boot spreads, outage shares, impairments, arrival pickers) without
//! storing anything per device, identical across runs, platforms and releases with the same
//! seed.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::SeedableRng;

/// splitmix64's finaliser: cheap, well mixed, and stable across platforms and releases (a
/// std hasher is not), which keeps a seed's fleet the same forever.
/// Also the basis of the data-model generators and the scenario planner's per-device choices.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

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

/// A seeded device picker for open-model arrivals: uniform over `0..devices`.
pub fn picker(seed: u64, phase: u64) -> SmallRng {
    SmallRng::seed_from_u64(mix(seed ^ mix(phase) ^ 0x9107))
}

/// FNV-1a (64-bit), fed piecewise: stable across platforms and releases, unlike std's hasher,
/// so salts, share buckets and fingerprints derived from it never change.
#[derive(Debug, Clone, Copy)]
pub struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv1a {
    /// Feeds `bytes`.
    pub fn write(mut self, bytes: &[u8]) -> Self {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    pub fn finish(self) -> u64 {
        self.0
    }
}

/// FNV-1a (64-bit) of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    Fnv1a::default().write(bytes).finish()
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
    fn fnv1a_matches_the_reference_vectors() {
        // From the FNV reference (draft-eastlake-fnv): "" and "a", 64-bit FNV-1a.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(
            Fnv1a::default().write(b"foo").write(b"bar").finish(),
            fnv1a(b"foobar")
        );
    }
}
