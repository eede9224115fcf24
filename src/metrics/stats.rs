//! What a shard counts and measures. Recorded where sessions end, in the shard's own task
//! (no channel message per request — goose measured its parent spending 80 % of its time on
//! that); shards' figures are merged exactly at the end, and live totals are atomics.
//!
//! Every latency that starts from a schedule (a periodic inform's due time, an open-model
//! arrival, a retry's due time, a connection request's arrival) is recorded twice: as the
//! session measured it, and from the intended start. The difference is coordinated omission
//! made visible: a saturated simulator or a stalled ACS delays sessions, and only the second
//! figure shows what a device waiting on its schedule experienced.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::cr::CrStats;
use crate::metrics::handles::ShardMetrics;
use crate::metrics::timeline::Timeline;
use crate::session::{Exchange, SessionError, SessionReport};

/// Microsecond histograms, 3 significant digits, up to an hour.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).unwrap_or_else(|_| {
        Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant figures is valid"))
    })
}

/// Records a duration in µs; a value above the range is clamped, never an error or lost.
pub fn record(h: &mut Histogram<u64>, d: Duration) {
    let us = (d.as_micros().min(u128::from(u64::MAX)) as u64).clamp(1, h.high().max(1));
    h.saturating_record(us);
}

/// ACS RPCs the CPE answered, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RpcCount {
    pub ok: u64,
    pub fault: u64,
}

/// How one session ended, as the shard saw it (everything [`ShardStats::record_end`] needs).
pub struct SessionEnd<'a> {
    pub report: &'a SessionReport,
    /// Index and name of the device's group (a Prometheus label: a fixed, configured set).
    pub group: u16,
    pub group_name: &'a str,
    /// When the session ended, ms since the fleet started.
    pub at_ms: u64,
    /// From the intended start (due time) to the end; `None` when the session was drained and
    /// its schedule no longer matters.
    pub from_due: Option<Duration>,
    /// From the connection request's arrival to the Inform going out, for CR sessions that
    /// sent their Inform.
    pub cr_to_inform: Option<Duration>,
    /// Faults the CPE answered ACS requests with: (RPC name, fault code).
    pub faults: &'a [(&'static str, u32)],
}

/// Local value changes (churn) by their notification attribute (TR-069 §3.2.1): active ones
/// are delivered in their own `4 VALUE CHANGE` Inform, passive ones with the next Inform, and
/// those with notification off are never reported to the ACS.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValueChanges {
    pub active: u64,
    pub passive: u64,
    pub not_notified: u64,
}

impl ValueChanges {
    pub fn add(&mut self, o: &ValueChanges) {
        self.active += o.active;
        self.passive += o.passive;
        self.not_notified += o.not_notified;
    }

    pub fn total(&self) -> u64 {
        self.active + self.passive + self.not_notified
    }
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
    /// Most devices waiting for a session slot at once (behind the session cap).
    pub late: u64,
    /// Arrivals dropped because the device was busy or off.
    pub dropped: u64,
    /// Local value changes by how they are notified.
    pub value_changes: ValueChanges,
    /// Events sent, by code.
    pub events: BTreeMap<String, u64>,
    /// Faults by code: the CPE's answers to ACS requests, and the ACS's answers to the Inform.
    pub faults: BTreeMap<u32, u64>,
    /// RPCs by name: ACS requests the CPE answered (ok or fault) and CPE requests the ACS
    /// answered.
    pub rpcs: BTreeMap<&'static str, RpcCount>,
    /// Whole session as measured by the session (connect to end).
    pub session: Histogram<u64>,
    /// Session latency measured from the intended start (due time), coordinated omission
    /// corrected: schedule lag, impairments and session time.
    pub session_intended: Histogram<u64>,
    /// Due time → session start (= simulator lag + slot wait).
    pub lag: Histogram<u64>,
    /// Due time → the shard put the device in its ready queue: the simulator's own lateness.
    pub sim_lag: Histogram<u64>,
    /// Ready queue → session start: the wait for a session slot (`max_sessions` or, when
    /// sessions are slow, the ACS is the limit).
    pub slot_wait: Histogram<u64>,
    /// When the first session ended with the ACS's 503 (ms since the start).
    pub first_503_ms: Option<u64>,
    pub connect: Histogram<u64>,
    pub tls: Histogram<u64>,
    pub auth_challenge: Histogram<u64>,
    /// Exchanges by [`Exchange::label`]: Inform, EmptyPost, RPC names.
    pub exchanges: BTreeMap<&'static str, Histogram<u64>>,
    /// Connection request received → Inform sent.
    pub cr_to_inform: Histogram<u64>,
    /// Protocol checks on every ACS message (pass/fail per check; a fixed array, no heap).
    pub checks: crate::session::checks::CheckCounts,
    /// Whole session, per device group.
    pub groups: BTreeMap<String, Histogram<u64>>,
    /// Per-interval counts and latencies over the run (bounded).
    pub timeline: Timeline,
    /// Prometheus handles (no-ops unless the exporter is installed); not merged.
    pub prom: ShardMetrics,
    /// Devices this shard last published as queued (the live gauge is a sum of deltas).
    queued_published: u64,
    /// Session latencies not yet handed to the live window, and when they last were.
    window: Histogram<u64>,
    window_flushed_ms: u64,
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
            value_changes: Default::default(),
            events: BTreeMap::new(),
            faults: BTreeMap::new(),
            rpcs: BTreeMap::new(),
            session: histogram(),
            session_intended: histogram(),
            lag: histogram(),
            sim_lag: histogram(),
            slot_wait: histogram(),
            first_503_ms: None,
            connect: histogram(),
            tls: histogram(),
            auth_challenge: histogram(),
            exchanges: BTreeMap::new(),
            cr_to_inform: histogram(),
            checks: Default::default(),
            groups: BTreeMap::new(),
            timeline: Timeline::default(),
            prom: ShardMetrics::new(),
            queued_published: 0,
            window: histogram(),
            window_flushed_ms: 0,
            side_entries: 0,
        }
    }
}

/// How often a shard hands its recent session latencies to the live window (one lock per
/// shard per interval, never per session).
const WINDOW_FLUSH_MS: u64 = 500;

impl ShardStats {
    /// A session starts: `lag` is its wait since the due time, `events` its Inform's events.
    /// `lag` splits into the simulator's lateness (due → queued) and the wait for a slot.
    pub fn record_start<'e>(
        &mut self,
        at_ms: u64,
        lag: Duration,
        sim_lag: Duration,
        events: impl IntoIterator<Item = &'e str>,
        live: &Live,
    ) {
        self.started += 1;
        record(&mut self.lag, lag);
        record(&mut self.sim_lag, sim_lag);
        record(&mut self.slot_wait, lag.saturating_sub(sim_lag));
        self.prom.lag(lag);
        self.timeline.started(at_ms);
        for e in events {
            match self.events.get_mut(e) {
                Some(n) => *n += 1,
                None => {
                    self.events.insert(e.to_string(), 1);
                }
            }
            self.prom.event(e);
        }
        live.started.fetch_add(1, Ordering::Relaxed);
        live.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A session ends: its outcome, phases, exchanges, RPCs and faults.
    pub fn record_end(&mut self, end: &SessionEnd<'_>, live: &Live) {
        let r = end.report;
        let t = &r.timings;
        let outcome = match &r.outcome {
            Ok(()) => {
                self.succeeded += 1;
                "succeeded"
            }
            Err(SessionError::Cancelled) => {
                self.cancelled += 1;
                "cancelled"
            }
            Err(e) => {
                self.failed += 1;
                self.error(e.label());
                if matches!(e, SessionError::Overloaded { .. }) {
                    self.first_503_ms =
                        Some(self.first_503_ms.map_or(end.at_ms, |t| t.min(end.at_ms)));
                }
                live.failed.fetch_add(1, Ordering::Relaxed);
                if let SessionError::InformFault(code) = e {
                    self.fault(*code);
                }
                "failed"
            }
        };
        live.finished.fetch_add(1, Ordering::Relaxed);
        live.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.prom.session(end.group, end.group_name, outcome);

        record(&mut self.session, t.total);
        match self.groups.get_mut(end.group_name) {
            Some(h) => record(h, t.total),
            None => {
                let mut h = histogram();
                record(&mut h, t.total);
                self.groups.insert(end.group_name.to_string(), h);
            }
        }
        // A drained session has no schedule left to honour: its corrected figure is its own.
        let from_due = end.from_due.unwrap_or(t.total).max(t.total);
        record(&mut self.session_intended, from_due);
        self.prom
            .session_time(end.group, end.group_name, t.total, from_due);
        self.timeline
            .finished(end.at_ms, outcome == "failed", t.total, from_due);
        record(&mut self.window, t.total);
        if end.at_ms >= self.window_flushed_ms + WINDOW_FLUSH_MS {
            self.window_flushed_ms = end.at_ms;
            let mut w = live.window.lock().unwrap_or_else(PoisonError::into_inner);
            let _ = w.add(&self.window);
            drop(w);
            self.window.reset();
        }

        for (h, d, phase) in [
            (&mut self.connect, t.connect, "tcp_connect"),
            (&mut self.tls, t.tls, "tls_handshake"),
            (&mut self.auth_challenge, t.auth_challenge, "auth_challenge"),
        ] {
            if let Some(d) = d {
                record(h, d);
                self.prom.phase(phase, d);
            }
        }
        // The Inform is an RPC too: answered, or faulted by the ACS.
        let inform = match &r.outcome {
            Err(SessionError::InformFault(_)) => Some("fault"),
            _ if r.inform_acknowledged => Some("ok"),
            _ => None,
        };
        if let Some(outcome) = inform {
            let c = self.rpcs.entry("Inform").or_default();
            if outcome == "ok" {
                c.ok += 1;
            } else {
                c.fault += 1;
            }
            self.prom.rpc("Inform", outcome);
        }
        for (x, d) in &t.exchanges {
            let name = x.label();
            record(self.exchanges.entry(name).or_insert_with(histogram), *d);
            self.prom.rpc_time(name, *d);
            if let Exchange::CpeRequest(n) = x {
                self.rpcs.entry(n).or_default().ok += 1;
                self.prom.rpc(n, "ok");
            }
        }
        // Each fault answers one request of its name; the rest of them were answered.
        let mut faulted: Vec<&'static str> = end.faults.iter().map(|(n, _)| *n).collect();
        for name in &r.acs_requests {
            let c = self.rpcs.entry(name).or_default();
            let outcome = match faulted.iter().position(|n| n == name) {
                Some(i) => {
                    faulted.swap_remove(i);
                    c.fault += 1;
                    "fault"
                }
                None => {
                    c.ok += 1;
                    "ok"
                }
            };
            self.prom.rpc(name, outcome);
        }
        for (_, code) in end.faults {
            self.fault(*code);
        }
        if let Some(d) = end.cr_to_inform {
            record(&mut self.cr_to_inform, d);
            self.prom.cr_to_inform(d);
        }
    }

    /// A session task that never returned a report: aborted at the end of the grace period
    /// (cancelled) or panicked (a bug, counted loudly as a failure).
    pub fn record_lost(&mut self, cancelled: bool, at_ms: u64, live: &Live) {
        if cancelled {
            self.cancelled += 1;
        } else {
            self.failed += 1;
            self.error("panic");
            live.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.timeline.lost(at_ms, !cancelled);
        self.prom
            .lost(if cancelled { "cancelled" } else { "failed" });
        live.finished.fetch_add(1, Ordering::Relaxed);
        live.in_flight.fetch_sub(1, Ordering::Relaxed);
    }

    /// Publishes how many devices wait for a session slot (live gauge), and keeps the peak.
    pub fn record_queued(&mut self, queued: usize, live: &Live) {
        let q = queued as u64;
        self.late = self.late.max(q);
        if q >= self.queued_published {
            live.queued
                .fetch_add(q - self.queued_published, Ordering::Relaxed);
        } else {
            live.queued
                .fetch_sub(self.queued_published - q, Ordering::Relaxed);
        }
        self.queued_published = q;
    }

    pub fn error(&mut self, label: &'static str) {
        *self.errors.entry(label).or_default() += 1;
        self.prom.error(label);
    }
    fn fault(&mut self, code: u32) {
        *self.faults.entry(code).or_default() += 1;
        self.prom.fault(code);
    }

    /// Every latency histogram by the name the report and `thresholds:` use for it.
    pub fn latencies(&self) -> Vec<(String, &Histogram<u64>)> {
        let mut v: Vec<(String, &Histogram<u64>)> = vec![
            ("session".into(), &self.session),
            ("session_from_intended_start".into(), &self.session_intended),
            ("schedule_lag".into(), &self.lag),
            ("simulator_lag".into(), &self.sim_lag),
            ("slot_wait".into(), &self.slot_wait),
            ("tcp_connect".into(), &self.connect),
            ("tls_handshake".into(), &self.tls),
            ("auth_challenge".into(), &self.auth_challenge),
            ("cr_to_inform".into(), &self.cr_to_inform),
        ];
        for (k, h) in &self.exchanges {
            let name = match *k {
                "Inform" => "inform".to_string(),
                "EmptyPost" => "empty_post".to_string(),
                other => format!("rpc:{other}"),
            };
            v.push((name, h));
        }
        for (g, h) in &self.groups {
            v.push((format!("group:{g}"), h));
        }
        v
    }

    /// Adds another shard's figures (exact: histograms add bucket by bucket).
    pub fn merge(&mut self, o: &ShardStats) {
        self.started += o.started;
        self.succeeded += o.succeeded;
        self.failed += o.failed;
        self.cancelled += o.cancelled;
        self.late += o.late;
        self.dropped += o.dropped;
        self.value_changes.add(&o.value_changes);
        self.first_503_ms = match (self.first_503_ms, o.first_503_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.side_entries += o.side_entries;
        for (k, v) in &o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in &o.events {
            *self.events.entry(k.clone()).or_default() += v;
        }
        self.checks.merge(&o.checks);
        for (k, v) in &o.faults {
            *self.faults.entry(*k).or_default() += v;
        }
        for (k, v) in &o.rpcs {
            let c = self.rpcs.entry(k).or_default();
            c.ok += v.ok;
            c.fault += v.fault;
        }
        for (mine, theirs) in [
            (&mut self.session, &o.session),
            (&mut self.session_intended, &o.session_intended),
            (&mut self.lag, &o.lag),
            (&mut self.sim_lag, &o.sim_lag),
            (&mut self.slot_wait, &o.slot_wait),
            (&mut self.connect, &o.connect),
            (&mut self.tls, &o.tls),
            (&mut self.auth_challenge, &o.auth_challenge),
            (&mut self.cr_to_inform, &o.cr_to_inform),
        ] {
            let _ = mine.add(theirs);
        }
        for (k, h) in &o.exchanges {
            let _ = self.exchanges.entry(k).or_insert_with(histogram).add(h);
        }
        for (k, h) in &o.groups {
            let _ = self
                .groups
                .entry(k.clone())
                .or_insert_with(histogram)
                .add(h);
        }
        self.timeline.merge(&o.timeline);
    }
}

/// Live totals every shard updates, for progress lines and gauges.
#[derive(Debug)]
pub struct Live {
    pub started: AtomicU64,
    pub finished: AtomicU64,
    pub failed: AtomicU64,
    pub in_flight: AtomicU64,
    pub online: AtomicU64,
    /// Devices due and waiting for a session slot.
    pub queued: AtomicU64,
    /// Session latencies (µs) since the last reader took them: shards add theirs every
    /// [`WINDOW_FLUSH_MS`], the progress display swaps it out.
    pub window: Mutex<Histogram<u64>>,
    /// Connection-request results (the listener counts them; the exporter reads them).
    pub cr: Arc<CrStats>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            online: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            window: Mutex::new(histogram()),
            cr: Arc::new(CrStats::default()),
        }
    }
}

impl Live {
    pub fn get(v: &AtomicU64) -> u64 {
        v.load(Ordering::Relaxed)
    }

    /// Takes the session latencies recorded since the last call.
    pub fn take_window(&self) -> Histogram<u64> {
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let out = w.clone();
        w.reset();
        out
    }
}

/// The outcome of a run: the merged figures plus what the report says about the run itself.
#[derive(Debug)]
pub struct RunResult {
    pub stats: ShardStats,
    /// Time from the start of the run until every device was in its shard, scheduled.
    pub ready: Duration,
    pub devices: u64,
    pub elapsed: Duration,
    pub cr: Arc<CrStats>,
    pub cr_url_base: String,
    pub acs_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cwmp::CwmpVersion;
    use crate::session::Timings;

    fn report(total_ms: u64, outcome: Result<(), SessionError>) -> SessionReport {
        SessionReport {
            inform_acknowledged: outcome.is_ok(),
            outcome,
            timings: Timings {
                connect: Some(Duration::from_micros(300)),
                exchanges: vec![
                    (Exchange::Inform, Duration::from_millis(total_ms / 2)),
                    (
                        Exchange::AcsRpc("GetParameterValues"),
                        Duration::from_millis(total_ms / 4),
                    ),
                ],
                total: Duration::from_millis(total_ms),
                ..Timings::default()
            },
            version: CwmpVersion::V1_0,
            acs_requests: vec!["GetParameterValues"],
            connections: 1,
            checks: Default::default(),
            auth: None,
        }
    }

    fn end<'a>(r: &'a SessionReport, faults: &'a [(&'static str, u32)]) -> SessionEnd<'a> {
        SessionEnd {
            report: r,
            group: 0,
            group_name: "gw",
            at_ms: 1500,
            from_due: Some(r.timings.total + Duration::from_millis(100)),
            cr_to_inform: None,
            faults,
        }
    }

    #[test]
    fn a_session_end_records_outcome_phases_rpcs_and_faults() {
        let live = Live::default();
        let mut s = ShardStats::default();
        s.record_start(
            1000,
            Duration::from_millis(100),
            Duration::ZERO,
            ["1 BOOT"],
            &live,
        );
        let ok = report(40, Ok(()));
        s.record_end(&end(&ok, &[]), &live);
        s.record_start(
            1000,
            Duration::ZERO,
            Duration::ZERO,
            ["1 BOOT", "2 PERIODIC"],
            &live,
        );
        let faulted = report(80, Ok(()));
        s.record_end(&end(&faulted, &[("GetParameterValues", 9005)]), &live);
        s.record_start(1000, Duration::ZERO, Duration::ZERO, ["2 PERIODIC"], &live);
        let failed = report(20, Err(SessionError::Status(500)));
        s.record_end(&end(&failed, &[]), &live);

        assert_eq!((s.started, s.succeeded, s.failed), (3, 2, 1));
        assert_eq!(s.errors["http_5xx"], 1);
        assert_eq!(s.events["1 BOOT"], 2);
        assert_eq!(s.events["2 PERIODIC"], 2);
        assert_eq!(s.faults[&9005], 1);
        assert_eq!(s.rpcs["GetParameterValues"], RpcCount { ok: 2, fault: 1 });
        assert_eq!(s.rpcs["Inform"], RpcCount { ok: 2, fault: 0 });
        assert_eq!(s.session.len(), 3);
        assert_eq!(s.connect.len(), 3);
        assert!(s.tls.is_empty());
        assert_eq!(s.exchanges["Inform"].len(), 3);
        assert_eq!(s.groups["gw"].len(), 3);
        // From the due time: 100 ms more than the session itself, within 0.1 %.
        let d = s.session_intended.max() as f64 - s.session.max() as f64;
        assert!((d - 100_000.0).abs() < 200.0, "{d}");
        assert_eq!(Live::get(&live.in_flight), 0);
        assert_eq!(Live::get(&live.failed), 1);
        assert_eq!(s.timeline.total_started(), 3);
    }

    #[test]
    fn merging_two_halves_equals_the_whole() {
        let live = Live::default();
        let mut whole = ShardStats::default();
        let mut a = ShardStats::default();
        let mut b = ShardStats::default();
        for i in 1..=1000u64 {
            let r = report(i % 97 + 1, Ok(()));
            let e = SessionEnd {
                at_ms: i * 10,
                ..end(&r, &[])
            };
            whole.record_start(
                i * 10,
                Duration::from_millis(i % 7),
                Duration::ZERO,
                ["2 PERIODIC"],
                &live,
            );
            whole.record_end(&e, &live);
            let half = if i % 2 == 0 { &mut a } else { &mut b };
            half.record_start(
                i * 10,
                Duration::from_millis(i % 7),
                Duration::ZERO,
                ["2 PERIODIC"],
                &live,
            );
            half.record_end(&e, &live);
        }
        a.error("http_503");
        whole.error("http_503");
        a.merge(&b);
        assert_eq!(a.started, whole.started);
        assert_eq!(a.errors, whole.errors);
        assert_eq!(a.events, whole.events);
        assert_eq!(a.rpcs, whole.rpcs);
        assert_eq!(a.session, whole.session);
        assert_eq!(a.session_intended, whole.session_intended);
        assert_eq!(a.lag, whole.lag);
        assert_eq!(a.exchanges["Inform"], whole.exchanges["Inform"]);
        assert_eq!(a.groups["gw"], whole.groups["gw"]);
        assert_eq!(a.timeline, whole.timeline);
    }

    #[test]
    fn out_of_range_values_are_clamped_not_lost() {
        let mut h = histogram();
        record(&mut h, Duration::from_secs(10 * 3600));
        record(&mut h, Duration::ZERO);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn the_queued_gauge_follows_each_shard() {
        let live = Live::default();
        let (mut a, mut b) = (ShardStats::default(), ShardStats::default());
        a.record_queued(5, &live);
        b.record_queued(3, &live);
        a.record_queued(2, &live);
        assert_eq!(Live::get(&live.queued), 5);
        assert_eq!(a.late, 5, "the peak is kept");
        b.record_queued(0, &live);
        a.record_queued(0, &live);
        assert_eq!(Live::get(&live.queued), 0);
    }
}
