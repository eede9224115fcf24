//! `cpefleet report compare BASE.json NEW.json`: every latency percentile, the error rate and
//! the throughput of a new run against a baseline. A latency is a regression when it grew by
//! more than the tolerance *and* by more than an absolute floor (so 0.2 ms → 0.3 ms is not a
//! 50 % alarm); the error rate when it rose by more than its own (absolute) tolerance; the
//! throughput when it fell by more than the tolerance.

use std::fmt::Write as _;

use super::Report;
use crate::threshold::Stat;

/// How much worse is still fine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative growth of a latency (0.1 = 10 %), and relative fall of the throughput.
    pub ratio: f64,
    /// A latency must also grow by more than this many ms.
    pub min_ms: f64,
    /// Absolute rise of the error rate (0.001 = 0.1 percentage point).
    pub error_rate: f64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            ratio: 0.10,
            min_ms: 1.0,
            error_rate: 0.001,
        }
    }
}

/// One compared figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: String,
    /// `p50` … `max`, `ratio` (error rate) or `per_s` (throughput).
    pub stat: &'static str,
    pub base: f64,
    pub new: f64,
    pub regression: bool,
}

impl Row {
    /// Relative change (new / base - 1), `None` from zero.
    pub fn change(&self) -> Option<f64> {
        (self.base != 0.0).then(|| self.new / self.base - 1.0)
    }
}

const STATS: [Stat; 5] = [Stat::P50, Stat::P90, Stat::P99, Stat::P999, Stat::Max];

/// Compares `new` against `base`.
pub fn compare(base: &Report, new: &Report, tol: Tolerance) -> Vec<Row> {
    let mut rows = Vec::new();
    for name in base.latency_names() {
        let (Some(b), Some(n)) = (base.latencies.get(name), new.latencies.get(name)) else {
            continue;
        };
        for stat in STATS {
            let (Some(bv), Some(nv)) = (stat.of(b), stat.of(n)) else {
                continue;
            };
            rows.push(Row {
                metric: name.to_string(),
                stat: stat.as_str(),
                base: bv,
                new: nv,
                regression: nv > bv * (1.0 + tol.ratio) && nv - bv > tol.min_ms,
            });
        }
    }
    let rate = |r: &Report| {
        let (ok, failed) = (r.sessions.succeeded, r.sessions.failed);
        if ok + failed == 0 {
            0.0
        } else {
            failed as f64 / (ok + failed) as f64
        }
    };
    let (be, ne) = (rate(base), rate(new));
    rows.push(Row {
        metric: "error_rate".into(),
        stat: "ratio",
        base: be,
        new: ne,
        regression: ne - be > tol.error_rate,
    });
    let (bt, nt) = (base.sessions_per_s(), new.sessions_per_s());
    rows.push(Row {
        metric: "sessions".into(),
        stat: "per_s",
        base: bt,
        new: nt,
        regression: nt < bt * (1.0 - tol.ratio),
    });
    rows
}

/// The comparison as a table, regressions marked.
pub fn render(rows: &[Row]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<34} {:>6} {:>11} {:>11} {:>9}",
        "metric", "stat", "base", "new", "change"
    );
    for r in rows {
        let fmt = |v: f64| match r.stat {
            "ratio" => format!("{:.3}%", v * 100.0),
            "per_s" => format!("{v:.2}/s"),
            _ => format!("{v:.3}ms"),
        };
        let change = r
            .change()
            .map_or("-".to_string(), |c| format!("{:+.1}%", c * 100.0));
        let _ = writeln!(
            o,
            "{:<34} {:>6} {:>11} {:>11} {:>9}{}",
            r.metric,
            r.stat,
            fmt(r.base),
            fmt(r.new),
            change,
            if r.regression { "  REGRESSION" } else { "" }
        );
    }
    let n = rows.iter().filter(|r| r.regression).count();
    let _ = writeln!(
        o,
        "{}",
        if n == 0 {
            "no regression".to_string()
        } else {
            format!("{n} regression(s)")
        }
    );
    o
}
