//! One HTTP/1.1 connection to the ACS: TCP (optionally from a chosen source address), optional
//! TLS, and hyper's connection-level client — exactly one TR-069 session's worth of socket.
//!
//! No pooled client on purpose: a CWMP session is one keep-alive connection, Digest nonces are
//! bound to it (GenieACS), and a new session must open a new connection like a real CPE does.
//! Every read is bounded in size and time, so a hostile ACS (endless body, slowloris, huge
//! headers) ends as a classified error instead of a stuck device.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Limited};

use super::body::Body;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{timeout, Instant};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// Where the session goes: parsed once from the ACS URL (or a redirect's Location).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path and query, never empty ("/").
    pub path: String,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Endpoint, TransportError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| TransportError::Url(url.to_string()))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(TransportError::Url(url.to_string())),
        };
        let host = uri
            .host()
            .ok_or_else(|| TransportError::Url(url.to_string()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".to_string());
        Ok(Endpoint {
            tls,
            host,
            port,
            path,
        })
    }

    /// Resolves a redirect's `Location` (absolute or relative to this endpoint).
    pub fn join(&self, location: &str) -> Result<Endpoint, TransportError> {
        if location.starts_with("http://") || location.starts_with("https://") {
            return Endpoint::parse(location);
        }
        if !location.starts_with('/') {
            return Err(TransportError::Url(location.to_string()));
        }
        Ok(Endpoint {
            path: location.to_string(),
            ..self.clone()
        })
    }

    /// The `Host` header value.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Connection settings shared by every session of a fleet.
#[derive(Clone)]
pub struct Connector {
    pub connect_timeout: Duration,
    /// TLS client configuration (roots, insecure switch, client certificate); `None` means an
    /// `https` URL is an error.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Why this device's client certificate could not be loaded: an `https` connection then
    /// fails with it rather than going out without the certificate.
    pub tls_error: Option<Arc<str>>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("connect_timeout", &self.connect_timeout)
            .field("tls", &self.tls.is_some())
            .field("tls_error", &self.tls_error)
            .finish()
    }
}

/// Timings of connection set-up, for the session report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectTimings {
    pub tcp: Duration,
    pub tls: Option<Duration>,
}

/// hyper's connection state machine (reads, writes, keep-alive) for one socket.
type Driver = http1::Connection<TokioIo<Io>, Body>;

/// A live HTTP/1.1 connection.
pub struct Connection {
    sender: http1::SendRequest<Body>,
    /// Plain TCP: hyper's connection, polled by the session's own task while it waits for an
    /// exchange, instead of a task of its own: a spawned task per session cost a task
    /// allocation, a wake-up per read and a hop between threads (BENCHMARKS.md §2, "Session 5").
    /// `None` once it ended, and for TLS, whose connection keeps its own task so that the
    /// close_notify still goes out when the session drops the connection.
    driver: Option<Driver>,
    pub local_addr: Option<SocketAddr>,
    pub timings: ConnectTimings,
}

/// A fully read response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Transport failures, by class. Hot-path errors hold no big strings.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid URL {0:?}")]
    Url(String),
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("connect failed: {0}")]
    Connect(io::Error),
    #[error("connect timed out")]
    ConnectTimeout,
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    #[error("https URL but TLS is not configured")]
    TlsNotConfigured,
    #[error("client certificate: {0}")]
    ClientCert(Arc<str>),
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("response body over {0} bytes")]
    BodyTooLarge(usize),
    #[error("connection closed by the ACS")]
    Closed,
}

impl TransportError {
    pub fn label(&self) -> &'static str {
        match self {
            TransportError::Url(_) => "url_invalid",
            TransportError::Resolve(_) => "dns",
            TransportError::Connect(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                "connect_refused"
            }
            TransportError::Connect(_) => "connect",
            TransportError::ConnectTimeout => "connect_timeout",
            TransportError::Tls(_) => "tls",
            TransportError::TlsNotConfigured => "tls_not_configured",
            TransportError::ClientCert(_) => "tls_client_cert",
            TransportError::Http(e) if e.is_incomplete_message() || ends_early(e) => {
                "http_incomplete"
            }
            TransportError::Http(e) if e.is_parse() => "http_parse",
            TransportError::Http(_) => "http",
            TransportError::Timeout(_) => "exchange_timeout",
            TransportError::BodyTooLarge(_) => "body_too_large",
            TransportError::Closed => "connection_closed",
        }
    }
}

/// A body cut short by the peer (hyper reports it as a body error caused by UnexpectedEof).
fn ends_early(e: &hyper::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::UnexpectedEof {
                return true;
            }
        }
        src = s.source();
    }
    false
}

impl Connector {
    /// Opens a connection to `ep`, from `local` when given (a source-address pool entry).
    pub async fn connect(
        &self,
        ep: &Endpoint,
        local: Option<IpAddr>,
    ) -> Result<Connection, TransportError> {
        let started = Instant::now();
        let addr = resolve(ep).await?;
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(TransportError::Connect)?;
        if let Some(ip) = local {
            socket
                .bind(SocketAddr::new(ip, 0))
                .map_err(TransportError::Connect)?;
        }
        let stream = match timeout(self.connect_timeout, socket.connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(TransportError::Connect(e)),
            Err(_) => return Err(TransportError::ConnectTimeout),
        };
        // CWMP exchanges are small request/response pairs: Nagle would add a delayed-ACK stall
        // to every one of them.
        let _ = stream.set_nodelay(true);
        let local_addr = stream.local_addr().ok();
        let tcp = started.elapsed();
        let (io, tls) = if ep.tls {
            if let Some(e) = &self.tls_error {
                return Err(TransportError::ClientCert(e.clone()));
            }
            let cfg = self.tls.clone().ok_or(TransportError::TlsNotConfigured)?;
            let t0 = Instant::now();
            let name = rustls::pki_types::ServerName::try_from(ep.host.clone())
                .map_err(|_| TransportError::Url(ep.host.clone()))?;
            let tls = match timeout(
                self.connect_timeout,
                TlsConnector::from(cfg).connect(name, stream),
            )
            .await
            {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => return Err(TransportError::Tls(e)),
                Err(_) => return Err(TransportError::ConnectTimeout),
            };
            (Io::Tls(Box::new(tls)), Some(t0.elapsed()))
        } else {
            (Io::Plain(stream), None)
        };
        let (sender, conn) = http1::Builder::new()
            .max_buf_size(64 * 1024)
            .handshake(TokioIo::new(io))
            .await?;
        // The connection ends when either side closes; its error, if any, surfaces on the
        // request in flight, which is where the session classifies it.
        let driver = if ep.tls {
            tokio::spawn(async move {
                let _ = conn.await;
            });
            None
        } else {
            Some(conn)
        };
        Ok(Connection {
            sender,
            driver,
            local_addr,
            timings: ConnectTimings { tcp, tls },
        })
    }
}

impl Connection {
    /// True once the ACS closed the connection (or it failed): the session reconnects.
    pub fn is_closed(&mut self) -> bool {
        // What arrived since the last exchange (the ACS's FIN, a stray byte) is read now, as a
        // connection task would have read it when it came.
        self.poll_driver();
        self.sender.is_closed()
    }

    /// Polls the in-task connection once, without waiting.
    fn poll_driver(&mut self) {
        let Some(d) = self.driver.as_mut() else {
            return;
        };
        let mut cx = Context::from_waker(std::task::Waker::noop());
        if d.poll_without_shutdown(&mut cx).is_ready() {
            self.driver = None;
        }
    }

    /// Sends one request and reads the whole response within `limit` time and `max_body` bytes.
    pub async fn send(
        &mut self,
        req: Request<Body>,
        limit: Duration,
        max_body: usize,
    ) -> Result<Response, TransportError> {
        let (sender, driver) = (&mut self.sender, &mut self.driver);
        within(
            limit,
            driven(driver, async {
                let (parts, body) = request(sender, req).await?;
                let body = match Limited::new(body, max_body).collect().await {
                    Ok(c) => c.to_bytes(),
                    Err(e) => {
                        return Err(match e.downcast::<hyper::Error>() {
                            Ok(h) => TransportError::Http(*h),
                            Err(_) => TransportError::BodyTooLarge(max_body),
                        })
                    }
                };
                Ok(Response {
                    status: parts.status,
                    headers: parts.headers,
                    body,
                })
            }),
        )
        .await
    }

    /// Sends one request and counts the response body without keeping it (file downloads:
    /// a firmware image must not live in memory per device). Returns (status, headers, bytes).
    pub async fn send_counting(
        &mut self,
        req: Request<Body>,
        limit: Duration,
        max_body: u64,
    ) -> Result<(StatusCode, HeaderMap, u64), TransportError> {
        self.send_counting_paced(req, limit, max_body, None).await
    }

    /// [`Connection::send_counting`] reading no faster than `pace` bytes per second: past its
    /// pace the reader waits, the socket's buffers fill and TCP's flow control slows the sender,
    /// so the server holds the transfer as long as it would over a link of that bandwidth.
    pub async fn send_counting_paced(
        &mut self,
        req: Request<Body>,
        limit: Duration,
        max_body: u64,
        pace: Option<u64>,
    ) -> Result<(StatusCode, HeaderMap, u64), TransportError> {
        let (sender, driver) = (&mut self.sender, &mut self.driver);
        within(
            limit,
            driven(driver, async {
                let (parts, mut body) = request(sender, req).await?;
                let mut n: u64 = 0;
                let t0 = tokio::time::Instant::now();
                while let Some(frame) = body.frame().await {
                    if let Ok(data) = frame?.into_data() {
                        n += data.len() as u64;
                        if n > max_body {
                            return Err(TransportError::BodyTooLarge(max_body as usize));
                        }
                        if let Some(bps) = pace.filter(|b| *b > 0) {
                            let due = t0 + Duration::from_secs_f64(n as f64 / bps as f64);
                            tokio::time::sleep_until(due).await;
                        }
                    }
                }
                Ok((parts.status, parts.headers, n))
            }),
        )
        .await
    }
}

/// Waits for the connection to take a request, sends it and returns the response head and its
/// unread body (the part `send` and `send_counting` share).
async fn request(
    sender: &mut http1::SendRequest<Body>,
    req: Request<Body>,
) -> Result<(http::response::Parts, Incoming), TransportError> {
    sender.ready().await.map_err(closed_or_http)?;
    // Canceled: the connection ended before the request went out (the ACS's FIN arrived while
    // the session waited, and the in-task connection reads it only now). Nothing was sent, so
    // the session reconnects as when `ready` says so.
    Ok(sender
        .send_request(req)
        .await
        .map_err(closed_or_http)?
        .into_parts())
}

fn closed_or_http(e: hyper::Error) -> TransportError {
    if e.is_closed() || e.is_canceled() {
        TransportError::Closed
    } else {
        TransportError::Http(e)
    }
}

/// Runs `exchange` while polling the in-task connection (if any), which does its reads and
/// writes. Without `shutdown(2)`: when the connection ends (the ACS's `Connection: close`, or
/// the session drops it) the socket is closed and nothing else, which sends the same FIN; the
/// `shutdown` before it was ~15 µs of kernel time per session (issue #17's profile) and told
/// an ACS that had already closed nothing. The connection ending (the ACS closed, an error) does not end the exchange: hyper
/// then fails the request in flight, and that error is the one the session classifies.
async fn driven<T>(driver: &mut Option<Driver>, exchange: impl Future<Output = T>) -> T {
    let mut exchange = std::pin::pin!(exchange);
    std::future::poll_fn(|cx| {
        // The request goes into hyper's queue first, so one pass of the connection writes it.
        if let Poll::Ready(v) = exchange.as_mut().poll(cx) {
            return Poll::Ready(v);
        }
        if let Some(d) = driver.as_mut() {
            if d.poll_without_shutdown(cx).is_ready() {
                *driver = None;
            }
        }
        // The connection's pass may have completed the exchange (the response was read):
        // polled again now rather than after a wake-up of this task by itself.
        exchange.as_mut().poll(cx)
    })
    .await
}

/// `exchange` within `limit` time, else a timeout error.
async fn within<T>(
    limit: Duration,
    exchange: impl std::future::Future<Output = Result<T, TransportError>>,
) -> Result<T, TransportError> {
    timeout(limit, exchange)
        .await
        .unwrap_or(Err(TransportError::Timeout(limit)))
}

async fn resolve(ep: &Endpoint) -> Result<SocketAddr, TransportError> {
    if let Ok(ip) = ep.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, ep.port));
    }
    let mut addrs = tokio::net::lookup_host((ep.host.as_str(), ep.port))
        .await
        .map_err(|_| TransportError::Resolve(ep.host.clone()))?;
    addrs
        .next()
        .ok_or_else(|| TransportError::Resolve(ep.host.clone()))
}

/// Plain or TLS stream behind one type, so hyper sees a single IO.
enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    // Vectored writes let hyper send the headers and the body in one writev instead of first
    // copying the body into its header buffer (its "flatten" strategy for non-vectored IO).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }
    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_and_join() {
        let e = Endpoint::parse("http://127.0.0.1:7547/acs?x=1").unwrap();
        assert_eq!(
            e,
            Endpoint {
                tls: false,
                host: "127.0.0.1".into(),
                port: 7547,
                path: "/acs?x=1".into()
            }
        );
        assert_eq!(e.authority(), "127.0.0.1:7547");
        let e = Endpoint::parse("https://[::1]/").unwrap();
        assert_eq!((e.tls, e.host.as_str(), e.port), (true, "::1", 443));
        assert_eq!(e.authority(), "[::1]");
        assert_eq!(Endpoint::parse("http://acs").unwrap().path, "/");
        assert!(Endpoint::parse("ftp://acs/").is_err());
        assert!(Endpoint::parse("not a url").is_err());
        let j = e.join("/other").unwrap();
        assert_eq!((j.host.as_str(), j.path.as_str()), ("::1", "/other"));
        let j = e.join("http://10.0.0.1:81/x").unwrap();
        assert_eq!((j.tls, j.port), (false, 81));
        assert!(e.join("relative").is_err());
    }
}
