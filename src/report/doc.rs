//! The JSON report's wire form (`--report-json`), as described by `docs/report.schema.json`.
//! Histograms travel as hdrhistogram V2 serialisations in base64, so reports of the processes
//! of a distributed run merge exactly.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::{Counter, Histogram};
use serde::{Deserialize, Serialize};

use crate::threshold::Verdict;

/// Version of the document's shape (bumped on incompatible changes).
pub const FORMAT: u32 = 1;
/// How histograms are encoded.
pub const ENCODING: &str = "hdrhistogram-v2+base64";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Doc {
    pub format: u32,
    /// This report's id (128 random bits, hex): a run's, or a merge's.
    #[serde(default)]
    pub run_id: String,
    /// The ids of the runs whose figures this report holds (one for a run, every shard's for
    /// a merge): `report merge` refuses a run counted twice.
    #[serde(default)]
    pub run_ids: Vec<String>,
    /// The run was cut short (a second Ctrl-C, SIGHUP): the figures cover what was measured
    /// until then.
    #[serde(default)]
    pub partial: bool,
    pub scenario: String,
    pub acs_url: String,
    pub devices: u64,
    pub duration_s: f64,
    /// How many runs' reports this one merges (1 for a single run).
    pub runs: u32,
    pub sessions: Sessions,
    pub sessions_per_s: f64,
    pub events: BTreeMap<String, u64>,
    /// Local value changes by notification (absent in reports of older versions).
    #[serde(default)]
    pub value_changes: ValueChanges,
    /// What limited the run (absent in reports of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<super::limits::Limits>,
    pub errors: BTreeMap<String, u64>,
    pub faults: BTreeMap<String, u64>,
    pub rpcs: BTreeMap<String, RpcCount>,
    /// By transport (`http`, `udp`, `xmpp`), then by result; older flat reports read as `http`.
    #[serde(deserialize_with = "crate::metrics::transport::deserialize")]
    pub connection_requests: crate::metrics::transport::ByTransport,
    pub latency_ms: BTreeMap<String, Summary>,
    pub thresholds: Vec<Verdict>,
    /// One line on why the run failed (the dominant error label and the ACS), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<String>,
    pub histograms: Histograms,
    pub timeline: TimelineDoc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded_acs: Option<serde_json::Value>,
    /// Protocol checks scored on the ACS's messages (conformance), by check label.
    #[serde(default)]
    pub protocol_checks: BTreeMap<String, CheckTally>,
}

pub use crate::metrics::counts::Sessions;
pub use crate::metrics::stats::{RpcCount, ValueChanges};

/// How often one protocol check passed and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckTally {
    pub pass: u64,
    pub fail: u64,
}

/// Percentiles of one latency, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

fn ms(us: f64) -> f64 {
    (us / 1000.0 * 1000.0).round() / 1000.0
}

impl Summary {
    pub fn of<T: Counter>(h: &Histogram<T>) -> Summary {
        let q = |p: f64| ms(h.value_at_quantile(p) as f64);
        Summary {
            count: h.len(),
            p50: q(0.50),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            p999: q(0.999),
            max: ms(h.max() as f64),
            mean: ms(h.mean()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histograms {
    /// Unit of the recorded values: `us`.
    pub unit: String,
    pub encoding: String,
    pub data: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineDoc {
    pub interval_s: f64,
    pub intervals: Vec<IntervalDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalDoc {
    /// Start of the interval, seconds since the run started.
    pub t_s: f64,
    pub started: u64,
    pub finished: u64,
    pub failed: u64,
    /// Session time of the sessions that ended in the interval (percentiles, ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Summary>,
    /// The same from the intended start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended_ms: Option<Summary>,
    /// The histograms behind them (µs, encoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intended: Option<String>,
}

/// Encodes a histogram (V2, base64).
pub fn encode<T: Counter>(h: &Histogram<T>) -> String {
    let mut buf = Vec::new();
    // Serialising into a Vec cannot fail for a valid histogram.
    let _ = V2Serializer::new().serialize(h, &mut buf);
    base64::engine::general_purpose::STANDARD.encode(buf)
}

/// Decodes a histogram written by [`encode`].
pub fn decode<T: Counter>(s: &str) -> Result<Histogram<T>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_survive_the_round_trip_exactly() {
        let mut h = crate::metrics::stats::histogram();
        for v in [1u64, 17, 999, 12_345, 3_000_000, 3_599_999_999] {
            h.record(v).unwrap();
        }
        let back: Histogram<u64> = decode(&encode(&h)).unwrap();
        assert_eq!(back, h);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert!(decode::<u64>("not base64!").is_err());
        assert!(decode::<u64>("AAAA").is_err());
    }
}
