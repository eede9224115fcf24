//! Component mode: one XEP-0114 external-component connection serves every device JID of a
//! domain (`cpe<index>@<domain>`).
//!
//! Why: an XMPP server routes every stanza for a component's domain down the component's one
//! socket, whatever the local part. So a million devices are reachable through one TCP
//! connection, one task and one 4 KiB read buffer — per device there is nothing but the index
//! in its JID — where client mode would need a million sockets, logins and roster entries. The
//! XMPP server still does the real work an ACS exercises (routing, the ACS's own c2s session);
//! what is lost is only the per-device presence, which Annex K does not rely on.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::conn::{backoff, Conn, ConnError};
use super::jid::Jid;
use super::login::{ComponentLogin, Step};
use super::serve::serve_iq;
use super::stats::XmppStats;
use super::stream::{Limits, StreamEvent};
use crate::cr::CrRouter;

#[derive(Debug, Clone)]
pub struct ComponentConfig {
    pub server: SocketAddr,
    /// The component's domain: every device JID is `<prefix><index>@<domain>`.
    pub domain: String,
    pub secret: String,
    pub prefix: String,
    /// ConnReqAllowedJabberIDs: comma-separated, empty allows anyone.
    pub allowed: String,
    pub login_timeout: Duration,
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    pub limits: Limits,
}

impl ComponentConfig {
    /// Device `index`'s full JID (its ConnReqJabberID).
    pub fn jid(&self, index: u32) -> String {
        device_jid(&self.prefix, index, &self.domain)
    }
}

pub fn device_jid(prefix: &str, index: u32, domain: &str) -> String {
    format!("{prefix}{index}@{domain}/cwmp")
}

/// The device index a JID names, if it is one of this domain's.
pub fn device_of(jid: &str, prefix: &str, domain: &str) -> Option<u32> {
    let j = Jid::parse(jid)?;
    if j.domain != domain.to_ascii_lowercase() {
        return None;
    }
    let digits = j.local?.strip_prefix(prefix)?.to_owned();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Keeps the component connected until `cancel`, reconnecting with back-off.
pub async fn run_component<R: CrRouter>(
    cfg: Arc<ComponentConfig>,
    router: Arc<R>,
    stats: Arc<XmppStats>,
    cancel: CancellationToken,
) {
    let mut attempt: u32 = 0;
    loop {
        let session = async {
            let mut conn = login(&cfg).await?;
            attempt = 0;
            stats.logins.fetch_add(1, Ordering::Relaxed);
            let _up = super::stats::Connected::new(&stats);
            serve(&mut conn, &cfg, &*router, &stats).await
        };
        let ended = tokio::select! {
            _ = cancel.cancelled() => return,
            r = session => r,
        };
        stats.disconnects.fetch_add(1, Ordering::Relaxed);
        if let Err(ConnError::Xmpp(super::XmppError::HandshakeRefused)) = &ended {
            stats.auth_failures.fetch_add(1, Ordering::Relaxed);
        }
        if let Err(e) = ended {
            tracing::warn!(error = %e, domain = %cfg.domain, "xmpp component connection ended");
        }
        let wait = backoff(
            attempt,
            cfg.min_backoff,
            cfg.max_backoff,
            rand::random::<f64>(),
        );
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

pub async fn login(cfg: &ComponentConfig) -> Result<Conn, ConnError> {
    let t = cfg.login_timeout;
    let sock = tokio::time::timeout(t, TcpStream::connect(cfg.server))
        .await
        .map_err(|_| ConnError::Timeout(t))??;
    let mut conn = Conn::new(sock, cfg.limits);
    let mut l = ComponentLogin::new(&cfg.domain, &cfg.secret);
    conn.send(&l.start()).await?;
    loop {
        match l.on_event(conn.next(Some(t)).await?)? {
            Step::Send(s) | Step::Restart(s) => conn.send(&s).await?,
            Step::Done(..) => return Ok(conn),
            Step::Wait => {}
        }
    }
}

async fn serve<R: CrRouter>(
    conn: &mut Conn,
    cfg: &ComponentConfig,
    router: &R,
    stats: &XmppStats,
) -> Result<(), ConnError> {
    loop {
        match conn.next(None).await? {
            StreamEvent::Stanza(el) => {
                let index = el
                    .attr("to")
                    .and_then(|to| device_of(to, &cfg.prefix, &cfg.domain));
                if let Some(answer) = serve_iq(&el, index, router, &cfg.allowed, stats) {
                    conn.send(&answer).await?;
                }
            }
            StreamEvent::Close => return Err(ConnError::Closed),
            StreamEvent::Open(_) => {}
        }
    }
}
