//! What commands write: output paths checked before a run, reports written after, the exit
//! code of a verdict.

use super::*;
use crate::report;

/// Fails (exit 2, naming the flag) unless every given output path can be written. A file that
/// did not exist is not left behind.
pub(super) fn check_outputs(outputs: &[(&str, Option<&Path>)]) -> Result<(), InputError> {
    for (flag, path) in outputs {
        let Some(p) = path else { continue };
        let existed = p.exists();
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(p)
            .map_err(|e| InputError(format!("{flag}: {}: {e}", p.display())))?;
        if !existed {
            let _ = std::fs::remove_file(p);
        }
    }
    Ok(())
}

/// Writes the requested report files.
pub(super) fn write_reports(
    r: &Report,
    json: Option<&Path>,
    html: Option<&Path>,
    junit: Option<&Path>,
) -> anyhow::Result<()> {
    type Render = fn(&Report) -> String;
    let outputs: [(Option<&Path>, Render, &str); 3] = [
        (json, |r| r.to_json() + "\n", "report"),
        (html, report::html::render, "HTML report"),
        (junit, report::junit::render, "JUnit report"),
    ];
    for (path, render, what) in outputs {
        if let Some(p) = path {
            std::fs::write(p, render(r)).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
            crate::shutdown::say(&format!("{what} written to {}", p.display()));
        }
    }
    Ok(())
}

/// Exit code of a judged report: 3 with the failures listed, or 0.
pub(super) fn verdict(r: &Report) -> i32 {
    let failures = r.failures();
    if failures.is_empty() {
        return 0;
    }
    eprintln!("cpefleet: {} threshold(s) failed:", failures.len());
    for f in failures {
        eprintln!("  {f}");
    }
    if let Some(d) = &r.diagnosis {
        eprintln!("cpefleet: {d}");
    }
    3
}
