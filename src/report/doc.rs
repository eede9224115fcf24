//! The JSON report's wire form (`--report-json`), as described by `docs/report.schema.json`.
//! Histograms travel as hdrhistogram V2 serialisations in base64, so reports of the processes
//! of a distributed run merge exactly.
//!
//! The report's fields are listed once, in [`Report`]: serde's derive reads them, and the one
//! `Serialize` here writes them, with what is derived from them (`sessions_per_s`, `limits`,
//! `latency_ms`) and the encoded histograms (`histograms`, `timeline`) in between. [`Encoded`]
//! reads those sections back; none of them is a field of the report too.

use std::collections::BTreeMap;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use hdrhistogram::{Counter, Histogram};
use serde::{Deserialize, Serialize};

use super::limits::Limits;
use super::{Report, ReportError};
use crate::metrics::timeline::{Interval, Timeline};

/// Version of the document's shape (bumped on incompatible changes).
pub const FORMAT: u32 = 1;
/// How histograms are encoded.
pub const ENCODING: &str = "hdrhistogram-v2+base64";

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

impl Serialize for Report {
    /// The one writer of the JSON report: the fields in the wire order, each derived section
    /// beside what it is derived from.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut m = s.serialize_struct("Report", 25)?;
        m.serialize_field("format", &FORMAT)?;
        m.serialize_field("run_id", &self.run_id)?;
        m.serialize_field("run_ids", &self.run_ids)?;
        m.serialize_field("partial", &self.partial)?;
        m.serialize_field("scenario", &self.scenario)?;
        m.serialize_field("acs_url", &self.acs_url)?;
        m.serialize_field("devices", &self.devices)?;
        m.serialize_field("duration_s", &self.duration_s)?;
        m.serialize_field("runs", &self.runs)?;
        m.serialize_field("sessions", &self.sessions)?;
        let rate = (self.sessions_per_s() * 1000.0).round() / 1000.0;
        m.serialize_field("sessions_per_s", &rate)?;
        m.serialize_field("events", &self.events)?;
        m.serialize_field("value_changes", &self.value_changes)?;
        m.serialize_field("limits", &Limits::of(self))?;
        m.serialize_field("errors", &self.errors)?;
        m.serialize_field("faults", &self.faults)?;
        m.serialize_field("rpcs", &self.rpcs)?;
        m.serialize_field("connection_requests", &self.connection_requests)?;
        m.serialize_field("latency_ms", &self.latency_ms())?;
        m.serialize_field("thresholds", &self.thresholds)?;
        match &self.diagnosis {
            Some(d) => m.serialize_field("diagnosis", d)?,
            None => m.skip_field("diagnosis")?,
        }
        m.serialize_field("histograms", &Histograms::of(&self.latencies))?;
        m.serialize_field("timeline", &TimelineDoc::of(&self.timeline))?;
        match &self.embedded_acs {
            Some(a) => m.serialize_field("embedded_acs", a)?,
            None => m.skip_field("embedded_acs")?,
        }
        m.serialize_field("protocol_checks", &self.protocol_checks)?;
        m.end()
    }
}

/// The JSON report's sections that are not fields of [`Report`]: the encoded histograms
/// (decoded into it), and what the writer derives from its fields (read to hold a report to
/// the shape it always had, and `limits.first_503_s`, which has no other place).
#[derive(Deserialize)]
pub(super) struct Encoded {
    #[serde(rename = "sessions_per_s")]
    _sessions_per_s: f64,
    #[serde(rename = "latency_ms")]
    _latency_ms: BTreeMap<String, Summary>,
    #[serde(default)]
    limits: Option<Limits>,
    histograms: Histograms,
    timeline: TimelineDoc,
}

impl Encoded {
    /// Decodes the histograms into `r` (`path` names the report in errors).
    pub(super) fn decode_into(self, r: &mut Report, path: &str) -> Result<(), ReportError> {
        let hist_err = |name: &str, message: String| ReportError::Histogram {
            path: path.into(),
            name: name.into(),
            message,
        };
        let h = &self.histograms;
        if h.encoding != ENCODING || h.unit != "us" {
            return Err(hist_err(
                "*",
                format!(
                    "encoding {:?} in {:?}, expected {:?} in \"us\"",
                    h.encoding, h.unit, ENCODING
                ),
            ));
        }
        let mut latencies = BTreeMap::new();
        for (k, s) in &h.data {
            latencies.insert(k.clone(), decode(s).map_err(|e| hist_err(k, e))?);
        }
        let mut intervals = Vec::new();
        for (i, x) in self.timeline.intervals.iter().enumerate() {
            let dec = |s: &Option<String>| -> Result<_, ReportError> {
                s.as_deref()
                    .map(decode)
                    .transpose()
                    .map_err(|e| hist_err(&format!("timeline[{i}]"), e))
            };
            intervals.push(Interval {
                started: x.started,
                finished: x.finished,
                failed: x.failed,
                latency: dec(&x.latency)?,
                intended: dec(&x.intended)?,
            });
        }
        let width_ms = (self.timeline.interval_s * 1000.0).round().max(1.0) as u64;
        r.latencies = latencies;
        r.timeline = Timeline::from_parts(width_ms, intervals);
        r.first_503_s = self.limits.and_then(|l| l.first_503_s);
        Ok(())
    }
}

impl Histograms {
    fn of(latencies: &BTreeMap<String, Histogram<u64>>) -> Histograms {
        Histograms {
            unit: "us".into(),
            encoding: ENCODING.into(),
            data: latencies
                .iter()
                .map(|(k, h)| (k.clone(), encode(h)))
                .collect(),
        }
    }
}

impl TimelineDoc {
    fn of(t: &Timeline) -> TimelineDoc {
        let width = t.width_ms() as f64 / 1000.0;
        TimelineDoc {
            interval_s: width,
            intervals: t
                .intervals()
                .iter()
                .enumerate()
                .map(|(i, x)| IntervalDoc {
                    t_s: i as f64 * width,
                    started: x.started,
                    finished: x.finished,
                    failed: x.failed,
                    latency_ms: x.latency.as_ref().map(Summary::of),
                    intended_ms: x.intended.as_ref().map(Summary::of),
                    latency: x.latency.as_ref().map(encode),
                    intended: x.intended.as_ref().map(encode),
                })
                .collect(),
        }
    }
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

/// The report's JSON form and its in-memory form are one: every key the reader takes from a
/// report is a field of [`Report`] or a section of [`Encoded`], never both, and the writer
/// writes every one of them, nothing else but `format`.
#[cfg(test)]
mod one_form {
    use std::collections::BTreeSet;

    use serde::de::{self, Visitor};
    use serde::Deserialize;

    use super::{Encoded, Report};

    /// A deserializer that answers nothing but records the fields a derived struct asks for.
    struct FieldNames<'a>(&'a mut &'static [&'static str]);

    impl<'de> de::Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("only the field names"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only the field names"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
            ignored_any
        }
    }

    fn fields<'de, T: Deserialize<'de>>() -> BTreeSet<&'static str> {
        let mut names: &'static [&'static str] = &[];
        let _ = T::deserialize(FieldNames(&mut names));
        names.iter().copied().collect()
    }

    #[test]
    fn every_key_read_is_written_and_read_once() {
        let read = fields::<Report>();
        let encoded = fields::<Encoded>();
        assert!(read.contains("sessions") && encoded.contains("histograms"));
        assert!(
            read.is_disjoint(&encoded),
            "{:?}",
            read.intersection(&encoded)
        );

        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reports/cr-udp.json");
        let mut r = Report::load(&path).unwrap();
        // Every optional field set, so the writer writes every key it can.
        r.diagnosis = Some("why".into());
        r.first_503_s = Some(1.5);
        assert!(r.embedded_acs.is_some());
        let v = serde_json::to_value(&r).unwrap();
        let written: BTreeSet<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected: BTreeSet<&str> = read.union(&encoded).copied().collect();
        expected.insert("format");
        assert_eq!(written, expected);
        let back = Report::from_json(&serde_json::to_string(&v).unwrap(), "mem").unwrap();
        assert_eq!(back, r, "every field comes back");
    }
}
