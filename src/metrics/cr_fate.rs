//! What became of each connection request a device accepted, by transport, so that a report
//! accounts for every one: the listener counts what it received and accepted (HTTP 200, or a
//! UDP datagram that passed TR-069 Annex G's checks); the device's shard then counts each
//! accepted request exactly once here.
//!
//! - `sessions`: it made the device due and a session with `6 CONNECTION REQUEST` began;
//! - `merged`: another request was already pending for the device, and the one session
//!   answers both (TR-069 §3.2.2: the CPE need not open a session per request);
//! - `device_off`: the device was off or rebooting (or went off before its session);
//! - `unserved`: still pending when the run ended.
//!
//! So `accepted = sessions + merged + device_off + unserved` per transport.

use crate::cr::CrTransport;

/// One request's fate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrFate {
    Session,
    Merged,
    DeviceOff,
    Unserved,
}

impl CrFate {
    pub const ALL: [CrFate; 4] = [
        CrFate::Session,
        CrFate::Merged,
        CrFate::DeviceOff,
        CrFate::Unserved,
    ];

    /// The fixed report key.
    pub fn label(self) -> &'static str {
        match self {
            CrFate::Session => "sessions",
            CrFate::Merged => "merged",
            CrFate::DeviceOff => "device_off",
            CrFate::Unserved => "unserved",
        }
    }
}

/// Counts by transport and fate (a fixed array: no heap, merged by addition).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrFates {
    counts: [[u64; CrFate::ALL.len()]; CrTransport::ALL.len()],
}

impl CrFates {
    pub fn count(&mut self, via: CrTransport, fate: CrFate) {
        self.counts[via.slot()][fate as usize] += 1;
    }

    pub fn get(&self, via: CrTransport, fate: CrFate) -> u64 {
        self.counts[via.slot()][fate as usize]
    }

    /// Every accepted request of `via` that reached a device.
    pub fn total(&self, via: CrTransport) -> u64 {
        self.counts[via.slot()].iter().sum()
    }

    pub fn merge(&mut self, o: &CrFates) {
        for (mine, theirs) in self.counts.iter_mut().zip(&o.counts) {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fates_count_per_transport_and_merge() {
        let mut a = CrFates::default();
        a.count(CrTransport::Udp, CrFate::Session);
        a.count(CrTransport::Udp, CrFate::Merged);
        a.count(CrTransport::Http, CrFate::Unserved);
        let mut b = a;
        b.merge(&a);
        assert_eq!(b.get(CrTransport::Udp, CrFate::Session), 2);
        assert_eq!(b.total(CrTransport::Udp), 4);
        assert_eq!(b.total(CrTransport::Xmpp), 0);
        let labels: Vec<_> = CrFate::ALL.iter().map(|f| f.label()).collect();
        assert_eq!(labels, ["sessions", "merged", "device_off", "unserved"]);
    }
}
