//! `cpefleet report compare BASE.json NEW.json`: every latency percentile, the error rate and
//! the throughput of a new run against a baseline, judged against the run-to-run noise. A figure
//! is a regression only when it worsened past the tolerance (a latency also by more than an
//! absolute floor, so 0.2 ms -> 0.3 ms is no 50 % alarm) *and* its 95 % confidence interval lies
//! wholly on the worse side of the baseline's ([`super::interval`]). Too few samples to bound a
//! figure (under `min_samples`, or too few for the percentile: 28 sessions say nothing about a
//! p99) give "not enough data", never "regression". The max is one sample: shown, not judged.

use std::fmt::Write as _;

use super::interval::{self, Interval};
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
    /// Fewer samples (latencies recorded, sessions) than this in either run: not enough data.
    pub min_samples: u64,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            ratio: 0.10,
            min_ms: 1.0,
            error_rate: 0.001,
            min_samples: 30,
        }
    }
}

/// What the comparison says of one figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the tolerance or within the noise.
    Same,
    /// Worse past the tolerance and beyond the noise.
    Regression,
    /// Too few samples in one run to tell.
    NotEnoughData,
    /// Shown, never judged (the max: one sample, the noisiest figure there is).
    Shown,
}

/// One compared figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub metric: String,
    /// `p50` … `max`, `ratio` (error rate) or `per_s` (throughput).
    pub stat: &'static str,
    pub base: f64,
    pub new: f64,
    /// The 95 % intervals, where the samples allow one.
    pub base_ci: Option<Interval>,
    pub new_ci: Option<Interval>,
    pub verdict: Verdict,
}

impl Row {
    /// Relative change (new / base - 1), `None` from zero.
    pub fn change(&self) -> Option<f64> {
        (self.base != 0.0).then(|| self.new / self.base - 1.0)
    }

    pub fn is_regression(&self) -> bool {
        self.verdict == Verdict::Regression
    }
}

/// Percentiles judged with their intervals, and the max, shown only.
const STATS: [(Stat, f64); 5] = [
    (Stat::P50, 0.50),
    (Stat::P90, 0.90),
    (Stat::P99, 0.99),
    (Stat::P999, 0.999),
    (Stat::Max, 1.0),
];

/// The verdict on a figure where `worse` says it moved past the tolerance and `beyond_noise`
/// that its interval cleared the baseline's; None intervals: not enough data.
fn judge(
    enough: bool,
    cis: (Option<Interval>, Option<Interval>),
    worse: bool,
    beyond_noise: impl Fn(&Interval, &Interval) -> bool,
) -> Verdict {
    match cis {
        (Some(b), Some(n)) if enough => {
            if worse && beyond_noise(&b, &n) {
                Verdict::Regression
            } else {
                Verdict::Same
            }
        }
        _ => Verdict::NotEnoughData,
    }
}

/// Compares `new` against `base`.
pub fn compare(base: &Report, new: &Report, tol: Tolerance) -> Vec<Row> {
    let mut rows = latency_rows(base, new, tol);
    let rate = |r: &Report| {
        let (failed, n) = (r.sessions.failed, r.sessions.succeeded + r.sessions.failed);
        let p = if n == 0 {
            0.0
        } else {
            failed as f64 / n as f64
        };
        (p, interval::proportion(failed, n), n)
    };
    let ((be, bci, bn), (ne, nci, nn)) = (rate(base), rate(new));
    rows.push(Row {
        metric: "error_rate".into(),
        stat: "ratio",
        base: be,
        new: ne,
        base_ci: bci,
        new_ci: nci,
        verdict: judge(
            bn.min(nn) >= tol.min_samples,
            (bci, nci),
            ne - be > tol.error_rate,
            |b, n| n.above(b),
        ),
    });
    let (bs, ns) = (base.sessions.started, new.sessions.started);
    let (bt, nt) = (base.sessions_per_s(), new.sessions_per_s());
    let (bci, nci) = (
        interval::rate(bs, base.duration_s),
        interval::rate(ns, new.duration_s),
    );
    rows.push(Row {
        metric: "sessions".into(),
        stat: "per_s",
        base: bt,
        new: nt,
        base_ci: bci,
        new_ci: nci,
        verdict: judge(
            bs.min(ns) >= tol.min_samples,
            (bci, nci),
            nt < bt * (1.0 - tol.ratio),
            |b, n| b.above(n),
        ),
    });
    rows
}

/// Every latency statistic both reports have (ms; the histograms hold µs).
fn latency_rows(base: &Report, new: &Report, tol: Tolerance) -> Vec<Row> {
    let mut rows = Vec::new();
    for name in base.latency_names() {
        let (Some(b), Some(n)) = (base.latencies.get(name), new.latencies.get(name)) else {
            continue;
        };
        let enough = b.len().min(n.len()) >= tol.min_samples;
        for (stat, q) in STATS {
            let (Some(bv), Some(nv)) = (stat.of(b), stat.of(n)) else {
                continue;
            };
            let ms = |i: Interval| Interval {
                lo: i.lo / 1000.0,
                hi: i.hi / 1000.0,
            };
            let (bci, nci) = (
                interval::quantile(b, q).map(ms),
                interval::quantile(n, q).map(ms),
            );
            let worse = nv > bv * (1.0 + tol.ratio) && nv - bv > tol.min_ms;
            let verdict = if stat == Stat::Max {
                Verdict::Shown
            } else {
                judge(enough, (bci, nci), worse, |b, n| n.above(b))
            };
            rows.push(Row {
                metric: name.to_string(),
                stat: stat.as_str(),
                base: bv,
                new: nv,
                base_ci: bci,
                new_ci: nci,
                verdict,
            });
        }
    }
    rows
}

/// The comparison as a table with each side's 95 % interval, regressions and figures without
/// enough data marked, and a summary line.
pub fn render(rows: &[Row]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<34} {:>6} {:>11} {:>11} {:>9}  {:<23} {:<23}",
        "metric", "stat", "base", "new", "change", "base 95% CI", "new 95% CI"
    );
    for r in rows {
        let fmt = |v: f64| match r.stat {
            "ratio" => format!("{:.3}%", v * 100.0),
            "per_s" => format!("{v:.2}/s"),
            _ => format!("{v:.3}ms"),
        };
        let ci = |i: Option<Interval>| {
            i.map_or("-".to_string(), |i| format!("{}..{}", fmt(i.lo), fmt(i.hi)))
        };
        let change = r
            .change()
            .map_or("-".to_string(), |c| format!("{:+.1}%", c * 100.0));
        let mark = match r.verdict {
            Verdict::Regression => "  REGRESSION",
            Verdict::NotEnoughData => "  not enough data",
            Verdict::Same | Verdict::Shown => "",
        };
        let _ = writeln!(
            o,
            "{:<34} {:>6} {:>11} {:>11} {:>9}  {:<23} {:<23}{mark}",
            r.metric,
            r.stat,
            fmt(r.base),
            fmt(r.new),
            change,
            ci(r.base_ci),
            ci(r.new_ci),
        );
    }
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    let (n, thin) = (count(Verdict::Regression), count(Verdict::NotEnoughData));
    let judged = count(Verdict::Same) + n;
    let _ = write!(
        o,
        "{}",
        if n > 0 {
            format!("{n} regression(s)")
        } else if judged == 0 {
            "not enough data to judge".to_string()
        } else {
            "no regression".to_string()
        }
    );
    if thin > 0 {
        let _ = write!(
            o,
            "; {thin} figure(s) not enough data (too few samples for a 95 % interval)"
        );
    }
    let _ = writeln!(o);
    o
}
