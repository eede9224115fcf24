//! What limited a run, told apart: the wait for a session slot (the run's `max_sessions`, or the
//! ACS when its sessions are slow), 503s from the ACS (saturation, with the session rate at
//! which they began), and the simulator's own lateness (due → queued). Each has its own figure;
//! [`Limits::diagnosis`] turns them into one line.

use serde::{Deserialize, Serialize};

use super::Report;

/// The simulator counts as lagging past this p99 (its timers fire within a few ms when it
/// keeps up).
const SIM_LAG_P99_MS: f64 = 100.0;
/// Sessions count as waiting for a slot past this p99.
const SLOT_WAIT_P99_MS: f64 = 100.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Ready queue → session start (ms): behind `max_sessions`.
    pub slot_wait_p50_ms: f64,
    pub slot_wait_p99_ms: f64,
    /// Due → ready queue (ms): the simulator itself.
    pub simulator_lag_p50_ms: f64,
    pub simulator_lag_p99_ms: f64,
    /// Most devices waiting for a slot at once.
    pub waiting_at_most: u64,
    /// Sessions the ACS refused with 503.
    pub http_503: u64,
    /// When the first 503 came (s since the start), and the sessions/s started in that
    /// timeline interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_503_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_per_s_at_first_503: Option<f64>,
    /// One line: what limited the run.
    pub diagnosis: String,
}

impl Limits {
    pub fn of(r: &Report) -> Limits {
        let q = |name: &str, p: f64| {
            r.latencies
                .get(name)
                .filter(|h| !h.is_empty())
                .map_or(0.0, |h| h.value_at_quantile(p) as f64 / 1000.0)
        };
        let http_503 = r.errors.get("http_503").copied().unwrap_or(0);
        let width_s = r.timeline.width_ms() as f64 / 1000.0;
        let rate_at = |t: f64| {
            let i = (t / width_s).floor() as usize;
            r.timeline
                .intervals()
                .get(i)
                .map(|x| x.started as f64 / width_s)
        };
        let mut l = Limits {
            slot_wait_p50_ms: q("slot_wait", 0.5),
            slot_wait_p99_ms: q("slot_wait", 0.99),
            simulator_lag_p50_ms: q("simulator_lag", 0.5),
            simulator_lag_p99_ms: q("simulator_lag", 0.99),
            waiting_at_most: r.sessions.late,
            http_503,
            first_503_s: r.first_503_s,
            sessions_per_s_at_first_503: r.first_503_s.and_then(rate_at),
            diagnosis: String::new(),
        };
        l.diagnosis = l.diagnose();
        l
    }

    fn diagnose(&self) -> String {
        let mut v = Vec::new();
        if self.http_503 > 0 {
            v.push(match (self.first_503_s, self.sessions_per_s_at_first_503) {
                (Some(t), Some(rate)) => format!(
                    "the ACS is saturated: {} sessions refused with 503 from {t:.0} s on, at {rate:.1} sessions/s",
                    self.http_503
                ),
                _ => format!("the ACS is saturated: {} sessions refused with 503", self.http_503),
            });
        }
        if self.slot_wait_p99_ms > SLOT_WAIT_P99_MS {
            v.push(format!(
                "sessions waited up to {:.0} ms (p99) for a slot, {} devices at most: max_sessions, or the ACS's session time, limited the rate",
                self.slot_wait_p99_ms, self.waiting_at_most
            ));
        }
        if self.simulator_lag_p99_ms > SIM_LAG_P99_MS {
            v.push(format!(
                "the simulator lagged {:.0} ms (p99) behind its schedule: give it more CPU or shards",
                self.simulator_lag_p99_ms
            ));
        }
        if v.is_empty() {
            "nothing limited the run: sessions started on schedule".into()
        } else {
            v.join("; ")
        }
    }
}
