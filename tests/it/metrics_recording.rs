//! What the fleet records, against an ACS whose delays are known: each phase's histogram must
//! hold the scripted delay (within histogram precision, on tokio's paused clock), and a stalled
//! ACS must show up as the difference between session time and time from the intended start
//! (coordinated omission corrected and visible).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{cwmp_id, envelope, NS10};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::RunResult;
use cpefleet::report::Report;
use cpefleet::scenario::{Overrides, Scenario};
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How the ACS answers: delays before each kind of answer; the first `stall_first` Informs
/// wait `stall` instead.
#[derive(Clone, Copy)]
struct Delays {
    inform: Duration,
    empty: Duration,
    gpv: Duration,
    stall: Duration,
    stall_first: usize,
    /// Ask for a GetParameterValues after the empty POST (else end the session).
    gpv_request: bool,
}

async fn read_request(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut tmp = [0u8; 8192];
                let n = s.read(&mut tmp).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
            buf.drain(..end + 4 + len);
            return Some(body);
        }
        let mut tmp = [0u8; 8192];
        let n = s.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

async fn serve(mut s: TcpStream, d: Delays, informs: Arc<AtomicUsize>) {
    let mut buf = Vec::new();
    while let Some(body) = read_request(&mut s, &mut buf).await {
        let id = cwmp_id(&body).unwrap_or_default();
        let (wait, reply) = if body.contains("Inform>") && !body.contains("InformResponse") {
            let n = informs.fetch_add(1, Ordering::SeqCst);
            let wait = if n < d.stall_first { d.stall } else { d.inform };
            let env = envelope(
                NS10,
                "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
            );
            (wait, Some(env))
        } else if body.trim().is_empty() {
            let env = d.gpv_request.then(|| envelope(
                NS10,
                "<cwmp:GetParameterValues><ParameterNames soap-enc:arrayType=\"xsd:string[1]\"><string>Device.DeviceInfo.SoftwareVersion</string></ParameterNames></cwmp:GetParameterValues>",
            ));
            (d.empty, env)
        } else {
            (d.gpv, None)
        };
        tokio::time::sleep(wait).await;
        let out = match reply {
            Some(env) => {
                let env = env.replace("{ID}", &id);
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=\"utf-8\"\r\nContent-Length: {}\r\n\r\n{env}",
                    env.len()
                )
            }
            None => "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_string(),
        };
        if s.write_all(out.as_bytes()).await.is_err() || out.starts_with("HTTP/1.1 204") {
            return;
        }
    }
}

async fn start_acs(d: Delays) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/acs", l.local_addr().unwrap());
    let informs = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(serve(s, d, informs.clone()));
        }
    });
    url
}

fn scenario(devices: u32, max_sessions: u32, boot_over: &str, dir: &Path) -> Scenario {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml");
    let src = format!(
        "name: recording
duration: 3s
fleet:
  max_sessions: {max_sessions}
  groups:
    - {{ name: gw, template: {}, count: {devices}, bootstrapped: true }}
phases:
  - boot: {{ over: {boot_over} }}
",
        template.display()
    );
    let path = dir.join("s.yaml");
    std::fs::write(&path, &src).unwrap();
    Scenario::parse(&src, &path, &Overrides::default()).unwrap()
}

async fn run(s: &Scenario, url: &str) -> RunResult {
    let opts = RunOptions {
        shards: Some(1),
        grace: Duration::from_secs(10),
        ..RunOptions::default()
    };
    fleet::run(s, url, &opts, CancellationToken::new())
        .await
        .unwrap()
}

/// Every sample of `h` lies in [expected, expected + slack], within the histogram's precision.
fn assert_between(name: &str, h: &Histogram<u64>, expected: Duration, slack: Duration) {
    let lo = expected.as_micros() as u64;
    let hi = (expected + slack).as_micros() as u64;
    assert!(!h.is_empty(), "{name}: no samples");
    // The bucket of the smallest sample reaches the scripted delay: nothing was faster.
    assert!(
        h.highest_equivalent(h.min()) >= lo,
        "{name}: min {} µs below the scripted {lo} µs",
        h.min()
    );
    assert!(
        h.lowest_equivalent(h.max()) <= hi,
        "{name}: max {} µs above {hi} µs",
        h.max()
    );
}

#[tokio::test(start_paused = true)]
async fn each_phase_records_the_acs_delay() {
    let d = Delays {
        inform: Duration::from_millis(40),
        empty: Duration::from_millis(25),
        gpv: Duration::from_millis(15),
        stall: Duration::ZERO,
        stall_first: 0,
        gpv_request: true,
    };
    let url = start_acs(d).await;
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(6, 10, "500ms", dir.path());
    let r = run(&s, &url).await;
    let st = &r.stats;
    assert_eq!(
        (st.sessions.started, st.sessions.succeeded),
        (6, 6),
        "errors: {:?}",
        st.errors
    );
    // Tokio's paused clock: the ACS's sleeps and the CPE's timings use the same virtual clock,
    // so each phase measures exactly its scripted delay (loopback I/O takes no virtual time),
    // whatever the load on the machine: within histogram precision, no wall-clock slack.
    let slack = Duration::from_millis(1);
    assert_between("inform", &st.exchanges["Inform"], d.inform, slack);
    assert_between("empty_post", &st.exchanges["EmptyPost"], d.empty, slack);
    assert_between(
        "GetParameterValues",
        &st.exchanges["GetParameterValues"],
        d.gpv,
        slack,
    );
    assert_between(
        "session",
        &st.session,
        d.inform + d.empty + d.gpv,
        slack * 2,
    );
    assert_eq!(st.connect.len(), 6);
    assert!(
        st.connect.max() < 1_000,
        "loopback connects take no virtual time"
    );
    for name in ["Inform", "EmptyPost", "GetParameterValues"] {
        assert_eq!(st.exchanges[name].len(), 6, "{name}");
    }
    assert_eq!(st.rpcs["GetParameterValues"].ok, 6);
    assert_eq!(st.rpcs["Inform"].ok, 6);
    // No waiting: the cap is above the fleet, so from-due is the session plus no lag.
    assert!(st.lag.max() < 1_000, "lag {} µs", st.lag.max());
    let report = Report::from_run(&r, "recording");
    let inform = report.latency_ms()["inform"];
    assert_eq!(inform.count, 6);
    assert!(
        inform.p50 >= 40.0 * 0.999 && inform.p50 <= 41.0,
        "{inform:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_stalled_acs_shows_in_the_time_from_the_intended_start() {
    // One session at a time; five devices due at once; the ACS sits on the first Inform for
    // 1.5 s. The later sessions are fast, but they waited: measured from their due time they
    // are as slow as the stall.
    let stall = Duration::from_millis(1500);
    let d = Delays {
        inform: Duration::ZERO,
        empty: Duration::ZERO,
        gpv: Duration::ZERO,
        stall,
        stall_first: 1,
        gpv_request: false,
    };
    let url = start_acs(d).await;
    let dir = tempfile::tempdir().unwrap();
    let s = scenario(5, 1, "0s", dir.path());
    let r = run(&s, &url).await;
    let st = &r.stats;
    assert_eq!(
        (st.sessions.started, st.sessions.succeeded),
        (5, 5),
        "errors: {:?}",
        st.errors
    );
    let stall_us = stall.as_micros() as u64;
    // Raw: one slow session, four fast ones.
    assert!(st.session.max() >= stall_us * 999 / 1000);
    // Paused clock: the fast sessions take no virtual time at all.
    assert!(
        st.session.value_at_quantile(0.5) < 1_000,
        "raw p50 {} µs",
        st.session.value_at_quantile(0.5)
    );
    // Corrected: every session took at least the stall from its due time.
    assert!(
        st.session_intended.min() >= stall_us * 999 / 1000,
        "corrected min {} µs",
        st.session_intended.min()
    );
    assert!(
        st.lag.max() >= stall_us * 999 / 1000,
        "the queued ones waited"
    );
    assert_eq!(st.sessions.late, 4, "four devices queued behind the cap");
    // Both figures reach the report, side by side.
    let latency_ms = Report::from_run(&r, "stall").latency_ms();
    let raw = latency_ms["session"];
    let corrected = latency_ms["session_from_intended_start"];
    assert!(
        corrected.p50 - raw.p50 >= 1000.0,
        "raw {raw:?} corrected {corrected:?}"
    );
}
