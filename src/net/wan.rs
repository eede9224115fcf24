//! The WAN between a device and the ACS, as a pure model (no I/O, no clock): how long each leg
//! of each exchange takes — a one-way delay with jitter, packet-loss-like stalls, and a bandwidth
//! cap on the bytes carried. Every draw is a function of (session seed, leg number, direction),
//! so a run is reproducible; `session::wan` sleeps what this says.
//!
//! A lost packet on TCP costs a retransmission timeout, and a retransmission lost again doubles
//! it (RFC 6298 §5.5): a leg stalls with probability `loss`, then again with the same
//! probability, up to [`MAX_STALLS`] times. Network time is wall-clock time: a WAN delay is
//! never divided by the scenario's time scale, unlike a device timer.

use std::time::Duration;

use crate::seed;

/// Most consecutive stalls of one leg (with the RTO doubling: 1+2+4+8+16+32 = 63 RTOs).
pub const MAX_STALLS: u32 = 6;

/// A group's WAN.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct WanModel {
    /// One-way delay, each direction of each exchange.
    pub delay: Duration,
    /// Up to this much more per leg, drawn uniformly.
    pub jitter: Duration,
    /// Probability that a leg loses a packet (and waits a retransmission timeout).
    pub loss: f64,
    /// The retransmission timeout of a first loss (doubling on each loss in a row).
    pub rto: Duration,
    /// Bytes per second; `None` = unlimited.
    pub bandwidth: Option<u64>,
}

/// Which way a leg goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Device to ACS (a request, a TCP SYN, an upload).
    Up,
    /// ACS to device (a response, a download).
    Down,
}

impl Direction {
    /// The fixed metric label.
    pub fn label(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// How the ACS is unreachable during an `acs_outage` phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutageMode {
    /// Connections refused at once (the ACS host up, its service down).
    Refused,
    /// Nothing answers: a connection attempt hangs until its timeout.
    Blackhole,
}

impl OutageMode {
    /// The fixed metric label.
    pub fn label(self) -> &'static str {
        match self {
            OutageMode::Refused => "acs_outage_refused",
            OutageMode::Blackhole => "acs_outage_blackhole",
        }
    }
}

/// One leg's time and how many stalls it had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Leg {
    pub time: Duration,
    pub stalls: u32,
}

impl WanModel {
    /// No WAN at all: nothing to wait for.
    pub fn is_none(&self) -> bool {
        self.delay.is_zero()
            && self.jitter.is_zero()
            && self.loss <= 0.0
            && self.bandwidth.is_none()
    }

    /// Leg `n` of a session (counted by the caller) in direction `dir`, carrying `bytes`.
    pub fn leg(&self, session_seed: u64, n: u32, dir: Direction, bytes: u64) -> Leg {
        let stream = |k: u64| (k << 1) | u64::from(dir == Direction::Down);
        let draw = |k: u64| seed::unit(session_seed, stream(k), u64::from(n));
        let mut time = self.delay + self.jitter.mul_f64(draw(0));
        let mut stalls = 0;
        let mut rto = self.rto;
        while stalls < MAX_STALLS && self.loss > 0.0 && draw(1 + u64::from(stalls)) < self.loss {
            time += rto;
            rto *= 2;
            stalls += 1;
        }
        Leg {
            time: time + self.carry(bytes),
            stalls,
        }
    }

    /// How long `bytes` take at the bandwidth cap (zero without one).
    pub fn carry(&self, bytes: u64) -> Duration {
        match self.bandwidth {
            Some(bps) if bps > 0 => Duration::from_secs_f64(bytes as f64 / bps as f64),
            _ => Duration::ZERO,
        }
    }
}

/// One line for `cpefleet check`: "15.0ms one way + up to 10.0ms jitter, 0.5% loss (RTO 1.00s),
/// 16.0 Mbit/s".
impl std::fmt::Display for WanModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_none() {
            return f.write_str("none");
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        write!(f, "{:.1}ms one way", ms(self.delay))?;
        if !self.jitter.is_zero() {
            write!(f, " + up to {:.1}ms jitter", ms(self.jitter))?;
        }
        if self.loss > 0.0 {
            write!(
                f,
                ", {}% loss (RTO {:.0}ms)",
                self.loss * 100.0,
                ms(self.rto)
            )?;
        }
        match self.bandwidth {
            Some(bps) => write!(f, ", {:.1} Mbit/s", bps as f64 * 8.0 / 1e6),
            None => f.write_str(", no bandwidth cap"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wan() -> WanModel {
        WanModel {
            delay: Duration::from_millis(40),
            jitter: Duration::from_millis(20),
            loss: 0.1,
            rto: Duration::from_secs(1),
            bandwidth: Some(1_000_000),
        }
    }

    #[test]
    fn no_wan_costs_nothing() {
        let w = WanModel::default();
        assert!(w.is_none());
        assert_eq!(w.to_string(), "none");
        assert_eq!(
            wan().to_string(),
            "40.0ms one way + up to 20.0ms jitter, 10% loss (RTO 1000ms), 8.0 Mbit/s"
        );
        assert_eq!(w.leg(1, 1, Direction::Up, 10_000), Leg::default());
    }

    #[test]
    fn legs_are_delay_plus_jitter_plus_carry_and_repeat_with_the_seed() {
        let w = WanModel { loss: 0.0, ..wan() };
        for n in 0..1000 {
            let l = w.leg(7, n, Direction::Down, 50_000);
            // 50 kB at 1 MB/s: 50 ms on top of 40..60 ms.
            assert!(l.time >= Duration::from_millis(90) && l.time <= Duration::from_millis(110));
            assert_eq!(l, w.leg(7, n, Direction::Down, 50_000));
        }
        assert_ne!(
            w.leg(7, 1, Direction::Up, 0),
            w.leg(7, 1, Direction::Down, 0),
            "the two directions draw apart"
        );
        assert_ne!(w.leg(7, 1, Direction::Up, 0), w.leg(8, 1, Direction::Up, 0));
    }

    #[test]
    fn loss_stalls_at_its_rate_with_doubling_timeouts() {
        let w = wan();
        let n = 20_000u32;
        let legs: Vec<Leg> = (0..n).map(|i| w.leg(3, i, Direction::Up, 0)).collect();
        let stalled = legs.iter().filter(|l| l.stalls > 0).count() as f64 / f64::from(n);
        assert!((stalled - 0.1).abs() < 0.01, "{stalled}");
        // Two losses in a row: about 1 % of legs, each 1 s + 2 s of timeouts.
        let twice: Vec<&Leg> = legs.iter().filter(|l| l.stalls == 2).collect();
        assert!((100..300).contains(&twice.len()), "{}", twice.len());
        assert!(twice
            .iter()
            .all(|l| l.time >= Duration::from_secs(3) && l.time < Duration::from_millis(3061)));
        let all_lost = WanModel { loss: 1.0, ..w }.leg(3, 0, Direction::Up, 0);
        assert_eq!(all_lost.stalls, MAX_STALLS, "bounded");
    }
}
