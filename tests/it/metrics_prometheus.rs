//! The Prometheus endpoint against a real Prometheus: a run with `--metrics-listen` is scraped
//! by a `prometheus` server started here (Debian package `prometheus`, on 127.0.0.1, storage
//! in a temporary directory, 1 s scrape interval), whose HTTP API must then give the run's
//! session counts exactly and a session-duration quantile consistent with the run's own
//! hdrhistogram. `promtool check metrics` must find the exposition clean, and the shipped
//! Grafana dashboard may only use metrics cpefleet exports.
//!
//! Needs `prometheus` and `promtool` (apt-get install prometheus; scripts/test.sh does it).
//! Set CPEFLEET_SKIP_PROMETHEUS=1 to skip the tests that need them, loudly and never in CI (the
//! dashboard check still runs).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

use cpefleet::metrics::names;

use crate::support::child::{cpefleet, wait_exit, Guard};

fn skip() -> bool {
    if crate::support::skip::requested("CPEFLEET_SKIP_PROMETHEUS", "the real-Prometheus checks") {
        return true;
    }
    for tool in ["prometheus", "promtool"] {
        let ok = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{tool} is not installed: apt-get install prometheus (or set CPEFLEET_SKIP_PROMETHEUS=1 to skip)"
        );
    }
    false
}

/// A free port on 127.0.0.1 (bound, then released for the process that needs it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A blocking HTTP/1.1 GET on loopback: (status, body).
fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((status, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// An instant query's single value, if the result has exactly one sample.
fn query(prom: SocketAddr, q: &str) -> Option<f64> {
    let (status, body) = get(prom, &format!("/api/v1/query?query={}", encode(q)))?;
    if status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let r = v["data"]["result"].as_array()?;
    if r.len() != 1 {
        return None;
    }
    r[0]["value"][1].as_str()?.parse().ok()
}

/// Polls `f` every 250 ms until it gives a value or `limit` passes.
fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let t0 = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            t0.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn scenario(dir: &Path) -> PathBuf {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let path = dir.join("scrape.yaml");
    // 12 devices informing every simulated minute at 60x: about 12 sessions per second.
    std::fs::write(
        &path,
        format!(
            "name: scrape
time_scale: 60
duration: 6s
fleet:
  groups:
    - {{ name: gw, template: {}, count: 12, bootstrapped: true, periodic_interval: 60s, jitter: 50% }}
phases:
  - boot: {{ over: 1s }}
",
            template.display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_real_prometheus_scrapes_a_run() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let metrics: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let prom: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: cpefleet\n    static_configs:\n      - targets: ['{metrics}']\n"
        ),
    )
    .unwrap();
    let prom_log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = Guard(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={prom}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(prom_log)
            .spawn()
            .expect("start prometheus"),
    );
    wait_for("Prometheus to be ready", Duration::from_secs(30), || {
        get(prom, "/-/ready").filter(|(s, _)| *s == 200)
    });

    let report = dir.path().join("report.json");
    let mut run = Guard(
        cpefleet()
            .arg("run")
            .arg(scenario(dir.path()))
            .arg("--metrics-listen")
            .arg(metrics.to_string())
            .arg("--metrics-linger")
            .arg("10s")
            .arg("--report-json")
            .arg(&report)
            .arg("--quiet")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cpefleet"),
    );

    // The run is over (its report is written) while /metrics lingers for the last scrapes.
    let doc: serde_json::Value = wait_for("the run's report", Duration::from_secs(40), || {
        let text = std::fs::read_to_string(&report).ok()?;
        serde_json::from_str(&text).ok()
    });
    let s = &doc["sessions"];
    let ended = s["succeeded"].as_u64().unwrap()
        + s["failed"].as_u64().unwrap()
        + s["cancelled"].as_u64().unwrap();
    assert!(ended >= 30, "a run with sessions to measure: {s}");

    // promtool on the exposition itself.
    let (status, exposition) = get(metrics, "/metrics").expect("scrape /metrics");
    assert_eq!(status, 200);
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    check
        .stdin
        .take()
        .unwrap()
        .write_all(exposition.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    let lint = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && lint.trim().is_empty(),
        "promtool: {lint}"
    );
    for name in [
        names::SESSIONS_TOTAL,
        names::RPCS_TOTAL,
        names::EVENTS_TOTAL,
        names::CONNECTION_REQUESTS_TOTAL,
        names::DEVICES,
        names::SESSIONS_IN_FLIGHT,
        names::SESSION_DURATION,
        names::SESSION_DURATION_FROM_DUE,
        names::RPC_DURATION,
        names::SCHEDULE_LAG,
    ] {
        assert!(exposition.contains(name), "{name} missing from /metrics");
    }
    assert!(!exposition.contains("device_id") && !exposition.contains("serial"));

    // Prometheus saw the final figures: the counts are exact.
    wait_for(
        "Prometheus to scrape the final counts",
        Duration::from_secs(12),
        || query(prom, "sum(cpefleet_sessions_total)").filter(|v| *v as u64 == ended),
    );
    let count = query(prom, "sum(cpefleet_session_duration_seconds_count)").unwrap();
    assert_eq!(count as u64, ended);
    let devices = query(prom, "sum(cpefleet_devices)").unwrap();
    assert_eq!(devices as u64, doc["devices"].as_u64().unwrap());

    // The median from Prometheus's buckets lies in the bucket holding the exact median.
    let q50 = query(
        prom,
        "histogram_quantile(0.5, sum by (le) (cpefleet_session_duration_seconds_bucket))",
    )
    .expect("a session-duration quantile");
    let p50 = doc["latency_ms"]["session"]["p50"].as_f64().unwrap() / 1000.0;
    let bucket = |v: f64| -> (f64, f64) {
        let mut lo = 0.0;
        for b in names::SESSION_BUCKETS {
            if v <= *b {
                return (lo, *b);
            }
            lo = *b;
        }
        (lo, f64::INFINITY)
    };
    // hdrhistogram's 0.1 % precision may straddle a bucket boundary: allow either side.
    let (lo, _) = bucket(p50 * 0.999);
    let (_, hi) = bucket(p50 * 1.001);
    assert!(
        (lo..=hi).contains(&q50),
        "Prometheus p50 {q50} s outside [{lo}, {hi}] around the run's p50 {p50} s"
    );

    assert_eq!(wait_exit(&mut run.0), Some(0), "cpefleet's exit");
}

#[test]
fn the_grafana_dashboard_uses_only_exported_metrics_and_shows_them_all() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards/cpefleet.json");
    let dash: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let exported = [
        names::SESSIONS_TOTAL,
        names::RPCS_TOTAL,
        names::EVENTS_TOTAL,
        names::FAULTS_TOTAL,
        names::ERRORS_TOTAL,
        names::CONNECTION_REQUESTS_TOTAL,
        names::DEVICES,
        names::SESSIONS_IN_FLIGHT,
        names::SESSION_DURATION,
        names::SESSION_DURATION_FROM_DUE,
        names::RPC_DURATION,
        names::SESSION_PHASE_DURATION,
        names::CR_TO_INFORM,
        names::SCHEDULE_LAG,
    ];
    let mut used = std::collections::BTreeSet::new();
    let panels = dash["panels"].as_array().unwrap();
    assert!(!panels.is_empty());
    for p in panels {
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {} has no query", p["title"]);
        for t in targets {
            let expr = t["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(i) = rest.find("cpefleet_") {
                let tail = &rest[i..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                let name = &tail[..end];
                let base = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| name.strip_suffix(s).filter(|b| exported.contains(b)))
                    .unwrap_or(name);
                assert!(
                    exported.contains(&base),
                    "panel {} queries {name}, which cpefleet does not export",
                    p["title"]
                );
                used.insert(base.to_string());
                rest = &tail[end..];
            }
        }
    }
    for name in exported {
        assert!(used.contains(name), "the dashboard never shows {name}");
    }
}
