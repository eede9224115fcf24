//! JUnit XML (`--junit PATH`): one test case per threshold, so CI systems show a load test's
//! verdicts like any other tests. The shape is the common Ant/Jenkins one (checked against
//! `docs/junit.xsd` in the tests).

use std::fmt::Write as _;

use super::Report;
use crate::cwmp::encode::escape;
use crate::threshold::fmt_value;

pub fn render(r: &Report) -> String {
    let tests = r.thresholds.len();
    let failures = r.thresholds.iter().filter(|v| !v.ok).count();
    let time = format!("{:.3}", r.duration_s);
    let suite = escape(&format!("cpefleet.{}", r.scenario));
    let mut o = String::new();
    let _ = writeln!(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    let _ = writeln!(
        o,
        "<testsuites name=\"cpefleet\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time}\">"
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{time}\">"
    );
    let _ = writeln!(o, "    <properties>");
    for (k, v) in [
        ("scenario", r.scenario.clone()),
        ("acs_url", r.acs_url.clone()),
        ("devices", r.devices.to_string()),
        ("sessions_started", r.sessions.started.to_string()),
        ("sessions_failed", r.sessions.failed.to_string()),
        ("runs", r.runs.to_string()),
        ("partial", r.partial.to_string()),
    ] {
        let _ = writeln!(
            o,
            "      <property name=\"{}\" value=\"{}\"/>",
            escape(k),
            escape(&v)
        );
    }
    let _ = writeln!(o, "    </properties>");
    for v in &r.thresholds {
        let _ = write!(
            o,
            "    <testcase name=\"{}\" classname=\"{suite}.thresholds\" time=\"0\"",
            escape(&v.name)
        );
        match v.failure() {
            None => {
                let _ = writeln!(o, "/>");
            }
            Some(msg) => {
                let mut detail = format!(
                    "{} {} of {}: {} (limit {})",
                    v.metric,
                    v.stat,
                    r.scenario,
                    v.value
                        .map_or("no samples".into(), |x| fmt_value(x, &v.unit)),
                    fmt_value(v.limit, &v.unit)
                );
                if let (Some(d), "error_rate") = (&r.diagnosis, v.metric.as_str()) {
                    detail = format!("{detail}\n{d}");
                }
                let _ = writeln!(o, ">");
                let _ = writeln!(
                    o,
                    "      <failure message=\"{}\" type=\"threshold\">{}</failure>",
                    escape(&msg),
                    escape(&detail)
                );
                let _ = writeln!(o, "    </testcase>");
            }
        }
    }
    let _ = writeln!(
        o,
        "    <system-out>{}</system-out>",
        escape(&super::text::render(r))
    );
    let _ = writeln!(o, "  </testsuite>");
    let _ = writeln!(o, "</testsuites>");
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_covers_markup_and_control_characters() {
        assert_eq!(
            super::escape("p99 <= 5 & \"x\" 'y'\u{1}"),
            "p99 &lt;= 5 &amp; &quot;x&quot; &apos;y&apos;\u{FFFD}"
        );
    }
}
