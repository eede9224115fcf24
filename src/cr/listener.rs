//! The fleet's shared connection-request listener: one HTTP server for every device, each device
//! at its own path (TR-069 §3.2.2 asks for a unique path per CPE; one socket then serves a whole
//! fleet). It answers at once — 200 before the session starts, as TR-069 §3.2.2 requires — and hands the
//! device index to the fleet through [`CrRouter::deliver`], which is a bounded, non-blocking
//! hand-off: a full inbox is a 503 and a counted overflow, never a wait.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::handler::{AuthCheck, CrAuthenticator, CrDevice, CrResult};
use crate::net::ServeOptions;

/// What the fleet gives the listener.
pub trait CrRouter: Send + Sync + 'static {
    /// The device at this request path, with its current CR credentials.
    fn resolve(&self, path: &str) -> Option<CrDevice>;
    /// Wake the device (a validated request received at `at`). Returns `Accepted`, `Busy` or
    /// `RateLimited`; must not block.
    fn deliver(&self, index: u32, at: Instant) -> CrResult;
    /// [`CrRouter::deliver`] for a request that came over `via` (HTTP by default), so the
    /// session it opens is counted by transport.
    fn deliver_via(&self, index: u32, at: Instant, via: super::CrTransport) -> CrResult {
        let _ = via;
        self.deliver(index, at)
    }
    /// The device with this index, for transports that name devices otherwise than by path
    /// (XMPP: by JID).
    fn device(&self, index: u32) -> Option<CrDevice> {
        self.resolve(&crate::model::cr_path(index))
    }
    /// The WAN between the ACS and this device: how long the request takes to reach it and the
    /// answer to come back (nothing unless the device's group has a WAN model).
    fn wan_legs(&self, _index: u32) -> (Duration, Duration) {
        (Duration::ZERO, Duration::ZERO)
    }
}

/// Counts of requests by result (the metrics exporter reads them).
#[derive(Debug, Default)]
pub struct CrStats {
    counts: [AtomicU64; 7],
}

impl CrStats {
    fn slot(r: CrResult) -> usize {
        CrResult::ALL.iter().position(|x| *x == r).unwrap_or(0)
    }
    pub fn count(&self, r: CrResult) {
        self.counts[Self::slot(r)].fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self, r: CrResult) -> u64 {
        self.counts[Self::slot(r)].load(Ordering::Relaxed)
    }
}

/// Listener settings.
#[derive(Debug, Clone)]
pub struct CrConfig {
    pub auth: CrAuthenticator,
    /// Concurrent connections served; further accepts wait (the kernel backlog holds them).
    pub max_connections: usize,
    /// An idle or slow client is dropped after this long.
    pub header_timeout: Duration,
}

/// Serves until `cancel` fires; in-flight connections are given a graceful shutdown.
pub async fn serve<R: CrRouter>(
    listener: TcpListener,
    router: Arc<R>,
    cfg: Arc<CrConfig>,
    stats: Arc<CrStats>,
    cancel: CancellationToken,
) {
    let opts = ServeOptions {
        max_connections: Some(cfg.max_connections),
        nodelay: true,
        header_timeout: Some(cfg.header_timeout),
        max_buf_size: Some(16 * 1024),
        drain: Some(Duration::from_secs(1)),
        accept_backoff: Duration::from_millis(10),
        ..ServeOptions::default()
    };
    crate::net::serve(listener, opts, cancel, move || {
        let (router, cfg, stats) = (router.clone(), cfg.clone(), stats.clone());
        service_fn(move |req| {
            let (router, cfg, stats) = (router.clone(), cfg.clone(), stats.clone());
            async move { Ok::<_, Infallible>(handle(&*router, &cfg, &stats, req).await) }
        })
    })
    .await;
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn handle<R: CrRouter>(
    router: &R,
    cfg: &CrConfig,
    stats: &CrStats,
    req: Request<Incoming>,
) -> Response<Empty<Bytes>> {
    let (result, challenge) = match find(router, &req) {
        Err(r) => (r, None),
        Ok(dev) => {
            // Over a WAN the request reaches the device a one-way delay later, and the answer
            // takes one more to come back: each exchange, the digest challenge's included.
            let (down, up) = router.wan_legs(dev.index);
            if !down.is_zero() {
                tokio::time::sleep(down).await;
            }
            let decided = decide(router, cfg, &req, &dev, Instant::now());
            if !up.is_zero() {
                tokio::time::sleep(up).await;
            }
            decided
        }
    };
    stats.count(result);
    let mut b = Response::builder()
        .status(StatusCode::from_u16(result.status()).unwrap_or(StatusCode::BAD_REQUEST))
        .header("Content-Length", "0");
    if let Some(c) = challenge {
        b = b.header("WWW-Authenticate", c);
    }
    if matches!(result, CrResult::Accepted | CrResult::AuthFailed) {
        // The exchange is over; a client that failed auth gets no second try on this socket.
        b = b.header("Connection", "close");
    }
    b.body(Empty::new()).unwrap_or_default()
}

/// The device a request is for, or why there is none.
fn find<R: CrRouter>(router: &R, req: &Request<Incoming>) -> Result<CrDevice, CrResult> {
    if req.method() != Method::GET && req.method() != Method::POST {
        return Err(CrResult::BadRequest);
    }
    router.resolve(req.uri().path()).ok_or(CrResult::NotFound)
}

fn decide<R: CrRouter>(
    router: &R,
    cfg: &CrConfig,
    req: &Request<Incoming>,
    dev: &CrDevice,
    received: Instant,
) -> (CrResult, Option<String>) {
    let path = req.uri().path();
    let authz = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let target = req.uri().path_and_query().map_or(path, |pq| pq.as_str());
    match cfg
        .auth
        .check(authz, req.method().as_str(), target, dev, now_s())
    {
        AuthCheck::Challenge(c) => (CrResult::Challenged, Some(c)),
        AuthCheck::Failed => (CrResult::AuthFailed, None),
        AuthCheck::Ok => (router.deliver(dev.index, received), None),
    }
}
