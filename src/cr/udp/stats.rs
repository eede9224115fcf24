//! Counts of the UDP side (the metrics exporter and the report read them): connection requests
//! received, accepted and rejected by reason; STUN requests, responses, binding changes and
//! keep-alive lag. Fixed-size atomics: no label is ever made from input.

use std::sync::atomic::{AtomicU64, Ordering};

use super::message::UdpCrReject;

#[derive(Debug, Default)]
pub struct UdpStats {
    pub received: AtomicU64,
    /// Valid and handed to the device (a `6 CONNECTION REQUEST` session follows).
    pub accepted: AtomicU64,
    rejected: [AtomicU64; UdpCrReject::ALL.len()],
    /// Binding Requests sent, retransmissions included.
    pub stun_requests: AtomicU64,
    /// Retransmissions of an unanswered request, and requests given up unanswered.
    pub stun_retransmits: AtomicU64,
    pub stun_timeouts: AtomicU64,
    pub stun_responses: AtomicU64,
    /// Error responses (e.g. 401 when the server wants integrity).
    pub stun_errors: AtomicU64,
    /// STUN datagrams that were not a response to one of ours.
    pub stun_stray: AtomicU64,
    /// Bindings reported to devices (a first one, or a change): `bindings - binding_changes`
    /// devices have learnt their public address.
    pub bindings: AtomicU64,
    pub binding_changes: AtomicU64,
    /// Keep-alives sent so late that more than STUNMaximumKeepAlivePeriod passed since the
    /// device's previous one (the lag ate the slack between its period and the maximum).
    pub keepalive_late: AtomicU64,
    /// Lag behind the due time: total and worst (ms) over every keep-alive sent.
    pub keepalive_lag_ms_sum: AtomicU64,
    pub keepalive_lag_ms_max: AtomicU64,
    /// Work dropped because a bounded queue was full.
    pub overflow: AtomicU64,
}

impl UdpStats {
    pub fn reject(&self, r: UdpCrReject) {
        self.rejected[r.slot()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn rejected(&self, r: UdpCrReject) -> u64 {
        self.rejected[r.slot()].load(Ordering::Relaxed)
    }

    pub fn rejected_total(&self) -> u64 {
        self.rejected
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// A keep-alive left `ms` after its due time; `late`: past the maximum period.
    pub fn lag(&self, ms: u64, late: bool) {
        if late {
            self.keepalive_late.fetch_add(1, Ordering::Relaxed);
        }
        if ms == 0 {
            return;
        }
        self.keepalive_lag_ms_sum.fetch_add(ms, Ordering::Relaxed);
        self.keepalive_lag_ms_max.fetch_max(ms, Ordering::Relaxed);
    }

    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}
