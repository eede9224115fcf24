//! Loud skips. A test that cannot run what it checks (an outside tool is missing, or the
//! developer asked to skip it) says so on stderr as `SKIPPED: <reason>` instead of passing
//! quietly, and in CI (`CI=true`) a skip is a failure: CI must run every check.
//!
//! The line is written to the process's stderr directly, not with `eprintln!`: the test harness
//! captures what the print macros write and shows it only for a failing test, so a skip in a
//! passing test was silent (on a fresh clone the GenieACS tier showed plain `ok`). When
//! `CPEFLEET_SKIP_LOG` names a file, the line is appended there too, and `scripts/test.sh` lists
//! every skip again after the run, where a reader looks.

use std::io::Write;

/// Whether CI is running the tests.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips loudly: prints `SKIPPED: {reason}`; panics instead under `CI=true`.
pub fn skip(reason: &str) {
    assert!(!in_ci(), "refusing to skip in CI (CI=true): {reason}");
    say(reason);
}

/// Writes `SKIPPED: {reason}` past the harness's capture, and to `CPEFLEET_SKIP_LOG` when set.
/// For a skip that has already decided CI may skip it (or must fail by its own rule).
pub fn say(reason: &str) {
    let line = format!("SKIPPED: {reason}\n");
    // Best effort: a test must not fail because its skip notice could not be written.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os("CPEFLEET_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// True (after a loud [`skip`]) when the environment variable `var` is `1`.
pub fn requested(var: &str, what: &str) -> bool {
    if std::env::var(var).is_ok_and(|v| v == "1") {
        skip(&format!("{what} ({var}=1)"));
        return true;
    }
    false
}
