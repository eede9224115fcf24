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
use serde::Deserialize;

use crate::metrics::stats::{add_counts, earliest, histogram};
use crate::metrics::timeline::Timeline;
use crate::metrics::RunResult;
use crate::threshold::{Figures, Threshold, Verdict, METRICS};

pub use doc::{RpcCount, Sessions, Summary};

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

/// A run's figures with their histograms (µs), and the JSON report's one list of fields
/// (`doc`): serde's derive reads them, `doc`'s `Serialize` writes them. Read a report with
/// [`Report::from_json`] or [`Report::load`], which decode the histograms as well.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Report {
    /// This report's id (128 random bits, hex): a run's, or a merge's.
    #[serde(default)]
    pub run_id: String,
    /// The ids of the runs whose figures this report holds (one for a run, every shard's for
    /// a merge): `report merge` refuses a run counted twice.
    #[serde(default)]
    pub run_ids: Vec<String>,
    /// Cut short (a second Ctrl-C, SIGHUP): the figures cover what was measured until then.
    #[serde(default)]
    pub partial: bool,
    pub scenario: String,
    pub acs_url: String,
    pub devices: u64,
    pub duration_s: f64,
    /// How many runs' reports this one merges (1 for a single run).
    pub runs: u32,
    pub sessions: Sessions,
    pub events: BTreeMap<String, u64>,
    /// Local value changes by notification (active, passive, off: never reported); absent in
    /// reports of older versions.
    #[serde(default)]
    pub value_changes: doc::ValueChanges,
    pub errors: BTreeMap<String, u64>,
    pub faults: BTreeMap<String, u64>,
    pub rpcs: BTreeMap<String, RpcCount>,
    /// By transport (`http`, `udp`, `xmpp`), then by result; older flat reports read as `http`.
    #[serde(deserialize_with = "crate::metrics::transport::deserialize")]
    pub connection_requests: crate::metrics::transport::ByTransport,
    /// Latency histograms by metric name (see [`crate::threshold`] for the names); in JSON,
    /// encoded in `histograms`.
    #[serde(skip)]
    pub latencies: BTreeMap<String, Histogram<u64>>,
    /// In JSON, encoded in `timeline`.
    #[serde(skip)]
    pub timeline: Timeline,
    pub thresholds: Vec<Verdict>,
    /// Why the run failed, in one line (set by [`Report::judge`]).
    #[serde(default)]
    pub diagnosis: Option<String>,
    #[serde(default)]
    pub embedded_acs: Option<serde_json::Value>,
    /// Protocol checks on the ACS's messages, by check label (only checks that ran).
    #[serde(default)]
    pub protocol_checks: BTreeMap<String, doc::CheckTally>,
    /// When the first session ended with the ACS's 503 (s since the start); in JSON,
    /// `limits.first_503_s`.
    #[serde(skip)]
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

    /// Each latency's percentiles (ms), by name: the report's `latency_ms`.
    pub fn latency_ms(&self) -> BTreeMap<String, Summary> {
        self.latencies
            .iter()
            .map(|(k, h)| (k.clone(), Summary::of(h)))
            .collect()
    }

    /// The pretty-printed JSON text.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads a report back (`path` names it in errors).
    pub fn from_json(text: &str, path: &str) -> Result<Report, ReportError> {
        let json = |e: serde_json::Error| ReportError::Json {
            path: path.into(),
            message: e.to_string(),
        };
        let v: serde_json::Value = serde_json::from_str(text).map_err(json)?;
        let found = v.get("format").and_then(|f| f.as_u64()).unwrap_or(0) as u32;
        if found != doc::FORMAT {
            return Err(ReportError::Format {
                path: path.into(),
                found,
                expected: doc::FORMAT,
            });
        }
        let mut r = Report::deserialize(&v).map_err(json)?;
        doc::Encoded::deserialize(&v)
            .map_err(json)?
            .decode_into(&mut r, path)?;
        Ok(r)
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
}

/// One section of a rendered report (the text summary's or the HTML page's): appends its part.
pub type Section = fn(&mut String, &Report);

/// Renders `r` as `sections` in order: the one walk of the text summary and the HTML page, so
/// a new section is one function and one line in its form's list.
pub fn render_sections(r: &Report, sections: &[Section]) -> String {
    let mut o = String::new();
    for section in sections {
        section(&mut o, r);
    }
    o
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
