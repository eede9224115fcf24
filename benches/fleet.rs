//! End-to-end figures of BENCHMARKS.md, one subcommand per figure:
//!
//! ```text
//! cargo bench --bench fleet -- memory 100000,1000000   RSS per idle device (one process per N)
//! cargo bench --bench fleet -- session                 CPU per minimal session, vs the ceiling
//! cargo bench --bench fleet -- cr                      connection requests/s, CR→Inform latency
//! cargo bench --bench fleet -- startup 1000000         time to N devices ready
//! cargo bench --bench fleet -- rates                   CPU per session at fixed offered rates
//! cargo bench --bench fleet -- udp-memory 100000,1000000  UDP/STUN devices: RSS, keep-alives
//! cargo bench --bench fleet -- cr-transports           CR/s by transport (HTTP, UDP)
//! ```
//!
//! Figures of "the simulator" are measured with the ACS in another process (`cpefleet acs
//! --policy null`), so its CPU is not mixed with the fleet's; CPU comes from /proc/PID/stat and
//! memory from /proc/self/status. Every socket is on 127.0.0.1 and every run is bounded in time.
//! Without a subcommand (as under `cargo test --all-targets`) it prints this usage and exits.

// std's Instant on purpose: these figures are wall-clock and CPU time of real runs, never
// under a paused tokio clock (clippy.toml steers the crate and its tests to tokio's).
#![allow(clippy::disallowed_types)]
// Each benchmark is one measured run, set up and reported in order (clippy.toml's shape lints
// are for the library).
#![allow(clippy::too_many_lines)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use cpefleet::acs::{self, AcsConfig, Policy};
use cpefleet::auth::Challenge;
use cpefleet::cwmp::{
    encode_acs, encode_cpe, AcsMessage, AcsResponse, CpeMessage, CpeRequest, DateTime, Envelope,
    EventCode, EventStruct, Header, InformResponse,
};
use cpefleet::device::{Device, DeviceView, Env};
use cpefleet::fleet::{self, RunOptions};
use cpefleet::metrics::stats::Live;
use cpefleet::metrics::RunResult;
use cpefleet::model::{cr_path, Template};
use cpefleet::scenario::{Overrides, Scenario};

// Crate root: a sibling file would resolve as benches/rates.rs, which cargo would take for a bench.
#[path = "fleet/counting.rs"]
mod counting;
#[path = "fleet/rates.rs"]
mod rates;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;
#[path = "fleet_udp/mod.rs"]
mod udp;

const USAGE: &str = "usage: cargo bench --bench fleet -- <figure> [options]
  every figure that runs the fleet (the A side) takes, as `cpefleet run` does:
                       [--shard-runtime threads|shared (default threads) --timer-slack 0ms]
  memory [N,N,...]     RSS per idle device; default 100000,1000000   [--boot-rate 6000/s --max-sessions 512]
  session              CPU-µs per minimal session, sessions/s vs a minimal hyper pair
                       [--sessions 100000 --concurrency 64 --rounds 1 --count-allocs 0]
  cr                   connection requests/s through the shared listener with Digest
                       [--devices 50000 --seconds 15 --concurrency 128 --rates 10000,2000
                        --fast 1 (0: only the paced runs) --plain 0 (1: after each paced run,
                        plain periodic sessions at the same rate, and the CR/plain CPU ratio)]
  startup [N]          time to N devices ready (scenarios/million-idle.yaml); default 1000000
  rates                simulator CPU-µs per session (user/kernel) at fixed offered rates, beside
                       hyper's bare client at the same rate against the same null ACS
                       [--rates 200,1000,3000,max --seconds 10 --rounds 3 --sessions 50000 --concurrency 64]
  udp-memory [N,N,...] N devices reachable by UDP connection request (TR-069 Annex G), of them
                       `active` keeping STUN bindings every 30-60 s: RSS against the same
                       N on HTTP only (alternated, each in a fresh process), keep-alive lag, a
                       sample woken over UDP; default 100000,1000000
                       [--active 100000 --boot-rate 6000/s --sample 10000 --window 60
                        --reach-min 300 (the others' period: reach-min to 2 × reach-min s)
                        --parallel 1 (every process at once: same figures, less wall time)]
  cr-transports        connection requests/s by transport, HTTP and UDP alternated A,B,A,B
                       [--devices 50000 --seconds 15 --rounds 2 --rates 0,2000
                        --concurrency 128 --udp-max 20000 --copies 3]";

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
    let o = Opts(opts);
    layout_from(&o);
    match pos.first().map(String::as_str) {
        Some("memory") => memory(pos.get(1).map_or("100000,1000000", |s| s.as_str()), &o),
        Some("memory-one") => memory_one(count(pos.get(1), 100_000), &o),
        Some("session") => session(&o),
        Some("ceiling-server") => ceiling_server(count(pos.get(1), 400) as usize),
        Some("cr") => cr(&o),
        Some("cr-load") => cr_load_main(&pos),
        Some("startup") => startup(count(pos.get(1), 1_000_000)),
        Some("rates") => rates::rates_cmd(&o),
        Some("udp-memory") => {
            udp::udp_memory(pos.get(1).map_or("100000,1000000", |s| s.as_str()), &o)
        }
        Some("udp-memory-one") => udp::udp_memory_one(count(pos.get(1), 100_000), &o),
        Some("cr-transports") => udp::cr_transports(&o),
        Some("cr-load-udp") => udp::cr_load_udp_main(&pos),
        Some("stun-server") => udp::stun_server_main(),
        _ => println!("{USAGE}"),
    }
}

// === helpers ===

struct Opts(HashMap<String, String>);

impl Opts {
    fn get<T: FromStr>(&self, k: &str, default: T) -> T {
        self.0
            .get(k)
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }
}

fn count(s: Option<&String>, default: u32) -> u32 {
    s.and_then(|s| cpefleet::units::parse_count(s).ok())
        .map_or(default, |n| n as u32)
}

/// How the fleet the benches start is laid out: `cpefleet run`'s defaults unless
/// `--shard-runtime` / `--timer-slack` say otherwise, so an A/B of layouts is two invocations.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    shard_runtime: fleet::ShardRuntime,
    timer_slack: Duration,
}

static LAYOUT: OnceLock<Layout> = OnceLock::new();

fn layout_from(o: &Opts) {
    let shard_runtime = match o.0.get("shard-runtime") {
        Some(v) => v.parse().unwrap_or_else(|e| panic!("--shard-runtime {e}")),
        None => fleet::ShardRuntime::Threads,
    };
    let timer_slack = match o.0.get("timer-slack") {
        Some(v) => cpefleet::units::parse_duration(v).expect("--timer-slack"),
        None => Duration::ZERO,
    };
    let _ = LAYOUT.set(Layout {
        shard_runtime,
        timer_slack,
    });
}

fn layout() -> Layout {
    LAYOUT.get().copied().unwrap_or(Layout {
        shard_runtime: fleet::ShardRuntime::Threads,
        timer_slack: Duration::ZERO,
    })
}

fn runtime() -> tokio::runtime::Runtime {
    // The same runtime as the cpefleet binary: multi-threaded, one worker per core.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn clk_tck() -> f64 {
    static T: OnceLock<f64> = OnceLock::new();
    *T.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// Fields of /proc/PID/stat after the command name (index 0 is field 3, "state").
fn stat_fields(pid: &str) -> Vec<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = s.rsplit_once(')').map_or("", |x| x.1);
    rest.split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect()
}

/// User + system CPU seconds of a process (all its threads, live and exited).
fn cpu_s(pid: &str) -> f64 {
    let (user, sys) = cpu_split(pid);
    user + sys
}

/// (user, system) CPU seconds of a process.
fn cpu_split(pid: &str) -> (f64, f64) {
    let f = stat_fields(pid);
    let t = |i: usize| f.get(i).copied().unwrap_or(0) as f64 / clk_tck();
    (t(11), t(12))
}

/// A /proc/self/status field in kB (VmRSS, VmHWM).
fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How long this process had existed when this was called (exec to now), from /proc.
fn process_age() -> Duration {
    let start_ticks = stat_fields("self").get(19).copied().unwrap_or(0);
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    Duration::from_secs_f64((uptime - start_ticks as f64 / clk_tck()).max(0.0))
}

fn quantiles_us(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return "no samples".into();
    }
    format!(
        "p50 {} µs, p90 {} µs, p99 {} µs, max {} µs (n = {})",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.max(),
        h.len()
    )
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn gateway() -> PathBuf {
    manifest().join("data-models/tr181-gateway.yaml")
}

/// A child process (ACS or ceiling server), killed when dropped.
struct Peer {
    child: Child,
    addr: String,
}

impl Peer {
    fn pid(&self) -> String {
        self.child.id().to_string()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cpefleet acs --policy null` on a free loopback port; its URL is read from its stderr.
fn spawn_acs() -> Peer {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cpefleet"))
        .args(["acs", "--listen", "127.0.0.1:0", "--policy", "null"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cpefleet acs");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = BufReader::new(stderr).lines();
    let mut url = None;
    for line in lines.by_ref() {
        let Ok(line) = line else { break };
        if let Some(rest) = line.split("listening on ").nth(1) {
            url = rest.split_whitespace().next().map(String::from);
            break;
        }
    }
    // Keep draining so the ACS never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let addr = url.expect("the ACS printed its URL");
    Peer { child, addr }
}

/// This bench binary again, as the ceiling's server; it prints its address on stdout.
fn spawn_ceiling_server(response_len: usize) -> Peer {
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .args(["ceiling-server", &response_len.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn ceiling server");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ceiling server address");
    Peer {
        child,
        addr: line.trim().to_string(),
    }
}

/// A loopback port free right now (for the CR listener, whose address the load needs first).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

struct FleetSpec {
    acs_url: String,
    devices: u32,
    max_sessions: u32,
    boot_over: Duration,
    duration: Duration,
    cr_port: u16,
    /// Periodic inform interval and its jitter (% of it): 24 h and 100 % except for `rates`.
    periodic: Duration,
    jitter_pct: u32,
}

fn scenario(f: &FleetSpec) -> Scenario {
    let yaml = format!(
        r#"name: bench
seed: 1
duration: {duration}s
acs:
  url: "{acs}"
fleet:
  max_sessions: {max}
  connection_requests:
    listen: "127.0.0.1:{port}"
  groups:
    - name: gateways
      template: {template}
      count: {n}
      bootstrapped: true
      periodic_interval: {periodic}s
      jitter: {jitter}%
phases:
  - boot: {{ over: {over}ms }}
"#,
        duration = f.duration.as_secs(),
        acs = f.acs_url,
        max = f.max_sessions,
        port = f.cr_port,
        template = gateway().display(),
        n = f.devices,
        over = f.boot_over.as_millis().max(1),
        periodic = f.periodic.as_secs(),
        jitter = f.jitter_pct,
    );
    Scenario::parse(
        &yaml,
        &manifest().join("scenarios/bench.yaml"),
        &Overrides::default(),
    )
    .expect("bench scenario")
}

/// A fleet running in this process's runtime.
struct Running {
    live: Arc<Live>,
    cancel: CancellationToken,
    handle: tokio::task::JoinHandle<RunResult>,
}

fn start_fleet(mut s: Scenario, acs_url: String) -> Running {
    let live = Arc::new(Live::default());
    let cancel = CancellationToken::new();
    let l = layout();
    s.timer_slack = l.timer_slack;
    let opts = RunOptions {
        live: Some(live.clone()),
        shard_runtime: l.shard_runtime,
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

impl Running {
    async fn stop(self) -> RunResult {
        self.cancel.cancel();
        self.handle.await.expect("fleet task")
    }
}

/// Waits until `n()` reaches `target` or `limit` passes; prints progress every 10 s.
async fn wait_for(what: &str, n: impl Fn() -> u64, target: u64, limit: Duration) -> bool {
    let t0 = Instant::now();
    let mut last_print = t0;
    loop {
        let v = n();
        if v >= target {
            return true;
        }
        if t0.elapsed() > limit {
            eprintln!("{what}: {v}/{target} after {:?}, giving up", t0.elapsed());
            return false;
        }
        if last_print.elapsed() >= Duration::from_secs(10) {
            eprintln!(
                "  {what}: {v}/{target} ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// One point of a measurement window.
#[derive(Clone, Copy)]
struct Sample {
    t: Instant,
    n: u64,
    cpu_self: f64,
    cpu_peer: f64,
    /// This process's system (kernel) share of `cpu_self`.
    sys_self: f64,
    /// This process's allocation calls so far (`--count-allocs`, else 0).
    allocs: u64,
    /// This process's context switches so far: (voluntary, involuntary).
    csw: (u64, u64),
}

fn sample(n: u64, peer: &str) -> Sample {
    Sample {
        t: Instant::now(),
        n,
        cpu_self: cpu_s("self"),
        cpu_peer: cpu_s(peer),
        sys_self: cpu_split("self").1,
        allocs: counting::calls(),
        csw: context_switches(),
    }
}

/// Context switches of this process's live threads, (voluntary, involuntary), summed over
/// /proc/self/task/*/status: /proc/self/status has the main thread's only, and the fleet's
/// work is on its runtime's and shards' threads. A voluntary switch is a thread going to sleep
/// (a wake-up later), so at light load it counts wake-ups. A thread that exits between two
/// samples takes its counts with it; none does inside a measured window (tokio's blocking
/// pool, the one exception, is idle in these runs).
fn context_switches() -> (u64, u64) {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0, 0);
    };
    let field = |s: &str, k: &str| -> u64 {
        s.lines()
            .find_map(|l| l.strip_prefix(k))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    let mut sum = (0, 0);
    for t in tasks.flatten() {
        let s = std::fs::read_to_string(t.path().join("status")).unwrap_or_default();
        sum.0 += field(&s, "voluntary_ctxt_switches:");
        sum.1 += field(&s, "nonvoluntary_ctxt_switches:");
    }
    sum
}

/// Samples when `n()` crosses 10 % and 90 % of `total`: the steady middle of a run, without its
/// ramp-up and tail.
async fn window(n: impl Fn() -> u64, total: u64, peer: &str, limit: Duration) -> (Sample, Sample) {
    wait_for("sessions", &n, total / 10, limit).await;
    let a = sample(n(), peer);
    wait_for("sessions", &n, total * 9 / 10, limit).await;
    let b = sample(n(), peer);
    (a, b)
}

struct Rates {
    per_s: f64,
    self_us: f64,
    peer_us: f64,
    /// Of `self_us`, spent in the kernel.
    sys_us: f64,
    /// This process's allocation calls per session (`--count-allocs`).
    allocs: f64,
    /// This process's context switches per session: (voluntary, involuntary).
    csw: (f64, f64),
}

impl Rates {
    const NONE: Rates = Rates {
        per_s: f64::NAN,
        self_us: f64::NAN,
        peer_us: f64::NAN,
        sys_us: f64::NAN,
        allocs: f64::NAN,
        csw: (f64::NAN, f64::NAN),
    };
}

fn rates(a: Sample, b: Sample) -> Rates {
    let n = (b.n - a.n).max(1) as f64;
    Rates {
        per_s: n / (b.t - a.t).as_secs_f64(),
        self_us: (b.cpu_self - a.cpu_self) * 1e6 / n,
        peer_us: (b.cpu_peer - a.cpu_peer) * 1e6 / n,
        sys_us: (b.sys_self - a.sys_self) * 1e6 / n,
        allocs: (b.allocs - a.allocs) as f64 / n,
        csw: (
            b.csw.0.saturating_sub(a.csw.0) as f64 / n,
            b.csw.1.saturating_sub(a.csw.1) as f64 / n,
        ),
    }
}

/// The byte sizes of the session's two bodies: device 0's boot Inform on the gateway template
/// and the null ACS's InformResponse.
fn exchange_sizes() -> (usize, usize) {
    let t = Template::load(&gateway()).expect("gateway template");
    let mut d = Device::new(0);
    let env = Env {
        seed: 1,
        now: DateTime::from_unix_ms(1_800_000_000_000),
        cr_url_base: "http://127.0.0.1:7548",
        udp: None,
    };
    let inform =
        DeviceView::new(&t, &mut d, &env).inform(vec![EventStruct::new(EventCode::Boot, "")], 0);
    let mut buf = Vec::new();
    encode_cpe(
        &Envelope::new(
            t.cwmp_version(),
            Header::with_id("CPF00000000-1-1"),
            CpeMessage::Request(CpeRequest::Inform(inform)),
        ),
        &mut buf,
    );
    let inform_len = buf.len();
    buf.clear();
    encode_acs(
        &Envelope::new(
            t.cwmp_version(),
            Header::with_id("CPF00000000-1-1"),
            AcsMessage::Response(AcsResponse::InformResponse(InformResponse {
                max_envelopes: 1,
            })),
        ),
        &mut buf,
    );
    (inform_len, buf.len())
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores, {cpu}");
}

// === memory ===

/// Runs `memory-one N` in a fresh process per N and derives the marginal cost per device.
fn memory(list: &str, o: &Opts) {
    machine();
    let mut points: Vec<(u64, u64)> = Vec::new();
    for n in list.split(',') {
        let n = count(Some(&n.to_string()), 0);
        if n == 0 {
            continue;
        }
        let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
        cmd.args(["memory-one", &n.to_string()]);
        for k in ["boot-rate", "max-sessions"] {
            if let Some(v) = o.0.get(k) {
                cmd.args([format!("--{k}"), v.clone()]);
            }
        }
        let out = cmd
            .stderr(Stdio::inherit())
            .output()
            .expect("memory-one run");
        let text = String::from_utf8_lossy(&out.stdout);
        print!("{text}");
        let rss = text.lines().find_map(|l| {
            l.strip_prefix("RESULT ")?
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix("rss_kb="))?
                .parse::<u64>()
                .ok()
        });
        if let Some(rss) = rss {
            points.push((u64::from(n), rss * 1024));
        }
    }
    for w in points.windows(2) {
        let ((n0, r0), (n1, r1)) = (w[0], w[1]);
        let per = (r1 as f64 - r0 as f64) / (n1 - n0) as f64;
        println!(
            "marginal RSS per idle device, {n0} → {n1}: ({r1} − {r0}) B / {} = {per:.0} B",
            n1 - n0
        );
    }
}

fn memory_one(n: u32, o: &Opts) {
    let boot_rate: f64 = o.get("boot-rate", 6000.0);
    let max_sessions: u32 = o.get("max-sessions", 512);
    let rt = runtime();
    let acs = spawn_acs();
    rt.block_on(async {
        let rss_before = status_kb("VmRSS:");
        let spec = FleetSpec {
            acs_url: acs.addr.clone(),
            devices: n,
            max_sessions,
            boot_over: Duration::from_secs_f64(f64::from(n) / boot_rate),
            duration: Duration::from_secs(900),
            cr_port: 0,
            periodic: Duration::from_secs(86_400),
            jitter_pct: 100,
        };
        let t0 = Instant::now();
        let run = start_fleet(scenario(&spec), acs.addr.clone());
        let live = run.live.clone();
        let booted = wait_for(
            "boot sessions",
            || Live::get(&live.finished),
            u64::from(n),
            Duration::from_secs(600),
        )
        .await;
        let boot_s = t0.elapsed().as_secs_f64();
        // Let the last sessions' connections close and the shards go idle.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = status_kb("VmRSS:");
        let hwm = status_kb("VmHWM:");
        let online = Live::get(&live.online);
        let in_flight = Live::get(&live.in_flight);
        let r = run.stop().await;
        println!(
            "{n} devices: booted {} ({} ok, {} failed, errors {:?}) in {boot_s:.1} s \
             (boot spread {:.0} s, max_sessions {max_sessions}); online {online}, in flight {in_flight}",
            if booted { "all" } else { "NOT all" },
            r.stats.sessions.succeeded,
            r.stats.sessions.failed,
            r.stats.errors,
            spec.boot_over.as_secs_f64(),
        );
        println!(
            "  RSS {:.1} MiB (before the fleet {:.1} MiB, peak {:.1} MiB): {:.0} B per device in total",
            rss as f64 / 1024.0,
            rss_before as f64 / 1024.0,
            hwm as f64 / 1024.0,
            rss as f64 * 1024.0 / f64::from(n)
        );
        println!(
            "  static estimate: {} B per idle device (slot + timer entry + CR rate word)",
            fleet::bytes_per_idle_device()
        );
        println!(
            "RESULT n={n} rss_kb={rss} hwm_kb={hwm} before_kb={rss_before} boot_s={boot_s:.1} ok={} failed={}",
            r.stats.sessions.succeeded, r.stats.sessions.failed
        );
    });
}

// === sessions ===

fn session(o: &Opts) {
    let sessions: u64 = o.get("sessions", 100_000);
    let concurrency: u32 = o.get("concurrency", 64);
    let rounds: u32 = o.get("rounds", 1);
    // `--only fleet` or `--only ceiling`: one side alone (for profiling).
    let only: String = o.get("only", String::new());
    // `--count-allocs 1`: allocation calls per session of each side.
    let count_allocs = o.get("count-allocs", 0u8) == 1;
    counting::ON.store(count_allocs, Ordering::Relaxed);
    machine();
    let (inform_len, ir_len) = exchange_sizes();
    println!(
        "session: new TCP connection, POST Inform ({inform_len} B) → 200 InformResponse \
         ({ir_len} B), empty POST → 204 + close; {sessions} sessions, {concurrency} at once"
    );
    let rt = runtime();
    for round in 1..=rounds {
        let c = if only == "fleet" {
            Rates::NONE
        } else {
            rt.block_on(ceiling(sessions, concurrency, inform_len, ir_len))
        };
        let f = if only == "ceiling" {
            Rates::NONE
        } else {
            rt.block_on(fleet_sessions(sessions, concurrency))
        };
        println!("round {round}:");
        println!(
            "  ceiling (hyper client + hyper server): {:>8.0} sessions/s   client {:>5.1} CPU-µs/session   server {:>5.1} CPU-µs/session",
            c.per_s, c.self_us, c.peer_us
        );
        println!(
            "  cpefleet fleet + null ACS:             {:>8.0} sessions/s   fleet  {:>5.1} CPU-µs/session   ACS    {:>5.1} CPU-µs/session",
            f.per_s, f.self_us, f.peer_us
        );
        println!(
            "  share of the ceiling: {:.1} % measured, {:.1} % by CPU per session (both sides);  \
             simulator CPU per session: {:.1} µs, of it kernel {:.1} µs (ceiling client {:.1} µs, kernel {:.1} µs)",
            100.0 * f.per_s / c.per_s,
            100.0 * (c.self_us + c.peer_us) / (f.self_us + f.peer_us),
            f.self_us,
            f.sys_us,
            c.self_us,
            c.sys_us
        );
        if count_allocs {
            println!(
                "  allocations per session (malloc/calloc/realloc calls): fleet {:.1}, ceiling client {:.1}",
                f.allocs, c.allocs
            );
        }
    }
}

/// A minimal hyper client/server pair doing the session's HTTP exchanges with no CWMP work.
async fn ceiling(sessions: u64, concurrency: u32, inform_len: usize, ir_len: usize) -> Rates {
    let server = spawn_ceiling_server(ir_len);
    let addr: SocketAddr = server.addr.parse().expect("ceiling address");
    let body = Bytes::from(vec![b'x'; inform_len]);
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (next, done, failed, body) = (next.clone(), done.clone(), failed.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < sessions {
                if ceiling_session(addr, body.clone()).await.is_err() {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let pid = server.pid();
    let (a, b) = window(
        || done.load(Ordering::Relaxed),
        sessions,
        &pid,
        Duration::from_secs(300),
    )
    .await;
    for w in workers {
        let _ = w.await;
    }
    let f = failed.load(Ordering::Relaxed);
    if f > 0 {
        eprintln!("ceiling: {f} sessions failed");
    }
    rates(a, b)
}

async fn ceiling_session(addr: SocketAddr, body: Bytes) -> Result<(), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(64 * 1024)
        .handshake::<_, Full<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let authority = addr.to_string();
    let inform = Request::post("/")
        .header(HOST, authority.as_str())
        .header("User-Agent", "cpefleet/0.1.0")
        .header(CONTENT_TYPE, "text/xml; charset=\"utf-8\"")
        .header("SOAPAction", "\"\"")
        .header(CONTENT_LENGTH, body.len())
        .body(Full::new(body))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(inform)
        .await
        .map_err(|e| e.to_string())?;
    let cookie = resp.headers().get(SET_COOKIE).cloned();
    let status = resp.status();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    if status != StatusCode::OK {
        return Err(format!("status {status}"));
    }
    let mut empty = Request::post("/")
        .header(HOST, authority.as_str())
        .header("User-Agent", "cpefleet/0.1.0")
        .header(CONTENT_LENGTH, 0);
    if let Some(c) = cookie {
        empty = empty.header(COOKIE, c);
    }
    let empty = empty
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(empty)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    if status != StatusCode::NO_CONTENT {
        return Err(format!("status {status}"));
    }
    Ok(())
}

/// The ceiling's server: 200 with a body of `response_len` bytes to a POST with a body, 204 and
/// close to an empty one — the null ACS's exchanges without parsing or building SOAP.
fn ceiling_server(response_len: usize) {
    let rt = runtime();
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("ceiling bind");
        println!("{}", listener.local_addr().expect("ceiling address"));
        let body = Bytes::from(vec![b'y'; response_len]);
        let cookie = AtomicU64::new(1);
        let cookie = Arc::new(cookie);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (body, cookie) = (body.clone(), cookie.clone());
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let (body, cookie) = (body.clone(), cookie.clone());
                    async move {
                        let got = req.into_body().collect().await.map(|b| b.to_bytes());
                        let resp = match got {
                            Ok(b) if !b.is_empty() => Response::builder()
                                .status(StatusCode::OK)
                                .header(CONTENT_LENGTH, body.len())
                                .header("Server", "cpefleet/0.1.0")
                                .header("SOAPServer", "cpefleet/0.1.0")
                                .header(CONTENT_TYPE, "text/xml; charset=\"utf-8\"")
                                .header(
                                    SET_COOKIE,
                                    format!(
                                        "session={:016x}",
                                        cookie.fetch_add(1, Ordering::Relaxed)
                                    ),
                                )
                                .header("Connection", "keep-alive")
                                .body(Full::new(body)),
                            _ => Response::builder()
                                .status(StatusCode::NO_CONTENT)
                                .header(CONTENT_LENGTH, 0)
                                .header("Server", "cpefleet/0.1.0")
                                .header("SOAPServer", "cpefleet/0.1.0")
                                .header("Connection", "close")
                                .body(Full::new(Bytes::new())),
                        };
                        Ok::<_, std::convert::Infallible>(resp.unwrap_or_default())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .title_case_headers(true)
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
}

/// A boot storm: `sessions` devices power up at once, at most `concurrency` sessions at a time,
/// each one minimal session with the null ACS (in its own process).
async fn fleet_sessions(sessions: u64, concurrency: u32) -> Rates {
    let acs = spawn_acs();
    let spec = FleetSpec {
        acs_url: acs.addr.clone(),
        devices: sessions as u32,
        max_sessions: concurrency,
        boot_over: Duration::ZERO,
        duration: Duration::from_secs(600),
        cr_port: 0,
        periodic: Duration::from_secs(86_400),
        jitter_pct: 100,
    };
    let run = start_fleet(scenario(&spec), acs.addr.clone());
    let live = run.live.clone();
    let pid = acs.pid();
    let (a, b) = window(
        || Live::get(&live.finished),
        sessions,
        &pid,
        Duration::from_secs(300),
    )
    .await;
    wait_for(
        "sessions",
        || Live::get(&live.finished),
        sessions,
        Duration::from_secs(60),
    )
    .await;
    let r = run.stop().await;
    if r.stats.sessions.failed > 0 {
        eprintln!(
            "fleet: {} sessions failed: {:?}",
            r.stats.sessions.failed, r.stats.errors
        );
    }
    rates(a, b)
}

// === connection requests ===

fn cr(o: &Opts) {
    let devices: u32 = o.get("devices", 50_000);
    let seconds: u64 = o.get("seconds", 15);
    let concurrency: u32 = o.get("concurrency", 128);
    let rates: String = o.get("rates", "10000,2000".to_string());
    let fast: u32 = o.get("fast", 1);
    let plain: u32 = o.get("plain", 0);
    machine();
    println!(
        "connection requests: {devices} TR-181 gateways (this process) on a null ACS (own process), \
         the load in a third process; GenieACS's pattern per request: new connection, GET → 401 \
         Digest, GET + Authorization → 200; each accepted request then starts a session"
    );
    let rt = runtime();
    let acs = spawn_acs();
    let mut runs: Vec<Option<f64>> = if fast == 0 { vec![] } else { vec![None] };
    runs.extend(
        rates
            .split(',')
            .filter_map(|r| r.trim().parse().ok())
            .map(Some),
    );
    for paced in runs {
        let port = free_port();
        let spec = FleetSpec {
            acs_url: acs.addr.clone(),
            devices,
            max_sessions: 1000,
            boot_over: Duration::from_secs(2),
            duration: Duration::from_secs(600),
            cr_port: port,
            periodic: Duration::from_secs(86_400),
            jitter_pct: 100,
        };
        let (load, r, sessions, cpu) = rt.block_on(async {
            let run = start_fleet(scenario(&spec), acs.addr.clone());
            let live = run.live.clone();
            wait_for(
                "boot sessions",
                || Live::get(&live.finished),
                u64::from(devices),
                Duration::from_secs(120),
            )
            .await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let before = Live::get(&live.started);
            let mut cmd = Command::new(std::env::current_exe().expect("current exe"));
            cmd.args([
                "cr-load".to_string(),
                port.to_string(),
                devices.to_string(),
                concurrency.to_string(),
                seconds.to_string(),
                paced.map_or("0".to_string(), |r| r.to_string()),
            ]);
            let mut child = cmd
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn cr-load");
            let pid = child.id().to_string();
            let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
            // The load prints "start" once its credentials are computed, then its result.
            let mut line = String::new();
            let _ = out.read_line(&mut line);
            let a = (cpu_s("self"), cpu_s(&acs.pid()), cpu_s(&pid));
            let result = tokio::task::spawn_blocking(move || {
                let mut rest = String::new();
                let _ = std::io::Read::read_to_string(&mut out, &mut rest);
                rest
            });
            // Sample the load's CPU just before it exits (its result line comes at the end).
            let mut b = a;
            while !result.is_finished() {
                b = (cpu_s("self"), cpu_s(&acs.pid()), cpu_s(&pid));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let text = result.await.unwrap_or_default();
            let _ = child.wait();
            // The sessions those requests started finish before the figures are read.
            tokio::time::sleep(Duration::from_secs(2)).await;
            let sessions = Live::get(&live.started) - before;
            let cpu = (b.0 - a.0, b.1 - a.1, b.2 - a.2);
            (text, run.stop().await, sessions, cpu)
        });
        let field = |k: &str| -> f64 {
            load.split_whitespace()
                .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('=')?.parse().ok())
                .unwrap_or(f64::NAN)
        };
        let accepted = field("accepted");
        let per_s = accepted / field("elapsed_s");
        let us = |cpu: f64| cpu * 1e6 / accepted;
        let label = paced.map_or("as fast as it goes".to_string(), |r| {
            format!("offered {r:.0}/s")
        });
        println!("{label}, {concurrency} connections at once, {seconds} s:");
        println!(
            "  {per_s:.0} CR/s accepted (200) ({accepted} accepted, {} challenged, other statuses {}, client errors {})",
            field("challenged"),
            field("other"),
            field("errors")
        );
        println!(
            "  listener counts: accepted {}, challenged {}, busy {}, rate limited {}; sessions started {sessions}, failed {}",
            r.cr.get(cpefleet::cr::CrResult::Accepted),
            r.cr.get(cpefleet::cr::CrResult::Challenged),
            r.cr.get(cpefleet::cr::CrResult::Busy),
            r.cr.get(cpefleet::cr::CrResult::RateLimited),
            r.stats.sessions.failed
        );
        println!(
            "  CPU-µs per accepted CR: fleet (listener + the session it starts) {:.0}, null ACS (the session) {:.0}, load generator {:.0}; total {:.0} → {:.0} CR/s would fill 2 cores",
            us(cpu.0),
            us(cpu.1),
            us(cpu.2),
            us(cpu.0 + cpu.1 + cpu.2),
            2e6 / us(cpu.0 + cpu.1 + cpu.2)
        );
        println!(
            "  CR exchange as the ACS sees it (connect, GET, 401, GET, 200): p50 {} µs, p90 {} µs, p99 {} µs, max {} µs",
            field("p50"),
            field("p90"),
            field("p99"),
            field("max")
        );
        println!(
            "  CR → Inform (listener accepted → the device's session starts): {}",
            quantiles_us(&r.stats.cr_to_inform)
        );
        if let (Some(rate), true) = (paced, plain != 0) {
            // The reference in the same sitting: the same fleet code doing plain periodic
            // sessions at the same offered rate (the `rates` figure's A side).
            let p = rates::plain_at(rate as u32, seconds);
            println!(
                "  plain periodic sessions at {rate:.0}/s: {:.0} sessions/s, fleet {:.1} CPU-µs per session (kernel {:.1}); \
                 CR/plain fleet CPU ratio {:.2}",
                p.per_s,
                p.self_us,
                p.sys_us,
                us(cpu.0) / p.self_us
            );
            println!(
                "RESULT cr rate={rate:.0} cr_per_s={per_s:.0} cr_fleet_us={:.1} plain_per_s={:.0} plain_us={:.1} ratio={:.3}",
                us(cpu.0),
                p.per_s,
                p.self_us,
                us(cpu.0) / p.self_us
            );
        }
    }
}

/// The load generator's process: `cr-load PORT DEVICES CONCURRENCY SECONDS RATE` (RATE 0: as
/// fast as it goes). Prints "start" when ready, then one result line.
fn cr_load_main(pos: &[String]) {
    let arg = |i: usize| pos.get(i).map_or("0", |s| s.as_str());
    let port: u16 = arg(1).parse().unwrap_or(0);
    let devices: u32 = arg(2).parse().unwrap_or(1).max(1);
    let concurrency: u32 = arg(3).parse().unwrap_or(1);
    let seconds: u64 = arg(4).parse().unwrap_or(1);
    let rate: f64 = arg(5).parse().unwrap_or(0.0);
    let creds = Arc::new(device_credentials(0..devices));
    println!("start");
    let l = runtime().block_on(cr_load(
        SocketAddr::from(([127, 0, 0, 1], port)),
        creds,
        concurrency,
        Duration::from_secs(seconds),
        (rate > 0.0).then_some(rate),
    ));
    let other: u64 = l.other.iter().map(|(_, n)| n).sum();
    let q = |x: f64| l.latency.value_at_quantile(x);
    println!(
        "RESULT accepted={} challenged={} other={other} errors={} elapsed_s={:.3} p50={} p90={} p99={} max={}",
        l.accepted,
        l.challenged,
        l.errors,
        l.elapsed.as_secs_f64(),
        q(0.5),
        q(0.9),
        q(0.99),
        l.latency.max()
    );
}

/// The connection-request credentials of devices `indices`: the template's generated ones
/// with the fleet's seed (1), as the listeners expect them.
fn device_credentials(indices: impl IntoIterator<Item = u32>) -> Vec<(String, String)> {
    let t = Template::load(&gateway()).expect("gateway template");
    let root = t.root().to_string();
    indices
        .into_iter()
        .map(|i| {
            let mut d = Device::new(i);
            let env = Env {
                seed: 1,
                now: DateTime::from_unix_ms(0),
                cr_url_base: "",
                udp: None,
            };
            let v = DeviceView::new(&t, &mut d, &env);
            let get = |p: &str| {
                v.get(&format!("{root}ManagementServer.{p}"))
                    .map(|p| p.value)
                    .unwrap_or_default()
            };
            (
                get("ConnectionRequestUsername"),
                get("ConnectionRequestPassword"),
            )
        })
        .collect()
}

struct CrLoad {
    accepted: u64,
    challenged: u64,
    other: Vec<(u16, u64)>,
    errors: u64,
    elapsed: Duration,
    latency: Histogram<u64>,
}

impl Default for CrLoad {
    fn default() -> Self {
        CrLoad {
            accepted: 0,
            challenged: 0,
            other: Vec::new(),
            errors: 0,
            elapsed: Duration::ZERO,
            latency: cpefleet::metrics::stats::histogram(),
        }
    }
}

/// GenieACS's connection request, `concurrency` at a time for `length`: devices in turn, each
/// request on a new connection, challenged, then answered with Digest on the same connection.
/// Paced: request k starts at k/rate (if a worker is free), so the rate is the offered load.
async fn cr_load(
    addr: SocketAddr,
    creds: Arc<Vec<(String, String)>>,
    concurrency: u32,
    length: Duration,
    paced: Option<f64>,
) -> CrLoad {
    let next = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let total = Arc::new(Mutex::new(CrLoad::default()));
    let t0 = tokio::time::Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (next, stop, creds, total) = (next.clone(), stop.clone(), creds.clone(), total.clone());
        workers.push(tokio::spawn(async move {
            let mut mine = CrLoad::default();
            let mut statuses: HashMap<u16, u64> = HashMap::new();
            let mut cnonce = u64::from(w) << 40;
            while !stop.load(Ordering::Relaxed) {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if let Some(r) = paced {
                    tokio::time::sleep_until(t0 + Duration::from_secs_f64(k as f64 / r)).await;
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                let index = (k % creds.len() as u64) as u32;
                let (user, pass) = &creds[index as usize];
                cnonce += 1;
                let started = Instant::now();
                match connection_request(addr, index, user, pass, cnonce).await {
                    Ok((challenged, status)) => {
                        mine.challenged += u64::from(challenged);
                        if status == 200 {
                            mine.accepted += 1;
                            let _ = mine
                                .latency
                                .record((started.elapsed().as_micros() as u64).max(1));
                        } else {
                            *statuses.entry(status).or_default() += 1;
                        }
                    }
                    Err(_) => mine.errors += 1,
                }
            }
            let mut t = total.lock().unwrap_or_else(|e| e.into_inner());
            t.accepted += mine.accepted;
            t.challenged += mine.challenged;
            t.errors += mine.errors;
            let _ = t.latency.add(&mine.latency);
            for (s, n) in statuses {
                match t.other.iter_mut().find(|(x, _)| *x == s) {
                    Some(e) => e.1 += n,
                    None => t.other.push((s, n)),
                }
            }
        }));
    }
    tokio::time::sleep(length).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = t0.elapsed();
    for w in workers {
        let _ = w.await;
    }
    let mut t = std::mem::take(&mut *total.lock().unwrap_or_else(|e| e.into_inner()));
    t.elapsed = elapsed;
    t
}

/// One connection request; returns (was challenged, final status).
async fn connection_request(
    addr: SocketAddr,
    index: u32,
    user: &str,
    pass: &str,
    cnonce: u64,
) -> Result<(bool, u16), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let uri = format!("/{}", cr_path(index));
    let host = addr.to_string();
    let get = |authz: Option<String>| {
        let mut b = Request::get(uri.as_str()).header(HOST, host.as_str());
        if let Some(a) = authz {
            b = b.header(http::header::AUTHORIZATION, a);
        }
        b.body(Empty::<Bytes>::new()).map_err(|e| e.to_string())
    };
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(get(None)?)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get(http::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let _ = resp.into_body().collect().await;
    if status != 401 {
        return Ok((false, status));
    }
    let Some(Ok(Some(Challenge::Digest(c)))) = challenge.as_deref().map(Challenge::parse) else {
        return Err("401 without a Digest challenge".into());
    };
    let authz = c.authorization(user, pass, "GET", &uri, 1, &format!("{cnonce:016x}"));
    sender.ready().await.map_err(|e| e.to_string())?;
    let resp = sender
        .send_request(get(Some(authz))?)
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    Ok((true, status))
}

// === start-up ===

/// `cpefleet run scenarios/million-idle.yaml` as far as "ready": the embedded ACS in-process (as
/// the CLI starts it), the scenario and template loaded, N devices in their shards.
fn startup(n: u32) {
    let main_at = Instant::now();
    let age_at_main = process_age();
    machine();
    let rt = runtime();
    rt.block_on(async move {
        let cancel = CancellationToken::new();
        let acs = acs::start(
            AcsConfig::new(
                SocketAddr::from(([127, 0, 0, 1], 0)),
                Policy::from_arg("null").expect("null policy"),
            ),
            cancel.child_token(),
        )
        .await
        .expect("embedded ACS");
        let load_at = Instant::now();
        let s = Scenario::load(
            &manifest().join("scenarios/million-idle.yaml"),
            &Overrides {
                devices: Some(u64::from(n)),
                duration: Some(Duration::from_secs(3)),
                acs_url: Some(acs.url()),
                cr_listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
                ..Overrides::default()
            },
        )
        .expect("million-idle scenario");
        let live = Arc::new(Live::default());
        let opts = RunOptions {
            live: Some(live.clone()),
            grace: Duration::from_secs(2),
            ..RunOptions::default()
        };
        let first_session = Arc::new(Mutex::new(None));
        let watch = {
            let (live, first) = (live.clone(), first_session.clone());
            tokio::spawn(async move {
                while Live::get(&live.started) == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                *first.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
            })
        };
        let call_at = Instant::now();
        let r = fleet::run(&s, &acs.url(), &opts, cancel.child_token())
            .await
            .expect("fleet run");
        let returned = Instant::now();
        watch.abort();
        cancel.cancel();
        // fleet::run's clock starts after the templates are loaded and the listener bound.
        let before_clock = (returned - call_at).saturating_sub(r.elapsed);
        let ready_from_main = (call_at - main_at) + before_clock + r.ready;
        println!(
            "startup: {} devices of {} ({} parameters)",
            r.devices,
            gateway().display(),
            Template::load(&gateway()).map_or(0, |t| t.parameter_count())
        );
        println!(
            "  RunResult.ready (devices built into their shards): {:.3} s",
            r.ready.as_secs_f64()
        );
        println!(
            "  templates loaded + listener bound, before that:     {:.3} s",
            before_clock.as_secs_f64()
        );
        println!(
            "  main → fleet::run (runtime, embedded ACS, scenario): {:.3} s (scenario load {:.3} s)",
            (call_at - main_at).as_secs_f64(),
            (call_at - load_at).as_secs_f64()
        );
        println!(
            "  process start (exec) → ready: {:.3} s  (exec → main {:.3} s, /proc clock-tick resolution)",
            (age_at_main + ready_from_main).as_secs_f64(),
            age_at_main.as_secs_f64()
        );
        if let Some(t) = *first_session.lock().unwrap_or_else(|e| e.into_inner()) {
            println!(
                "  first boot session started {:.3} s after fleet::run was called (boot phase scheduled)",
                (t - call_at).as_secs_f64()
            );
        }
        println!(
            "  RSS {:.1} MiB, peak {:.1} MiB",
            status_kb("VmRSS:") as f64 / 1024.0,
            status_kb("VmHWM:") as f64 / 1024.0
        );
    });
}
