//! Pass/fail limits of a run (the scenario's `thresholds:`), and their verdicts.
//!
//! Written by hand, one limit per entry:
//!
//! ```yaml
//! thresholds:
//!   - { metric: session, p99: 500ms }
//!   - { metric: "rpc:GetParameterValues", p95: 200ms }
//!   - { metric: cr_to_inform, p99: 2s }
//!   - { error_rate: 1% }
//! ```
//!
//! Every limit is an upper bound: the run passes when the figure is at most the limit. A
//! latency limit names a metric of the report (`session`, `session_from_intended_start`,
//! `schedule_lag` (= `simulator_lag` + `slot_wait`), `tcp_connect`, `tls_handshake`, `auth_challenge`, `inform`, `empty_post`,
//! `cr_to_inform`, `cr_to_inform:<http|udp|xmpp>`, `rpc:<RPC name>`, `group:<group name>`) and one statistic (`p50`, `p90`,
//! `p95`, `p99`, `p999`, `max`, `mean`). A limit on a metric with no samples fails: a check
//! that measured nothing proves nothing. `error_rate` is failed sessions over ended ones
//! (cancelled ones excluded).
//!
//! Verdicts are computed from the report's histograms, so a merged report (distributed run)
//! is judged on the whole fleet. Pure: no I/O.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::units::{Dur, Share};

/// One entry as written in the YAML (quantities parse inside serde, so a bad value is reported
/// at its line and column).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    /// A name for reports (default: generated from the limit, e.g. "session p99 <= 500ms").
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub p50: Option<Dur>,
    #[serde(default)]
    pub p90: Option<Dur>,
    #[serde(default)]
    pub p95: Option<Dur>,
    #[serde(default)]
    pub p99: Option<Dur>,
    #[serde(default)]
    pub p999: Option<Dur>,
    #[serde(default)]
    pub max: Option<Dur>,
    #[serde(default)]
    pub mean: Option<Dur>,
    #[serde(default)]
    pub error_rate: Option<Share>,
}

/// A latency statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stat {
    P50,
    P90,
    P95,
    P99,
    P999,
    Max,
    Mean,
}

impl Stat {
    pub const ALL: [Stat; 7] = [
        Stat::P50,
        Stat::P90,
        Stat::P95,
        Stat::P99,
        Stat::P999,
        Stat::Max,
        Stat::Mean,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P95 => "p95",
            Stat::P99 => "p99",
            Stat::P999 => "p999",
            Stat::Max => "max",
            Stat::Mean => "mean",
        }
    }

    /// The statistic of a µs histogram, in ms (`None` when empty).
    pub fn of(self, h: &Histogram<u64>) -> Option<f64> {
        if h.is_empty() {
            return None;
        }
        let us = match self {
            Stat::P50 => h.value_at_quantile(0.50) as f64,
            Stat::P90 => h.value_at_quantile(0.90) as f64,
            Stat::P95 => h.value_at_quantile(0.95) as f64,
            Stat::P99 => h.value_at_quantile(0.99) as f64,
            Stat::P999 => h.value_at_quantile(0.999) as f64,
            Stat::Max => h.max() as f64,
            Stat::Mean => h.mean(),
        };
        Some(us / 1000.0)
    }
}

/// What a threshold limits.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    /// A latency statistic of a report metric, at most `limit_ms`.
    Latency {
        metric: String,
        stat: Stat,
        limit_ms: f64,
    },
    /// Failed sessions over ended ones, at most `limit` (a fraction).
    ErrorRate { limit: f64 },
}

/// A validated threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub name: String,
    pub check: Check,
}

/// What a run measured, as thresholds see it.
pub trait Figures {
    /// A latency histogram (µs) by report metric name.
    fn latency(&self, metric: &str) -> Option<&Histogram<u64>>;
    /// Sessions that ended: (succeeded, failed).
    fn ended(&self) -> (u64, u64);
}

/// One threshold's outcome, as reports carry it (JSON `thresholds[]`, JUnit test cases).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub name: String,
    /// The report metric, or `error_rate`.
    pub metric: String,
    /// The statistic (`p99`, …), or `ratio` for the error rate.
    pub stat: String,
    /// `ms` or `ratio`.
    pub unit: String,
    pub limit: f64,
    /// `null` when nothing was measured (which fails).
    pub value: Option<f64>,
    pub ok: bool,
}

impl Verdict {
    /// Why it failed, in words.
    pub fn failure(&self) -> Option<String> {
        if self.ok {
            return None;
        }
        Some(match self.value {
            None => format!("{}: no samples", self.name),
            Some(v) => format!(
                "{}: measured {} (limit {})",
                self.name,
                fmt_value(v, &self.unit),
                fmt_value(self.limit, &self.unit)
            ),
        })
    }
}

/// 512.3ms / 1.5% style.
pub fn fmt_value(v: f64, unit: &str) -> String {
    if unit == "ratio" {
        format!("{}%", trim(v * 100.0))
    } else if v >= 1000.0 {
        format!("{}s", trim(v / 1000.0))
    } else {
        format!("{}ms", trim(v))
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Latency metrics every run has (other than `rpc:*` and `group:*`).
pub const METRICS: [&str; 11] = [
    "session",
    "session_from_intended_start",
    "schedule_lag",
    "simulator_lag",
    "slot_wait",
    "tcp_connect",
    "tls_handshake",
    "auth_challenge",
    "inform",
    "empty_post",
    "cr_to_inform",
];

/// Whether a `rpc:` metric may name the method `name`: any CWMP method (Inform has its own
/// metric, matched before) but Kicked, which the simulated CPE never calls.
fn rpc_metric(name: &str) -> bool {
    crate::cwmp::methods::method(name).is_some_and(|m| m.name != "Kicked")
}

/// Why an entry is invalid, with the text to point at (its line and column are found by the
/// scenario validator).
#[derive(Debug, Clone, PartialEq)]
pub struct SpecError {
    pub near: String,
    pub message: String,
}

impl ThresholdSpec {
    /// Validates one entry; `groups` are the scenario's group names.
    pub fn validate(&self, groups: &[&str]) -> Result<Threshold, SpecError> {
        let stats: Vec<(Stat, Dur)> = [
            (Stat::P50, self.p50),
            (Stat::P90, self.p90),
            (Stat::P95, self.p95),
            (Stat::P99, self.p99),
            (Stat::P999, self.p999),
            (Stat::Max, self.max),
            (Stat::Mean, self.mean),
        ]
        .into_iter()
        .filter_map(|(s, d)| d.map(|d| (s, d)))
        .collect();
        let near = self.metric.clone().unwrap_or_else(|| "error_rate".into());
        let err = |message: String| SpecError {
            near: near.clone(),
            message,
        };
        let check = match (&self.metric, self.error_rate, stats.as_slice()) {
            (None, Some(r), []) => Check::ErrorRate { limit: r.0 },
            (Some(_), Some(_), _) => {
                return Err(err(
                    "a threshold is either a latency (metric and one of p50, p90, p95, p99, p999, max, mean) or an error_rate, not both".into(),
                ))
            }
            (Some(m), None, [(stat, d)]) => Check::Latency {
                metric: canonical_metric(m, groups).map_err(err)?,
                stat: *stat,
                limit_ms: d.0.as_secs_f64() * 1000.0,
            },
            (Some(m), None, []) => {
                return Err(err(format!(
                    "threshold on {m:?} needs a limit: one of p50, p90, p95, p99, p999, max, mean (e.g. p99: 500ms)"
                )))
            }
            (Some(m), None, _) => {
                return Err(err(format!(
                    "threshold on {m:?} has several limits; write one entry per limit"
                )))
            }
            (None, _, _) => {
                return Err(SpecError {
                    near: self
                        .name
                        .clone()
                        .unwrap_or_else(|| "thresholds".to_string()),
                    message: "a threshold needs a metric and a limit (e.g. { metric: session, p99: 500ms }) or an error_rate (e.g. { error_rate: 1% })".into(),
                })
            }
        };
        let name = self.name.clone().unwrap_or_else(|| default_name(&check));
        Ok(Threshold { name, check })
    }
}

fn default_name(c: &Check) -> String {
    match c {
        Check::Latency {
            metric,
            stat,
            limit_ms,
        } => format!(
            "{metric} {} <= {}",
            stat.as_str(),
            fmt_value(*limit_ms, "ms")
        ),
        Check::ErrorRate { limit } => format!("error_rate <= {}", fmt_value(*limit, "ratio")),
    }
}

/// The error rate a run without thresholds may reach (documented in the README): more than
/// this share of ended sessions failed, or none ended, and the run fails (exit 3).
pub const DEFAULT_ERROR_RATE: f64 = 0.10;

/// The verdict of a scenario that sets no thresholds: a run where every session failed
/// (connection refused, DNS, auth) must not pass. Its name says it is the default.
pub fn default_thresholds() -> Vec<Threshold> {
    let check = Check::ErrorRate {
        limit: DEFAULT_ERROR_RATE,
    };
    vec![Threshold {
        name: format!("default: {} (no thresholds set)", default_name(&check)),
        check,
    }]
}

/// The report's name for a metric as written (`rpc:Inform` is `inform`).
pub fn canonical_metric(m: &str, groups: &[&str]) -> Result<String, String> {
    let m = m.trim();
    if METRICS.contains(&m) {
        return Ok(m.to_string());
    }
    if let Some(rpc) = m.strip_prefix("rpc:") {
        return match rpc {
            "Inform" => Ok("inform".into()),
            "EmptyPost" => Ok("empty_post".into()),
            r if rpc_metric(r) => Ok(m.to_string()),
            r => Err(format!(
                "unknown RPC {r:?} (use the spec's name, e.g. rpc:GetParameterValues)"
            )),
        };
    }
    if let Some(t) = m.strip_prefix("cr_to_inform:") {
        return match crate::cr::CrTransport::parse(t) {
            Some(t) => Ok(format!("cr_to_inform:{}", t.label())),
            None => Err(format!("unknown transport {t:?} (use http, udp or xmpp)")),
        };
    }
    if let Some(g) = m.strip_prefix("group:") {
        return if groups.contains(&g) {
            Ok(m.to_string())
        } else {
            Err(format!("no group named {g:?}"))
        };
    }
    Err(format!(
        "unknown metric {m:?}: use one of {}, cr_to_inform:<transport>, rpc:<RPC name> or group:<group name>",
        METRICS.join(", ")
    ))
}

impl Threshold {
    /// Judges the run.
    pub fn evaluate(&self, f: &impl Figures) -> Verdict {
        match &self.check {
            Check::Latency {
                metric,
                stat,
                limit_ms,
            } => {
                let value = f.latency(metric).and_then(|h| stat.of(h));
                Verdict {
                    name: self.name.clone(),
                    metric: metric.clone(),
                    stat: stat.as_str().into(),
                    unit: "ms".into(),
                    limit: *limit_ms,
                    ok: value.is_some_and(|v| v <= *limit_ms),
                    value: value.map(|v| (v * 1000.0).round() / 1000.0),
                }
            }
            Check::ErrorRate { limit } => {
                let (ok, failed) = f.ended();
                let value = (ok + failed > 0).then(|| failed as f64 / (ok + failed) as f64);
                Verdict {
                    name: self.name.clone(),
                    metric: "error_rate".into(),
                    stat: "ratio".into(),
                    unit: "ratio".into(),
                    limit: *limit,
                    ok: value.is_some_and(|v| v <= *limit),
                    value,
                }
            }
        }
    }

    /// The threshold a verdict was judged on (to judge a merged report again).
    pub fn from_verdict(v: &Verdict) -> Option<Threshold> {
        let check = if v.metric == "error_rate" {
            Check::ErrorRate { limit: v.limit }
        } else {
            Check::Latency {
                metric: v.metric.clone(),
                stat: Stat::ALL.into_iter().find(|s| s.as_str() == v.stat)?,
                limit_ms: v.limit,
            }
        };
        Some(Threshold {
            name: v.name.clone(),
            check,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    struct F {
        h: BTreeMap<&'static str, Histogram<u64>>,
        ended: (u64, u64),
    }
    impl Figures for F {
        fn latency(&self, m: &str) -> Option<&Histogram<u64>> {
            self.h.get(m)
        }
        fn ended(&self) -> (u64, u64) {
            self.ended
        }
    }

    fn spec(yaml: &str) -> ThresholdSpec {
        serde_yaml::from_str(yaml).unwrap()
    }

    fn figures() -> F {
        // The run's bounds do not matter here; a plain histogram keeps this test in its layer.
        let mut h = Histogram::<u64>::new(3).unwrap();
        for ms in 1..=100u64 {
            h.record(ms * 1000).unwrap();
        }
        F {
            h: [("session", h)].into_iter().collect(),
            ended: (98, 2),
        }
    }

    #[test]
    fn latency_limits_are_upper_bounds() {
        let t = spec("{ metric: session, p99: 100ms }")
            .validate(&[])
            .unwrap();
        assert_eq!(t.name, "session p99 <= 100ms");
        let v = t.evaluate(&figures());
        assert!(v.ok, "{v:?}");
        assert!((v.value.unwrap() - 99.0).abs() < 0.1);
        let t = spec("{ metric: session, p50: 40ms }")
            .validate(&[])
            .unwrap();
        let v = t.evaluate(&figures());
        assert!(!v.ok);
        assert_eq!(
            v.failure().unwrap(),
            "session p50 <= 40ms: measured 50.015ms (limit 40ms)"
        );
    }

    #[test]
    fn error_rate_counts_failed_over_ended() {
        let t = spec("{ error_rate: 1% }").validate(&[]).unwrap();
        let v = t.evaluate(&figures());
        assert_eq!(v.value, Some(0.02));
        assert!(!v.ok);
        assert_eq!(
            v.failure().unwrap(),
            "error_rate <= 1%: measured 2% (limit 1%)"
        );
        let t = spec("{ error_rate: 2% }").validate(&[]).unwrap();
        assert!(t.evaluate(&figures()).ok);
    }

    #[test]
    fn nothing_measured_fails() {
        let t = spec("{ metric: cr_to_inform, p99: 2s }")
            .validate(&[])
            .unwrap();
        let v = t.evaluate(&figures());
        assert_eq!((v.ok, v.value), (false, None));
        assert!(v.failure().unwrap().ends_with("no samples"));
        let none = F {
            h: BTreeMap::new(),
            ended: (0, 0),
        };
        assert!(
            !spec("{ error_rate: 5% }")
                .validate(&[])
                .unwrap()
                .evaluate(&none)
                .ok
        );
    }

    #[test]
    fn metric_names_are_checked() {
        assert_eq!(
            canonical_metric("rpc:Inform", &[]).unwrap(),
            "inform",
            "the Inform has its own metric"
        );
        assert_eq!(canonical_metric("group:gw", &["gw"]).unwrap(), "group:gw");
        assert!(canonical_metric("group:x", &["gw"]).is_err());
        assert!(canonical_metric("rpc:GetParameterValue", &[])
            .unwrap_err()
            .contains("unknown RPC"));
        assert!(canonical_metric("sesion", &[])
            .unwrap_err()
            .contains("unknown metric"));
    }

    #[test]
    fn malformed_entries_say_what_is_wrong() {
        let e = spec("{ metric: session }").validate(&[]).unwrap_err();
        assert!(e.message.contains("needs a limit"), "{e:?}");
        let e = spec("{ metric: session, p99: 1s, p50: 1s }")
            .validate(&[])
            .unwrap_err();
        assert!(e.message.contains("several limits"));
        let e = spec("{ metric: session, error_rate: 1% }")
            .validate(&[])
            .unwrap_err();
        assert!(e.message.contains("not both"));
        let e = spec("{ p99: 1s }").validate(&[]).unwrap_err();
        assert!(e.message.contains("needs a metric"));
        assert!(serde_yaml::from_str::<ThresholdSpec>("{ metric: session, p98: 1s }").is_err());
        assert!(serde_yaml::from_str::<ThresholdSpec>("{ metric: session, p99: fast }").is_err());
    }

    #[test]
    fn a_verdict_gives_back_its_threshold() {
        let t = spec("{ name: GPV fast, metric: \"rpc:GetParameterValues\", p95: 200ms }")
            .validate(&[])
            .unwrap();
        assert_eq!(t.name, "GPV fast");
        let v = t.evaluate(&figures());
        assert_eq!(Threshold::from_verdict(&v), Some(t));
        let e = spec("{ error_rate: 0.5% }").validate(&[]).unwrap();
        assert_eq!(Threshold::from_verdict(&e.evaluate(&figures())), Some(e));
    }
}
