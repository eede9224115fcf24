//! Seeded dice: pure functions of (seed, stream, index) that give every random choice of a run
//! (generated values, boot spreads, outage shares, impairments, arrival pickers) without
//! storing anything per device, identical across runs, platforms and releases with the same
//! seed.

use std::time::Duration;

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

/// What a per-event seed is for: each choice draws from its own stream, so adding one kind of
/// choice never shifts another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// The jitter added to a periodic Inform.
    PeriodicJitter = 0x5045_5249_4f44,
    /// A session's impairments (resets, slow bodies, the WAN model).
    Impairments = 0x494d_5041_4952,
    /// The TR-069 §3.2.1.1 retry wait after a failed session.
    Retry = 0x0052_4554_5259,
    /// Which device an open-model arrival goes to (the "device" is the phase, the ordinal the
    /// arrival's number in it: one fleet-wide sequence, whatever the shard layout).
    Arrivals = 0x4152_5249_5645,
    /// The gaps of a device's churn value changes (ordinal: phase and change number).
    ValueChanges = 0x0056_414c_5545,
    /// The gaps of a device's churn reboots (ordinal: phase and reboot number).
    Reboots = 0x5245_424f_4f54,
    /// The gaps of a device's autonomous DU changes (ordinal: phase and change number).
    DuChanges = 0x4455_4348_4e47,
    /// Whether a transfer fails by the group's injected failure rate.
    Faults = 0x4641_554c_5453,
    /// The WAN legs of a file transfer's round trip (ordinal: as for [`Stream::Faults`]).
    Transfers = 0x5452_414e_5346,
    /// The WAN legs of a connection request, ACS to device and back.
    ConnectionRequest = 0x4352_5741_4e00,
}

/// The seed of one event of one device: a pure function of (run seed, stream, device, event
/// ordinal), never of a clock reading or of the order devices happened to run in.
pub fn event(seed: u64, stream: Stream, device: u64, ordinal: u64) -> u64 {
    mix(mix(mix(seed ^ mix(stream as u64)) ^ device) ^ ordinal)
}

/// [`event`] as a uniform number in [0, 1).
pub fn event_unit(seed: u64, stream: Stream, device: u64, ordinal: u64) -> f64 {
    (event(seed, stream, device, ordinal) >> 11) as f64 / (1u64 << 53) as f64
}

/// [`event`] as a uniform choice in `0..n` (the high half of a 64 × 32-bit product: no
/// modulo bias worth the name for `n` below 2³²).
pub fn event_below(seed: u64, stream: Stream, device: u64, ordinal: u64, n: u32) -> u32 {
    ((u128::from(event(seed, stream, device, ordinal)) * u128::from(n)) >> 64) as u32
}

/// An exponential(1) draw for (seed, stream, device, ordinal): the gap, in units of the mean,
/// between two events of a Poisson process.
pub fn event_exp(seed: u64, stream: Stream, device: u64, ordinal: u64) -> f64 {
    -(1.0 - event_unit(seed, stream, device, ordinal)).ln()
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
    fn event_seeds_differ_by_every_input_and_repeat() {
        let e = event(7, Stream::Retry, 3, 1);
        assert_eq!(e, event(7, Stream::Retry, 3, 1));
        for other in [
            event(8, Stream::Retry, 3, 1),
            event(7, Stream::Impairments, 3, 1),
            event(7, Stream::Retry, 4, 1),
            event(7, Stream::Retry, 3, 2),
        ] {
            assert_ne!(e, other);
        }
        let n = 100_000u64;
        let mean = (0..n)
            .map(|i| event_unit(1, Stream::PeriodicJitter, i % 100, i / 100))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
    }

    #[test]
    fn event_picks_are_uniform_and_exponential_gaps_have_mean_one() {
        let n = 100_000u64;
        let mut hits = [0u32; 10];
        for k in 0..n {
            let i = event_below(3, Stream::Arrivals, 1, k, 10);
            hits[i as usize] += 1;
        }
        assert!(hits.iter().all(|h| (9_500..10_500).contains(h)), "{hits:?}");
        assert_eq!(event_below(3, Stream::Arrivals, 1, 0, 1), 0);
        let mean = (0..n)
            .map(|k| event_exp(3, Stream::Reboots, 5, k))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 1.0).abs() < 0.02, "{mean}");
        assert!((0..n).all(|k| event_exp(3, Stream::Reboots, 5, k).is_finite()));
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
