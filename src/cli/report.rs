//! `cpefleet report merge|compare`: reports of earlier runs combined or compared.

use super::*;
use crate::report;

pub(super) fn load_report(p: &Path) -> anyhow::Result<Report> {
    Report::load(p).map_err(|e| InputError(e.to_string()).into())
}

pub(super) fn merge_cmd(a: MergeArgs) -> anyhow::Result<i32> {
    check_outputs(&[
        ("--output", Some(&a.output)),
        ("--report-html", a.report_html.as_deref()),
        ("--junit", a.junit.as_deref()),
    ])?;
    let mut merged: Option<Report> = None;
    // Run id → the report that brought it: a report given twice would count its sessions twice.
    let mut seen: std::collections::HashMap<String, &Path> = Default::default();
    let mut scenarios: Vec<(String, &Path)> = Vec::new();
    for p in &a.reports {
        let r = load_report(p)?;
        for id in &r.run_ids {
            if let Some(first) = seen.insert(id.clone(), p) {
                return Err(InputError(format!(
                    "{}: run {id} is already in {} (a report given twice?)",
                    p.display(),
                    first.display()
                ))
                .into());
            }
        }
        if !scenarios.iter().any(|(s, _)| *s == r.scenario) {
            scenarios.push((r.scenario.clone(), p));
        }
        match &mut merged {
            None => merged = Some(r),
            Some(m) => m.merge(&r),
        }
    }
    let Some(m) = merged else {
        return Err(InputError("no report to merge".into()).into());
    };
    if scenarios.len() > 1 {
        let list: Vec<String> = scenarios
            .iter()
            .map(|(s, p)| format!("{s:?} ({})", p.display()))
            .collect();
        eprintln!(
            "cpefleet: warning: merging reports of different scenarios: {}",
            list.join(", ")
        );
    }
    print!("{}", report::text::render(&m));
    write_reports(
        &m,
        Some(&a.output),
        a.report_html.as_deref(),
        a.junit.as_deref(),
    )?;
    Ok(verdict(&m))
}

pub(super) fn compare_cmd(a: CompareArgs) -> anyhow::Result<i32> {
    let base = load_report(&a.base)?;
    let new = load_report(&a.new)?;
    let tol = report::compare::Tolerance {
        ratio: a.tolerance,
        min_ms: a.min_delta.as_secs_f64() * 1000.0,
        error_rate: a.error_tolerance,
        min_samples: a.min_samples,
    };
    let rows = report::compare::compare(&base, &new, tol);
    print!("{}", report::compare::render(&rows));
    Ok(if rows.iter().any(|r| r.is_regression()) {
        3
    } else {
        0
    })
}
