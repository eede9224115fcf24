//! Loud skips. A test that cannot run what it checks (an outside tool is missing, or the
//! developer asked to skip it) says so on stderr as `SKIPPED: <reason>` instead of passing
//! quietly, and in CI (`CI=true`) a skip is a failure: CI must run every check.

/// Whether CI is running the tests.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips loudly: prints `SKIPPED: {reason}`; panics instead under `CI=true`.
pub fn skip(reason: &str) {
    assert!(!in_ci(), "refusing to skip in CI (CI=true): {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// True (after a loud [`skip`]) when the environment variable `var` is `1`.
pub fn requested(var: &str, what: &str) -> bool {
    if std::env::var(var).is_ok_and(|v| v == "1") {
        skip(&format!("{what} ({var}=1)"));
        return true;
    }
    false
}
