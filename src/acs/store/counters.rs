//! Fleet-wide counters: atomics by fixed name, fault codes, event codes.

use super::*;

/// A fixed set of names, one atomic each, plus "other".
#[derive(Debug)]
pub(super) struct Named {
    pub(super) names: &'static [&'static str],
    pub(super) counts: Vec<AtomicU64>,
}

impl Named {
    pub(super) fn new(names: &'static [&'static str]) -> Self {
        Named {
            names,
            counts: (0..=names.len()).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    pub(super) fn add(&self, name: &str, n: u64) {
        let i = self
            .names
            .iter()
            .position(|x| *x == name)
            .unwrap_or(self.names.len());
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(n, Relaxed);
        }
    }

    pub(super) fn get(&self, name: &str) -> u64 {
        self.names
            .iter()
            .position(|x| *x == name)
            .and_then(|i| self.counts.get(i))
            .map_or(0, |c| c.load(Relaxed))
    }

    /// Non-zero counts only, so the JSON stays short.
    pub(super) fn snapshot(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for (i, c) in self.counts.iter().enumerate() {
            let v = c.load(Relaxed);
            if v > 0 {
                let name = self.names.get(i).copied().unwrap_or("other");
                m.insert(name.to_string(), v);
            }
        }
        m
    }
}

/// Distinct fault codes kept in the per-code counters; more are folded into code 0.
pub(super) const MAX_FAULT_CODES: usize = 256;

/// Fleet-wide counters.
#[derive(Debug)]
pub(super) struct Counters {
    pub(super) sessions_started: AtomicU64,
    pub(super) sessions_active: AtomicI64,
    pub(super) outcomes: Vec<AtomicU64>,
    pub(super) rpcs_sent: Named,
    pub(super) responses_ok: Named,
    pub(super) cpe_requests: Named,
    pub(super) cpe_faults: Mutex<BTreeMap<u32, u64>>,
    pub(super) acs_faults: Mutex<BTreeMap<u32, u64>>,
    pub(super) rejections: Named,
    pub(super) skipped: Named,
    pub(super) cr: Named,
    /// Connection requests sent, by transport ([`CrTransport::label`]).
    pub(super) cr_transport: Named,
    pub(super) downloads_sent: AtomicU64,
    pub(super) uploads_sent: AtomicU64,
    pub(super) transfer_complete_ok: AtomicU64,
    pub(super) transfer_complete_fault: AtomicU64,
    pub(super) wave_started: AtomicU64,
    pub(super) wave_succeeded: AtomicU64,
    pub(super) wave_failed: AtomicU64,
    pub(super) devices_dropped: AtomicU64,
    /// Events of the Informs answered with an InformResponse (TR-069 §3.7.1.5: delivered).
    pub(super) events: Named,
    /// Devices whose Informs carried `0 BOOTSTRAP` once, and those that carried it again.
    pub(super) devices_bootstrapped: AtomicU64,
    pub(super) devices_bootstrapped_again: AtomicU64,
}

/// The event codes of TR-069 Table 7 counted by name in `GET /status` "events"; any other
/// code (vendor `X ...`) counts as "other", so the set stays fixed.
pub(super) const EVENT_CODES: &[&str] = &[
    "0 BOOTSTRAP",
    "1 BOOT",
    "2 PERIODIC",
    "3 SCHEDULED",
    "4 VALUE CHANGE",
    "5 KICKED",
    "6 CONNECTION REQUEST",
    "7 TRANSFER COMPLETE",
    "8 DIAGNOSTICS COMPLETE",
    "9 REQUEST DOWNLOAD",
    "10 AUTONOMOUS TRANSFER COMPLETE",
    "11 DU STATE CHANGE COMPLETE",
    "12 AUTONOMOUS DU STATE CHANGE COMPLETE",
    "13 WAKEUP",
    "14 HEARTBEAT",
    "M Reboot",
    "M ScheduleInform",
    "M Download",
    "M ScheduleDownload",
    "M Upload",
    "M ChangeDUState",
];

pub(super) fn bump_code(m: &Mutex<BTreeMap<u32, u64>>, code: u32) {
    if let Ok(mut m) = m.lock() {
        let key = if m.len() >= MAX_FAULT_CODES && !m.contains_key(&code) {
            0
        } else {
            code
        };
        *m.entry(key).or_insert(0) += 1;
    }
}
