//! The end-of-run report: a terminal table and a JSON document (`--report-json`). Pure
//! formatting of what the fleet measured.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

use crate::cr::CrResult;
use crate::fleet::RunResult;

/// Percentiles of a microsecond histogram, in milliseconds.
pub fn summary(h: &Histogram<u64>) -> Value {
    let ms = |v: u64| (v as f64 / 1000.0 * 1000.0).round() / 1000.0;
    json!({
        "count": h.len(),
        "p50": ms(h.value_at_quantile(0.50)),
        "p90": ms(h.value_at_quantile(0.90)),
        "p99": ms(h.value_at_quantile(0.99)),
        "p999": ms(h.value_at_quantile(0.999)),
        "max": ms(h.max()),
    })
}

/// Every latency the run recorded, by name.
pub fn latencies(r: &RunResult) -> Vec<(String, &Histogram<u64>)> {
    let s = &r.stats;
    let mut v: Vec<(String, &Histogram<u64>)> = vec![
        ("session".into(), &s.session),
        ("session_from_intended_start".into(), &s.session_intended),
        ("schedule_lag".into(), &s.lag),
        ("tcp_connect".into(), &s.connect),
        ("cr_to_inform".into(), &s.cr_to_inform),
    ];
    for (k, h) in &s.exchanges {
        v.push((format!("rpc:{k}"), h));
    }
    v
}

/// The JSON report.
pub fn json(r: &RunResult, scenario: &str) -> Value {
    let s = &r.stats;
    let mut lat = Map::new();
    for (k, h) in latencies(r) {
        lat.insert(k, summary(h));
    }
    let mut cr = Map::new();
    for res in CrResult::ALL {
        cr.insert(res.label().into(), json!(r.cr.get(res)));
    }
    json!({
        "scenario": scenario,
        "devices": r.devices,
        "duration_s": (r.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "sessions": {
            "started": s.started,
            "succeeded": s.succeeded,
            "failed": s.failed,
            "cancelled": s.cancelled,
            "late": s.late,
            "dropped": s.dropped,
        },
        "events": s.events,
        "errors": s.errors,
        "protocol_checks": s.checks.to_json(),
        "connection_requests": cr,
        "latency_ms": lat,
        "acs_url": r.acs_url,
    })
}

/// The terminal summary.
pub fn text(r: &RunResult, scenario: &str) -> String {
    let s = &r.stats;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "\n== cpefleet: {scenario} — {} devices, {:.1} s against {}",
        r.devices,
        r.elapsed.as_secs_f64(),
        r.acs_url
    );
    let rate = s.started as f64 / r.elapsed.as_secs_f64().max(1e-9);
    let _ = writeln!(
        o,
        "sessions  started {}  succeeded {}  failed {}  cancelled {}  ({rate:.1}/s)",
        s.started, s.succeeded, s.failed, s.cancelled
    );
    if s.late + s.dropped > 0 {
        let _ = writeln!(o, "open model  late {}  dropped {}", s.late, s.dropped);
    }
    if !s.events.is_empty() {
        let ev: Vec<String> = s.events.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(o, "events    {}", ev.join(", "));
    }
    if !s.errors.is_empty() {
        let er: Vec<String> = s.errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let _ = writeln!(o, "errors    {}", er.join(", "));
    }
    if s.checks.any_failed() {
        let failed: Vec<String> = crate::conformance::Check::ALL
            .iter()
            .filter(|c| s.checks.failed(**c) > 0)
            .map(|c| format!("{}: {}", c.label(), s.checks.failed(*c)))
            .collect();
        let _ = writeln!(o, "ACS checks failed  {}", failed.join(", "));
    }
    let cr: Vec<String> = CrResult::ALL
        .iter()
        .filter(|x| r.cr.get(**x) > 0)
        .map(|x| format!("{}: {}", x.label(), r.cr.get(*x)))
        .collect();
    if !cr.is_empty() {
        let _ = writeln!(o, "connection requests  {}", cr.join(", "));
    }
    let _ = writeln!(
        o,
        "\n{:<34} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "latency (ms)", "count", "p50", "p90", "p99", "max"
    );
    for (k, h) in latencies(r) {
        if h.is_empty() {
            continue;
        }
        let ms = |v: u64| v as f64 / 1000.0;
        let _ = writeln!(
            o,
            "{:<34} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            k,
            h.len(),
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.9)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max())
        );
    }
    o
}
