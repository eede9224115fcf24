//! The official-schema check shared by the tests: `../shared/bbf/validate-cwmp` (xmllint).
//! Set CPEFLEET_SKIP_SCHEMA=1 to skip where the validator or xmllint is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn validator() -> Option<PathBuf> {
    if std::env::var("CPEFLEET_SKIP_SCHEMA").is_ok_and(|v| v == "1") {
        return None;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bbf/validate-cwmp");
    assert!(
        script.is_file(),
        "schema validator not found at {} (set CPEFLEET_SKIP_SCHEMA=1 to skip the schema check)",
        script.display()
    );
    let xmllint = Command::new("xmllint").arg("--version").output();
    assert!(
        xmllint.is_ok_and(|o| o.status.success()),
        "xmllint is not installed (apt-get install libxml2-utils, or set CPEFLEET_SKIP_SCHEMA=1)"
    );
    Some(script)
}

/// Writes each envelope to `dir` and validates them all in one validator run.
pub fn validate(script: &Path, dir: &Path, files: &[(String, Vec<u8>)]) {
    let mut paths = Vec::new();
    for (label, bytes) in files {
        let p = dir.join(format!("{label}.xml"));
        std::fs::write(&p, bytes).expect("write envelope");
        paths.push(p);
    }
    let out = Command::new(script)
        .args(&paths)
        .output()
        .expect("run validate-cwmp");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let failures: Vec<&str> = stdout.lines().filter(|l| !l.ends_with(": ok")).collect();
    assert!(
        out.status.success() && failures.is_empty(),
        "schema check failed:\n{}\n{}",
        failures.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
    let ok = stdout.lines().filter(|l| l.ends_with(": ok")).count();
    assert_eq!(ok, files.len(), "every file must be reported ok");
}
