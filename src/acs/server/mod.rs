//! The embedded ACS's HTTP side: a hyper HTTP/1.1 server that speaks GenieACS's dialect
//! (header order, session cookie, 204 + close at the end, short plain-text errors) and drives
//! one pure [`AcsSession`] per CWMP session. All protocol decisions live in `session` and
//! `policy`; these files read requests, keep sessions by cookie, authenticate, and write
//! answers. They also start the file server and the connection-request sender, and serves
//! `GET /status` and `GET /status/devices/<id>` from the store.
//!
//! Bounded everywhere: request bodies (4 MiB), request time (10 s), idle sessions (30 s),
//! connection lifetime (300 s), sessions (optional cap: new ones get 503 + Retry-After).

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::{digest::md5_hex, DigestResponse};
use crate::cwmp::{
    decode_cpe, encode_acs, AcsMessage, CpeMessage, CpeRequest, CwmpVersion, DecodeError, Envelope,
};
use crate::net::ServeOptions;

use super::cr_sender;
use super::file_server::{self, FileStore};
use super::misbehave::{Misbehave, Misbehaviour};
use super::policy::{self, PlanContext, Policy};
use super::session::{self, AcsSession, Reply, SessionPlan};
use super::store::{
    DeviceRecord, InformRecord, SessionOutcome, StatusSnapshot, Store, StoreLimits,
};

/// Largest request body accepted (GenieACS has none; a CPE's biggest message is a GPN or GPV
/// answer of a full tree, well under this).
pub const DEFAULT_MAX_BODY: usize = 4 * 1024 * 1024;
/// A session with no message for this long is dropped (GenieACS's `SESSION_TIMEOUT`).
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// The whole request must arrive within this (GenieACS's `REQUEST_TIMEOUT`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// A TCP connection is closed after this (GenieACS's `MAX_SESSION_DURATION`).
const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(300);
const SESSION_SHARDS: usize = 64;
/// A Digest nonce is accepted for this long after it was issued.
const NONCE_TTL_S: u64 = 300;
/// Challenges answered on one connection before it is closed.
const MAX_CHALLENGES: u32 = 3;
const REALM: &str = "cpefleet";
/// Bounds on a CPE's SessionTimeout header (CWMP 1.3+).
const MIN_CPE_TIMEOUT_S: u64 = 5;
const MAX_CPE_TIMEOUT_S: u64 = 300;
const SERVER: &str = concat!("cpefleet/", env!("CARGO_PKG_VERSION"));

mod auth;
mod cwmp;
mod nbi;
mod nbi_tasks;
mod reply;
mod sessions;

use auth::*;
use cwmp::*;
use nbi::*;
pub use reply::AcsBody;
use reply::*;
use sessions::*;

/// How to run the ACS.
#[derive(Debug, Clone)]
pub struct AcsConfig {
    /// CWMP (and `/status`) address; port 0 picks one.
    pub listen: SocketAddr,
    pub policy: Policy,
    /// Username/password the CPE must present (Digest, as GenieACS does on plain HTTP).
    pub auth: Option<(String, String)>,
    /// New sessions beyond this many open ones get 503 + Retry-After (overrides the policy's).
    pub max_concurrent_sessions: Option<usize>,
    /// File server address; `None`: the CWMP address's IP with a free port.
    pub file_server_listen: Option<SocketAddr>,
    pub session_timeout: Duration,
    pub max_body: usize,
    pub store_limits: StoreLimits,
    /// Accept XMPP component connections and send connection requests over them (TR-069
    /// Annex K); `None`: HTTP connection requests only.
    pub xmpp: Option<super::xmpp::XmppGatewayConfig>,
}

impl AcsConfig {
    pub fn new(listen: SocketAddr, policy: Policy) -> Self {
        AcsConfig {
            listen,
            policy,
            auth: None,
            max_concurrent_sessions: None,
            file_server_listen: None,
            session_timeout: DEFAULT_SESSION_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            store_limits: StoreLimits::default(),
            xmpp: None,
        }
    }
}

/// Why the ACS could not start.
#[derive(Debug, thiserror::Error)]
pub enum AcsError {
    #[error("cannot listen for {what} on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl AcsError {
    pub fn label(&self) -> &'static str {
        match self {
            AcsError::Bind { .. } => "acs_bind",
        }
    }
}

/// A running ACS. Stops when the token given to [`start`] is cancelled.
#[derive(Debug)]
pub struct AcsHandle {
    addr: SocketAddr,
    /// The XMPP component port and the gateway, when configured.
    xmpp: Option<(SocketAddr, super::xmpp::XmppGateway)>,
    fs_addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl AcsHandle {
    /// The bound CWMP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The XMPP component port the fleet connects to, when configured.
    pub fn xmpp_addr(&self) -> Option<SocketAddr> {
        self.xmpp.as_ref().map(|(a, _)| *a)
    }

    /// The XMPP gateway (its counters), when configured.
    pub fn xmpp_gateway(&self) -> Option<&super::xmpp::XmppGateway> {
        self.xmpp.as_ref().map(|(_, g)| g)
    }

    /// The ACS URL for CPEs: `http://ip:port/` (loopback when bound to the unspecified address).
    pub fn url(&self) -> String {
        format!("http://{}/", reachable(self.addr))
    }

    pub fn file_server_addr(&self) -> SocketAddr {
        self.fs_addr
    }

    pub fn file_server_url(&self) -> String {
        format!("http://{}/", reachable(self.fs_addr))
    }

    /// `GET /status`: summary counts.
    pub fn status(&self) -> StatusSnapshot {
        self.shared.store.snapshot()
    }

    /// `GET /status/devices/<id>`: one device's record.
    pub fn device(&self, device_id: &str) -> Option<DeviceRecord> {
        self.shared.store.device(device_id)
    }

    pub fn store(&self) -> Arc<Store> {
        self.shared.store.clone()
    }

    pub fn files(&self) -> Arc<FileStore> {
        self.shared.files.clone()
    }

    /// Waits for the listeners and background tasks to end (after cancellation).
    pub async fn stopped(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn reachable(a: SocketAddr) -> SocketAddr {
    match a.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), a.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), a.port())
        }
        _ => a,
    }
}

/// A listener on `addr` and the address it got (`what` names it in the error).
fn bind(what: &'static str, addr: SocketAddr) -> Result<(TcpListener, SocketAddr), AcsError> {
    let err = |source| AcsError::Bind { what, addr, source };
    let listener = crate::net::listen(addr).map_err(err)?;
    let bound = listener.local_addr().map_err(err)?;
    Ok((listener, bound))
}

/// The XMPP component port (TR-069 Annex K through the ACS itself) and its gateway.
fn start_xmpp(
    x: super::xmpp::XmppGatewayConfig,
    cancel: &CancellationToken,
) -> Result<(SocketAddr, super::xmpp::XmppGateway), AcsError> {
    let addr = x.listen;
    let (gw, bound) =
        super::xmpp::XmppGateway::start(x, cancel.clone()).map_err(|source| AcsError::Bind {
            what: "XMPP component",
            addr,
            source,
        })?;
    Ok((bound, gw))
}

/// Binds the CWMP and file-server ports and serves until `cancel`.
pub async fn start(cfg: AcsConfig, cancel: CancellationToken) -> Result<AcsHandle, AcsError> {
    let (listener, addr) = bind("CWMP", cfg.listen)?;
    let fs_listen = cfg
        .file_server_listen
        .unwrap_or_else(|| SocketAddr::new(addr.ip(), 0));
    let (fs_listener, fs_addr) = bind("files", fs_listen)?;
    let xmpp = cfg
        .xmpp
        .clone()
        .map(|x| start_xmpp(x, &cancel))
        .transpose()?;
    let files = Arc::new(FileStore::new(None));
    for (name, size) in cfg.policy.files() {
        files.put(
            &name,
            FileStore::synthetic(usize::try_from(size).unwrap_or(0)),
        );
    }
    let shared = Arc::new(Shared {
        max_sessions: cfg
            .max_concurrent_sessions
            .or_else(|| cfg.policy.max_concurrent_sessions()),
        auth: cfg.auth.map(|(user, pass)| Auth {
            user,
            pass,
            secret: format!(
                "{:016x}{:016x}",
                rand::random::<u64>(),
                rand::random::<u64>()
            ),
        }),
        bad: cfg.policy.misbehaviour(),
        nbi: Mutex::new(HashMap::new()),
        nbi_seq: AtomicU32::new(0),
        policy: cfg.policy,
        session_timeout: cfg.session_timeout,
        max_body: cfg.max_body,
        sessions: Sessions::new(),
        store: Arc::new(Store::new(cfg.store_limits)),
        files: files.clone(),
        fs_addr,
        started: Instant::now(),
        xmpp: xmpp.as_ref().map(|(_, g)| g.clone()),
    });
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(file_server::serve(
        fs_listener,
        files,
        cancel.clone(),
    )));
    tasks.push(tokio::spawn(accept_loop(
        listener,
        shared.clone(),
        cancel.clone(),
    )));
    tasks.push(tokio::spawn(sweep_loop(shared.clone(), cancel.clone())));
    if let Some(spec) = shared.policy.connection_requests() {
        let seed = shared
            .policy
            .spec()
            .map(|s| s.seed.clone())
            .unwrap_or_default();
        tasks.push(tokio::spawn(cr_sender::run(
            spec.clone(),
            seed,
            shared.store.clone(),
            shared.started,
            xmpp.as_ref().map(|(_, g)| g.clone()),
            cancel.clone(),
        )));
    }
    Ok(AcsHandle {
        addr,
        xmpp,
        fs_addr,
        shared,
        tasks,
    })
}

#[derive(Debug)]
struct Shared {
    policy: Policy,
    /// Deliberate bugs (conformance self-tests).
    bad: Misbehaviour,
    /// Tasks queued through the NBI, per device id, sent in its next session.
    nbi: Mutex<HashMap<String, Vec<crate::cwmp::AcsRequest>>>,
    nbi_seq: AtomicU32,
    auth: Option<Auth>,
    max_sessions: Option<usize>,
    session_timeout: Duration,
    max_body: usize,
    sessions: Sessions,
    store: Arc<Store>,
    files: Arc<FileStore>,
    fs_addr: SocketAddr,
    started: Instant,
    /// XMPP connection requests (TR-069 Annex K) through the component port, when configured.
    xmpp: Option<super::xmpp::XmppGateway>,
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, cancel: CancellationToken) {
    let opts = ServeOptions {
        nodelay: true,
        title_case_headers: true,
        no_date_header: true,
        header_timeout: Some(DEFAULT_SESSION_TIMEOUT),
        max_lifetime: Some(MAX_CONNECTION_LIFETIME),
        drain: Some(Duration::from_secs(1)),
        accept_backoff: Duration::from_millis(10),
        ..ServeOptions::default()
    };
    crate::net::serve(listener, opts, cancel, move || {
        let shared = shared.clone();
        let conn_state = Arc::new(ConnState::default());
        service_fn(move |req| {
            let shared = shared.clone();
            let conn_state = conn_state.clone();
            async move { Ok::<_, Infallible>(handle(&shared, &conn_state, req).await) }
        })
    })
    .await;
}

async fn sweep_loop(shared: Arc<Shared>, cancel: CancellationToken) {
    let period =
        (shared.session_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = cancel.cancelled() => {
                for e in shared.sessions.expire(Instant::now(), true) {
                    finish(&shared, e, SessionOutcome::Shutdown);
                }
                return;
            }
            _ = tokio::time::sleep(period) => {}
        }
        for e in shared.sessions.expire(Instant::now(), false) {
            finish(&shared, e, SessionOutcome::Timeout);
        }
    }
}

/// Ends a session: counters, the wave slot if its Download never went out, and the log.
fn finish(shared: &Shared, mut e: Entry, outcome: SessionOutcome) {
    let now_ms = unix_ms();
    if !e.session.is_over() {
        e.session.abandon(now_ms);
    }
    shared.store.session_ended(outcome);
    if e.session.firmware_unsent() {
        shared.store.release_wave_slot();
    }
    let log = e.session.take_log();
    if !e.session.device_id().is_empty() {
        shared
            .store
            .finish_session(e.session.device_id(), outcome, log);
    }
}

fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Long (over 80 lines): the route table (NBI, status, methods, sessions by cookie) read in one place.
async fn handle(shared: &Shared, conn: &ConnState, req: Request<Incoming>) -> Resp {
    if req.method() == Method::POST && req.uri().path().starts_with("/devices/") {
        // The NBI makes devices reboot, reset and download: it asks for the same credentials
        // as the CPEs' (when the ACS requires any), or anyone reaching the port could.
        let authorization = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if let Some(r) = authenticate(shared, conn, authorization) {
            return r;
        }
        return nbi_task(shared, req).await;
    }
    if req.method() == Method::GET {
        if let Some(r) = status_request(shared, req.uri().path()) {
            return r;
        }
    }
    if req.method() != Method::POST {
        shared.store.rejected("method_not_allowed");
        return method_not_allowed();
    }
    let encoded = req
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("identity"));
    if encoded {
        shared.store.rejected("unsupported_encoding");
        return plain(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Content-Encoding",
        );
    }
    let now = Instant::now();
    let cookie = session_cookie(req.headers());
    let live = cookie.filter(|c| shared.sessions.is_live(*c, now));
    // A slot for the session this request may open; only requests outside a session are
    // refused when the ACS is full, so running sessions finish.
    let reserved = live.is_none();
    if reserved && !shared.sessions.reserve(shared.max_sessions) {
        shared.store.rejected("overloaded");
        return overloaded(shared.bad);
    }
    let release = |r: Resp| {
        if reserved {
            shared.sessions.release();
        }
        r
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > shared.max_body as u64) {
        shared.store.rejected("body_too_large");
        return release(bad_request("Request body too large"));
    }
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match tokio::time::timeout(
        REQUEST_TIMEOUT,
        Limited::new(req.into_body(), shared.max_body).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(e)) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            shared.store.rejected(if too_large {
                "body_too_large"
            } else {
                "malformed"
            });
            return release(bad_request(if too_large {
                "Request body too large"
            } else {
                "Request body not received"
            }));
        }
        Err(_) => {
            shared.store.rejected("malformed");
            return release(bad_request("Request timeout"));
        }
    };
    if let Some(r) = authenticate(shared, conn, authorization.as_deref()) {
        return release(r);
    }
    match live {
        Some(c) => in_session(shared, c, now, &body),
        None => new_session(shared, now, host.as_deref(), &body),
    }
}

#[cfg(test)]
mod tests;
