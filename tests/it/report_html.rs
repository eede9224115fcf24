//! The HTML report of a real run, opened in headless Chromium (Debian package `chromium`):
//! the page must load without script errors or failed requests (it has neither scripts nor
//! external resources), and its DOM must hold the summary, the thresholds and the three plots.
//! A screenshot is taken every time; `CPEFLEET_UPDATE_SCREENSHOT=1` also copies it to
//! docs/report-screenshot.png (the one the docs show).
//!
//! Needs `chromium` (apt-get install chromium; scripts/test.sh does it). Set
//! CPEFLEET_SKIP_CHROMIUM=1 to skip (loudly; never in CI).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use tokio::time::Instant;

fn chromium() -> Option<&'static str> {
    if crate::support::skip::requested(
        "CPEFLEET_SKIP_CHROMIUM",
        "opening the HTML report in Chromium",
    ) {
        return None;
    }
    for name in ["chromium", "chromium-browser"] {
        if Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
        {
            return Some(name);
        }
    }
    panic!("chromium is not installed: apt-get install chromium (or set CPEFLEET_SKIP_CHROMIUM=1 to skip)");
}

/// Runs headless Chromium on `page` with `args`, bounded in time.
fn headless(bin: &str, profile: &Path, page: &Path, args: &[String]) -> Output {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chromium");
    let t0 = Instant::now();
    loop {
        if child.try_wait().expect("wait chromium").is_some() {
            return child.wait_with_output().expect("chromium output");
        }
        if t0.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What the page's console and network said, minus the machine's own noise (no D-Bus, no GPU
/// in a container).
fn page_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("Uncaught")
                || l.contains("CONSOLE")
                || l.contains("Failed to load resource")
                || l.contains("net::ERR_")
        })
        .collect()
}

#[test]
fn the_html_report_opens_in_chromium_without_errors() {
    let Some(bin) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let page = dir.path().join("report.html");
    let run = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .arg("run")
        .arg(root.join("scenarios/quickstart.yaml"))
        .args(["--duration", "12s", "--quiet", "--report-html"])
        .arg(&page)
        .output()
        .unwrap();
    // 3 is a run whose thresholds failed (a debug build on a busy machine may miss the
    // quickstart's latency limits); the page is written either way.
    let code = run.status.code();
    assert!(
        matches!(code, Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let dom = headless(bin, &dir.path().join("p1"), &page, &["--dump-dom".into()]);
    let html = String::from_utf8_lossy(&dom.stdout);
    let log = String::from_utf8_lossy(&dom.stderr);
    assert!(dom.status.success(), "chromium failed: {log}");
    assert!(
        page_errors(&log).is_empty(),
        "page errors: {:?}",
        page_errors(&log)
    );
    for id in [
        "verdict",
        "summary",
        "thresholds",
        "chart-rate",
        "chart-latency",
        "chart-distribution",
        "latency-table",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "#{id} not in the DOM"
        );
    }
    let verdict = if code == Some(0) { "PASSED" } else { "FAILED" };
    assert!(html.contains(&format!("Thresholds {verdict}")));
    assert!(html.matches("<polyline").count() >= 8, "plots have lines");

    let shot = dir.path().join("report.png");
    let out = headless(
        bin,
        &dir.path().join("p2"),
        &page,
        &[
            "--window-size=1000,2300".into(),
            format!("--screenshot={}", shot.display()),
        ],
    );
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "chromium failed: {log}");
    assert!(
        page_errors(&log).is_empty(),
        "page errors: {:?}",
        page_errors(&log)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(png.len() > 20_000, "a page with content, not a blank one");
    if std::env::var("CPEFLEET_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        std::fs::write(root.join("docs/report-screenshot.png"), &png).unwrap();
    }
}
