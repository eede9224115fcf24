//! A hostile ACS: raw HTTP/1.1 on 127.0.0.1:0 whose every answer is decided by a behaviour
//! function of the request, so one misbehaviour holds for every device and every retry of a
//! fleet (the scripted ACS of `support` plays a fixed sequence instead). It counts what it
//! receives and sends, so a test can bound what a device read or built without looking at RSS.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

use super::{cwmp_id, envelope, read_request, NS12};

/// One request as the hostile ACS saw it.
pub struct Seen<'a> {
    /// The ACS's own URL (for redirects to itself).
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a str,
}

impl Seen<'_> {
    pub fn is_inform(&self) -> bool {
        self.body.contains("Inform>") && self.body.contains(":Inform")
    }
    pub fn is_empty_post(&self) -> bool {
        self.body.trim().is_empty()
    }
    pub fn has_auth(&self) -> bool {
        self.headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    }
    /// The envelope around `body` with this request's cwmp:ID.
    pub fn reply(&self, body: &str) -> String {
        envelope(NS12, body).replace("{ID}", &cwmp_id(self.body).unwrap_or_default())
    }
}

/// What the hostile ACS does with one request.
pub enum Act {
    /// Write these bytes and keep the connection.
    Send(Vec<u8>),
    /// Write these bytes, then close.
    SendClose(Vec<u8>),
    /// Close without a word.
    Close,
    /// Never answer (the connection stays open for an hour).
    Stall,
    /// Write these bytes one a second.
    Trickle(Vec<u8>),
    /// Wait this long, then write these bytes and keep the connection: an ACS that is slow on
    /// every exchange rather than stalled on one.
    Paced(Duration, Vec<u8>),
    /// Write `head`, then `chunk` again and again until the peer goes away (at most 256 MiB).
    Endless { head: Vec<u8>, chunk: Vec<u8> },
}

pub type Behaviour = Arc<dyn Fn(&Seen<'_>) -> Act + Send + Sync>;

/// What the hostile ACS counted.
#[derive(Default)]
pub struct Counts {
    pub requests: AtomicU64,
    /// Bytes written to devices (what they had to read or refuse).
    pub bytes_out: AtomicU64,
    /// Largest request body a device sent (what it built in answer).
    pub largest_request: AtomicU64,
    pub connections: AtomicU64,
}

pub struct HostileAcs {
    pub url: String,
    pub counts: Arc<Counts>,
}

impl HostileAcs {
    pub async fn start(behaviour: Behaviour) -> HostileAcs {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/acs", listener.local_addr().unwrap());
        let counts = Arc::new(Counts::default());
        let (u, c) = (url.clone(), counts.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                c.connections.fetch_add(1, Relaxed);
                tokio::spawn(serve(stream, u.clone(), behaviour.clone(), c.clone()));
            }
        });
        HostileAcs { url, counts }
    }
}

async fn serve(mut stream: TcpStream, url: String, behaviour: Behaviour, counts: Arc<Counts>) {
    let mut buf = Vec::new();
    while let Some((_line, headers, body)) = read_request(&mut stream, &mut buf).await {
        counts.requests.fetch_add(1, Relaxed);
        counts.largest_request.fetch_max(body.len() as u64, Relaxed);
        let act = behaviour(&Seen {
            url: &url,
            headers: &headers,
            body: &body,
        });
        match act {
            Act::Send(b) => {
                if !write(&mut stream, &counts, b).await {
                    return;
                }
            }
            Act::SendClose(b) => {
                write(&mut stream, &counts, b).await;
                return;
            }
            Act::Close => return,
            Act::Paced(wait, b) => {
                tokio::time::sleep(wait).await;
                if !write(&mut stream, &counts, b).await {
                    return;
                }
            }
            Act::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Act::Trickle(b) => {
                for byte in b {
                    if !write(&mut stream, &counts, vec![byte]).await {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            Act::Endless { head, chunk } => {
                if !write(&mut stream, &counts, head).await {
                    return;
                }
                for _ in 0..(256 << 20) / chunk.len().max(1) {
                    if !write(&mut stream, &counts, chunk.clone()).await {
                        return;
                    }
                }
                return;
            }
        }
    }
}

async fn write(stream: &mut TcpStream, counts: &Counts, bytes: Vec<u8>) -> bool {
    counts.bytes_out.fetch_add(bytes.len() as u64, Relaxed);
    stream.write_all(&bytes).await.is_ok()
}

/// An HTTP/1.1 response with a Content-Length.
pub fn http(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} X\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// A SOAP envelope answer.
pub fn soap(body: String) -> Vec<u8> {
    http(
        200,
        &[("Content-Type", "text/xml; charset=\"utf-8\"")],
        &body,
    )
}

/// What a well-behaved ACS answers: InformResponse, then 204 to everything else.
pub fn polite(s: &Seen<'_>) -> Act {
    if s.is_inform() {
        Act::Send(soap(s.reply(
            "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
        )))
    } else {
        Act::Send(http(204, &[], ""))
    }
}
