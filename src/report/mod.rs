//! The end-of-run report: what the fleet measured, judged against the scenario's thresholds,
//! in every form a person or a pipeline reads it.
//!
//! - [`Report`]: the figures with their full histograms; built from a run, read back from
//!   JSON, merged exactly (the processes of a distributed run), judged;
//! - `doc`: the JSON form (`--report-json`, schema in `docs/report.schema.json`);
//! - `text`: the terminal summary table;
//! - `junit`: one test case per threshold (`--junit`);
//! - `html` and `svg`: one self-contained page with plots (`--report-html`);
//! - `compare`: regressions of one report against a baseline (`cpefleet report compare`).
//!
//! Pure formatting and arithmetic: the only I/O is the caller's.

pub mod compare;
pub mod doc;
pub mod html;
pub mod interval;
pub mod junit;
pub mod limits;
pub mod svg;
pub mod text;

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::metrics::stats::{add_counts, earliest, histogram};
use crate::metrics::timeline::{Interval, Timeline};
use crate::metrics::RunResult;
use crate::threshold::{Figures, Threshold, Verdict, METRICS};

pub use doc::{Doc, RpcCount, Sessions, Summary};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a cpefleet report: {message}")]
    Json { path: String, message: String },
    #[error("{path}: report format {found}, this cpefleet reads format {expected}")]
    Format {
        path: String,
        found: u32,
        expected: u32,
    },
    #[error("{path}: histogram {name}: {message}")]
    Histogram {
        path: String,
        name: String,
        message: String,
    },
}

impl ReportError {
    pub fn label(&self) -> &'static str {
        match self {
            ReportError::Read { .. } => "report_read",
            ReportError::Json { .. } => "report_json",
            ReportError::Format { .. } => "report_format",
            ReportError::Histogram { .. } => "report_histogram",
        }
    }
}

/// A run's figures with their histograms (µs).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// This report's id; `run_ids`: the runs it holds (see [`Doc::run_ids`]).
    pub run_id: String,
    pub run_ids: Vec<String>,
    /// Cut short: what was measured until a second Ctrl-C or SIGHUP.
    pub partial: bool,
    pub scenario: String,
    pub acs_url: String,
    pub devices: u64,
    pub duration_s: f64,
    pub runs: u32,
    pub sessions: Sessions,
    pub events: BTreeMap<String, u64>,
    /// Local value changes by notification (active, passive, off: never reported).
    pub value_changes: doc::ValueChanges,
    pub errors: BTreeMap<String, u64>,
    pub faults: BTreeMap<String, u64>,
    pub rpcs: BTreeMap<String, RpcCount>,
    /// By transport (`http`, `udp`, `xmpp`), then by result.
    pub connection_requests: crate::metrics::transport::ByTransport,
    /// Latency histograms by metric name (see [`crate::threshold`] for the names).
    pub latencies: BTreeMap<String, Histogram<u64>>,
    pub timeline: Timeline,
    pub thresholds: Vec<Verdict>,
    /// Why the run failed, in one line (set by [`Report::judge`]).
    pub diagnosis: Option<String>,
    pub embedded_acs: Option<serde_json::Value>,
    /// Protocol checks on the ACS's messages, by check label (only checks that ran).
    pub protocol_checks: BTreeMap<String, doc::CheckTally>,
    /// When the first session ended with the ACS's 503 (s since the start).
    pub first_503_s: Option<f64>,
}

impl Report {
    /// The report of a finished run.
    pub fn from_run(r: &RunResult, scenario: &str) -> Report {
        let s = &r.stats;
        let mut latencies = BTreeMap::new();
        for (k, h) in s.latencies() {
            latencies.insert(k, h.clone());
        }
        let run_id = new_run_id();
        Report {
            run_ids: vec![run_id.clone()],
            run_id,
            partial: false,
            scenario: scenario.to_string(),
            acs_url: r.acs_url.clone(),
            devices: r.devices,
            duration_s: (r.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            runs: 1,
            sessions: s.sessions,
            events: s.events.clone(),
            value_changes: s.value_changes,
            first_503_s: s.first_503_ms.map(|ms| ms as f64 / 1000.0),
            errors: s.errors.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            faults: s.faults.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            rpcs: s.rpcs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            connection_requests: crate::metrics::transport::by_transport(
                &r.cr,
                r.udp.as_deref(),
                r.xmpp.as_deref(),
                &s.cr_fate,
            ),
            latencies,
            timeline: s.timeline.clone(),
            thresholds: Vec::new(),
            diagnosis: None,
            embedded_acs: None,
            protocol_checks: crate::session::checks::Check::ALL
                .iter()
                .filter(|c| s.checks.passed(**c) + s.checks.failed(**c) > 0)
                .map(|c| {
                    (
                        c.label().to_string(),
                        doc::CheckTally {
                            pass: s.checks.passed(*c),
                            fail: s.checks.failed(*c),
                        },
                    )
                })
                .collect(),
        }
    }

    /// Judges the report; returns whether every threshold passed.
    pub fn judge(&mut self, thresholds: &[Threshold]) -> bool {
        self.thresholds = thresholds.iter().map(|t| t.evaluate(&*self)).collect();
        self.diagnosis = self.diagnose();
        self.passed()
    }

    /// One line on why a failed run failed: "all 116 sessions failed: connect_refused — is
    /// the ACS at http://127.0.0.1:1/ reachable?". `None` when the verdict passed, or failed
    /// on latency alone.
    fn diagnose(&self) -> Option<String> {
        let s = &self.sessions;
        let rate_failed = self
            .thresholds
            .iter()
            .any(|v| v.metric == "error_rate" && !v.ok);
        if s.succeeded + s.failed == 0 {
            return rate_failed.then(|| {
                format!(
                    "no session ended: nothing was measured against the ACS at {}",
                    self.acs_url
                )
            });
        }
        if s.failed == 0 || !(rate_failed || s.succeeded == 0) {
            return None;
        }
        let (label, n) = self
            .errors
            .iter()
            .max_by_key(|(k, v)| (**v, std::cmp::Reverse(k.as_str())))
            .map_or(("unknown", 0), |(k, v)| (k.as_str(), *v));
        let hint = diagnosis_hint(label, &self.acs_url);
        Some(if s.succeeded == 0 {
            format!("all {} sessions failed: {label} — {hint}", s.failed)
        } else {
            format!(
                "{} of {} sessions failed, {n} of them {label} — {hint}",
                s.failed,
                s.succeeded + s.failed
            )
        })
    }

    pub fn passed(&self) -> bool {
        self.thresholds.iter().all(|v| v.ok)
    }

    /// The failed thresholds, in words.
    pub fn failures(&self) -> Vec<String> {
        self.thresholds
            .iter()
            .filter_map(Verdict::failure)
            .collect()
    }

    /// The thresholds this report was judged on.
    pub fn threshold_specs(&self) -> Vec<Threshold> {
        self.thresholds
            .iter()
            .filter_map(Threshold::from_verdict)
            .collect()
    }

    pub fn sessions_per_s(&self) -> f64 {
        if self.duration_s > 0.0 {
            self.sessions.started as f64 / self.duration_s
        } else {
            0.0
        }
    }

    /// Latency names in reading order: the fixed metrics, CR → Inform by transport, then RPCs,
    /// then groups.
    pub fn latency_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = METRICS
            .iter()
            .copied()
            .filter(|m| self.latencies.contains_key(*m))
            .collect();
        v.extend(
            self.latencies
                .keys()
                .map(String::as_str)
                .filter(|k| k.starts_with("cr_to_inform:")),
        );
        v.extend(
            self.latencies
                .keys()
                .map(String::as_str)
                .filter(|k| k.starts_with("rpc:")),
        );
        v.extend(
            self.latencies
                .keys()
                .map(String::as_str)
                .filter(|k| k.starts_with("group:")),
        );
        v
    }

    /// Adds another run's report (exact: counts add, histograms add bucket by bucket; the
    /// runs are taken to have run at the same time, so durations do not add). Thresholds of
    /// both are judged again on the merged figures.
    pub fn merge(&mut self, o: &Report) {
        self.run_id = new_run_id();
        self.run_ids.extend(o.run_ids.iter().cloned());
        self.partial |= o.partial;
        if self.scenario != o.scenario {
            self.scenario = format!("{} + {}", self.scenario, o.scenario);
        }
        if self.acs_url != o.acs_url {
            self.acs_url = format!("{}, {}", self.acs_url, o.acs_url);
        }
        self.devices += o.devices;
        self.duration_s = self.duration_s.max(o.duration_s);
        self.runs += o.runs;
        self.sessions.add(&o.sessions);
        add_counts(&mut self.events, &o.events);
        self.value_changes.add(&o.value_changes);
        self.first_503_s = earliest(self.first_503_s, o.first_503_s);
        add_counts(&mut self.errors, &o.errors);
        add_counts(&mut self.faults, &o.faults);
        crate::metrics::transport::add(&mut self.connection_requests, &o.connection_requests);
        for (k, v) in &o.rpcs {
            self.rpcs.entry(k.clone()).or_default().add(v);
        }
        for (k, h) in &o.latencies {
            let _ = self
                .latencies
                .entry(k.clone())
                .or_insert_with(histogram)
                .add(h);
        }
        self.timeline.merge(&o.timeline);
        for (k, t) in &o.protocol_checks {
            let mine = self.protocol_checks.entry(k.clone()).or_default();
            mine.pass += t.pass;
            mine.fail += t.fail;
        }
        let mut specs = self.threshold_specs();
        for t in o.threshold_specs() {
            if !specs.iter().any(|s| s.name == t.name) {
                specs.push(t);
            }
        }
        self.judge(&specs);
        if self.embedded_acs != o.embedded_acs {
            // Two embedded ACSs' states do not add up to anything meaningful.
            self.embedded_acs = None;
        }
    }

    /// The JSON document.
    pub fn to_doc(&self) -> Doc {
        let width = self.timeline.width_ms() as f64 / 1000.0;
        Doc {
            format: doc::FORMAT,
            run_id: self.run_id.clone(),
            run_ids: self.run_ids.clone(),
            partial: self.partial,
            scenario: self.scenario.clone(),
            acs_url: self.acs_url.clone(),
            devices: self.devices,
            duration_s: self.duration_s,
            runs: self.runs,
            sessions: self.sessions,
            sessions_per_s: (self.sessions_per_s() * 1000.0).round() / 1000.0,
            events: self.events.clone(),
            value_changes: self.value_changes,
            limits: Some(limits::Limits::of(self)),
            errors: self.errors.clone(),
            faults: self.faults.clone(),
            rpcs: self.rpcs.clone(),
            connection_requests: self.connection_requests.clone(),
            latency_ms: self
                .latencies
                .iter()
                .map(|(k, h)| (k.clone(), Summary::of(h)))
                .collect(),
            thresholds: self.thresholds.clone(),
            diagnosis: self.diagnosis.clone(),
            histograms: doc::Histograms {
                unit: "us".into(),
                encoding: doc::ENCODING.into(),
                data: self
                    .latencies
                    .iter()
                    .map(|(k, h)| (k.clone(), doc::encode(h)))
                    .collect(),
            },
            timeline: doc::TimelineDoc {
                interval_s: width,
                intervals: self
                    .timeline
                    .intervals()
                    .iter()
                    .enumerate()
                    .map(|(i, x)| doc::IntervalDoc {
                        t_s: i as f64 * width,
                        started: x.started,
                        finished: x.finished,
                        failed: x.failed,
                        latency_ms: x.latency.as_ref().map(Summary::of),
                        intended_ms: x.intended.as_ref().map(Summary::of),
                        latency: x.latency.as_ref().map(doc::encode),
                        intended: x.intended.as_ref().map(doc::encode),
                    })
                    .collect(),
            },
            embedded_acs: self.embedded_acs.clone(),
            protocol_checks: self.protocol_checks.clone(),
        }
    }

    /// The pretty-printed JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_doc()).unwrap_or_else(|_| "{}".into())
    }

    /// Reads a report back (`path` names it in errors).
    pub fn from_json(text: &str, path: &str) -> Result<Report, ReportError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| ReportError::Json {
            path: path.into(),
            message: e.to_string(),
        })?;
        let found = v.get("format").and_then(|f| f.as_u64()).unwrap_or(0) as u32;
        if found != doc::FORMAT {
            return Err(ReportError::Format {
                path: path.into(),
                found,
                expected: doc::FORMAT,
            });
        }
        let d: Doc = serde_json::from_value(v).map_err(|e| ReportError::Json {
            path: path.into(),
            message: e.to_string(),
        })?;
        Report::from_doc(d, path)
    }

    /// Reads a report file.
    pub fn load(path: &std::path::Path) -> Result<Report, ReportError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Read {
            path: p.clone(),
            source,
        })?;
        Report::from_json(&text, &p)
    }

    fn from_doc(d: Doc, path: &str) -> Result<Report, ReportError> {
        let hist_err = |name: &str, message: String| ReportError::Histogram {
            path: path.into(),
            name: name.into(),
            message,
        };
        if d.histograms.encoding != doc::ENCODING || d.histograms.unit != "us" {
            return Err(hist_err(
                "*",
                format!(
                    "encoding {:?} in {:?}, expected {:?} in \"us\"",
                    d.histograms.encoding,
                    d.histograms.unit,
                    doc::ENCODING
                ),
            ));
        }
        let mut latencies = BTreeMap::new();
        for (k, s) in &d.histograms.data {
            latencies.insert(k.clone(), doc::decode(s).map_err(|e| hist_err(k, e))?);
        }
        let mut intervals = Vec::new();
        for (i, x) in d.timeline.intervals.iter().enumerate() {
            let dec = |s: &Option<String>| -> Result<_, ReportError> {
                s.as_deref()
                    .map(doc::decode)
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
        let width_ms = (d.timeline.interval_s * 1000.0).round().max(1.0) as u64;
        Ok(Report {
            run_id: d.run_id,
            run_ids: d.run_ids,
            partial: d.partial,
            scenario: d.scenario,
            acs_url: d.acs_url,
            devices: d.devices,
            duration_s: d.duration_s,
            runs: d.runs,
            sessions: d.sessions,
            events: d.events,
            value_changes: d.value_changes,
            first_503_s: d.limits.as_ref().and_then(|l| l.first_503_s),
            errors: d.errors,
            faults: d.faults,
            rpcs: d.rpcs,
            connection_requests: d.connection_requests,
            latencies,
            timeline: Timeline::from_parts(width_ms, intervals),
            thresholds: d.thresholds,
            diagnosis: d.diagnosis,
            embedded_acs: d.embedded_acs,
            protocol_checks: d.protocol_checks,
        })
    }
}

/// A fresh report id: 128 random bits in hex.
fn new_run_id() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

/// What to look at for a session error label: the network path, the credentials, or the ACS.
fn diagnosis_hint(label: &str, acs_url: &str) -> String {
    match label {
        "connect_refused" | "connect" | "connect_timeout" | "dns" | "url_invalid" | "tls"
        | "tls_not_configured" | "exchange_timeout" | "connection_closed" | "http_incomplete" => {
            format!("is the ACS at {acs_url} reachable?")
        }
        "auth_failed" | "http_401" | "http_403" | "tls_client_cert" => format!(
            "do the devices' credentials match what the ACS at {acs_url} expects (`cpefleet check` shows where they come from)?"
        ),
        "acs_outage_refused" | "acs_outage_blackhole" => {
            "the scenario's acs_outage phase made the ACS unreachable: these are its attempts, each retried with back-off".to_string()
        }
        _ => format!("what did the ACS at {acs_url} answer (`--trace` records it)?"),
    }
}

impl Figures for Report {
    fn latency(&self, metric: &str) -> Option<&Histogram<u64>> {
        self.latencies.get(metric)
    }
    fn ended(&self) -> (u64, u64) {
        (self.sessions.succeeded, self.sessions.failed)
    }
}
