//! The fleet's shared connection-request listener: one HTTP server for every device, each device
//! at its own path (TR-069 §3.2.2 asks for a unique path per CPE; one socket then serves a whole
//! fleet). It answers at once — 200 before the session starts, as TR-069 §3.2.2 requires — and hands the
//! device index to the fleet through [`CrRouter::deliver`], which is a bounded, non-blocking
//! hand-off: a full inbox is a 503 and a counted overflow, never a wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::handler::{CrAuth, CrAuthenticator, CrDevice, CrResult, Verdict};
use super::wire;

/// What the fleet gives the listener.
pub trait CrRouter: Send + Sync + 'static {
    /// The device at this request path, with its current CR credentials.
    fn resolve(&self, path: &str) -> Option<CrDevice>;
    /// The device index at this request path, without its credentials: a request without
    /// `Authorization` (the first of every Digest exchange) needs no more.
    fn locate(&self, path: &str) -> Option<u32> {
        self.resolve(path).map(|d| d.index)
    }
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

/// After cancellation, a request being answered gets this long to finish (what hyper's graceful
/// shutdown gave it before this listener had its own server).
const DRAIN: Duration = Duration::from_secs(1);
/// Pause after a failed accept (out of descriptors and the like) instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
/// First size of a connection's read buffer: a GenieACS request head is ~400 bytes; it grows
/// up to [`wire::MAX_HEAD`] for longer ones.
const READ_BUF: usize = 1024;

/// Serves until `cancel` fires; a request being answered then gets [`DRAIN`] to finish.
///
/// Its own narrow HTTP/1.1 server rather than hyper's: per connection request hyper's
/// connection task, header map and response builder cost more than the Digest check (issue
/// #17: 15 µs of hyper and 28 µs of malloc/free per CR). Here a head is parsed in place, each
/// answer is one write, and the limits hyper applied are kept: [`CrConfig::header_timeout`]
/// for each head (slowloris), [`wire::MAX_HEAD`] bytes (431), `max_connections` at once.
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
        let stream = tokio::select! {
            _ = cancel.cancelled() => return,
            a = listener.accept() => match a {
                Ok((s, _)) => s,
                Err(_) => { tokio::time::sleep(ACCEPT_BACKOFF).await; continue; }
            },
        };
        // Each answer is one write: nothing to coalesce.
        let _ = stream.set_nodelay(true);
        let (router, cfg, stats, cancel) =
            (router.clone(), cfg.clone(), stats.clone(), cancel.clone());
        tokio::spawn(async move {
            let _permit = permit;
            connection(stream, &*router, &cfg, &stats, &cancel).await;
        });
    }
}

/// One connection: requests in turn until the client closes, a head times out or is refused,
/// or an answer ends the exchange (`Connection: close`).
async fn connection<R: CrRouter>(
    mut stream: TcpStream,
    router: &R,
    cfg: &CrConfig,
    stats: &CrStats,
    cancel: &CancellationToken,
) {
    let mut buf: Vec<u8> = Vec::with_capacity(READ_BUF);
    let mut out: Vec<u8> = Vec::with_capacity(256);
    loop {
        // The head must be complete within header_timeout of waiting for it, idle keep-alive
        // time included, as hyper's header_read_timeout did.
        let deadline = Instant::now() + cfg.header_timeout;
        let head = loop {
            match wire::parse(&buf) {
                Ok(Some(_)) => break Ok(()),
                Ok(None) => {}
                Err(r) => break Err(r),
            }
            if buf.len() == buf.capacity() {
                buf.reserve(buf.len().clamp(READ_BUF, wire::MAX_HEAD));
            }
            let n = tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep_until(deadline) => return,
                n = stream.read_buf(&mut buf) => n,
            };
            if !matches!(n, Ok(n) if n > 0) {
                return;
            }
        };
        out.clear();
        let close = match head {
            Err(refusal) => {
                stats.count(CrResult::BadRequest);
                wire::response(&mut out, refusal.status(), None, true, &http_date());
                true
            }
            Ok(()) => {
                let Ok(Some(head)) = wire::parse(&buf) else {
                    return;
                };
                let answer = async {
                    let keep = exchange(router, cfg, stats, &head, &mut out).await;
                    (keep, head.len, head.body)
                };
                let (keep, len, body) = tokio::select! {
                    a = answer => a,
                    _ = async { cancel.cancelled().await; tokio::time::sleep(DRAIN).await } => return,
                };
                // A body already read along with the head is skipped; one still on its way is
                // not waited for: the connection closes after this answer.
                let rest = match body {
                    wire::Body::None => Some(len),
                    wire::Body::Length(n) if buf.len() >= len + n => Some(len + n),
                    _ => None,
                };
                match rest {
                    Some(used) if keep => {
                        buf.drain(..used);
                        false
                    }
                    _ => true,
                }
            }
        };
        if stream.write_all(&out).await.is_err() || close || cancel.is_cancelled() {
            return;
        }
    }
}

/// Answers one request into `out`; whether the connection may serve another one.
async fn exchange<R: CrRouter>(
    router: &R,
    cfg: &CrConfig,
    stats: &CrStats,
    head: &wire::Head<'_>,
    out: &mut Vec<u8>,
) -> bool {
    let (result, stale) = match find(router, head) {
        Err(r) => (r, None),
        Ok(index) => {
            // Over a WAN the request reaches the device a one-way delay later, and the answer
            // takes one more to come back: each exchange, the digest challenge's included.
            let (down, up) = router.wan_legs(index);
            if !down.is_zero() {
                tokio::time::sleep(down).await;
            }
            let decided = decide(router, cfg, head, index, Instant::now());
            if !up.is_zero() {
                tokio::time::sleep(up).await;
            }
            decided
        }
    };
    stats.count(result);
    // The exchange is over after a 200; a client that failed auth gets no second try on this
    // socket.
    let close = matches!(result, CrResult::Accepted | CrResult::AuthFailed) || !head.keep_alive;
    // The challenge (its nonce issued now) is written straight into the response.
    let now = now_s();
    let write = |o: &mut Vec<u8>| cfg.auth.write_challenge(now, stale == Some(true), o);
    let challenge: Option<wire::WriteValue<'_>> = stale.is_some().then_some(&write);
    wire::response(out, result.status(), challenge, close, &http_date());
    !close
}

/// The `Date` value, formatted once per second per thread.
fn http_date() -> [u8; 29] {
    thread_local! {
        static CACHE: std::cell::Cell<(u64, [u8; 29])> = const { std::cell::Cell::new((u64::MAX, [0; 29])) };
    }
    let now = SystemTime::now();
    let s = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    CACHE.with(|c| {
        let (at, v) = c.get();
        if at == s {
            return v;
        }
        let mut v = [b' '; 29];
        let f = httpdate::fmt_http_date(now);
        let n = f.len().min(29);
        v[..n].copy_from_slice(&f.as_bytes()[..n]);
        c.set((s, v));
        v
    })
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The device a request is for, or why there is none.
fn find<R: CrRouter>(router: &R, head: &wire::Head<'_>) -> Result<u32, CrResult> {
    if head.method != "GET" && head.method != "POST" {
        return Err(CrResult::BadRequest);
    }
    router.locate(head.path()).ok_or(CrResult::NotFound)
}

/// The result, and for a 401 challenge whether it says `stale=true`.
fn decide<R: CrRouter>(
    router: &R,
    cfg: &CrConfig,
    head: &wire::Head<'_>,
    index: u32,
    received: Instant,
) -> (CrResult, Option<bool>) {
    // The device's credentials only when there are credentials to check: for the fleet they
    // are derived from the template per request (issue #17).
    let dev = if cfg.auth.mode != CrAuth::None && head.authorization.is_some() {
        match router.resolve(head.path()) {
            Some(d) => d,
            None => return (CrResult::NotFound, None),
        }
    } else {
        CrDevice {
            index,
            username: String::new(),
            password: String::new(),
        }
    };
    match cfg.auth.verdict(
        head.authorization,
        head.method,
        head.path_and_query(),
        &dev,
        now_s(),
    ) {
        Verdict::Challenge { stale } => (CrResult::Challenged, Some(stale)),
        Verdict::Failed => (CrResult::AuthFailed, None),
        Verdict::Ok => (router.deliver(dev.index, received), None),
    }
}
