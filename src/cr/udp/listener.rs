//! The fleet's shared UDP sockets: every device's UDP connection requests arrive here, and
//! every device's STUN keep-alives leave from here (TR-069 Annex G sends Binding Requests from
//! the connection-request port, so the binding STUN reports is the one the ACS can reach).
//!
//! Why shared: a socket per device would be a million file descriptors and, with kernel
//! buffers, gigabytes for a million devices. A few sockets (the simulated NAT's public ports,
//! see `nat.rs`) serve them all, exactly as one TCP listener serves every device's HTTP
//! connection requests at its own path. A device is named by the request's `un` (its
//! ConnectionRequestUsername) through [`UdpRouter::resolve_user`]; what stays per device is the
//! 8-byte replay slot ([`ReplayWindow`]) and the keep-alive state (`keepalive.rs`).
//!
//! A datagram is answered by nothing (TR-069 Annex G: the CPE never replies to a UDP
//! connection request); a valid one is handed to the device through the same bounded,
//! non-blocking [`UdpRouter::deliver`] the HTTP listener uses.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::message::{UdpCr, UdpCrReject, MAX_DATAGRAM};
use super::replay::ReplayWindow;
use super::stats::UdpStats;
use crate::cr::{stun, CrDevice, CrResult};

/// What the fleet gives the UDP listener.
pub trait UdpRouter: Send + Sync + 'static {
    /// The device whose ConnectionRequestUsername is one of `usernames` (as sent, decoded),
    /// with its local slot (for the replay window) and current credentials.
    fn resolve_user(&self, usernames: &[String; 2]) -> Option<(usize, CrDevice)>;
    /// Wake the device; must not block (as [`crate::cr::CrRouter::deliver`]).
    fn deliver(&self, index: u32, at: Instant) -> CrResult;
}

/// Listener settings.
#[derive(Debug, Clone, Copy)]
pub struct UdpCrConfig {
    /// A request whose `ts` is further than this from the clock is stale.
    pub window: Duration,
}

impl Default for UdpCrConfig {
    fn default() -> Self {
        UdpCrConfig {
            window: Duration::from_secs(300),
        }
    }
}

/// A STUN message received on one of the sockets, for the keep-alive driver.
#[derive(Debug)]
pub struct StunReceived {
    pub socket: u16,
    pub from: SocketAddr,
    pub message: stun::Message,
}

/// The shared sockets and what checking a request needs.
pub struct UdpEndpoint {
    pub sockets: Vec<Arc<UdpSocket>>,
    pub replay: ReplayWindow,
    pub stats: Arc<UdpStats>,
    pub cfg: UdpCrConfig,
}

impl UdpEndpoint {
    /// Binds `ports` sockets on `ip` (port 0: the kernel picks).
    pub async fn bind(
        ip: std::net::IpAddr,
        ports: u16,
        devices: usize,
        cfg: UdpCrConfig,
        stats: Arc<UdpStats>,
    ) -> std::io::Result<UdpEndpoint> {
        let mut sockets = Vec::new();
        for _ in 0..ports.max(1) {
            sockets.push(Arc::new(UdpSocket::bind(SocketAddr::new(ip, 0)).await?));
        }
        Ok(UdpEndpoint {
            sockets,
            replay: ReplayWindow::new(devices),
            stats,
            cfg,
        })
    }

    /// The bound address of socket `k`.
    pub fn local_addr(&self, k: usize) -> Option<SocketAddr> {
        self.sockets.get(k).and_then(|s| s.local_addr().ok())
    }

    /// Checks one connection-request datagram and, when valid, wakes the device. `now_s` is
    /// the Unix clock.
    pub fn handle_request<R: UdpRouter>(
        &self,
        router: &R,
        datagram: &[u8],
        now_s: u64,
        at: Instant,
    ) -> Result<u32, UdpCrReject> {
        let cr = UdpCr::parse(datagram)?;
        cr.fresh(now_s, self.cfg.window.as_secs())?;
        let (local, dev) = router
            .resolve_user(&cr.usernames())
            .ok_or(UdpCrReject::UnknownUser)?;
        cr.verify(&dev.username, &dev.password)?;
        self.replay.check(local, &cr)?;
        match router.deliver(dev.index, at) {
            CrResult::Accepted => {
                self.replay.record(local, &cr);
                Ok(dev.index)
            }
            CrResult::RateLimited => Err(UdpCrReject::RateLimited),
            CrResult::NotFound => Err(UdpCrReject::UnknownUser),
            _ => Err(UdpCrReject::Busy),
        }
    }
}

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Receives on every socket until `cancel`: connection requests are checked and delivered,
/// STUN messages go to `stun_tx` (bounded; a full queue is a counted overflow).
pub async fn serve<R: UdpRouter>(
    endpoint: Arc<UdpEndpoint>,
    router: Arc<R>,
    stun_tx: Option<mpsc::Sender<StunReceived>>,
    cancel: CancellationToken,
) {
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..endpoint.sockets.len() {
        let (ep, router, tx, cancel) = (
            endpoint.clone(),
            router.clone(),
            stun_tx.clone(),
            cancel.clone(),
        );
        tasks.spawn(async move { receive(k, &ep, &*router, tx.as_ref(), cancel).await });
    }
    while tasks.join_next().await.is_some() {}
}

async fn receive<R: UdpRouter>(
    k: usize,
    ep: &UdpEndpoint,
    router: &R,
    stun_tx: Option<&mpsc::Sender<StunReceived>>,
    cancel: CancellationToken,
) {
    let socket = ep.sockets[k].clone();
    // One buffer per socket: a datagram longer than a request is cut and then malformed.
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (n, from) = tokio::select! {
            _ = cancel.cancelled() => return,
            r = socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                // ICMP port unreachable from an earlier send, or a transient error.
                Err(_) => continue,
            },
        };
        let datagram = &buf[..n];
        // STUN's first two bits are zero (RFC 5389 §6); an HTTP request line starts with a letter.
        if datagram.first().is_some_and(|b| b & 0xC0 == 0) {
            on_stun(k, from, datagram, ep, stun_tx);
            continue;
        }
        ep.stats
            .received
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match ep.handle_request(router, datagram, now_s(), Instant::now()) {
            Ok(_) => {
                ep.stats
                    .accepted
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Err(r) => ep.stats.reject(r),
        }
    }
}

fn on_stun(
    k: usize,
    from: SocketAddr,
    datagram: &[u8],
    ep: &UdpEndpoint,
    stun_tx: Option<&mpsc::Sender<StunReceived>>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let msg = match stun::decode(datagram) {
        Ok(m) if m.kind != stun::Kind::BindingRequest => m,
        _ => {
            ep.stats.stun_stray.fetch_add(1, Relaxed);
            return;
        }
    };
    let Some(tx) = stun_tx else {
        ep.stats.stun_stray.fetch_add(1, Relaxed);
        return;
    };
    let sent = tx.try_send(StunReceived {
        socket: k as u16,
        from,
        message: msg,
    });
    if sent.is_err() {
        ep.stats.overflow.fetch_add(1, Relaxed);
    }
}
