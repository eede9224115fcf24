//! The embedded ACS's XMPP connection requests (TR-069 Annex K) with no outside server: the
//! ACS plays the XMPP server's part for an external component (XEP-0114) — it accepts the
//! fleet's component connection, checks its handshake, and sends the Annex K IQs down it to
//! device JIDs of that domain.
//!
//! Why this design: a real deployment puts an XMPP server between ACS and CPEs; here the
//! ACS and the fleet are one run on one machine, and the component stream is the one XMPP
//! path that needs no accounts, no rosters and no presence, yet is the same stanza exchange
//! the CPE sees through Prosody (the Prosody tests cover that path). A device reached this way
//! still answers from its own JID with the credentials the ACS provisioned.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::cr::xmpp::conn::Conn;
use crate::cr::xmpp::handshake::{component_accept, handshake_digest, CLOSE};
use crate::cr::xmpp::{connreq, Element, Jid, Limits, StreamEvent};

/// What the gateway accepts.
#[derive(Debug, Clone)]
pub struct XmppGatewayConfig {
    pub listen: SocketAddr,
    /// The shared secret every component must prove (XEP-0114 §3).
    pub secret: String,
}

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<Element>>>>;

struct Link {
    out: mpsc::Sender<String>,
    pending: Pending,
}

/// Connected components by domain; cheap to clone.
#[derive(Clone, Default)]
pub struct XmppGateway {
    links: Arc<Mutex<HashMap<String, Link>>>,
    next_id: Arc<AtomicU64>,
    /// The ACS's own JID (the `from` of every request).
    pub jid: Arc<str>,
}

impl std::fmt::Debug for XmppGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let domains: Vec<String> = self
            .links
            .lock()
            .map(|l| l.keys().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("XmppGateway")
            .field("domains", &domains)
            .finish()
    }
}

/// Requests waiting on one link at most; more answer `busy` at once.
const MAX_PENDING: usize = 4096;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

impl XmppGateway {
    /// Binds and serves until `cancel`; returns the gateway and the bound address.
    pub fn start(
        cfg: XmppGatewayConfig,
        cancel: CancellationToken,
    ) -> std::io::Result<(XmppGateway, SocketAddr)> {
        let std = std::net::TcpListener::bind(cfg.listen)?;
        std.set_nonblocking(true)?;
        let listener = TcpListener::from_std(std)?;
        let addr = listener.local_addr()?;
        let gw = XmppGateway {
            jid: "acs@cpefleet.invalid/acs".into(),
            ..XmppGateway::default()
        };
        tokio::spawn(accept_loop(
            listener,
            gw.clone(),
            Arc::from(cfg.secret),
            cancel,
        ));
        Ok((gw, addr))
    }

    /// A gateway that believes a component serves `domain` (tests of the transport choice).
    #[cfg(test)]
    pub(crate) fn with_domain(domain: &str) -> XmppGateway {
        let gw = XmppGateway::default();
        let (out, _) = mpsc::channel(1);
        if let Ok(mut l) = gw.links.lock() {
            l.insert(
                domain.into(),
                Link {
                    out,
                    pending: Pending::default(),
                },
            );
        }
        gw
    }

    /// Whether a component serves this JID's domain.
    pub fn reaches(&self, jid: &str) -> bool {
        let Some(j) = Jid::parse(jid) else {
            return false;
        };
        self.links.lock().is_ok_and(|l| l.contains_key(&j.domain))
    }

    /// One connection request; the result is one of the store's CR labels.
    pub async fn connection_request(
        &self,
        to: &str,
        username: &str,
        password: &str,
        timeout: Duration,
    ) -> &'static str {
        let Some(domain) = Jid::parse(to).map(|j| j.domain) else {
            return "unreachable";
        };
        let id = format!("cr{}", self.next_id.fetch_add(1, Ordering::Relaxed));
        let (tx, rx) = oneshot::channel();
        let (out, pending) = {
            let Ok(links) = self.links.lock() else {
                return "unreachable";
            };
            let Some(link) = links.get(&domain) else {
                return "unreachable";
            };
            (link.out.clone(), link.pending.clone())
        };
        match pending.lock() {
            Ok(mut p) if p.len() < MAX_PENDING => p.insert(id.clone(), tx),
            _ => return "busy",
        };
        let iq = connreq::request(&id, &self.jid, to, username, password);
        if out.send(iq).await.is_err() {
            return "unreachable";
        }
        let result = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(answer)) => connreq::outcome(&answer),
            Ok(Err(_)) => "unreachable",
            Err(_) => "timeout",
        };
        if let Ok(mut p) = pending.lock() {
            p.remove(&id);
        }
        result
    }
}

async fn accept_loop(
    listener: TcpListener,
    gw: XmppGateway,
    secret: Arc<str>,
    cancel: CancellationToken,
) {
    loop {
        let sock = tokio::select! {
            _ = cancel.cancelled() => return,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => { tokio::time::sleep(Duration::from_millis(10)).await; continue; }
            },
        };
        let (gw, secret, cancel) = (gw.clone(), secret.clone(), cancel.clone());
        tokio::spawn(async move {
            let mut conn = Conn::new(sock, Limits::default());
            let Ok(domain) = handshake(&mut conn, &secret).await else {
                return;
            };
            serve_link(conn, gw, domain, cancel).await;
        });
    }
}

/// The server's half of XEP-0114 §3: the component's header, our id, its digest.
async fn handshake(conn: &mut Conn, secret: &str) -> Result<String, ()> {
    let t = Some(HANDSHAKE_TIMEOUT);
    let StreamEvent::Open(attrs) = conn.next(t).await.map_err(drop)? else {
        return Err(());
    };
    let domain = attrs
        .iter()
        .find(|(k, _)| k == "to")
        .map(|(_, v)| v.to_ascii_lowercase())
        .ok_or(())?;
    let id = format!("{:016x}", rand::random::<u64>());
    conn.send(&component_accept(&domain, &id))
        .await
        .map_err(drop)?;
    let StreamEvent::Stanza(h) = conn.next(t).await.map_err(drop)? else {
        return Err(());
    };
    if h.local() != "handshake" || h.text.trim() != handshake_digest(&id, secret) {
        let refused = "<stream:error><not-authorized \
             xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>";
        let _ = conn.send(&format!("{refused}{CLOSE}")).await;
        return Err(());
    }
    conn.send("<handshake/>").await.map_err(drop)?;
    Ok(domain)
}

async fn serve_link(mut conn: Conn, gw: XmppGateway, domain: String, cancel: CancellationToken) {
    let (out, mut rx) = mpsc::channel::<String>(1024);
    let pending: Pending = Arc::default();
    if let Ok(mut l) = gw.links.lock() {
        // A reconnecting component replaces its old link.
        l.insert(
            domain.clone(),
            Link {
                out,
                pending: pending.clone(),
            },
        );
    }
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            Some(text) = rx.recv() => {
                if conn.send(&text).await.is_err() { break; }
            }
            ev = conn.next(None) => match ev {
                Ok(StreamEvent::Stanza(el)) if el.local() == "iq" => {
                    let id = el.attr("id").unwrap_or_default().to_owned();
                    let waiter = pending.lock().ok().and_then(|mut p| p.remove(&id));
                    if let Some(w) = waiter { let _ = w.send(el); }
                }
                Ok(StreamEvent::Stanza(_)) | Ok(StreamEvent::Open(_)) => {}
                Ok(StreamEvent::Close) | Err(_) => break,
            },
        }
    }
    if let Ok(mut l) = gw.links.lock() {
        if l.get(&domain)
            .is_some_and(|k| Arc::ptr_eq(&k.pending, &pending))
        {
            l.remove(&domain);
        }
    }
}
