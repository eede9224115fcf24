//! A shard's Prometheus handles. The `metrics` facade looks a metric up by name and labels on
//! every macro call; a shard records at every session end, so it looks each (name, labels)
//! up once and keeps the handle. Label values come from fixed sets (`&'static str` RPC names,
//! outcomes, error labels; event and fault codes; the scenario's group names).
//!
//! When the exporter is not installed every method returns at once: no lookup, no allocation.

use std::collections::HashMap;
use std::time::Duration;

use ::metrics::{counter, histogram, Counter, Histogram};

use super::names;

/// Cached handles; disabled (and empty) unless the exporter was installed first.
#[derive(Clone, Default)]
pub struct ShardMetrics {
    inner: Option<Box<Handles>>,
}

impl std::fmt::Debug for ShardMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.inner.is_some() {
            "ShardMetrics(on)"
        } else {
            "ShardMetrics(off)"
        })
    }
}

#[derive(Clone, Default)]
struct Handles {
    sessions: HashMap<(u16, &'static str), Counter>,
    session_time: HashMap<u16, (Histogram, Histogram)>,
    rpcs: HashMap<(&'static str, &'static str), Counter>,
    rpc_time: HashMap<&'static str, Histogram>,
    phases: HashMap<&'static str, Histogram>,
    events: HashMap<String, Counter>,
    faults: HashMap<u32, Counter>,
    errors: HashMap<&'static str, Counter>,
    lost: HashMap<&'static str, Counter>,
    cr_to_inform: HashMap<crate::cr::CrTransport, Histogram>,
    lag: Option<Histogram>,
    wan_stalls: [Option<Counter>; 2],
    acs_outage: HashMap<&'static str, Counter>,
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl ShardMetrics {
    /// Handles that record when the exporter is installed.
    pub fn new() -> ShardMetrics {
        ShardMetrics {
            inner: super::enabled().then(Box::default),
        }
    }

    pub fn session(&mut self, group: u16, group_name: &str, outcome: &'static str) {
        if let Some(h) = &mut self.inner {
            h.sessions
                .entry((group, outcome))
                .or_insert_with(|| {
                    counter!(names::SESSIONS_TOTAL, "group" => group_name.to_string(), "outcome" => outcome)
                })
                .increment(1);
        }
    }

    pub fn session_time(
        &mut self,
        group: u16,
        group_name: &str,
        took: Duration,
        from_due: Duration,
    ) {
        if let Some(h) = &mut self.inner {
            let (a, b) = h.session_time.entry(group).or_insert_with(|| {
                (
                    histogram!(names::SESSION_DURATION, "group" => group_name.to_string()),
                    histogram!(names::SESSION_DURATION_FROM_DUE, "group" => group_name.to_string()),
                )
            });
            a.record(secs(took));
            b.record(secs(from_due));
        }
    }

    /// A session task that returned no report (aborted or panicked).
    pub fn lost(&mut self, outcome: &'static str) {
        if let Some(h) = &mut self.inner {
            h.lost
                .entry(outcome)
                .or_insert_with(
                    || counter!(names::SESSIONS_TOTAL, "group" => "unknown", "outcome" => outcome),
                )
                .increment(1);
        }
    }

    pub fn rpc(&mut self, rpc: &'static str, outcome: &'static str) {
        if let Some(h) = &mut self.inner {
            h.rpcs
                .entry((rpc, outcome))
                .or_insert_with(|| counter!(names::RPCS_TOTAL, "rpc" => rpc, "outcome" => outcome))
                .increment(1);
        }
    }

    pub fn rpc_time(&mut self, rpc: &'static str, d: Duration) {
        if let Some(h) = &mut self.inner {
            h.rpc_time
                .entry(rpc)
                .or_insert_with(|| histogram!(names::RPC_DURATION, "rpc" => rpc))
                .record(secs(d));
        }
    }

    pub fn phase(&mut self, phase: &'static str, d: Duration) {
        if let Some(h) = &mut self.inner {
            h.phases
                .entry(phase)
                .or_insert_with(|| histogram!(names::SESSION_PHASE_DURATION, "phase" => phase))
                .record(secs(d));
        }
    }

    pub fn event(&mut self, code: &str) {
        if let Some(h) = &mut self.inner {
            match h.events.get(code) {
                Some(c) => c.increment(1),
                None => {
                    let c = counter!(names::EVENTS_TOTAL, "event" => code.to_string());
                    c.increment(1);
                    h.events.insert(code.to_string(), c);
                }
            }
        }
    }

    pub fn fault(&mut self, code: u32) {
        if let Some(h) = &mut self.inner {
            h.faults
                .entry(code)
                .or_insert_with(|| counter!(names::FAULTS_TOTAL, "code" => code.to_string()))
                .increment(1);
        }
    }

    pub fn error(&mut self, label: &'static str) {
        if let Some(h) = &mut self.inner {
            h.errors
                .entry(label)
                .or_insert_with(|| counter!(names::ERRORS_TOTAL, "label" => label))
                .increment(1);
        }
    }

    /// `n` WAN stalls in direction `dir` (0 up, 1 down).
    pub fn wan_stalls(&mut self, i: usize, dir: &'static str, n: u64) {
        if let Some(h) = &mut self.inner {
            h.wan_stalls[i]
                .get_or_insert_with(|| counter!(names::WAN_STALLS_TOTAL, "direction" => dir))
                .increment(n);
        }
    }

    /// A session attempt that met an `acs_outage` (the device retries per its back-off).
    pub fn acs_outage(&mut self, mode: &'static str) {
        if let Some(h) = &mut self.inner {
            h.acs_outage
                .entry(mode)
                .or_insert_with(|| counter!(names::ACS_OUTAGE_ATTEMPTS_TOTAL, "mode" => mode))
                .increment(1);
        }
    }

    pub fn cr_to_inform(&mut self, d: Duration, via: crate::cr::CrTransport) {
        if let Some(h) = &mut self.inner {
            h.cr_to_inform
                .entry(via)
                .or_insert_with(|| histogram!(names::CR_TO_INFORM, "transport" => via.label()))
                .record(secs(d));
        }
    }

    pub fn lag(&mut self, d: Duration) {
        if let Some(h) = &mut self.inner {
            h.lag
                .get_or_insert_with(|| histogram!(names::SCHEDULE_LAG))
                .record(secs(d));
        }
    }
}
