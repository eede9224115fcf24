//! The one HTTP/1.1 accept loop of every server in the crate (the embedded ACS, its file
//! server, the connection-request listener, the Prometheus exporter): accept, hand the
//! connection to hyper with the server's options, and on cancellation shut connections down
//! gracefully. Each server differs only in its [`ServeOptions`] and its service.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::{Body, Incoming};
use hyper::server::conn::http1;
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How a server treats its connections. The default is hyper's defaults, no limits.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Connections served at once; further accepts wait (the kernel backlog holds them).
    pub max_connections: Option<usize>,
    /// Disable Nagle on accepted sockets (request/response servers answer in one write).
    pub nodelay: bool,
    /// Drop a client that has not sent its headers within this long.
    pub header_timeout: Option<Duration>,
    /// hyper's read buffer cap.
    pub max_buf_size: Option<usize>,
    /// Write header names Title-Case (some CPE stacks expect it).
    pub title_case_headers: bool,
    /// Leave the Date header to the service.
    pub no_date_header: bool,
    /// Close a connection after this long whatever it is doing.
    pub max_lifetime: Option<Duration>,
    /// After cancellation, wait this long for in-flight requests to finish (None: close).
    pub drain: Option<Duration>,
    /// Pause after a failed accept (out of descriptors and the like) instead of spinning.
    pub accept_backoff: Duration,
}

/// Serves `listener` until `cancel` fires; `service` makes one service per connection.
pub async fn serve<F, S, B>(
    listener: TcpListener,
    opts: ServeOptions,
    cancel: CancellationToken,
    service: F,
) where
    F: Fn() -> S,
    S: Service<Request<Incoming>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let permits = opts
        .max_connections
        .map(|n| Arc::new(Semaphore::new(n.max(1))));
    let opts = Arc::new(opts);
    loop {
        let permit = match &permits {
            None => None,
            Some(p) => tokio::select! {
                _ = cancel.cancelled() => return,
                p = p.clone().acquire_owned() => match p { Ok(p) => Some(p), Err(_) => return },
            },
        };
        let stream = tokio::select! {
            _ = cancel.cancelled() => return,
            a = listener.accept() => match a {
                Ok((s, _)) => s,
                Err(_) => { tokio::time::sleep(opts.accept_backoff).await; continue; }
            },
        };
        if opts.nodelay {
            let _ = stream.set_nodelay(true);
        }
        let svc = service();
        let (opts, cancel) = (opts.clone(), cancel.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let mut builder = http1::Builder::new();
            if let Some(n) = opts.max_buf_size {
                builder.max_buf_size(n);
            }
            if opts.title_case_headers {
                builder.title_case_headers(true);
            }
            if opts.no_date_header {
                builder.auto_date_header(false);
            }
            if let Some(t) = opts.header_timeout {
                builder.timer(TokioTimer::new()).header_read_timeout(t);
            }
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let lifetime = async {
                match opts.max_lifetime {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = lifetime => {}
                _ = cancel.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    if let Some(d) = opts.drain {
                        let _ = tokio::time::timeout(d, conn.as_mut()).await;
                    }
                }
            }
        });
    }
}
