//! The fleet: many virtual CPEs in one process, driven by a scenario.
//!
//! - `cpe`: a device checked out for a session;
//! - `timer`: the shard's timer queue;
//! - `shard`: the scheduler loop owning a slice of the devices;
//! - `router`: connection requests from the shared listener to the right shard;
//! - `runner`: the seam between the scheduler and the network;
//! - `layout`: where the shards run (a thread each, or tasks of the caller's runtime).
//!
//! Devices are split over `S` shards by `index % S`; each shard is one task with its own timer
//! heap and session cap, rather than a task per device. An idle device is ~80 bytes of plain data
//! and a 16-byte heap entry: no task, future or waker.

pub mod cpe;
mod layout;
pub mod router;
pub mod runner;
pub mod shard;
mod start;
pub mod timer;
pub mod udp;
pub mod xmpp;

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::cwmp::{CwmpVersion, DateTime};

use crate::model::Template;
use crate::net::client::{Connector, Endpoint};
use crate::net::tls;
use crate::scenario::{Phase, Scenario};
use crate::session::transfer::TransferLimits;
use crate::session::SessionConfig;

use crate::metrics::stats::{Live, ShardStats};
use crate::metrics::RunResult;
pub use layout::ShardRuntime;
use router::Router;
use shard::{Shard, ShardMsg};

/// A group at run time: the scenario's group as validated (read through `Deref`, so its
/// fields are not copied one by one into a second struct) plus what the run resolves.
pub struct GroupRt {
    pub spec: crate::scenario::Group,
    pub template: Arc<Template>,
    pub template_id: u16,
    /// Global index range of the group: `first .. first + count`.
    pub first: u32,
    /// The group's CWMP version, or its template's.
    pub version: CwmpVersion,
    /// `<root>ManagementServer.Username` and `.Password` of the group's template: formatted
    /// once here instead of for every session (issue #17: allocations per session).
    pub credential_paths: [Box<str>; 2],
}

impl std::ops::Deref for GroupRt {
    type Target = crate::scenario::Group;
    fn deref(&self) -> &Self::Target {
        &self.spec
    }
}

/// Everything shards share (immutable during the run).
pub struct FleetCtx {
    pub seed: u64,
    pub time_scale: f64,
    /// Simulated clock: `sim_epoch_ms` at `started`, advancing `time_scale` times faster.
    pub sim_epoch_ms: i64,
    pub started: Instant,
    pub duration: Duration,
    pub grace: Duration,
    /// Cancelled to cut the grace period short ("quit now": a second Ctrl-C, SIGHUP).
    pub quit: CancellationToken,
    pub groups: Vec<GroupRt>,
    pub shards: u32,
    /// This process's device range (all of them unless the run is sharded over processes).
    pub first: u32,
    pub count: u32,
    /// Devices of the whole run (all processes).
    pub total: u32,
    pub max_sessions: usize,
    /// A shard's timer also fires devices due this many ms after it wakes (`timer_slack`).
    pub timer_slack_ms: u64,
    pub session: SessionConfig,
    pub acs_username: Option<String>,
    pub acs_password: Option<String>,
    pub source_addresses: Vec<IpAddr>,
    pub cr_url_base: Arc<str>,
    pub phases: Vec<Phase>,
    pub router: Arc<Router>,
    pub live: Arc<Live>,
    pub transfer_connector: Connector,
    pub transfer_limits: TransferLimits,
    pub trace: Option<TraceSpec>,
    pub runner: Arc<dyn runner::Runner>,
    /// Per-device client certificates (mTLS): (certificate, key) path patterns.
    pub client_cert_pattern: Option<(String, String)>,
    pub tls_options: tls::TlsOptions,
    /// Client configs built from per-device certificates, bounded (cleared when full).
    pub cert_cache: std::sync::Mutex<std::collections::HashMap<String, Arc<rustls::ClientConfig>>>,
    /// The STUN-mapped public addresses devices hold bindings to (`device::binding`).
    pub udp_addrs: Arc<crate::device::binding::PublicAddrs>,
}

/// Most per-device TLS configs kept at once (each holds a parsed key).
pub const CERT_CACHE: usize = 4096;

/// `--trace SELECTOR DIR`: which devices' exchanges are written, and where.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    /// Inclusive index ranges.
    pub ranges: Vec<(u32, u32)>,
    pub dir: PathBuf,
}

impl TraceSpec {
    /// Parses "0-9,42" (device indexes).
    pub fn parse(selector: &str, dir: PathBuf) -> Result<TraceSpec, String> {
        let mut ranges = Vec::new();
        for part in selector.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part.split_once('-').unwrap_or((part, part));
            let a: u32 = a
                .trim()
                .parse()
                .map_err(|_| format!("trace selector {part:?}: expected N or N-M"))?;
            let b: u32 = b
                .trim()
                .parse()
                .map_err(|_| format!("trace selector {part:?}: expected N or N-M"))?;
            ranges.push((a.min(b), a.max(b)));
        }
        if ranges.is_empty() {
            return Err("empty trace selector".into());
        }
        Ok(TraceSpec { ranges, dir })
    }

    pub fn matches(&self, index: u32) -> bool {
        self.ranges.iter().any(|(a, b)| (*a..=*b).contains(&index))
    }
}

impl FleetCtx {
    pub fn group_of(&self, index: u32) -> usize {
        self.groups
            .iter()
            .position(|g| index >= g.first && index - g.first < g.count)
            .unwrap_or(0)
    }

    /// The simulated clock now.
    pub fn sim_now(&self) -> DateTime {
        self.sim_at_real_ms(self.started.elapsed().as_secs_f64() * 1000.0)
    }

    /// The simulated clock at `ms` (real) since the fleet started.
    pub fn sim_at(&self, ms: u64) -> DateTime {
        self.sim_at_real_ms(ms as f64)
    }

    fn sim_at_real_ms(&self, real: f64) -> DateTime {
        DateTime::from_unix_ms(self.sim_epoch_ms + (real * self.time_scale) as i64)
    }

    /// A simulated duration in real time.
    pub fn real(&self, sim: Duration) -> Duration {
        sim.div_f64(self.time_scale)
    }

    pub fn trace_path(&self, index: u32, seq: u64) -> Option<PathBuf> {
        let t = self.trace.as_ref()?;
        t.matches(index)
            .then(|| t.dir.join(format!("device-{index}-session-{seq}.http")))
    }
}

/// Run-time options that are not part of a scenario.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub shards: Option<u32>,
    /// Where the shards run. `cpefleet run` asks for [`ShardRuntime::Threads`]; the default
    /// stays on the caller's runtime, which a paused test clock drives.
    pub shard_runtime: ShardRuntime,
    pub grace: Duration,
    /// Ends the grace period at once when cancelled: sessions still running are cut off and
    /// counted as cancelled, and the run returns what it measured.
    pub quit: Option<CancellationToken>,
    pub trace: Option<TraceSpec>,
    /// This process's slice of the fleet (sharded runs): (I, N).
    pub shard_of: Option<(u32, u32)>,
    /// What runs sessions (tests replace the network).
    pub runner: Option<Arc<dyn runner::Runner>>,
    /// Live counters the caller watches (progress lines); the fleet makes its own if `None`.
    pub live: Option<Arc<Live>>,
}

impl std::fmt::Debug for dyn runner::Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Runner")
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            shards: None,
            shard_runtime: ShardRuntime::default(),
            grace: Duration::from_secs(10),
            quit: None,
            trace: None,
            shard_of: None,
            runner: None,
            live: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("template {path}: {message}")]
    Template { path: String, message: String },
    #[error("connection-request listener {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("TLS: {0}")]
    Tls(#[from] tls::TlsError),
    #[error("ACS URL: {0}")]
    Url(String),
    #[error("too many templates (at most 65535)")]
    Templates,
}

impl FleetError {
    pub fn label(&self) -> &'static str {
        match self {
            FleetError::Template { .. } => "template_invalid",
            FleetError::Listen { .. } => "listen",
            FleetError::Tls(e) => e.label(),
            FleetError::Url(_) => "url_invalid",
            FleetError::Templates => "templates",
        }
    }
}

/// Loads each distinct template once (groups share them).
pub fn load_templates(s: &Scenario) -> Result<Vec<(PathBuf, Arc<Template>)>, FleetError> {
    let mut out: Vec<(PathBuf, Arc<Template>)> = Vec::new();
    for g in &s.groups {
        if out.iter().any(|(p, _)| *p == g.template) {
            continue;
        }
        let t = Template::load(&g.template).map_err(|e| FleetError::Template {
            path: g.template.display().to_string(),
            message: e.to_string(),
        })?;
        out.push((g.template.clone(), Arc::new(t)));
    }
    if out.len() > usize::from(u16::MAX) {
        return Err(FleetError::Templates);
    }
    Ok(out)
}

/// Runs the fleet of `s` against `acs_url` until the scenario's end or `cancel`.
/// Long (over 80 lines): the start-up in order (templates, listeners, the UDP and XMPP sides,
/// shards), one call per step.
pub async fn run(
    s: &Scenario,
    acs_url: &str,
    opts: &RunOptions,
    cancel: CancellationToken,
) -> Result<RunResult, FleetError> {
    let templates = load_templates(s)?;
    let (groups, total) = start::group_runtimes(s, &templates)?;
    let (first, count) = match opts.shard_of {
        Some((i, n)) => slice(total, i, n),
        None => (0, total),
    };
    let (connector, client_cert_pattern) = start::connector(s)?;
    let endpoint = Endpoint::parse(acs_url).map_err(|e| FleetError::Url(e.to_string()))?;
    let (listener, cr_url_base) = start::cr_listener(s)?;
    let shards = start::shard_count(opts.shards, count);
    let (inboxes, receivers) = start::inboxes(shards);
    let defaults = start::default_credentials(s.seed, &groups, cr_url_base.clone());
    let wans = groups.iter().map(|g| (g.first, g.count, g.wan)).collect();
    let natted = groups
        .iter()
        .filter(|g| g.cr.transport == crate::cr::CrTransport::Udp)
        .map(|g| g.first..g.first + g.count)
        .collect();
    let router = Arc::new(
        Router::new(first, count, inboxes, defaults, s.cr.min_interval)
            .with_wan(s.seed, wans)
            .behind_nat(natted),
    );
    // The caller's live counters (progress, exporter) include the listener's results.
    let live = opts.live.clone().unwrap_or_default();
    let cr_stats = live.cr.clone();
    let cr_cancel = cancel.child_token();
    // UDP groups (TR-069 Annex G) share sockets bound next to the HTTP listener.
    let cr_ip = listener.local_addr().map_or(s.cr.listen.ip(), |a| a.ip());
    let udp_side = udp::start(
        &groups,
        cr_ip,
        s.seed,
        router.clone(),
        live.udp.clone(),
        cr_cancel.clone(),
    )
    .await?;
    start::spawn_cr_listener(
        listener,
        router.clone(),
        s,
        cr_stats.clone(),
        cr_cancel.clone(),
    );
    let xmpp_stats = xmpp::spawn(
        &groups,
        (first, count),
        s.seed,
        &router,
        &live.xmpp,
        &cr_cancel,
    );

    let started = Instant::now();
    let parts = start::Parts {
        groups,
        shards,
        first,
        count,
        total,
        endpoint,
        connector,
        client_cert_pattern,
        cr_url_base: cr_url_base.clone(),
        router,
        live,
    };
    let ctx = Arc::new(start::fleet_ctx(s, opts, parts, started));
    let (stats, ready) = run_shards(ctx, receivers, opts.shard_runtime, &cancel).await;
    cr_cancel.cancel();
    Ok(RunResult {
        stats,
        ready,
        devices: u64::from(count),
        elapsed: started.elapsed(),
        cr: cr_stats,
        udp: udp_side.as_ref().map(|u| u.endpoint.stats.clone()),
        xmpp: xmpp_stats,
        cr_url_base: cr_url_base.to_string(),
        acs_url: acs_url.to_string(),
    })
}

/// Builds every shard, then runs them to the end; also returns how long building took.
async fn run_shards(
    ctx: Arc<FleetCtx>,
    receivers: Vec<mpsc::Receiver<ShardMsg>>,
    layout: ShardRuntime,
    cancel: &CancellationToken,
) -> (ShardStats, Duration) {
    // Devices become plain data in their shards; `ready` is how long that takes (the
    // start-up figure of BENCHMARKS.md), before any session starts.
    let mut shards_built = Vec::new();
    for (id, rx) in receivers.into_iter().enumerate() {
        shards_built.push(Shard::new(id as u32, ctx.clone(), rx));
    }
    let ready = ctx.started.elapsed();
    let mut running = Vec::new();
    for shard in shards_built {
        running.push(layout::start(layout, shard, cancel.child_token()));
    }
    let mut stats = ShardStats::default();
    for r in running {
        match r.join().await {
            Some(s) => stats.merge(&s),
            None => stats.error("shard_panic"),
        }
    }
    (stats, ready)
}

/// Bytes one idle device costs the fleet: its slot, its timer entry and its rate-limit word
/// (heap data of devices the ACS wrote to comes on top).
pub fn bytes_per_idle_device() -> usize {
    shard::slot_bytes() + std::mem::size_of::<timer::Entry>() + std::mem::size_of::<u32>()
}

/// The contiguous slice of `total` devices that process `i` of `n` takes.
pub fn slice(total: u32, i: u32, n: u32) -> (u32, u32) {
    let n = n.max(1);
    let i = i.min(n - 1);
    let base = total / n;
    let extra = total % n;
    let first = i * base + i.min(extra);
    let count = base + u32::from(i < extra);
    (first, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_fleet_exactly_once() {
        for (total, n) in [(10u32, 3u32), (7, 7), (3, 5), (1_000_000, 4)] {
            let mut next = 0;
            for i in 0..n {
                let (f, c) = slice(total, i, n);
                assert_eq!(f, next);
                next = f + c;
            }
            assert_eq!(next, total);
        }
    }

    #[test]
    fn trace_selectors() {
        let t = TraceSpec::parse("0-2, 7", PathBuf::from("/tmp")).unwrap();
        assert!(t.matches(0) && t.matches(2) && t.matches(7));
        assert!(!t.matches(3));
        assert!(TraceSpec::parse("x", PathBuf::new()).is_err());
        assert!(TraceSpec::parse("", PathBuf::new()).is_err());
    }
}
