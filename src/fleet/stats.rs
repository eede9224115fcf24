//! What a shard counts and measures. Recorded where sessions end, in the shard's own task
//! (no channel message per request — goose measured its parent spending 80 % of its time on
//! that); shards' figures are merged exactly at the end, and live totals are atomics.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

/// Microsecond histograms, 3 significant digits, up to an hour.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(|_| {
        Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant figures is valid"))
    })
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = (d.as_micros() as u64).clamp(1, h.high());
    // Saturating record: a value above the range is clamped, never an error.
    h.saturating_record(us);
}

/// One shard's account of its sessions.
#[derive(Debug, Clone)]
pub struct ShardStats {
    pub started: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Failures by label (a fixed set of labels).
    pub errors: BTreeMap<&'static str, u64>,
    /// Open-model arrivals that could not start on time (queued behind the session cap).
    pub late: u64,
    /// Arrivals dropped because the device was busy or off.
    pub dropped: u64,
    /// Events sent, by code.
    pub events: BTreeMap<String, u64>,
    pub session: Histogram<u64>,
    /// Session latency measured from the intended start (due time), coordinated omission
    /// corrected: session time plus schedule lag.
    pub session_intended: Histogram<u64>,
    pub lag: Histogram<u64>,
    pub connect: Histogram<u64>,
    pub exchanges: BTreeMap<&'static str, Histogram<u64>>,
    pub cr_to_inform: Histogram<u64>,
    /// Devices still holding rare per-device state when the run ended (retry and transfer
    /// timers, reboot keys, a pending CR). Idle devices hold none: this is what keeps an idle
    /// device at its slot's size (BENCHMARKS.md, memory).
    pub side_entries: u64,
}

impl Default for ShardStats {
    fn default() -> Self {
        ShardStats {
            started: 0,
            succeeded: 0,
            failed: 0,
            cancelled: 0,
            errors: BTreeMap::new(),
            late: 0,
            dropped: 0,
            events: BTreeMap::new(),
            session: histogram(),
            session_intended: histogram(),
            lag: histogram(),
            connect: histogram(),
            exchanges: BTreeMap::new(),
            cr_to_inform: histogram(),
            side_entries: 0,
        }
    }
}

impl ShardStats {
    pub fn record_session(&mut self, total: Duration, lag: Duration) {
        record(&mut self.session, total);
        record(&mut self.session_intended, total + lag);
    }
    pub fn record_lag(&mut self, lag: Duration) {
        record(&mut self.lag, lag);
    }
    pub fn record_connect(&mut self, d: Duration) {
        record(&mut self.connect, d);
    }
    pub fn record_exchange(&mut self, name: &'static str, d: Duration) {
        record(self.exchanges.entry(name).or_insert_with(histogram), d);
    }
    pub fn record_cr_to_inform(&mut self, d: Duration) {
        record(&mut self.cr_to_inform, d);
    }
    pub fn error(&mut self, label: &'static str) {
        *self.errors.entry(label).or_default() += 1;
    }

    /// Adds another shard's figures (exact: histograms add bucket by bucket).
    pub fn merge(&mut self, o: &ShardStats) {
        self.started += o.started;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.cancelled += o.cancelled;
        self.late += o.late;
        self.dropped += o.dropped;
        self.side_entries += o.side_entries;
        for (k, v) in &o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in &o.events {
            *self.events.entry(k.clone()).or_default() += v;
        }
        let _ = self.session.add(&o.session);
        let _ = self.session_intended.add(&o.session_intended);
        let _ = self.lag.add(&o.lag);
        let _ = self.connect.add(&o.connect);
        let _ = self.cr_to_inform.add(&o.cr_to_inform);
        for (k, h) in &o.exchanges {
            let _ = self.exchanges.entry(k).or_insert_with(histogram).add(h);
        }
    }
}

/// Live totals every shard updates, for progress lines and gauges.
#[derive(Debug, Default)]
pub struct Live {
    pub started: AtomicU64,
    pub finished: AtomicU64,
    pub failed: AtomicU64,
    pub in_flight: AtomicU64,
    pub online: AtomicU64,
}

impl Live {
    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_two_halves_equals_the_whole() {
        let mut whole = ShardStats::default();
        let mut a = ShardStats::default();
        let mut b = ShardStats::default();
        for i in 1..=1000u64 {
            let d = Duration::from_micros(i * 37);
            whole.record_session(d, Duration::ZERO);
            whole.record_exchange("Inform", d);
            let half = if i % 2 == 0 { &mut a } else { &mut b };
            half.record_session(d, Duration::ZERO);
            half.record_exchange("Inform", d);
            half.started += 1;
            whole.started += 1;
        }
        a.error("http_503");
        whole.error("http_503");
        a.merge(&b);
        assert_eq!(a.started, whole.started);
        assert_eq!(a.errors, whole.errors);
        assert_eq!(a.session, whole.session);
        assert_eq!(a.exchanges["Inform"], whole.exchanges["Inform"]);
        assert_eq!(
            a.session.value_at_quantile(0.99),
            whole.session.value_at_quantile(0.99)
        );
    }

    #[test]
    fn out_of_range_values_are_clamped_not_lost() {
        let mut s = ShardStats::default();
        s.record_session(Duration::from_secs(10 * 3600), Duration::ZERO);
        s.record_session(Duration::ZERO, Duration::ZERO);
        assert_eq!(s.session.len(), 2);
    }
}
