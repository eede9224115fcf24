//! XMPP connection-request figures of BENCHMARKS.md (TR-069 Annex K), one subcommand each:
//!
//! ```text
//! cargo bench --bench xmpp -- component 1000000   N devices behind ONE component connection:
//!                                                 RSS per device (vs the same fleet on HTTP),
//!                                                 IQs answered and CRs/s through that socket
//! cargo bench --bench xmpp -- clients 10000       N devices with their OWN client connection to
//!                                                 a real Prosody: logins, RSS per device, CRs/s
//! ```
//!
//! Each fleet runs in a child process of this binary (`*-one`), so its RSS is its own; the
//! devices' boot Informs go to `cpefleet acs --policy null` in another process. The XMPP
//! server side of `component` is the embedded ACS's component gateway, in the fleet's process
//! (a map of one link; its requests are the ACS's, sent as GenieACS sends them). Every socket is
//! on 127.0.0.1 and every wait is bounded. Without a subcommand it prints this usage and exits.

// std's Instant on purpose: wall-clock figures of real runs (clippy.toml steers the crate and
// its tests to tokio's paused-clock-friendly one).
#![allow(clippy::disallowed_types)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio_util::sync::CancellationToken;

use cpefleet::acs::xmpp::{XmppGateway, XmppGatewayConfig};
use cpefleet::cr::xmpp::client::{self, Account, ClientConfig};
use cpefleet::cr::xmpp::sender::CrSender;
use cpefleet::cr::xmpp::Limits;
use cpefleet::cr::CrTransport;
use cpefleet::cwmp::DateTime;
use cpefleet::device::{Device, DeviceView, Env};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::stats::Live;
use cpefleet::metrics::RunResult;
use cpefleet::model::Template;
use cpefleet::scenario::{Overrides, Scenario};

const USAGE: &str = "usage: cargo bench --bench xmpp -- <figure> [options]
  component [N]   N devices (default 1000000) behind one XEP-0114 component connection, and
                  the same fleet on HTTP for comparison   [--requests 20000 --concurrency 256
                  --boot-rate 6000]
  clients [N]     N devices (default 10000), each with its own client login to Prosody
                  [--requests 5000 --senders 4 --login-rate 500]";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut pos = Vec::new();
    let mut opts = HashMap::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.strip_prefix("--") {
            Some(k) => {
                opts.insert(k.to_string(), it.next().unwrap_or_default());
            }
            None => pos.push(a),
        }
    }
    let n = |d: u32| {
        pos.get(1)
            .and_then(|s| cpefleet::units::parse_count(s).ok())
            .map_or(d, |n| n as u32)
    };
    let o = Opts(opts);
    match pos.first().map(String::as_str) {
        Some("component") => component(n(1_000_000), &o),
        Some("component-one") => component_one(n(1000), &o),
        Some("clients") => clients(n(10_000), &o),
        Some("clients-one") => clients_one(n(100), &o),
        _ => println!("{USAGE}"),
    }
}

// === helpers ===

struct Opts(HashMap<String, String>);

impl Opts {
    fn get<T: std::str::FromStr>(&self, k: &str, default: T) -> T {
        self.0
            .get(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// The options as flags for a child run.
    fn args(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|(k, v)| [format!("--{k}"), v.clone()])
            .collect()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A `/proc/<pid>/status` field in KiB (`self` for this process).
fn status_kb(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// User + system CPU seconds of a process (`self` for this one), from `/proc/<pid>/stat`.
fn cpu_s(pid: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let f: Vec<f64> = s
        .rsplit_once(')')
        .map_or("", |x| x.1)
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15, here 11 and 12 (counting from "state"); the
    // kernel's USER_HZ is 100 on Linux.
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

fn gateway_template() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-models/tr181-gateway.yaml")
}

/// A child process, killed when dropped.
struct Peer {
    child: Child,
    addr: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cpefleet acs --policy null` on a free loopback port; its URL read from its stderr.
fn spawn_acs() -> Peer {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .args(["acs", "--listen", "127.0.0.1:0", "--policy", "null"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cpefleet acs");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = lines.by_ref().map_while(Result::ok).find_map(|l| {
        l.split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .map(String::from)
    });
    std::thread::spawn(move || for _ in lines {});
    Peer {
        child,
        addr: url.expect("the ACS printed its URL"),
    }
}

/// Runs this binary again as `sub N` with the same options; returns its `RESULT` line's pairs.
fn child(sub: &str, n: u32, o: &Opts) -> HashMap<String, String> {
    let out = Command::new(std::env::current_exe().expect("current exe"))
        .args([sub, &n.to_string()])
        .args(o.args())
        .stderr(Stdio::inherit())
        .output()
        .expect("child run");
    let text = String::from_utf8_lossy(&out.stdout);
    print!("{text}");
    text.lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .flat_map(|l| l.split_whitespace())
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Waits until `n()` reaches `target` or `limit` passes; progress every 10 s.
async fn wait_for(what: &str, n: impl Fn() -> u64, target: u64, limit: Duration) -> bool {
    let t0 = Instant::now();
    let mut shown = t0;
    loop {
        let v = n();
        if v >= target {
            return true;
        }
        if t0.elapsed() > limit {
            eprintln!("{what}: {v}/{target} after {:?}, giving up", t0.elapsed());
            return false;
        }
        if shown.elapsed() >= Duration::from_secs(10) {
            eprintln!(
                "  {what}: {v}/{target} ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
            shown = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn scenario(yaml: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/bench.yaml");
    Scenario::parse(yaml, &path, &Overrides::default()).expect("bench scenario")
}

/// A fleet of `n` TR-181 gateways, already bootstrapped, booting at `boot_rate`, with the
/// group's `connection_requests:` section `cr` (empty: HTTP).
fn fleet_yaml(acs: &str, n: u32, boot_rate: f64, cr: &str) -> String {
    format!(
        "name: bench\nseed: 1\nduration: 3600s\nacs:\n  url: \"{acs}\"\nfleet:\n  max_sessions: 512\n  groups:\n    - name: gw\n      template: {}\n      count: {n}\n      bootstrapped: true\n      periodic_interval: 24h\n      jitter: 100%\n{cr}phases:\n  - boot: {{ over: {}ms }}\n",
        gateway_template().display(),
        (f64::from(n) / boot_rate * 1000.0).max(1.0) as u64
    )
}

struct Running {
    live: Arc<Live>,
    cancel: CancellationToken,
    handle: tokio::task::JoinHandle<RunResult>,
}

fn start_fleet(s: Scenario, acs_url: String) -> Running {
    let live = Arc::new(Live::default());
    let cancel = CancellationToken::new();
    let opts = RunOptions {
        live: Some(live.clone()),
        grace: Duration::from_secs(5),
        ..RunOptions::default()
    };
    let c = cancel.clone();
    let handle =
        tokio::spawn(async move { fleet::run(&s, &acs_url, &opts, c).await.expect("fleet run") });
    Running {
        live,
        cancel,
        handle,
    }
}

/// Device `index`'s ConnectionRequestUsername/Password as its template generates them (what
/// the ACS would have learnt or set; the bench's devices were never reprovisioned).
fn credentials(t: &Template, index: u32) -> (String, String) {
    let mut d = Device::new(index);
    let env = Env {
        seed: 1,
        now: DateTime::from_unix_ms(0),
        cr_url_base: "",
        udp: None,
    };
    let v = DeviceView::new(t, &mut d, &env);
    let get = |p: &str| {
        v.get(&format!("Device.ManagementServer.{p}"))
            .map(|x| x.value)
            .unwrap_or_default()
    };
    (
        get("ConnectionRequestUsername"),
        get("ConnectionRequestPassword"),
    )
}

fn quantiles_ms(h: &Histogram<u64>) -> String {
    let q = |p: f64| h.value_at_quantile(p) as f64 / 1000.0;
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        q(0.5),
        q(0.99),
        h.max() as f64 / 1000.0
    )
}

// A bench target's root is its crate root: its modules are named by path.
#[path = "xmpp/clients.rs"]
mod clients;
#[path = "xmpp/component.rs"]
mod component;
use clients::{clients, clients_one};
use component::{component, component_one};
