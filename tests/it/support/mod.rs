//! Test support: a scripted ACS speaking raw HTTP/1.1 on 127.0.0.1:0.
//!
//! Raw sockets rather than a server library, so a script can misbehave exactly as a broken ACS
//! does: close mid-body, never answer, send an endless body. Each step answers one request; the
//! requests are recorded for assertions. `{ID}` in a reply body is replaced by the cwmp:ID of
//! the request it answers.
#![allow(dead_code)]

pub mod child;
pub mod coturn;
pub mod device;
pub mod embedded;
pub mod hostile;
pub mod prosody;
pub mod schema;
pub mod script;
pub mod skip;
pub mod until;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// A file or folder of the test data that travels with the repository (`tests/data/…`, each
/// source with its PROVENANCE.md).
pub fn data(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// What the scripted ACS does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response. Content-Length is added unless a header sets it or
    /// Transfer-Encoding.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Close the connection without answering.
    Close,
    /// Never answer (the CPE's timeout must fire).
    Stall,
    /// Announce `declared` bytes, send `body`, then close (reset mid-body).
    Truncated { declared: usize, body: String },
    /// A chunked body that never ends.
    Endless,
}

impl Reply {
    pub fn ok(body: impl Into<String>) -> Reply {
        Reply::Http {
            status: 200,
            headers: vec![("Content-Type".into(), "text/xml; charset=\"utf-8\"".into())],
            body: body.into(),
        }
    }
    pub fn status(status: u16) -> Reply {
        Reply::Http {
            status,
            headers: vec![],
            body: String::new(),
        }
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Reply {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((k.into(), v.into()));
        }
        self
    }
    /// 204, as GenieACS ends a session.
    pub fn end() -> Reply {
        Reply::status(204).with_header("Connection", "close")
    }
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub connection: usize,
    /// The CPE's address as the ACS saw it.
    pub peer: std::net::SocketAddr,
    pub request_line: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct ScriptedAcs {
    pub url: String,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
}

/// Extracts the cwmp:ID text of an envelope (any prefix).
pub fn cwmp_id(body: &str) -> Option<String> {
    let start = body.find(":ID")?;
    let open_end = body[start..].find('>')? + start + 1;
    let close = body[open_end..].find("</")? + open_end;
    Some(body[open_end..close].to_string())
}

impl ScriptedAcs {
    /// Starts serving `script` in order, across however many connections the CPE opens.
    pub async fn start(script: Vec<Reply>) -> ScriptedAcs {
        Self::start_with(script, None).await
    }

    /// The same over TLS (the acceptor decides about client certificates).
    pub async fn start_with(
        script: Vec<Reply>,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> ScriptedAcs {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}/acs", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.into_iter()));
        let rec = requests.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((stream, peer)) = listener.accept().await {
                n += 1;
                let (script, rec) = (script.clone(), rec.clone());
                match tls.clone() {
                    None => {
                        tokio::spawn(serve(stream, n, peer, script, rec));
                    }
                    Some(acceptor) => {
                        tokio::spawn(async move {
                            if let Ok(s) = acceptor.accept(stream).await {
                                serve(s, n, peer, script, rec).await;
                            }
                        });
                    }
                }
            }
        });
        ScriptedAcs { url, requests }
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

pub async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<(String, Vec<(String, String)>, String)> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let mut lines = head.split("\r\n");
            let request_line = lines.next()?.to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            let len: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            while buf.len() < end + 4 + len {
                let mut tmp = [0u8; 8192];
                let n = stream.read(&mut tmp).await.ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
            buf.drain(..end + 4 + len);
            return Some((request_line, headers, body));
        }
        let mut tmp = [0u8; 8192];
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    conn: usize,
    peer: std::net::SocketAddr,
    script: Arc<Mutex<std::vec::IntoIter<Reply>>>,
    rec: Arc<Mutex<Vec<Recorded>>>,
) {
    let mut buf = Vec::new();
    while let Some((request_line, headers, body)) = read_request(&mut stream, &mut buf).await {
        let id = cwmp_id(&body).unwrap_or_default();
        rec.lock().unwrap().push(Recorded {
            connection: conn,
            peer,
            request_line,
            headers,
            body,
        });
        let next = script.lock().unwrap().next();
        let Some(reply) = next else {
            return; // script exhausted: close
        };
        match reply {
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let body = body.replace("{ID}", &id);
                let mut out = format!("HTTP/1.1 {status} X\r\n");
                let mut close = false;
                let mut has_len = false;
                for (k, v) in &headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                    close |=
                        k.eq_ignore_ascii_case("connection") && v.eq_ignore_ascii_case("close");
                    has_len |= k.eq_ignore_ascii_case("content-length")
                        || k.eq_ignore_ascii_case("transfer-encoding");
                }
                if !has_len {
                    out.push_str(&format!("Content-Length: {}\r\n", body.len()));
                }
                out.push_str("\r\n");
                out.push_str(&body);
                if stream.write_all(out.as_bytes()).await.is_err() || close {
                    return;
                }
            }
            Reply::Close => return,
            Reply::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Reply::Truncated { declared, body } => {
                let out = format!("HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\n\r\n{body}");
                let _ = stream.write_all(out.as_bytes()).await;
                return;
            }
            Reply::Endless => {
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    .await;
                let chunk = format!("400\r\n{}\r\n", "x".repeat(0x400));
                for _ in 0..100_000 {
                    if stream.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                return;
            }
        }
    }
}

/// A GenieACS-style envelope around `body` in `ns` ("urn:dslforum-org:cwmp-1-0"), with `{ID}`
/// as its cwmp:ID.
pub fn envelope(ns: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap-env:Envelope xmlns:soap-enc=\"http://schemas.xmlsoap.org/soap/encoding/\" xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:cwmp=\"{ns}\"><soap-env:Header><cwmp:ID soap-env:mustUnderstand=\"1\">{{ID}}</cwmp:ID></soap-env:Header><soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
    )
}

pub const NS10: &str = "urn:dslforum-org:cwmp-1-0";
pub const NS12: &str = "urn:dslforum-org:cwmp-1-2";

pub fn inform_response(ns: &str) -> Reply {
    Reply::ok(envelope(
        ns,
        "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
    ))
    .with_header("Set-Cookie", "session=0123456789abcdef")
}
