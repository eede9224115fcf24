//! The fleet's start-up: groups resolved against their templates, the ACS connector, the
//! shared connection-request listener and the context every shard shares.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::router::{DefaultCredentials, Router};
use super::shard::ShardMsg;
use super::{runner, FleetCtx, FleetError, GroupRt, RunOptions};
use crate::cr::{self, CrAuthenticator, CrConfig, CrStats};
use crate::cwmp::{CwmpVersion, DateTime};
use crate::device::{Device, DeviceView, Env};
use crate::metrics::stats::Live;
use crate::model::Template;
use crate::net::client::{Connector, Endpoint};
use crate::net::tls;
use crate::scenario::Scenario;
use crate::session::transfer::TransferLimits;
use crate::session::SessionConfig;

/// The scenario's groups with their templates and index ranges; and the fleet's size.
pub(super) fn group_runtimes(
    s: &Scenario,
    templates: &[(std::path::PathBuf, Arc<Template>)],
) -> Result<(Vec<GroupRt>, u32), FleetError> {
    let mut groups = Vec::new();
    let mut first = 0u32;
    for g in &s.groups {
        let tid = templates
            .iter()
            .position(|(p, _)| *p == g.template)
            .unwrap_or(0);
        let mut template = templates[tid].1.clone();
        if let Some(plan) = &g.xmpp {
            template = Arc::new(super::xmpp::group_template(&template, plan).map_err(
                |message| FleetError::Template {
                    path: g.template.display().to_string(),
                    message: format!("group {}: {message}", g.name),
                },
            )?);
        }
        let root = template.root();
        groups.push(GroupRt {
            version: g.version.unwrap_or_else(|| template.cwmp_version()),
            credential_paths: ["Username", "Password"]
                .map(|p| format!("{root}ManagementServer.{p}").into_boxed_str()),
            spec: g.clone(),
            template,
            template_id: tid as u16,
            first,
        });
        first = first.saturating_add(g.count);
    }
    Ok((groups, first))
}

/// What marks a client certificate or key path as a per-device pattern (`{serial}`, ...).
const PATTERN: char = '{';

/// TLS for the ACS (and file servers): one client certificate for the fleet, or one per
/// device from a path pattern (returned for the sessions to fill in).
pub(super) fn connector(s: &Scenario) -> Result<(Connector, Option<(String, String)>), FleetError> {
    let mut client_cert_pattern = None;
    let tls_cfg = match (&s.acs.client_cert, &s.acs.client_key) {
        (Some(c), Some(k)) if !c.contains(PATTERN) && !k.contains(PATTERN) => {
            Some(tls::client_config(
                &s.acs.tls,
                Some((std::path::Path::new(c), std::path::Path::new(k))),
            )?)
        }
        (Some(c), Some(k)) => {
            client_cert_pattern = Some((c.clone(), k.clone()));
            Some(tls::client_config(&s.acs.tls, None)?)
        }
        _ => Some(tls::client_config(&s.acs.tls, None)?),
    };
    let connector = Connector {
        connect_timeout: Duration::from_secs(10),
        tls: tls_cfg,
        tls_error: None,
    };
    Ok((connector, client_cert_pattern))
}

/// The shared connection-request listener, bound, and the URL base devices advertise.
pub(super) fn cr_listener(s: &Scenario) -> Result<(tokio::net::TcpListener, Arc<str>), FleetError> {
    let listen_err = |source| FleetError::Listen {
        addr: s.cr.listen.to_string(),
        source,
    };
    let listener = crate::net::listen(s.cr.listen).map_err(listen_err)?;
    let bound = listener.local_addr().map_err(listen_err)?;
    let cr_url_base: Arc<str> = Arc::from(
        s.cr.url
            .clone()
            .unwrap_or_else(|| format!("http://{bound}"))
            .trim_end_matches('/'),
    );
    Ok((listener, cr_url_base))
}

/// Shards: as asked, else one per core; never more than devices.
pub(super) fn shard_count(asked: Option<u32>, devices: u32) -> u32 {
    asked
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get() as u32)
                .unwrap_or(1)
        })
        .clamp(1, 1024)
        .min(devices.max(1))
}

/// One inbox per shard. Bounded: a flood of connection requests is answered 503 (and
/// counted), never queued without limit.
pub(super) fn inboxes(shards: u32) -> (Vec<mpsc::Sender<ShardMsg>>, Vec<mpsc::Receiver<ShardMsg>>) {
    (0..shards).map(|_| mpsc::channel::<ShardMsg>(4096)).unzip()
}

/// A device's connection-request credentials as its template sets them (before the ACS
/// changes them), computed on demand rather than stored per device.
pub(super) fn default_credentials(
    seed: u64,
    groups: &[GroupRt],
    cr_url_base: Arc<str>,
) -> Arc<DefaultCredentials> {
    let cred_groups: Vec<(u32, u32, Arc<Template>)> = groups
        .iter()
        .map(|g| (g.first, g.count, g.template.clone()))
        .collect();
    Arc::new(move |index: u32| -> Option<(String, String)> {
        let (_, _, t) = cred_groups
            .iter()
            .find(|(f, c, _)| index >= *f && index - *f < *c)?;
        let mut dev = Device::new(index);
        let env = Env {
            seed,
            now: DateTime::from_unix_ms(0),
            cr_url_base: &cr_url_base,
            udp: None,
        };
        let v = DeviceView::new(t, &mut dev, &env);
        let root = t.root();
        let user = v
            .get(&format!("{root}ManagementServer.ConnectionRequestUsername"))
            .map(|p| p.value)
            .unwrap_or_default();
        // get() reads hidden parameters too (GetParameterValues would hide them).
        let pass = v
            .get(&format!("{root}ManagementServer.ConnectionRequestPassword"))
            .map(|p| p.value)
            .unwrap_or_default();
        Some((user, pass))
    })
}

/// Serves connection requests until `cancel`, with a fresh secret for this run's nonces.
pub(super) fn spawn_cr_listener(
    listener: tokio::net::TcpListener,
    router: Arc<Router>,
    s: &Scenario,
    stats: Arc<CrStats>,
    cancel: CancellationToken,
) {
    let secret = format!("{:016x}", rand::random::<u64>());
    tokio::spawn(cr::serve(
        listener,
        router,
        Arc::new(CrConfig {
            auth: CrAuthenticator::new(s.cr.auth, "cpefleet", &secret),
            max_connections: 1024,
            header_timeout: Duration::from_secs(5),
        }),
        stats,
        cancel,
    ));
}

/// What start-up resolved, for [`fleet_ctx`].
pub(super) struct Parts {
    pub groups: Vec<GroupRt>,
    pub shards: u32,
    pub first: u32,
    pub count: u32,
    pub total: u32,
    pub endpoint: Endpoint,
    pub connector: Connector,
    pub client_cert_pattern: Option<(String, String)>,
    pub cr_url_base: Arc<str>,
    pub router: Arc<Router>,
    pub live: Arc<Live>,
}

/// The context every shard shares; the simulated clock starts at the wall clock now.
pub(super) fn fleet_ctx(s: &Scenario, opts: &RunOptions, p: Parts, started: Instant) -> FleetCtx {
    let sim_epoch_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    FleetCtx {
        seed: s.seed,
        time_scale: s.time_scale,
        sim_epoch_ms,
        started,
        duration: s.duration,
        grace: opts.grace,
        quit: opts.quit.clone().unwrap_or_default(),
        groups: p.groups,
        shards: p.shards,
        first: p.first,
        count: p.count,
        total: p.total,
        max_sessions: s.max_sessions,
        timer_slack_ms: s.timer_slack.as_millis() as u64,
        session: session_config(s, p.endpoint, p.connector.clone(), started),
        acs_username: s.acs.username.clone(),
        acs_password: s.acs.password.clone(),
        source_addresses: s.source_addresses.clone(),
        cr_url_base: p.cr_url_base,
        phases: s.phases.clone(),
        router: p.router,
        live: p.live,
        transfer_connector: p.connector,
        transfer_limits: TransferLimits {
            timeout: Duration::from_secs(300),
            max_bytes: 1 << 30,
        },
        trace: opts.trace.clone(),
        runner: opts
            .runner
            .clone()
            .unwrap_or_else(|| Arc::new(runner::Network)),
        client_cert_pattern: p.client_cert_pattern,
        tls_options: s.acs.tls.clone(),
        cert_cache: Default::default(),
        udp_addrs: Default::default(),
    }
}

/// The session settings shared by every device (each session fills in its own).
fn session_config(
    s: &Scenario,
    acs: Endpoint,
    connector: Connector,
    started: Instant,
) -> SessionConfig {
    SessionConfig {
        acs,
        connector,
        local_addr: None,
        credentials: None,
        version: CwmpVersion::V1_0,
        exchange_timeout: s.acs.exchange_timeout,
        session_timeout: s.acs.session_timeout,
        max_body: 4 * 1024 * 1024,
        max_exchanges: 10_000,
        user_agent: concat!("cpefleet/", env!("CARGO_PKG_VERSION")).to_string(),
        id_prefix: String::new(),
        // The groups' impairments are set per session; the ACS's outages are the run's.
        impairments: crate::session::Impairments {
            acs_outages: crate::session::wan::AcsOutages {
                epoch: Some(started),
                windows: crate::scenario::wan::acs_outages(&s.phases).into(),
            },
            ..Default::default()
        },
    }
}
