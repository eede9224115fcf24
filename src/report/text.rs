//! The terminal summary: counts, a latency table (every phase and RPC), the thresholds.

use std::fmt::Write as _;

use super::{Report, Section};
use crate::threshold::fmt_value;

fn pairs<V: std::fmt::Display>(m: &std::collections::BTreeMap<String, V>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary's sections in print order: a new section is one function and one line here.
const SECTIONS: &[Section] = &[
    header,
    sessions,
    limits,
    events,
    value_changes,
    protocol_checks,
    errors_and_faults,
    connection_requests,
    rpcs,
    latency_table,
    thresholds,
    diagnosis,
];

/// The summary printed at the end of a run (and by `report merge`).
pub fn render(r: &Report) -> String {
    super::render_sections(r, SECTIONS)
}

fn header(o: &mut String, r: &Report) {
    let runs = if r.runs > 1 {
        format!(" ({} runs merged)", r.runs)
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "\n== cpefleet: {} — {} devices, {:.1} s against {}{runs}",
        r.scenario, r.devices, r.duration_s, r.acs_url
    );
    if r.partial {
        let _ = writeln!(
            o,
            "PARTIAL: the run was cut short (second Ctrl-C or SIGHUP); these are the figures until then"
        );
    }
}

fn sessions(o: &mut String, r: &Report) {
    let s = &r.sessions;
    let _ = writeln!(
        o,
        "sessions  started {}  succeeded {}  failed {}  cancelled {}  ({:.1}/s)",
        s.started,
        s.succeeded,
        s.failed,
        s.cancelled,
        r.sessions_per_s()
    );
    if s.late + s.dropped > 0 {
        let _ = writeln!(
            o,
            "backlog   at most {} devices waited for a session slot; {} arrivals dropped",
            s.late, s.dropped
        );
    }
}

fn limits(o: &mut String, r: &Report) {
    let l = super::limits::Limits::of(r);
    let _ = writeln!(
        o,
        "limits    slot wait p50 {:.1} ms p99 {:.1} ms; simulator lag p50 {:.1} ms p99 {:.1} ms; ACS 503s {}{}",
        l.slot_wait_p50_ms,
        l.slot_wait_p99_ms,
        l.simulator_lag_p50_ms,
        l.simulator_lag_p99_ms,
        l.http_503,
        l.sessions_per_s_at_first_503
            .map_or(String::new(), |r| format!(" (from {r:.1} sessions/s)"))
    );
    let _ = writeln!(o, "diagnosis {}", l.diagnosis);
}

fn events(o: &mut String, r: &Report) {
    if !r.events.is_empty() {
        let _ = writeln!(o, "events    {}", pairs(&r.events));
    }
}

fn value_changes(o: &mut String, r: &Report) {
    let v = &r.value_changes;
    if v.total() > 0 {
        let _ = writeln!(
            o,
            "changes   {} local value changes: {} active (own Inform), {} passive (next Inform), {} not notifiable (notification off: never reported)",
            v.total(),
            v.active,
            v.passive,
            v.not_notified
        );
    }
}

fn protocol_checks(o: &mut String, r: &Report) {
    let failed_checks: Vec<String> = r
        .protocol_checks
        .iter()
        .filter(|(_, t)| t.fail > 0)
        .map(|(k, t)| format!("{k}: {} of {}", t.fail, t.fail + t.pass))
        .collect();
    if !failed_checks.is_empty() {
        let _ = writeln!(
            o,
            "ACS protocol checks failed  {}",
            failed_checks.join(", ")
        );
    }
}

fn errors_and_faults(o: &mut String, r: &Report) {
    if !r.errors.is_empty() {
        let _ = writeln!(o, "errors    {}", pairs(&r.errors));
    }
    if !r.faults.is_empty() {
        let _ = writeln!(o, "faults    {}", pairs(&r.faults));
    }
}

fn connection_requests(o: &mut String, r: &Report) {
    for (transport, counts) in &r.connection_requests {
        let cr: Vec<String> = counts
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        if !cr.is_empty() {
            let _ = writeln!(o, "connection requests ({transport})  {}", cr.join(", "));
        }
    }
}

fn rpcs(o: &mut String, r: &Report) {
    if r.rpcs.is_empty() {
        return;
    }
    let rpcs: Vec<String> = r
        .rpcs
        .iter()
        .map(|(k, v)| {
            if v.fault > 0 {
                format!("{k}: {} ok, {} fault", v.ok, v.fault)
            } else {
                format!("{k}: {}", v.ok)
            }
        })
        .collect();
    let _ = writeln!(o, "rpcs      {}", rpcs.join(", "));
}

fn latency_table(o: &mut String, r: &Report) {
    let _ = writeln!(
        o,
        "\n{:<34} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "latency (ms)", "count", "p50", "p90", "p99", "p99.9", "max"
    );
    for k in r.latency_names() {
        let Some(h) = r.latencies.get(k).filter(|h| !h.is_empty()) else {
            continue;
        };
        let ms = |v: u64| v as f64 / 1000.0;
        let _ = writeln!(
            o,
            "{:<34} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            k,
            h.len(),
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.9)),
            ms(h.value_at_quantile(0.99)),
            ms(h.value_at_quantile(0.999)),
            ms(h.max())
        );
    }
}

fn thresholds(o: &mut String, r: &Report) {
    if r.thresholds.is_empty() {
        return;
    }
    let passed = r.thresholds.iter().filter(|v| v.ok).count();
    let _ = writeln!(o, "\nthresholds: {passed} of {} passed", r.thresholds.len());
    for v in &r.thresholds {
        let measured = v
            .value
            .map_or("no samples".to_string(), |x| fmt_value(x, &v.unit));
        let _ = writeln!(
            o,
            "  {}  {:<40} {measured}",
            if v.ok { "PASS" } else { "FAIL" },
            v.name
        );
    }
}

fn diagnosis(o: &mut String, r: &Report) {
    if let Some(d) = &r.diagnosis {
        let _ = writeln!(o, "\n{d}");
    }
}
