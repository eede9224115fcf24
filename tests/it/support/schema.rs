//! The official-schema check shared by the tests: `tests/data/bbf/validate-cwmp` (xmllint) with
//! the BBF schemas beside it. The validator travels with the repository, so the only thing that
//! can be missing is xmllint, which `scripts/test.sh` installs: no skip, a missing tool fails.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn validator() -> PathBuf {
    let script = super::data("bbf/validate-cwmp");
    assert!(
        script.is_file(),
        "schema validator not found at {}",
        script.display()
    );
    let xmllint = Command::new("xmllint").arg("--version").output();
    assert!(
        xmllint.is_ok_and(|o| o.status.success()),
        "xmllint is not installed (apt-get install libxml2-utils; scripts/test.sh does it)"
    );
    script
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
