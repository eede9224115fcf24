//! The embedded ACS's HTTP side: a hyper HTTP/1.1 server that speaks GenieACS's dialect
//! (header order, session cookie, 204 + close at the end, short plain-text errors) and drives
//! one pure [`AcsSession`] per CWMP session. All protocol decisions live in `session` and
//! `policy`; this file reads requests, keeps sessions by cookie, authenticates, and writes
//! answers. It also starts the file server and the connection-request sender, and serves
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
    fs_addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl AcsHandle {
    /// The bound CWMP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
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

/// Binds the CWMP and file-server ports and serves until `cancel`.
pub async fn start(cfg: AcsConfig, cancel: CancellationToken) -> Result<AcsHandle, AcsError> {
    let listener = crate::net::listen(cfg.listen).map_err(|source| AcsError::Bind {
        what: "CWMP",
        addr: cfg.listen,
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| AcsError::Bind {
        what: "CWMP",
        addr: cfg.listen,
        source,
    })?;
    let fs_listen = cfg
        .file_server_listen
        .unwrap_or_else(|| SocketAddr::new(addr.ip(), 0));
    let fs_listener = crate::net::listen(fs_listen).map_err(|source| AcsError::Bind {
        what: "files",
        addr: fs_listen,
        source,
    })?;
    let fs_addr = fs_listener.local_addr().map_err(|source| AcsError::Bind {
        what: "files",
        addr: fs_listen,
        source,
    })?;
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
            cancel.clone(),
        )));
    }
    Ok(AcsHandle {
        addr,
        fs_addr,
        shared,
        tasks,
    })
}

#[derive(Debug)]
struct Auth {
    user: String,
    pass: String,
    /// Keys the stateless nonces; random per ACS.
    secret: String,
}

impl Auth {
    /// 32 hex digits: the issue time and a MAC over it, so any connection can present it and
    /// nothing is stored per challenge.
    fn nonce(&self, now_s: u64) -> String {
        let ts = format!("{:08x}", now_s & 0xffff_ffff);
        let mac = md5_hex(&[&self.secret, ":", &ts]);
        format!("{ts}{}", mac.get(..24).unwrap_or_default())
    }

    fn nonce_fresh(&self, nonce: &str, now_s: u64) -> bool {
        let (Some(ts), Some(_)) = (nonce.get(..8), nonce.get(8..)) else {
            return false;
        };
        let Ok(issued) = u64::from_str_radix(ts, 16) else {
            return false;
        };
        let now = now_s & 0xffff_ffff;
        nonce.len() == 32
            && self.nonce(issued) == nonce
            && issued <= now
            && now - issued <= NONCE_TTL_S
    }

    fn challenge(&self, now_s: u64, stale: bool) -> String {
        format!(
            "Digest realm=\"{REALM}\",qop=\"auth\",nonce=\"{}\"{}",
            self.nonce(now_s),
            if stale { ",stale=true" } else { "" }
        )
    }
}

/// Per TCP connection: authentication holds for the rest of the connection, like GenieACS.
#[derive(Debug, Default)]
struct ConnState {
    authenticated: AtomicBool,
    challenges: AtomicU32,
}

#[derive(Debug)]
struct Entry {
    session: AcsSession,
    last_seen: Instant,
    /// The Inform used the non-standard `cwmp-1-3` namespace: echo it, like GenieACS.
    ns13: bool,
    /// Idle time after which the session is dropped: the ACS's default, or the 1.3+ CPE's
    /// SessionTimeout header (bounded).
    timeout: Duration,
}

/// Sessions by cookie, sharded so parallel sessions rarely share a lock.
#[derive(Debug)]
struct Sessions {
    shards: Vec<Mutex<HashMap<u64, Entry>>>,
    /// Open sessions plus reservations of Informs being processed.
    count: AtomicUsize,
}

impl Sessions {
    fn new() -> Self {
        Sessions {
            shards: (0..SESSION_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            count: AtomicUsize::new(0),
        }
    }

    fn shard(&self, cookie: u64) -> Option<&Mutex<HashMap<u64, Entry>>> {
        self.shards.get((cookie % SESSION_SHARDS as u64) as usize)
    }

    fn is_live(&self, cookie: u64, now: Instant) -> bool {
        self.shard(cookie)
            .and_then(|s| s.lock().ok())
            .is_some_and(|m| {
                m.get(&cookie)
                    .is_some_and(|e| now.duration_since(e.last_seen) < e.timeout)
            })
    }

    /// Takes a slot for a new session; false when `max` are open.
    fn reserve(&self, max: Option<usize>) -> bool {
        match max {
            None => {
                self.count.fetch_add(1, Relaxed);
                true
            }
            Some(max) => self
                .count
                .fetch_update(Relaxed, Relaxed, |n| (n < max).then_some(n + 1))
                .is_ok(),
        }
    }

    fn release(&self) {
        let _ = self
            .count
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
    }

    /// Inserts under a fresh cookie (the reservation becomes the session).
    fn insert(&self, entry: Entry) -> u64 {
        let mut entry = Some(entry);
        loop {
            let cookie: u64 = rand::random();
            let Some(shard) = self.shard(cookie) else {
                continue;
            };
            let Ok(mut m) = shard.lock() else {
                return cookie;
            };
            if let std::collections::hash_map::Entry::Vacant(v) = m.entry(cookie) {
                if let Some(e) = entry.take() {
                    v.insert(e);
                }
                return cookie;
            }
        }
    }

    /// Runs `f` on a live session; when it is over afterwards, removes and returns it.
    fn step<T>(
        &self,
        cookie: u64,
        now: Instant,
        f: impl FnOnce(&mut Entry) -> T,
    ) -> Option<(T, Option<Entry>)> {
        let mut m = self.shard(cookie)?.lock().ok()?;
        let e = m.get_mut(&cookie)?;
        if now.duration_since(e.last_seen) >= e.timeout {
            return None;
        }
        e.last_seen = now;
        let out = f(e);
        let over = e.session.is_over();
        let removed = if over { m.remove(&cookie) } else { None };
        drop(m);
        if removed.is_some() {
            self.release();
        }
        Some((out, removed))
    }

    /// Removes sessions idle past their timeout (all of them when `all`).
    fn expire(&self, now: Instant, all: bool) -> Vec<Entry> {
        let mut out = Vec::new();
        for s in &self.shards {
            if let Ok(mut m) = s.lock() {
                let dead: Vec<u64> = m
                    .iter()
                    .filter(|(_, e)| all || now.duration_since(e.last_seen) >= e.timeout)
                    .map(|(k, _)| *k)
                    .collect();
                for k in dead {
                    if let Some(e) = m.remove(&k) {
                        out.push(e);
                    }
                }
            }
        }
        for _ in &out {
            self.release();
        }
        out
    }
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

// ---- responses ------------------------------------------------------------------------------

/// A response body that is sent whole, with Content-Length, or chunked (GenieACS chunks its
/// 405 and 503 answers).
#[derive(Debug)]
pub struct AcsBody {
    data: Option<Bytes>,
    chunked: bool,
}

impl hyper::body::Body for AcsBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(
            self.data
                .take()
                .filter(|d| !d.is_empty())
                .map(|d| Ok(Frame::data(d))),
        )
    }

    fn is_end_stream(&self) -> bool {
        !self.chunked && self.data.as_ref().is_none_or(|d| d.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        if self.chunked {
            SizeHint::default()
        } else {
            SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
        }
    }
}

type Resp = Response<AcsBody>;

fn date() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

fn build(b: http::response::Builder, data: Bytes, chunked: bool) -> Resp {
    b.body(AcsBody {
        data: Some(data),
        chunked,
    })
    .unwrap_or_else(|_| {
        let mut r = Response::new(AcsBody {
            data: None,
            chunked: false,
        });
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// 200 with a SOAP envelope, headers in GenieACS's order.
fn soap(body: Vec<u8>, cookie: Option<u64>, close: bool) -> Resp {
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::SERVER, SERVER)
        .header("SOAPServer", SERVER)
        .header(header::CONTENT_TYPE, "text/xml; charset=\"utf-8\"");
    if let Some(c) = cookie {
        b = b.header(header::SET_COOKIE, format!("session={c:016x}"));
    }
    b = b.header(header::DATE, date()).header(
        header::CONNECTION,
        if close { "close" } else { "keep-alive" },
    );
    build(b, Bytes::from(body), false)
}

/// 204: the ACS has nothing more; the session and the connection end.
fn end_of_session() -> Resp {
    let b = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::CONTENT_LENGTH, 0)
        .header(header::SERVER, SERVER)
        .header("SOAPServer", SERVER)
        .header(header::CONNECTION, "close")
        .header(header::DATE, date());
    build(b, Bytes::new(), false)
}

/// 400 with a short text, closing the connection.
fn bad_request(text: &str) -> Resp {
    let b = Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header(header::CONTENT_LENGTH, text.len())
        .header(header::CONNECTION, "close")
        .header(header::DATE, date());
    build(b, Bytes::copy_from_slice(text.as_bytes()), false)
}

fn unauthorized(challenge: Option<String>) -> Resp {
    let mut b = Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::CONTENT_LENGTH, "Unauthorized".len());
    let close = challenge.is_none();
    if let Some(c) = challenge {
        b = b.header(header::WWW_AUTHENTICATE, c);
    }
    b = b.header(header::DATE, date()).header(
        header::CONNECTION,
        if close { "close" } else { "keep-alive" },
    );
    build(b, Bytes::from_static(b"Unauthorized"), false)
}

fn method_not_allowed() -> Resp {
    let b = Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .header(header::ALLOW, "POST")
        .header(header::CONNECTION, "close")
        .header(header::DATE, date())
        .header(header::TRANSFER_ENCODING, "chunked");
    build(b, Bytes::from_static(b"405 Method Not Allowed"), true)
}

fn overloaded(bad: Misbehaviour) -> Resp {
    let mut b = Response::builder().status(StatusCode::SERVICE_UNAVAILABLE);
    if !bad.has(Misbehave::NoRetryAfter) {
        b = b.header(header::RETRY_AFTER, policy::retry_after_s());
    }
    let b = b
        .header(header::CONNECTION, "close")
        .header(header::DATE, date())
        .header(header::TRANSFER_ENCODING, "chunked");
    build(b, Bytes::from_static(b"503 Service Unavailable"), true)
}

fn plain(status: StatusCode, text: &'static str) -> Resp {
    let b = Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, text.len())
        .header(header::CONNECTION, "close")
        .header(header::DATE, date());
    build(b, Bytes::from_static(text.as_bytes()), false)
}

fn json(status: StatusCode, body: Vec<u8>) -> Resp {
    let b = Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::DATE, date())
        .header(header::CONNECTION, "keep-alive");
    build(b, Bytes::from(body), false)
}

// ---- requests -------------------------------------------------------------------------------

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

/// `Ok` when the connection is (now) authenticated; else the 401 to send.
fn authenticate(shared: &Shared, conn: &ConnState, authorization: Option<&str>) -> Option<Resp> {
    let auth = shared.auth.as_ref()?;
    if conn.authenticated.load(Relaxed) || shared.bad.has(Misbehave::NoAuth) {
        return None;
    }
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let challenge = |stale: bool| {
        if conn.challenges.fetch_add(1, Relaxed) >= MAX_CHALLENGES {
            shared.store.rejected("auth_failed");
            return Some(unauthorized(None));
        }
        shared.store.rejected("auth_challenge");
        Some(unauthorized(Some(auth.challenge(now_s, stale))))
    };
    let Some(h) = authorization else {
        return challenge(false);
    };
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    let parsed = scheme
        .eq_ignore_ascii_case("digest")
        .then(|| DigestResponse::parse(rest))
        .flatten();
    let ok = parsed.as_ref().is_some_and(|r| {
        r.username == auth.user && r.realm == REALM && r.verify(&auth.pass, "POST")
    });
    match parsed {
        Some(r) if ok && auth.nonce_fresh(&r.nonce, now_s) => {
            conn.authenticated.store(true, Relaxed);
            None
        }
        // Right credentials on an old or foreign nonce: ask again.
        Some(_) if ok => challenge(true),
        _ => {
            shared.store.rejected("auth_failed");
            Some(unauthorized(None))
        }
    }
}

fn session_cookie(headers: &http::HeaderMap) -> Option<u64> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .filter_map(|kv| kv.trim().strip_prefix("session="))
        .find_map(|v| {
            let v = v.trim();
            (v.len() == 16)
                .then(|| u64::from_str_radix(v, 16).ok())
                .flatten()
        })
}

fn is_empty_body(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// Short, single-line error text for a 400 body.
fn short(e: &DecodeError) -> String {
    let s = e.to_string().replace(['\r', '\n'], " ");
    match s.char_indices().nth(200) {
        Some((i, _)) => s.get(..i).unwrap_or_default().to_string(),
        None => s,
    }
}

/// Counts what the CPE sent.
fn count_cpe(store: &Store, msg: &CpeMessage) {
    match msg {
        CpeMessage::Request(r) => {
            store.cpe_request(r.name());
            if let CpeRequest::TransferComplete(tc) = r {
                store.transfer_complete(tc.fault.fault_code);
            }
        }
        CpeMessage::Response(r) => {
            store.response_ok(r.name().strip_suffix("Response").unwrap_or(r.name()));
        }
        CpeMessage::Fault(f) => store.cpe_fault(f.code),
    }
}

/// Encodes an ACS message (echoing the `cwmp-1-3` namespace when the CPE used it) and counts it.
fn encode(store: &Store, env: &Envelope<AcsMessage>, ns13: bool, bad: Misbehaviour) -> Vec<u8> {
    if bad.has(Misbehave::WrongXsiType) {
        if let AcsMessage::Request(crate::cwmp::AcsRequest::SetParameterValues(spv)) = &env.body {
            let mut spv = spv.clone();
            for p in &mut spv.parameter_list {
                p.kind = Some(crate::cwmp::XsdType::String);
            }
            let env = Envelope::new(
                env.version,
                env.header.clone(),
                AcsMessage::Request(crate::cwmp::AcsRequest::SetParameterValues(spv)),
            );
            return encode(store, &env, ns13, Misbehaviour::default());
        }
    }
    match &env.body {
        AcsMessage::Request(r) => store.rpc_sent(r.name()),
        AcsMessage::Fault(f) => store.acs_fault(f.code),
        AcsMessage::Response(_) => {}
    }
    let mut out = Vec::with_capacity(640);
    encode_acs(env, &mut out);
    if ns13 {
        const FROM: &[u8] = b"urn:dslforum-org:cwmp-1-2\"";
        if let Some(i) = out.windows(FROM.len()).position(|w| w == FROM) {
            if let Some(b) = out.get_mut(i + FROM.len() - 2) {
                *b = b'3';
            }
        }
    }
    if bad.has(Misbehave::WrongNamespace) {
        const NS: &[u8] = b"urn:dslforum-org:cwmp-1-";
        if let Some(i) = out.windows(NS.len()).position(|w| w == NS) {
            if let Some(b) = out.get_mut(i + NS.len()) {
                *b = b'0';
            }
        }
    }
    if bad.has(Misbehave::NoParameterKey) && contains(&out, b"SetParameterValues>") {
        if let (Some(a), Some(z)) = (
            out.windows(13).position(|w| w == b"<ParameterKey"),
            out.windows(15).position(|w| w == b"</ParameterKey>"),
        ) {
            if a < z {
                out.drain(a..z + 15);
            }
        } else if let Some(a) = out.windows(15).position(|w| w == b"<ParameterKey/>") {
            out.drain(a..a + 15);
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The text of the first `...:ID>` element, for faulting a request the codec cannot decode.
fn sniff_id(body: &[u8]) -> Option<String> {
    let start = body.windows(3).position(|w| w == b":ID")? + 3;
    let rest = body.get(start..)?;
    let gt = rest.iter().position(|&c| c == b'>')?;
    let text = rest.get(gt + 1..)?;
    let end = text.iter().position(|&c| c == b'<')?;
    let id = std::str::from_utf8(text.get(..end)?).ok()?;
    (id.len() <= 64).then(|| id.to_string())
}

enum Answer {
    Reply(Reply),
    Malformed(String),
    Version,
}

fn in_session(shared: &Shared, cookie: u64, now: Instant, body: &[u8]) -> Resp {
    let store = &*shared.store;
    let now_ms = unix_ms();
    let decoded = if is_empty_body(body) {
        None
    } else {
        Some(decode_cpe(body))
    };
    if let Some(Ok(env)) = &decoded {
        count_cpe(store, &env.body);
    }
    let stepped = shared.sessions.step(cookie, now, |e| {
        let answer = match decoded {
            None => Answer::Reply(e.session.on_empty(now_ms)),
            Some(Ok(env)) => Answer::Reply(e.session.on_message(env, now_ms)),
            Some(Err(DecodeError::UnknownRpc { .. } | DecodeError::Direction { .. })) => {
                Answer::Reply(e.session.on_unknown_request(sniff_id(body), now_ms))
            }
            Some(Err(DecodeError::Version { .. })) => {
                e.session.on_malformed(now_ms);
                Answer::Version
            }
            Some(Err(err)) => {
                e.session.on_malformed(now_ms);
                Answer::Malformed(short(&err))
            }
        };
        (answer, e.ns13)
    });
    let Some(((answer, ns13), removed)) = stepped else {
        // Expired between the check and now.
        store.rejected("invalid_session");
        return bad_request("Invalid session");
    };
    let (resp, outcome) = match answer {
        Answer::Reply(Reply::Send(env)) => (
            soap(
                encode(store, &env, ns13, shared.bad),
                shared
                    .bad
                    .has(Misbehave::ChangeCookie)
                    .then_some(cookie ^ 1),
                false,
            ),
            None,
        ),
        Answer::Reply(Reply::End(o)) if shared.bad.has(Misbehave::EndWith200Body) => {
            (plain(StatusCode::OK, "session over"), Some(o))
        }
        Answer::Reply(Reply::End(o)) => (end_of_session(), Some(o)),
        Answer::Reply(Reply::Reject { text, outcome }) => {
            store.rejected("bad_session_state");
            (bad_request(text), Some(outcome))
        }
        Answer::Malformed(text) => {
            store.rejected("malformed");
            (bad_request(&text), Some(SessionOutcome::Malformed))
        }
        Answer::Version => {
            store.rejected("unrecognized_version");
            (
                bad_request("Unrecognized CWMP version"),
                Some(SessionOutcome::Malformed),
            )
        }
    };
    if let Some(e) = removed {
        finish(shared, e, outcome.unwrap_or(SessionOutcome::Completed));
    }
    resp
}

/// A request outside any session: only an Inform opens one. The caller holds a reservation
/// that this either turns into a session or releases.
fn new_session(shared: &Shared, now: Instant, host: Option<&str>, body: &[u8]) -> Resp {
    let store = &*shared.store;
    let refuse = |reason: &str, r: Resp| {
        shared.sessions.release();
        store.rejected(reason);
        r
    };
    if is_empty_body(body) {
        return refuse("invalid_session", bad_request("Invalid session"));
    }
    let env = match decode_cpe(body) {
        Ok(env) => env,
        Err(DecodeError::Version { .. }) => {
            return refuse(
                "unrecognized_version",
                bad_request("Unrecognized CWMP version"),
            )
        }
        Err(e @ DecodeError::Xml { .. }) => return refuse("malformed", bad_request(&short(&e))),
        Err(e) if e.path().contains("Body/Inform") => {
            // An Inform outside any cwmp namespace is a version GenieACS does not recognise
            // either; anything else wrong inside an Inform is a bad Inform.
            if matches!(e, DecodeError::Envelope { .. }) && e.path().ends_with("Body/Inform") {
                return refuse(
                    "unrecognized_version",
                    bad_request("Unrecognized CWMP version"),
                );
            }
            let reason = if e.path().contains("DeviceId") {
                "missing_device_id"
            } else {
                "malformed"
            };
            return refuse(reason, bad_request(&short(&e)));
        }
        Err(_) => return refuse("invalid_session", bad_request("Invalid session")),
    };
    let Envelope {
        version,
        header,
        body: msg,
    } = env;
    let CpeMessage::Request(CpeRequest::Inform(inform)) = msg else {
        return refuse("invalid_session", bad_request("Invalid session"));
    };
    store.cpe_request("Inform");
    // Never published by the BBF; GenieACS rejects it too (1.4 uses cwmp-1-2).
    if contains(body, b"urn:dslforum-org:cwmp-1-4\"")
        || contains(body, b"urn:dslforum-org:cwmp-1-4'")
    {
        return refuse(
            "unrecognized_version",
            bad_request("Unrecognized CWMP version"),
        );
    }
    if inform.device_id.oui.trim().is_empty() || inform.device_id.serial_number.trim().is_empty() {
        return refuse(
            "missing_device_id",
            bad_request("Invalid DeviceId: OUI and SerialNumber are required"),
        );
    }
    // The DeviceId becomes the device's key and record: bounded as the schema bounds it, or one
    // CPE with a 4 MB SerialNumber per Inform grows the ACS by megabytes each time.
    if let Some(problem) = crate::acs::store::device_id_problem(&inform.device_id) {
        return refuse("device_id_too_long", bad_request(problem));
    }
    let ns13 = version == CwmpVersion::V1_3 && contains(body, b"urn:dslforum-org:cwmp-1-3");
    let use_version = match session::negotiate(&header) {
        Ok(v) => v,
        Err(fault) => {
            shared.sessions.release();
            store.session_started();
            store.session_ended(SessionOutcome::VersionMismatch);
            let env = session::fault_reply(version, header.id.clone(), fault.code);
            return soap(encode(store, &env, ns13, shared.bad), None, true);
        }
    };
    // The InformResponse goes out below: the Inform's events are delivered (TR-069 §3.7.1.5).
    store.inform_accepted(inform.events.iter().map(|e| e.code.as_str()));
    let now_ms = unix_ms();
    let plan = match &shared.policy {
        // The null policy plans nothing but still records the device, so that
        // /status/devices/<id> answers under every policy.
        Policy::Null => {
            record_inform(shared, &inform, use_version.unwrap_or(version), now_ms);
            SessionPlan::default()
        }
        p => plan_session(
            shared,
            p,
            host,
            &inform,
            use_version.unwrap_or(version),
            now_ms,
        ),
    };
    let mut session = AcsSession::new(version, now_ms, plan);
    session.set_misbehaviour(shared.bad);
    let mut response = session::inform_response(version, &header, use_version);
    if shared.bad.has(Misbehave::WrongId) {
        response.header.id = Some(format!("{}x", response.header.id.unwrap_or_default()));
    }
    if shared.bad.has(Misbehave::MaxEnvelopes2) {
        response.body = AcsMessage::Response(crate::cwmp::AcsResponse::InformResponse(
            crate::cwmp::InformResponse { max_envelopes: 2 },
        ));
    }
    let out = encode(store, &response, ns13, shared.bad);
    let timeout = header.session_timeout.map_or(shared.session_timeout, |s| {
        Duration::from_secs(u64::from(s).clamp(MIN_CPE_TIMEOUT_S, MAX_CPE_TIMEOUT_S))
    });
    let cookie = shared.sessions.insert(Entry {
        session,
        last_seen: now,
        ns13,
        timeout,
    });
    store.session_started();
    soap(out, Some(cookie), false)
}

/// Records an Inform in the status store (every policy); returns the device id and the data
/// model root.
fn record_inform(
    shared: &Shared,
    inform: &crate::cwmp::Inform,
    version: CwmpVersion,
    now_ms: i64,
) -> (String, String) {
    let ignore_values = shared.bad.has(Misbehave::IgnoreValueChange)
        && inform
            .events
            .iter()
            .any(|e| e.code.as_str() == "4 VALUE CHANGE");
    let record = InformRecord::of(inform, version, now_ms, !ignore_values);
    let ids = (record.device_id.clone(), record.root.clone());
    shared.store.record_inform(record);
    ids
}

/// Asks the policy for this session's steps (after recording the Inform).
fn plan_session(
    shared: &Shared,
    policy: &Policy,
    host: Option<&str>,
    inform: &crate::cwmp::Inform,
    version: CwmpVersion,
    now_ms: i64,
) -> SessionPlan {
    let store = &*shared.store;
    let (device_id, root) = record_inform(shared, inform, version, now_ms);
    let file_base_url = file_base_url(host, shared.fs_addr);
    let ctx = PlanContext {
        device_id: &device_id,
        device: &inform.device_id,
        events: &inform.events,
        params: &inform.parameter_list,
        root: &root,
        elapsed_s: shared.started.elapsed().as_secs_f64(),
        file_base_url: &file_base_url,
    };
    let mut steps = store.with_device(&device_id, |rec| {
        policy.plan(&ctx, rec, &mut |allowance| {
            store.try_claim_wave_slot(allowance)
        })
    });
    let queued = shared.nbi.lock().ok().and_then(|mut m| {
        if shared.bad.has(Misbehave::RepeatTasks) {
            m.get(&device_id).cloned()
        } else {
            m.remove(&device_id)
        }
    });
    for request in queued.unwrap_or_default() {
        steps.push(super::session::Step::Rpc(super::session::PlannedRpc {
            task: "nbi".into(),
            request,
            firmware: false,
        }));
    }
    SessionPlan {
        device_id,
        root,
        steps,
        known: inform.parameter_list.clone(),
    }
}

/// `http://<the host the CPE used>:<file server port>`, like GenieACS builds Download URLs.
fn file_base_url(host: Option<&str>, fs: SocketAddr) -> String {
    let host = host.map(str::trim).filter(|h| !h.is_empty());
    let name = match host {
        Some(h) if h.starts_with('[') => h.split_inclusive(']').next().unwrap_or(h).to_string(),
        Some(h) => h.split(':').next().unwrap_or(h).to_string(),
        None => match reachable(fs).ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            ip => ip.to_string(),
        },
    };
    format!("http://{name}:{}", fs.port())
}

// ---- NBI --------------------------------------------------------------------------------------

/// `POST /devices/<device id>/tasks[?connection_request]` in GenieACS's NBI dialect: the task
/// (JSON: `getParameterValues`, `setParameterValues`, `addObject`, `deleteObject`, `reboot`,
/// `factoryReset`, `download`, `getRPCMethods`, and cpefleet's `scheduleInform`) is queued for
/// the device's next session. With `connection_request`, a connection request is sent at once:
/// 200 when the device accepted it, 202 when the task only waits in the queue (GenieACS answers
/// 202 when the device did not come online in time).
async fn nbi_task(shared: &Shared, req: Request<Incoming>) -> Resp {
    let path = req.uri().path().to_string();
    let cr = req
        .uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("connection_request")));
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(id) = path
        .strip_prefix("/devices/")
        .and_then(|p| p.strip_suffix("/tasks"))
        .map(percent_decode)
    else {
        return plain(StatusCode::NOT_FOUND, "Not found");
    };
    let body = match tokio::time::timeout(
        REQUEST_TIMEOUT,
        Limited::new(req.into_body(), 64 * 1024).collect(),
    )
    .await
    {
        Ok(Ok(b)) => b.to_bytes(),
        _ => return bad_request("Request body not received"),
    };
    let Ok(task) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return bad_request("Invalid JSON");
    };
    let Some(device) = shared.store.device(&id) else {
        return json(
            StatusCode::NOT_FOUND,
            br#"{"error":"No such device"}"#.to_vec(),
        );
    };
    let seq = shared.nbi_seq.fetch_add(1, Relaxed);
    let base = file_base_url(host.as_deref(), shared.fs_addr);
    let Some(request) = nbi_request(&task, seq, &base, shared.bad, &shared.files) else {
        return bad_request("Invalid task");
    };
    // Queued per device, bounded like the device's task results: past it the caller waits.
    let queued = shared.nbi.lock().ok().is_some_and(|mut m| {
        let q = m.entry(id.clone()).or_default();
        let room = q.len() < shared.store.limits().max_tasks_per_device;
        if room {
            q.push(request);
        }
        room
    });
    if !queued {
        return json(
            StatusCode::SERVICE_UNAVAILABLE,
            br#"{"error":"Too many queued tasks for this device"}"#.to_vec(),
        );
    }
    let mut status = StatusCode::ACCEPTED;
    if cr && !shared.bad.has(Misbehave::NoConnectionRequest) {
        if let Some(url) = &device.connection_request_url {
            let creds = device
                .cr_username
                .as_deref()
                .zip(device.cr_password.as_deref());
            let result = cr_sender::connection_request(url, creds, Duration::from_secs(2)).await;
            shared.store.cr_result(&id, result, unix_ms());
            if result == "ok" {
                status = StatusCode::OK;
            }
        }
    }
    json(status, serde_json::to_vec(&task).unwrap_or_default())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A GenieACS NBI task as the RPC it stands for.
fn nbi_request(
    t: &serde_json::Value,
    seq: u32,
    file_base: &str,
    bad: Misbehaviour,
    files: &FileStore,
) -> Option<crate::cwmp::AcsRequest> {
    use crate::cwmp::{self as c, AcsRequest as R};
    let s = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let object = |k: &str| {
        let mut o = s(k)?;
        if !o.ends_with('.') {
            o.push('.');
        }
        if bad.has(Misbehave::ObjectNameWithoutDot) {
            o.pop();
        }
        Some(o)
    };
    let key = format!("nbi-{seq}");
    Some(match t.get("name")?.as_str()? {
        "getParameterValues" => R::GetParameterValues(c::GetParameterValues {
            parameter_names: t
                .get("parameterNames")?
                .as_array()?
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        }),
        "setParameterValues" => R::SetParameterValues(c::SetParameterValues {
            parameter_list: t
                .get("parameterValues")?
                .as_array()?
                .iter()
                .filter_map(|v| {
                    let a = v.as_array()?;
                    let name = a.first()?.as_str()?.to_string();
                    let value = match a.get(1)? {
                        serde_json::Value::String(x) => x.clone(),
                        other => other.to_string(),
                    };
                    let kind = a
                        .get(2)
                        .and_then(|k| k.as_str())
                        .map_or(c::XsdType::String, policy::kind_of_name);
                    Some(c::ParameterValueStruct {
                        name,
                        value,
                        kind: Some(kind),
                    })
                })
                .collect(),
            parameter_key: key,
        }),
        "addObject" => R::AddObject(c::AddObject {
            object_name: object("objectName")?,
            parameter_key: key,
        }),
        "deleteObject" => R::DeleteObject(c::DeleteObject {
            object_name: object("objectName")?,
            parameter_key: key,
        }),
        "reboot" => R::Reboot(c::Reboot { command_key: key }),
        "factoryReset" => R::FactoryReset,
        "getRPCMethods" => R::GetRPCMethods,
        "scheduleInform" => R::ScheduleInform(c::ScheduleInform {
            delay_seconds: if bad.has(Misbehave::ScheduleInformZeroDelay) {
                0
            } else {
                t.get("delaySeconds")
                    .and_then(|v| v.as_u64())
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(5)
            },
            command_key: s("commandKey").unwrap_or(key),
        }),
        "download" => {
            let file = s("fileName").or_else(|| s("file"))?;
            R::Download(c::Download {
                file_type: s("fileType").unwrap_or_else(|| "1 Firmware Upgrade Image".into()),
                url: format!("{file_base}/{file}"),
                file_size: files
                    .size(&file)
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(0),
                ..c::Download::default()
            })
        }
        _ => return None,
    })
}

/// `GET /status`, `/status/devices`, `/status/devices/<id>`; None for other paths.
fn status_request(shared: &Shared, path: &str) -> Option<Resp> {
    let store = &*shared.store;
    let to_json = |v: serde_json::Result<Vec<u8>>| match v {
        Ok(b) => json(StatusCode::OK, b),
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "serialisation failed"),
    };
    match path.trim_end_matches('/') {
        "/status" => Some(to_json(serde_json::to_vec(&store.snapshot()))),
        "/status/devices" => {
            let ids = store.device_ids(0, 10_000);
            Some(to_json(serde_json::to_vec(&serde_json::json!({
                "total": store.device_count(),
                "devices": ids,
            }))))
        }
        p => {
            let id = p.strip_prefix("/status/devices/")?;
            Some(match store.device(id) {
                Some(d) => to_json(serde_json::to_vec(&d)),
                None => json(
                    StatusCode::NOT_FOUND,
                    br#"{"error":"unknown device"}"#.to_vec(),
                ),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_parse_among_others() {
        let mut h = http::HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=b; session=8f63df79ebed4b36".parse().unwrap(),
        );
        assert_eq!(session_cookie(&h), Some(0x8f63df79ebed4b36));
        h.insert(header::COOKIE, "session=xyz".parse().unwrap());
        assert_eq!(session_cookie(&h), None);
        assert_eq!(session_cookie(&http::HeaderMap::new()), None);
    }

    #[test]
    fn nonces_are_stateless_and_expire() {
        let a = Auth {
            user: "u".into(),
            pass: "p".into(),
            secret: "k".into(),
        };
        let n = a.nonce(1000);
        assert_eq!(n.len(), 32);
        assert!(n.bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(a.nonce_fresh(&n, 1000 + NONCE_TTL_S));
        assert!(!a.nonce_fresh(&n, 1001 + NONCE_TTL_S));
        let other = Auth {
            secret: "x".into(),
            ..a
        };
        assert!(!other.nonce_fresh(&n, 1000));
        assert!(!other.nonce_fresh("short", 1000));
        let c = other.challenge(5, false);
        assert!(
            c.starts_with("Digest realm=\"cpefleet\",qop=\"auth\",nonce=\""),
            "{c}"
        );
    }

    #[test]
    fn file_urls_use_the_host_the_cpe_used() {
        let fs: SocketAddr = "0.0.0.0:7567".parse().unwrap();
        assert_eq!(
            file_base_url(Some("10.1.2.3:7547"), fs),
            "http://10.1.2.3:7567"
        );
        assert_eq!(file_base_url(Some("[::1]:7547"), fs), "http://[::1]:7567");
        assert_eq!(
            file_base_url(Some("acs.example"), fs),
            "http://acs.example:7567"
        );
        assert_eq!(file_base_url(None, fs), "http://127.0.0.1:7567");
    }

    #[test]
    fn ids_are_sniffed_from_undecodable_requests() {
        let b = br#"<e><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">cpe-9</cwmp:ID></soap-env:Header><x/></e>"#;
        assert_eq!(sniff_id(b), Some("cpe-9".into()));
        assert_eq!(sniff_id(b"nothing"), None);
        assert_eq!(sniff_id(b"<a:ID>unterminated"), None);
    }

    #[test]
    fn the_cwmp_1_3_namespace_is_echoed() {
        let store = Store::default();
        let env =
            session::inform_response(CwmpVersion::V1_3, &crate::cwmp::Header::with_id("1"), None);
        let out = encode(&store, &env, true, Misbehaviour::default());
        assert!(contains(&out, b"xmlns:cwmp=\"urn:dslforum-org:cwmp-1-3\""));
        let out = encode(&store, &env, false, Misbehaviour::default());
        assert!(contains(&out, b"xmlns:cwmp=\"urn:dslforum-org:cwmp-1-2\""));
    }

    #[test]
    fn session_slots_are_bounded() {
        let s = Sessions::new();
        assert!(s.reserve(Some(2)));
        assert!(s.reserve(Some(2)));
        assert!(!s.reserve(Some(2)));
        s.release();
        assert!(s.reserve(Some(2)));
        s.release();
        s.release();
        s.release();
        assert_eq!(s.count.load(Relaxed), 0);
    }
}
