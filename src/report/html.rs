//! `--report-html PATH`: one self-contained page (inline CSS and SVG; no scripts, no fonts, no
//! external requests) with the run's summary, thresholds, sessions per second and latency
//! percentiles over time, the latency distribution, and every latency's table.

use std::fmt::Write as _;

use hdrhistogram::{Counter, Histogram};

use super::svg::{Chart, Series, XAxis, PALETTE};
use super::{Report, Section};
use crate::cwmp::encode::escape;
use crate::threshold::fmt_value;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:24px auto;max-width:820px;color:#222;background:#fff}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#666;margin-top:0}table{border-collapse:collapse;font-size:13px;margin:8px 0}
td,th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}th{background:#f5f5f5}
td:first-child,th:first-child{text-align:left}.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}
.verdict{font-size:15px;padding:6px 10px;border-radius:4px;display:inline-block}
.verdict.pass{background:#dafbe1}.verdict.fail{background:#ffebe9}
svg.chart{width:100%;height:auto;margin:6px 0;font-family:inherit}
svg .title{font-size:14px;font-weight:600;fill:#222}svg .tick{font-size:11px;fill:#555}
svg .axis{font-size:12px;fill:#333}svg .legend{font-size:12px;fill:#333}svg .empty{font-size:14px;fill:#999}
svg .grid{stroke:#e6e6e6;stroke-width:1}svg .frame{fill:none;stroke:#999;stroke-width:1}
.note{color:#666;font-size:12px}";

fn percentile_points<T: Counter>(h: &Histogram<T>) -> Vec<(f64, f64)> {
    if h.is_empty() {
        return Vec::new();
    }
    // Beyond 1 - 1/count the percentiles are all the maximum: the axis ends where the samples
    // do (at least 90 %, at most six nines), and the last step (q = 1) lands there.
    let end = (h.len() as f64).log10().clamp(1.0, 6.0);
    let mut v: Vec<(f64, f64)> = Vec::new();
    for it in h.iter_quantiles(4) {
        let q = it.quantile_iterated_to();
        let x = if q >= 1.0 {
            end
        } else {
            (1.0 / (1.0 - q)).log10().min(end)
        };
        v.push((x, it.value_iterated_to() as f64 / 1000.0));
        if x >= end {
            break;
        }
    }
    v
}

fn row(o: &mut String, cells: &[String]) {
    o.push_str("<tr>");
    for c in cells {
        let _ = write!(o, "<td>{c}</td>");
    }
    o.push_str("</tr>");
}

fn count_table(o: &mut String, id: &str, title: &str, m: &std::collections::BTreeMap<String, u64>) {
    if m.is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<h2>{}</h2><table id=\"{id}\"><tr><th>{}</th><th>count</th></tr>",
        escape(title),
        escape(title)
    );
    for (k, v) in m {
        row(o, &[escape(k), v.to_string()]);
    }
    o.push_str("</table>");
}

/// The page's sections in reading order: a new section is one function and one line here.
const SECTIONS: &[Section] = &[
    head,
    verdict,
    summary,
    thresholds,
    over_time,
    distribution,
    latency_table,
    |o, r| count_table(o, "errors", "errors", &r.errors),
    |o, r| count_table(o, "events", "events", &r.events),
    |o, r| count_table(o, "faults", "faults", &r.faults),
    rpcs,
    connection_requests,
    footer,
];

/// The page.
pub fn render(r: &Report) -> String {
    super::render_sections(r, SECTIONS)
}

fn head(o: &mut String, r: &Report) {
    let title = format!("cpefleet report: {}", r.scenario);
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&title)
    );
    let _ = write!(
        o,
        "<h1>{}</h1><p class=\"sub\">{} devices, {:.1} s against {}{}</p>",
        escape(&title),
        r.devices,
        r.duration_s,
        escape(&r.acs_url),
        if r.runs > 1 {
            format!(" — {} runs merged", r.runs)
        } else {
            String::new()
        }
    );
}

fn verdict(o: &mut String, r: &Report) {
    if !r.thresholds.is_empty() {
        let (cls, word) = if r.passed() {
            ("pass", "PASSED")
        } else {
            ("fail", "FAILED")
        };
        let _ = write!(
            o,
            "<p id=\"verdict\" class=\"verdict {cls}\">Thresholds {word}: {} of {} passed</p>",
            r.thresholds.iter().filter(|v| v.ok).count(),
            r.thresholds.len()
        );
    }
    if let Some(d) = &r.diagnosis {
        let _ = write!(o, "<p id=\"diagnosis\">{}</p>", escape(d));
    }
}

fn summary(o: &mut String, r: &Report) {
    let s = &r.sessions;
    o.push_str("<h2>Summary</h2><table id=\"summary\">");
    for (k, v) in [
        ("devices", r.devices.to_string()),
        ("duration", format!("{:.1} s", r.duration_s)),
        ("sessions started", s.started.to_string()),
        ("succeeded", s.succeeded.to_string()),
        ("failed", s.failed.to_string()),
        ("cancelled", s.cancelled.to_string()),
        ("sessions per second", format!("{:.2}", r.sessions_per_s())),
        ("most devices waiting for a slot", s.late.to_string()),
        ("arrivals dropped", s.dropped.to_string()),
        (
            "what limited the run",
            super::limits::Limits::of(r).diagnosis,
        ),
    ] {
        row(o, &[escape(k), escape(&v)]);
    }
    o.push_str("</table>");
}

fn thresholds(o: &mut String, r: &Report) {
    if r.thresholds.is_empty() {
        return;
    }
    o.push_str("<h2>Thresholds</h2><table id=\"thresholds\"><tr><th>threshold</th><th>measured</th><th>limit</th><th>result</th></tr>");
    for v in &r.thresholds {
        row(
            o,
            &[
                escape(&v.name),
                v.value
                    .map_or("no samples".into(), |x| fmt_value(x, &v.unit)),
                fmt_value(v.limit, &v.unit),
                if v.ok {
                    "<span class=\"pass\">PASS</span>".into()
                } else {
                    "<span class=\"fail\">FAIL</span>".into()
                },
            ],
        );
    }
    o.push_str("</table>");
}

/// The timeline's interval width (s) and the x position of interval `i` (its middle).
fn interval_x(r: &Report) -> (f64, impl Fn(usize) -> f64) {
    let width = r.timeline.width_ms() as f64 / 1000.0;
    (width, move |i: usize| (i as f64 + 0.5) * width)
}

fn over_time(o: &mut String, r: &Report) {
    let (width, _) = interval_x(r);
    o.push_str("<h2>Over time</h2>");
    o.push_str(&rate_chart(r).render());
    o.push_str(&latency_chart(r).render());
    let _ = write!(
        o,
        "<p class=\"note\">Intervals of {} s. The dashed line measures each session from its intended start (due time): where it parts from p99, sessions waited on their schedule (coordinated omission made visible).</p>",
        fmt_num(width)
    );
}

/// Sessions started, finished and failed per second, interval by interval.
fn rate_chart(r: &Report) -> Chart<'static> {
    let (width, at) = interval_x(r);
    let iv = r.timeline.intervals();
    let per_s = |f: &dyn Fn(&crate::metrics::timeline::Interval) -> u64| -> Vec<(f64, f64)> {
        iv.iter()
            .enumerate()
            .map(|(i, x)| (at(i), f(x) as f64 / width))
            .collect()
    };
    Chart {
        id: "chart-rate",
        title: "Sessions per second",
        y_label: "sessions/s",
        x: XAxis::Seconds,
        series: if iv.is_empty() {
            vec![]
        } else {
            vec![
                Series {
                    name: "started".into(),
                    color: PALETTE[0],
                    dashed: false,
                    points: per_s(&|x| x.started),
                },
                Series {
                    name: "finished".into(),
                    color: PALETTE[2],
                    dashed: true,
                    points: per_s(&|x| x.finished),
                },
                Series {
                    name: "failed".into(),
                    color: PALETTE[1],
                    dashed: false,
                    points: per_s(&|x| x.failed),
                },
            ]
        },
    }
}

/// Session latency percentiles of the sessions ending in each interval.
fn latency_chart(r: &Report) -> Chart<'static> {
    let (_, at) = interval_x(r);
    let iv = r.timeline.intervals();
    let pct = |q: f64, intended: bool| -> Vec<(f64, f64)> {
        iv.iter()
            .enumerate()
            .filter_map(|(i, x)| {
                let h = if intended { &x.intended } else { &x.latency };
                h.as_ref()
                    .filter(|h| !h.is_empty())
                    .map(|h| (at(i), h.value_at_quantile(q) as f64 / 1000.0))
            })
            .collect()
    };
    let mut lat_series = Vec::new();
    for (n, (name, q)) in [("p50", 0.5), ("p90", 0.9), ("p99", 0.99)]
        .iter()
        .enumerate()
    {
        lat_series.push(Series {
            name: (*name).into(),
            color: PALETTE[n],
            dashed: false,
            points: pct(*q, false),
        });
    }
    lat_series.push(Series {
        name: "max".into(),
        color: PALETTE[4],
        dashed: false,
        points: pct(1.0, false),
    });
    lat_series.push(Series {
        name: "p99 from intended start".into(),
        color: PALETTE[3],
        dashed: true,
        points: pct(0.99, true),
    });
    if lat_series.iter().all(|s| s.points.is_empty()) {
        lat_series.clear();
    }
    Chart {
        id: "chart-latency",
        title: "Session latency percentiles (sessions ending in each interval)",
        y_label: "ms",
        x: XAxis::Seconds,
        series: lat_series,
    }
}

fn distribution(o: &mut String, r: &Report) {
    let mut dist = Vec::new();
    for (n, (key, label)) in [
        ("session", "session"),
        ("session_from_intended_start", "session from intended start"),
        ("inform", "Inform → InformResponse"),
        ("cr_to_inform", "CR → Inform"),
        // By transport, only when the run used more than one (else it repeats the line above).
        ("cr_to_inform:http", "CR → Inform (http)"),
        ("cr_to_inform:udp", "CR → Inform (udp)"),
        ("cr_to_inform:xmpp", "CR → Inform (xmpp)"),
    ]
    .iter()
    .enumerate()
    {
        let several = r
            .latencies
            .keys()
            .filter(|k| k.starts_with("cr_to_inform:"))
            .count()
            > 1;
        let shown = !key.starts_with("cr_to_inform:") || several;
        if let Some(h) = r.latencies.get(*key).filter(|h| shown && !h.is_empty()) {
            dist.push(Series {
                name: (*label).into(),
                color: PALETTE[n % PALETTE.len()],
                dashed: *key == "session_from_intended_start" || key.starts_with("cr_to_inform:"),
                points: percentile_points(h),
            });
        }
    }
    o.push_str("<h2>Latency distribution</h2>");
    o.push_str(
        &Chart {
            id: "chart-distribution",
            title: "Latency by percentile (whole run)",
            y_label: "ms",
            x: XAxis::Nines,
            series: dist,
        }
        .render(),
    );
}

fn latency_table(o: &mut String, r: &Report) {
    o.push_str("<h2>Latency (ms)</h2><table id=\"latency-table\"><tr><th>metric</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>");
    for k in r.latency_names() {
        let Some(h) = r.latencies.get(k).filter(|h| !h.is_empty()) else {
            continue;
        };
        let ms = |v: u64| format!("{:.2}", v as f64 / 1000.0);
        row(
            o,
            &[
                escape(k),
                h.len().to_string(),
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.9)),
                ms(h.value_at_quantile(0.99)),
                ms(h.value_at_quantile(0.999)),
                ms(h.max()),
            ],
        );
    }
    o.push_str("</table>");
}

fn rpcs(o: &mut String, r: &Report) {
    if r.rpcs.is_empty() {
        return;
    }
    o.push_str("<h2>RPCs</h2><table id=\"rpcs\"><tr><th>RPC</th><th>ok</th><th>fault</th></tr>");
    for (k, v) in &r.rpcs {
        row(o, &[escape(k), v.ok.to_string(), v.fault.to_string()]);
    }
    o.push_str("</table>");
}

fn connection_requests(o: &mut String, r: &Report) {
    for (transport, counts) in &r.connection_requests {
        let cr: std::collections::BTreeMap<String, u64> = counts
            .iter()
            .filter(|(_, v)| **v > 0)
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let id = format!("connection-requests-{transport}");
        let title = format!("connection requests ({transport})");
        count_table(o, &id, &title, &cr);
    }
}

fn footer(o: &mut String, _: &Report) {
    let _ = writeln!(
        o,
        "<p class=\"note\">Generated by cpefleet {}.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}
