//! The embedded ACS's HTTP file server: firmware images to download and a place for uploads,
//! like genieacs-fs. Files live in memory (the simulator's files are small or synthetic: a
//! "firmware" of N bytes is generated, not read from disk) and uploads are kept, bounded, so
//! tests and users can check what arrived.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{basic, digest::md5_hex, DigestResponse};
use crate::net::ServeOptions;

/// Largest upload accepted; bigger is 413.
const MAX_UPLOAD: usize = 16 * 1024 * 1024;
/// Uploads kept at most (oldest dropped first): a long run must not grow without bound.
const MAX_UPLOADS_KEPT: usize = 1024;

/// Shared state of the file server.
#[derive(Debug, Default)]
pub struct FileStore {
    files: Mutex<HashMap<String, Bytes>>,
    uploads: Mutex<Vec<(String, Bytes)>>,
    downloads: std::sync::atomic::AtomicU64,
    /// Credentials required (Basic or Digest), if any.
    pub credentials: Option<(String, String)>,
}

impl FileStore {
    pub fn new(credentials: Option<(String, String)>) -> Self {
        FileStore {
            credentials,
            ..Default::default()
        }
    }

    /// Adds a file at `/name`.
    pub fn put(&self, name: &str, data: Bytes) {
        if let Ok(mut f) = self.files.lock() {
            f.insert(format!("/{}", name.trim_start_matches('/')), data);
        }
    }

    /// The size of the file at `/name`, if there is one.
    pub fn size(&self, name: &str) -> Option<u64> {
        let f = self.files.lock().ok()?;
        f.get(&format!("/{}", name.trim_start_matches('/')))
            .map(|b| b.len() as u64)
    }

    /// A synthetic firmware image of `size` bytes (deterministic content).
    pub fn synthetic(size: usize) -> Bytes {
        Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
    }

    pub fn uploads(&self) -> Vec<(String, Bytes)> {
        self.uploads.lock().map(|u| u.clone()).unwrap_or_default()
    }

    pub fn download_count(&self) -> u64 {
        self.downloads.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        let Some((user, pass)) = &self.credentials else {
            return true;
        };
        let Some(h) = req
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        if let Some(rest) = h.strip_prefix("Digest ") {
            return DigestResponse::parse(rest)
                .is_some_and(|r| r.username == *user && r.verify(pass, req.method().as_str()));
        }
        basic::parse(h).is_some_and(|(u, p)| u == *user && p == *pass)
    }
}

/// Serves the store until `cancel`.
pub async fn serve(listener: TcpListener, store: Arc<FileStore>, cancel: CancellationToken) {
    let opts = ServeOptions {
        accept_backoff: Duration::from_millis(10),
        ..ServeOptions::default()
    };
    crate::net::serve(listener, opts, cancel, move || {
        let store = store.clone();
        service_fn(move |req| {
            let store = store.clone();
            async move { Ok::<_, Infallible>(handle(&store, req).await) }
        })
    })
    .await;
}

fn reply(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("Content-Length", body.len())
        .body(Full::new(body))
        .unwrap_or_default()
}

async fn handle(store: &FileStore, req: Request<Incoming>) -> Response<Full<Bytes>> {
    if !store.authorized(&req) {
        let nonce = md5_hex(&[&format!("{:?}", std::time::SystemTime::now())]);
        let mut r = reply(
            StatusCode::UNAUTHORIZED,
            Bytes::from_static(b"Unauthorized"),
        );
        if let Ok(v) =
            format!("Digest realm=\"cpefleet-fs\", qop=\"auth\", nonce=\"{nonce}\"").parse()
        {
            r.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
        }
        return r;
    }
    let path = req.uri().path().to_string();
    match *req.method() {
        Method::GET | Method::HEAD => {
            let file = store.files.lock().ok().and_then(|f| f.get(&path).cloned());
            match file {
                Some(data) => {
                    store
                        .downloads
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let etag = md5_hex(&[&format!("{}:{}", path, data.len())]);
                    let mut r = reply(StatusCode::OK, data);
                    let h = r.headers_mut();
                    h.insert(
                        "Content-Type",
                        http::HeaderValue::from_static("application/octet-stream"),
                    );
                    h.insert("Accept-Ranges", http::HeaderValue::from_static("bytes"));
                    if let Ok(v) = etag.parse() {
                        h.insert("ETag", v);
                    }
                    r
                }
                None => reply(StatusCode::NOT_FOUND, Bytes::from_static(b"Not found")),
            }
        }
        Method::PUT | Method::POST => {
            let body = match Limited::new(req.into_body(), MAX_UPLOAD).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => return reply(StatusCode::PAYLOAD_TOO_LARGE, Bytes::new()),
            };
            if let Ok(mut u) = store.uploads.lock() {
                if u.len() >= MAX_UPLOADS_KEPT {
                    u.remove(0);
                }
                u.push((path, body));
            }
            reply(StatusCode::CREATED, Bytes::new())
        }
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, Bytes::new()),
    }
}
