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
use crate::metrics::counts::Sessions;
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

/// RPCs answered, by outcome: a shard's count, and the report's (`rpcs` in its JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RpcCount {
    pub ok: u64,
    pub fault: u64,
}

impl RpcCount {
    pub fn add(&mut self, o: &RpcCount) {
        self.ok += o.ok;
        self.fault += o.fault;
    }
}

/// Adds `theirs` counts into `mine`, key by key (a shard's merge and a report's).
pub fn add_counts<K: Ord + Clone, V: Default + std::ops::AddAssign + Copy>(
    mine: &mut BTreeMap<K, V>,
    theirs: &BTreeMap<K, V>,
) {
    for (k, v) in theirs {
        *mine.entry(k.clone()).or_default() += *v;
    }
}

/// The earlier of two optional instants (when the first 503 came, over shards or runs).
pub fn earliest<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b < a { b } else { a }),
        (a, b) => a.or(b),
    }
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
    /// sent their Inform, and the transport the request came over.
    pub cr_to_inform: Option<(Duration, crate::cr::CrTransport)>,
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
    /// How sessions ended; `late`: most devices waiting for a session slot at once (behind
    /// the session cap); `dropped`: arrivals dropped because the device was busy or off.
    pub sessions: Sessions,
    /// Failures by label (a fixed set of labels).
    pub errors: BTreeMap<&'static str, u64>,
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
    /// The same by transport ([`crate::cr::CrTransport::slot`]); each one's count is the
    /// requests of that transport that led to a session.
    pub cr_to_inform_by: [Histogram<u64>; 3],
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
    /// WAN-model stalls (lost-packet waits) by direction: up, down.
    pub wan_stalls: [u64; 2],
    /// What became of the connection requests this shard's devices accepted.
    pub cr_fate: super::cr_fate::CrFates,
}

impl Default for ShardStats {
    fn default() -> Self {
        ShardStats {
            sessions: Sessions::default(),
            errors: BTreeMap::new(),
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
            cr_to_inform_by: [histogram(), histogram(), histogram()],
            checks: Default::default(),
            groups: BTreeMap::new(),
            timeline: Timeline::default(),
            prom: ShardMetrics::new(),
            queued_published: 0,
            window: histogram(),
            window_flushed_ms: 0,
            side_entries: 0,
            wan_stalls: [0; 2],
            cr_fate: Default::default(),
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
        self.sessions.started += 1;
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
        let outcome = self.count_outcome(end, live);
        self.record_times(end, live, outcome);
        self.record_rpcs(end);
        self.record_wan(&end.report.timings.wan);
        if let Some((d, via)) = end.cr_to_inform {
            record(&mut self.cr_to_inform, d);
            if let Some(h) = self.cr_to_inform_by.get_mut(via.slot()) {
                record(h, d);
            }
            self.prom.cr_to_inform(d, via);
        }
    }

    /// What the WAN model did to a session: its stalls, by direction.
    fn record_wan(&mut self, wan: &crate::session::wan::WanTally) {
        for (i, dir) in ["up", "down"].into_iter().enumerate() {
            let n = u64::from(wan.stalls[i]);
            if n > 0 {
                self.wan_stalls[i] += n;
                self.prom.wan_stalls(i, dir, n);
            }
        }
    }

    /// Counts the session as succeeded, cancelled or failed (and why); returns which.
    fn count_outcome(&mut self, end: &SessionEnd<'_>, live: &Live) -> &'static str {
        let outcome = match &end.report.outcome {
            Ok(()) => {
                self.sessions.succeeded += 1;
                "succeeded"
            }
            Err(SessionError::Cancelled) => {
                self.sessions.cancelled += 1;
                "cancelled"
            }
            Err(e) => {
                self.sessions.failed += 1;
                self.error(e.label());
                if matches!(e, SessionError::Overloaded { .. }) {
                    self.first_503_ms =
                        Some(self.first_503_ms.map_or(end.at_ms, |t| t.min(end.at_ms)));
                }
                live.failed.fetch_add(1, Ordering::Relaxed);
                if let SessionError::InformFault(code) = e {
                    self.fault(*code);
                }
                if let SessionError::AcsOutage(mode) = e {
                    self.prom.acs_outage(mode.label());
                }
                "failed"
            }
        };
        live.finished.fetch_add(1, Ordering::Relaxed);
        live.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.prom.session(end.group, end.group_name, outcome);
        outcome
    }

    /// The session's duration (per group, from its due time, in the live window) and its
    /// connection phases.
    fn record_times(&mut self, end: &SessionEnd<'_>, live: &Live, outcome: &str) {
        let t = &end.report.timings;
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
    }

    /// The session's RPCs, each answered or faulted, and its exchanges' times.
    fn record_rpcs(&mut self, end: &SessionEnd<'_>) {
        let r = end.report;
        let t = &r.timings;
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
    }

    /// A session task that never returned a report: aborted at the end of the grace period
    /// (cancelled) or panicked (a bug, counted loudly as a failure).
    pub fn record_lost(&mut self, cancelled: bool, at_ms: u64, live: &Live) {
        if cancelled {
            self.sessions.cancelled += 1;
        } else {
            self.sessions.failed += 1;
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
        self.sessions.late = self.sessions.late.max(q);
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
        for (t, h) in crate::cr::CrTransport::ALL
            .iter()
            .zip(&self.cr_to_inform_by)
        {
            if !h.is_empty() {
                v.push((format!("cr_to_inform:{}", t.label()), h));
            }
        }
        for (g, h) in &self.groups {
            v.push((format!("group:{g}"), h));
        }
        v
    }

    /// Adds another shard's figures (exact: histograms add bucket by bucket).
    pub fn merge(&mut self, o: &ShardStats) {
        self.sessions.add(&o.sessions);
        self.value_changes.add(&o.value_changes);
        self.first_503_ms = earliest(self.first_503_ms, o.first_503_ms);
        self.side_entries += o.side_entries;
        self.cr_fate.merge(&o.cr_fate);
        for (mine, theirs) in self.wan_stalls.iter_mut().zip(o.wan_stalls) {
            *mine += theirs;
        }
        add_counts(&mut self.errors, &o.errors);
        add_counts(&mut self.events, &o.events);
        self.checks.merge(&o.checks);
        add_counts(&mut self.faults, &o.faults);
        for (k, v) in &o.rpcs {
            self.rpcs.entry(k).or_default().add(v);
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
        for (mine, theirs) in self.cr_to_inform_by.iter_mut().zip(&o.cr_to_inform_by) {
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
    /// XMPP connection requests and connection state (TR-069 Annex K).
    pub xmpp: Arc<crate::cr::xmpp::XmppStats>,
    /// The UDP connection-request sockets' and STUN keep-alives' counts.
    pub udp: Arc<crate::cr::udp::UdpStats>,
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
            xmpp: Arc::default(),
            udp: Arc::default(),
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
    /// The UDP side's counts, when a group used UDP connection requests.
    pub udp: Option<Arc<crate::cr::udp::UdpStats>>,
    /// The XMPP side's counts, when a group used XMPP connection requests.
    pub xmpp: Option<Arc<crate::cr::xmpp::XmppStats>>,
    pub cr_url_base: String,
    pub acs_url: String,
}

#[cfg(test)]
mod tests;
