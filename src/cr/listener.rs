//! The fleet's shared connection-request listener: one HTTP server for every device, each device
//! at its own path (TR-069 §3.2.2 asks for a unique path per CPE; one socket then serves a whole
//! fleet). It answers at once — 200 before the session starts, as R5.4 requires — and hands the
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
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::handler::{AuthCheck, CrAuthenticator, CrDevice, CrResult};

/// What the fleet gives the listener.
pub trait CrRouter: Send + Sync + 'static {
    /// The device at this request path, with its current CR credentials.
    fn resolve(&self, path: &str) -> Option<CrDevice>;
    /// Wake the device (a validated request received at `at`). Returns `Accepted`, `Busy` or
    /// `RateLimited`; must not block.
    fn deliver(&self, index: u32, at: Instant) -> CrResult;
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
    let permits = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            _ = cancel.cancelled() => return,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
        };
        let (stream, _) = tokio::select! {
            _ = cancel.cancelled() => return,
            a = listener.accept() => match a {
                Ok(a) => a,
                // Out of file descriptors and similar: back off briefly instead of spinning.
                Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
            },
        };
        let _ = stream.set_nodelay(true);
        let (router, cfg, stats, cancel) =
            (router.clone(), cfg.clone(), stats.clone(), cancel.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let header_timeout = cfg.header_timeout;
            let svc = service_fn(move |req| {
                let (router, cfg, stats) = (router.clone(), cfg.clone(), stats.clone());
                async move { Ok::<_, Infallible>(handle(&*router, &cfg, &stats, req)) }
            });
            let conn = http1::Builder::new()
                .max_buf_size(16 * 1024)
                .header_read_timeout(header_timeout)
                .timer(hyper_util::rt::TokioTimer::new())
                .serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = cancel.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(Duration::from_secs(1), conn).await;
                }
            }
        });
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn handle<R: CrRouter>(
    router: &R,
    cfg: &CrConfig,
    stats: &CrStats,
    req: Request<Incoming>,
) -> Response<Empty<Bytes>> {
    let received = Instant::now();
    let (result, challenge) = decide(router, cfg, &req, received);
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

fn decide<R: CrRouter>(
    router: &R,
    cfg: &CrConfig,
    req: &Request<Incoming>,
    received: Instant,
) -> (CrResult, Option<String>) {
    if req.method() != Method::GET && req.method() != Method::POST {
        return (CrResult::BadRequest, None);
    }
    let path = req.uri().path();
    let Some(dev) = router.resolve(path) else {
        return (CrResult::NotFound, None);
    };
    let authz = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let target = req.uri().path_and_query().map_or(path, |pq| pq.as_str());
    match cfg
        .auth
        .check(authz, req.method().as_str(), target, &dev, now_s())
    {
        AuthCheck::Challenge(c) => (CrResult::Challenged, Some(c)),
        AuthCheck::Failed => (CrResult::AuthFailed, None),
        AuthCheck::Ok => (router.deliver(dev.index, received), None),
    }
}
