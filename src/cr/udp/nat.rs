//! A simulated NAT in front of each device, pure: whether the public mapping a device holds
//! survived since its last STUN keep-alive, expired (idle longer than the mapping lifetime, so
//! the next packet gets a new port), or was changed by the network (an address or port change
//! at a seeded rate, as carrier-grade NATs and DHCP renewals do in the field). TR-111 Part 2:
//! the device learns of a change from its next Binding Response and reports it with
//! BINDING-CHANGE; the ACS learns of it from `UDPConnectionRequestAddress`.
//!
//! Nothing is stored per device: an event is a pure function of (seed, device, keep-alive
//! number, idle time), so a million devices cost no memory here.

use std::time::Duration;

use crate::seed;

/// The NAT's behaviour (a scenario group's `nat:` section).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NatSpec {
    /// An idle mapping is dropped after this long (typical home NATs: 30 s to 5 min for UDP).
    pub mapping_lifetime: Duration,
    /// Mapping changes per device per hour, independent of keep-alives (0 = never).
    pub changes_per_hour: f64,
    /// Public ports the NAT hands out to the fleet; a new mapping picks one. On one host these
    /// are real sockets of the shared listener, so a change is seen by the STUN server and the
    /// ACS alike.
    pub ports: u16,
}

impl Default for NatSpec {
    fn default() -> Self {
        NatSpec {
            mapping_lifetime: Duration::from_secs(120),
            changes_per_hour: 0.0,
            ports: 4,
        }
    }
}

/// What happened to a device's mapping between two keep-alives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatEvent {
    Kept,
    /// Idle past the mapping lifetime: a new mapping.
    Expired,
    /// The network moved the mapping.
    Changed,
}

impl NatEvent {
    pub fn label(self) -> &'static str {
        match self {
            NatEvent::Kept => "kept",
            NatEvent::Expired => "expired",
            NatEvent::Changed => "changed",
        }
    }
}

/// The model: a spec and the run's seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NatModel {
    pub spec: NatSpec,
    pub seed: u64,
}

const STREAM: u64 = 0x4E41_5400; // "NAT\0"

impl NatModel {
    pub fn new(spec: NatSpec, seed: u64) -> Self {
        NatModel { spec, seed }
    }

    /// The event for device `index` at its keep-alive number `seq`, `idle` after the previous
    /// one. A change is a Poisson arrival: probability 1 − e^(−rate·idle).
    pub fn step(&self, index: u32, seq: u32, idle: Duration) -> NatEvent {
        if idle > self.spec.mapping_lifetime {
            return NatEvent::Expired;
        }
        let rate = self.spec.changes_per_hour / 3600.0;
        let p = 1.0 - (-rate * idle.as_secs_f64()).exp();
        let key = (u64::from(index) << 32) | u64::from(seq);
        if rate > 0.0 && seed::unit(self.seed, STREAM, key) < p {
            NatEvent::Changed
        } else {
            NatEvent::Kept
        }
    }

    /// The public port (an index into the NAT's ports) of the first mapping of device `index`.
    pub fn first_slot(&self, index: u32) -> u16 {
        (seed::mix(self.seed ^ seed::mix(u64::from(index))) % u64::from(self.spec.ports.max(1)))
            as u16
    }

    /// The port of mapping number `epoch` of device `index`, which held `prev`: always another
    /// one when the NAT has two or more.
    pub fn next_slot(&self, index: u32, epoch: u32, prev: u16) -> u16 {
        let n = u64::from(self.spec.ports.max(1));
        if n == 1 {
            return 0;
        }
        let r = seed::mix(self.seed ^ seed::mix((u64::from(index) << 32) | u64::from(epoch)));
        ((u64::from(prev) + 1 + r % (n - 1)) % n) as u16
    }
}
