//! Results of a conformance run: pass/fail per case (with the failures that name the device,
//! the session and the message) and per protocol check; as terminal text, JSON and JUnit XML.

use serde::Serialize;

use crate::cwmp::encode::escape;
use crate::session::checks::{Check, CheckCounts};

/// One case's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub name: String,
    pub section: String,
    pub title: String,
    pub file: String,
    pub passed: bool,
    /// Why the case could not apply to this ACS (a capability it lacks); not a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why it failed (empty when passed).
    pub failures: Vec<String>,
    /// Sessions the device held.
    pub sessions: u32,
    pub seconds: f64,
    #[serde(skip)]
    pub checks: CheckCounts,
}

impl CaseResult {
    /// A case the ACS cannot run, with the reason.
    pub fn skipped(case: &super::case::Case, why: String) -> Self {
        let spec = &case.spec;
        CaseResult {
            name: spec.name.clone(),
            section: spec.section.clone(),
            title: spec.title.clone(),
            file: case.path.display().to_string(),
            passed: false,
            skipped: Some(why),
            failures: Vec::new(),
            sessions: 0,
            seconds: 0.0,
            checks: CheckCounts::default(),
        }
    }

    /// Failed (a skipped case has not failed).
    pub fn failed(&self) -> bool {
        !self.passed && self.skipped.is_none()
    }

    fn verdict(&self) -> &'static str {
        match (self.passed, &self.skipped) {
            (true, _) => "PASS",
            (false, Some(_)) => "SKIP",
            (false, None) => "FAIL",
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, Default)]
pub struct SuiteResult {
    pub cases: Vec<CaseResult>,
    /// Protocol checks over every session of the run.
    pub checks: CheckCounts,
    /// Failed checks' details (capped), by check.
    pub check_failures: Vec<(Check, String)>,
}

/// Details kept per run (a broken ACS fails the same check in every session).
pub const MAX_CHECK_DETAILS: usize = 200;

impl SuiteResult {
    pub fn passed(&self) -> bool {
        !self.cases.iter().any(CaseResult::failed) && !self.checks.any_failed()
    }

    pub fn failed_cases(&self) -> usize {
        self.cases.iter().filter(|c| c.failed()).count()
    }

    pub fn skipped_cases(&self) -> usize {
        self.cases.iter().filter(|c| c.skipped.is_some()).count()
    }

    /// The terminal summary.
    pub fn text(&self) -> String {
        let mut out = String::new();
        out.push_str("conformance cases\n");
        for c in &self.cases {
            out.push_str(&format!(
                "  {} {:<34} §{:<18} {} sessions, {:.1}s\n",
                c.verdict(),
                c.name,
                c.section,
                c.sessions,
                c.seconds
            ));
            if let Some(why) = &c.skipped {
                out.push_str(&format!("       skipped: {why}\n"));
            }
            for f in &c.failures {
                out.push_str(&format!("       - {f}\n"));
            }
        }
        out.push_str("protocol checks (every ACS message)\n");
        for c in Check::ALL {
            let (p, f) = (self.checks.passed(c), self.checks.failed(c));
            let verdict = match (p, f) {
                (0, 0) => "n/a ",
                (_, 0) => "PASS",
                _ => "FAIL",
            };
            out.push_str(&format!(
                "  {verdict} {:<34} §{:<18} {p} passed, {f} failed\n",
                c.label(),
                c.section()
            ));
            for (_, d) in self.check_failures.iter().filter(|(k, _)| *k == c).take(3) {
                out.push_str(&format!("       - {d}\n"));
            }
        }
        out.push_str(&format!(
            "result: {} ({} of {} cases passed, {} skipped, {} checks failed)\n",
            if self.passed() { "PASS" } else { "FAIL" },
            self.cases.len() - self.failed_cases() - self.skipped_cases(),
            self.cases.len(),
            self.skipped_cases(),
            Check::ALL
                .iter()
                .filter(|c| self.checks.failed(**c) > 0)
                .count()
        ));
        out
    }

    pub fn json(&self) -> serde_json::Value {
        let checks: Vec<serde_json::Value> = Check::ALL
            .iter()
            .map(|c| {
                serde_json::json!({
                    "check": c.label(),
                    "section": c.section(),
                    "passed": self.checks.passed(*c),
                    "failed": self.checks.failed(*c),
                    "failures": self.check_failures.iter().filter(|(k, _)| k == c)
                        .map(|(_, d)| d.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::json!({
            "passed": self.passed(),
            "cases": self.cases,
            "checks": checks,
        })
    }

    /// JUnit XML: one testsuite "cases" with a testcase per case, one "checks" with a
    /// testcase per protocol check (skipped when no message exercised it).
    pub fn junit(&self) -> String {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cpefleet conformance\">\n");
        x.push_str(&format!(
            "  <testsuite name=\"cases\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
            self.cases.len(),
            self.failed_cases(),
            self.skipped_cases()
        ));
        for c in &self.cases {
            x.push_str(&format!(
                "    <testcase classname=\"conformance.cases\" name=\"{}\" time=\"{:.3}\">\n",
                escape(&format!("{} (TR-069 {})", c.name, c.section)),
                c.seconds
            ));
            if let (false, Some(why)) = (c.passed, &c.skipped) {
                x.push_str(&format!("      <skipped message=\"{}\"/>\n", escape(why)));
            } else if !c.passed {
                x.push_str(&format!(
                    "      <failure message=\"{}\">{}</failure>\n",
                    escape(c.failures.first().map_or("failed", String::as_str)),
                    escape(&c.failures.join("\n"))
                ));
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n");
        let failed = Check::ALL
            .iter()
            .filter(|c| self.checks.failed(**c) > 0)
            .count();
        x.push_str(&format!(
            "  <testsuite name=\"checks\" tests=\"{}\" failures=\"{failed}\">\n",
            Check::ALL.len()
        ));
        for c in Check::ALL {
            x.push_str(&format!(
                "    <testcase classname=\"conformance.checks\" name=\"{}\">\n",
                escape(&format!("{} (TR-069 {})", c.label(), c.section()))
            ));
            let (p, f) = (self.checks.passed(c), self.checks.failed(c));
            if f > 0 {
                let details: Vec<&str> = self
                    .check_failures
                    .iter()
                    .filter(|(k, _)| *k == c)
                    .map(|(_, d)| d.as_str())
                    .collect();
                x.push_str(&format!(
                    "      <failure message=\"{f} of {} messages failed\">{}</failure>\n",
                    p + f,
                    escape(&details.join("\n"))
                ));
            } else if p == 0 {
                x.push_str("      <skipped message=\"no message exercised this check\"/>\n");
            }
            x.push_str("    </testcase>\n");
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn junit_escapes_and_counts() {
        let mut r = SuiteResult::default();
        r.cases.push(CaseResult {
            name: "a<b".into(),
            section: "3.7".into(),
            title: String::new(),
            file: "f".into(),
            passed: false,
            skipped: None,
            failures: vec!["x & \"y\"".into()],
            sessions: 1,
            seconds: 0.5,
            checks: CheckCounts::default(),
        });
        r.checks.record(Check::Cookies, true);
        let x = r.junit();
        assert!(x.contains("name=\"a&lt;b (TR-069 3.7)\""), "{x}");
        assert!(x.contains("message=\"x &amp; &quot;y&quot;\""), "{x}");
        assert_eq!(x.matches("<testcase ").count(), 1 + Check::ALL.len());
        assert_eq!(x.matches("<skipped").count(), Check::ALL.len() - 1);
        assert!(!r.passed());
        assert!(r.text().contains("FAIL a<b"));
    }

    #[test]
    fn a_skipped_case_is_neither_passed_nor_failed() {
        let mut r = SuiteResult::default();
        r.cases.push(CaseResult {
            name: "s".into(),
            section: "3.4".into(),
            title: String::new(),
            file: "f".into(),
            passed: false,
            skipped: Some("force_503: no cap & <reason>".into()),
            failures: vec![],
            sessions: 0,
            seconds: 0.0,
            checks: CheckCounts::default(),
        });
        assert!(r.passed());
        assert_eq!((r.failed_cases(), r.skipped_cases()), (0, 1));
        let x = r.junit();
        assert!(
            x.contains("<skipped message=\"force_503: no cap &amp; &lt;reason&gt;\"/>"),
            "{x}"
        );
        assert!(x.contains("skipped=\"1\""), "{x}");
        assert!(r.text().contains("SKIP s"), "{}", r.text());
        assert!(r.text().contains("skipped: force_503"), "{}", r.text());
        assert_eq!(
            r.json()["cases"][0]["skipped"],
            "force_503: no cap & <reason>"
        );
    }
}
