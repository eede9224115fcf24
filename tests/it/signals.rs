//! Reports are never lost: output paths are checked before the run starts, and a second Ctrl-C
//! or a SIGHUP (a dropped SSH session) still writes what was measured, marked partial. The real
//! binary, real signals (`kill`), every wait bounded.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use tokio::time::Instant;

use crate::support::child::{
    rest_of, signal, spawn, stderr_lines, wait_exit, wait_for_line, BOUND,
};

fn template() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data-models/tr181-gateway.yaml")
        .display()
        .to_string()
}

/// A one-hour scenario: it only ends early because of what the test does.
fn long_scenario(dir: &Path, acs: &str) -> PathBuf {
    let path = dir.join("long.yaml");
    std::fs::write(
        &path,
        format!(
            "name: long
time_scale: 60
duration: 1h
{acs}fleet:
  groups:
    - {{ name: gw, template: {}, count: 4, bootstrapped: true, periodic_interval: 60s }}
phases:
  - boot: {{ over: 300ms }}
thresholds:
  - {{ error_rate: 100% }}
",
            template()
        ),
    )
    .unwrap();
    path
}

fn report(p: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

fn assert_partial_and_accounted(doc: &serde_json::Value) {
    assert_eq!(doc["partial"], true, "{doc}");
    let s = &doc["sessions"];
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(
        n("started"),
        n("succeeded") + n("failed") + n("cancelled"),
        "{s}"
    );
}

/// GET /metrics, raw, bounded.
fn scrape(addr: &str) -> String {
    let Ok(mut c) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    out
}

/// An output path that cannot be written is refused before the run starts (exit 2, naming
/// the flag), not after an hour-long run.
#[test]
fn unwritable_report_paths_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let s = long_scenario(dir.path(), "");
    let bad = dir.path().join("no-such-dir/out");
    for flag in ["--report-json", "--report-html", "--junit"] {
        let mut child = spawn(&[
            "run",
            s.to_str().unwrap(),
            "--quiet",
            flag,
            bad.to_str().unwrap(),
        ]);
        let rx = stderr_lines(&mut child);
        let code = wait_exit(&mut child);
        let err = rest_of(&rx);
        assert_eq!(code, Some(2), "{flag}: {err:?}");
        assert!(err.iter().any(|l| l.contains(flag)), "{flag}: {err:?}");
    }
}

/// SIGHUP (the terminal went away): the report of what was measured so far is written,
/// marked partial, and the process exits 129.
#[test]
fn sighup_writes_a_partial_report() {
    let dir = tempfile::tempdir().unwrap();
    let s = long_scenario(dir.path(), "");
    let out = dir.path().join("r.json");
    let mut child = spawn(&[
        "run",
        s.to_str().unwrap(),
        "--quiet",
        "--metrics-listen",
        "127.0.0.1:0",
        "--report-json",
        out.to_str().unwrap(),
    ]);
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let line = wait_for_line(&rx, &mut seen, "metrics at http://");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap()
        .to_string();
    // Wait until a session has succeeded, so "what was measured" is something.
    let deadline = Instant::now() + BOUND;
    while !scrape(&addr).lines().any(|l| {
        l.starts_with("cpefleet_sessions_total") && l.contains("succeeded") && !l.ends_with(" 0")
    }) {
        assert!(Instant::now() < deadline, "no session succeeded: {seen:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    signal(&child, "-HUP");
    let code = wait_exit(&mut child);
    seen.extend(rx.try_iter());
    assert_eq!(code, Some(129), "{seen:?}");
    let doc = report(&out);
    assert_partial_and_accounted(&doc);
    assert!(doc["sessions"]["succeeded"].as_u64().unwrap() >= 1, "{doc}");
}

/// A second Ctrl-C while sessions hang on an ACS that never answers: the run stops at once,
/// the hanging sessions count as cancelled, and the report is written, marked partial (exit
/// 130). It used to exit without writing anything.
#[test]
fn a_second_ctrl_c_writes_a_partial_report() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts and holds connections, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (accepted_tx, accepted) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().take(64) {
            let Ok(c) = c else { return };
            held.push(c);
            if accepted_tx.send(()).is_err() {
                return;
            }
        }
    });
    let s = long_scenario(
        dir.path(),
        &format!("acs:\n  url: {url}\n  exchange_timeout: 1h\n  session_timeout: 1h\n"),
    );
    let out = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    let mut child = spawn(&[
        "run",
        s.to_str().unwrap(),
        "--quiet",
        "--grace",
        "1h",
        "--report-json",
        out.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    accepted.recv_timeout(BOUND).expect("a session connected");
    signal(&child, "-INT");
    wait_for_line(&rx, &mut seen, "stopping");
    signal(&child, "-INT");
    let code = wait_exit(&mut child);
    seen.extend(rx.try_iter());
    assert_eq!(code, Some(130), "{seen:?}");
    let doc = report(&out);
    assert_partial_and_accounted(&doc);
    assert!(doc["sessions"]["cancelled"].as_u64().unwrap() >= 1, "{doc}");
    assert!(junit.is_file(), "{seen:?}");
}
