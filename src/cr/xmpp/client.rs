//! Client mode: one XMPP client connection per device, as a real CPE keeps (TR-069 Annex K;
//! `Device.XMPP.Connection.{i}`). Realistic and costly — a socket, a task and a few KiB per
//! device — so meant for load-testing an XMPP server with tens of thousands of devices; the
//! component mode (`component.rs`) is the fleet-scale one.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::conn::{backoff, Conn, ConnError};
use super::login::{ClientLogin, Step};
use super::serve::serve_iq;
use super::stats::XmppStats;
use super::stream::{Limits, StreamEvent};
use crate::cr::CrRouter;

/// What every device of a group shares.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub server: SocketAddr,
    /// The XMPP domain the accounts live in.
    pub domain: String,
    /// The resource each device binds (its full JID is `user@domain/resource`).
    pub resource: String,
    /// ConnReqAllowedJabberIDs: comma-separated, empty allows anyone.
    pub allowed: String,
    pub login_timeout: Duration,
    /// ServerRetryInitialInterval and ServerRetryMaxInterval (TR-181 XMPP.Connection).
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// KeepAliveInterval: a whitespace ping this often when the line is quiet (RFC 6120
    /// §4.6.1); `None` for none.
    pub keep_alive: Option<Duration>,
    pub seed: u64,
    pub limits: Limits,
}

/// One device's account on the XMPP server.
#[derive(Debug, Clone)]
pub struct Account {
    pub index: u32,
    pub user: String,
    pub password: String,
}

/// What happened to a device's connection, for its XMPP.Connection.{i}.Status (TR-181).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link<'a> {
    /// Logged in and bound this full JID (its ConnReqJabberID and JabberID).
    Up(&'a str),
    /// Lost or refused; the status label TR-181 gives the reason.
    Down(DownReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownReason {
    /// Nothing answered (refused, unreachable, timed out): `ServerNotPresent`.
    ServerNotPresent,
    /// SASL or bind refused: `Error_AuthenticationFailure`.
    AuthenticationFailure,
    /// Anything else (the stream broke, the server closed it): `Error`.
    Error,
}

impl DownReason {
    /// The XMPP.Connection.{i}.Status value.
    pub fn status(self) -> &'static str {
        match self {
            DownReason::ServerNotPresent => "ServerNotPresent",
            DownReason::AuthenticationFailure => "Error_AuthenticationFailure",
            DownReason::Error => "Error",
        }
    }

    fn of(e: &ConnError) -> DownReason {
        use super::error::XmppError as X;
        match e {
            ConnError::Io(_) | ConnError::Timeout(_) => DownReason::ServerNotPresent,
            ConnError::Xmpp(X::AuthFailed(_) | X::Scram | X::NoMechanism) => {
                DownReason::AuthenticationFailure
            }
            _ => DownReason::Error,
        }
    }
}

/// Told of every login and every loss, with the device index.
pub type OnLink = dyn Fn(u32, Link<'_>) + Send + Sync;

/// Keeps the device's connection up until `cancel`: log in, answer connection requests,
/// reconnect with back-off when the connection is lost.
pub async fn run_client<R: CrRouter>(
    cfg: Arc<ClientConfig>,
    account: Account,
    router: Arc<R>,
    stats: Arc<XmppStats>,
    on_link: Arc<OnLink>,
    cancel: CancellationToken,
) {
    let mut attempt: u32 = 0;
    loop {
        let session = async {
            let mut conn = login(&cfg, &account).await?;
            attempt = 0;
            stats.logins.fetch_add(1, Ordering::Relaxed);
            let _up = super::stats::Connected::new(&stats);
            serve(&mut conn, &cfg, &account, &*router, &stats, &*on_link).await
        };
        let ended = tokio::select! {
            _ = cancel.cancelled() => return,
            r = session => r,
        };
        stats.disconnects.fetch_add(1, Ordering::Relaxed);
        let reason = ended
            .as_ref()
            .err()
            .map_or(DownReason::Error, DownReason::of);
        if reason == DownReason::AuthenticationFailure {
            stats.auth_failures.fetch_add(1, Ordering::Relaxed);
        }
        on_link(account.index, Link::Down(reason));
        tracing::debug!(device = account.index, error = %ended.err().map_or_else(String::new, |e| e.to_string()), "xmpp connection ended");
        let jitter = crate::seed::unit(
            cfg.seed,
            0x7a3b,
            u64::from(account.index) << 8 | u64::from(attempt % 256),
        );
        let wait = backoff(attempt, cfg.min_backoff, cfg.max_backoff, jitter);
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// Connects and logs in; returns the connection and the bound full JID.
pub async fn login(cfg: &ClientConfig, account: &Account) -> Result<(Conn, String), ConnError> {
    let t = cfg.login_timeout;
    let sock = tokio::time::timeout(t, TcpStream::connect(cfg.server))
        .await
        .map_err(|_| ConnError::Timeout(t))??;
    let mut conn = Conn::new(sock, cfg.limits);
    let nonce = format!("{:016x}{:08x}", rand::random::<u64>(), account.index);
    let mut l = ClientLogin::new(
        &account.user,
        &account.password,
        &cfg.domain,
        &cfg.resource,
        &nonce,
    );
    conn.send(&l.start()).await?;
    loop {
        match l.on_event(conn.next(Some(t)).await?)? {
            Step::Send(s) => conn.send(&s).await?,
            Step::Restart(s) => {
                conn.restart();
                conn.send(&s).await?;
            }
            Step::Done(jid, last) => {
                conn.send(&last).await?;
                return Ok((conn, jid));
            }
            Step::Wait => {}
        }
    }
}

async fn serve<R: CrRouter>(
    (conn, jid): &mut (Conn, String),
    cfg: &ClientConfig,
    account: &Account,
    router: &R,
    stats: &XmppStats,
    on_link: &OnLink,
) -> Result<(), ConnError> {
    on_link(account.index, Link::Up(jid));
    loop {
        let ev = match cfg.keep_alive {
            None => conn.next(None).await?,
            Some(every) => match conn.next(Some(every)).await {
                Err(ConnError::Timeout(_)) => {
                    // Quiet for KeepAliveInterval: a whitespace ping (RFC 6120 §4.6.1).
                    conn.send(" ").await?;
                    stats.keep_alives.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                r => r?,
            },
        };
        match ev {
            StreamEvent::Stanza(el) => {
                if let Some(answer) =
                    serve_iq(&el, Some(account.index), router, &cfg.allowed, stats)
                {
                    conn.send(&answer).await?;
                }
            }
            StreamEvent::Close => return Err(ConnError::Closed),
            StreamEvent::Open(_) => {}
        }
    }
}
