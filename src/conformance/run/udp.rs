//! The scripted device behind a NAT (the `stun_binding` step): a UDP connection-request socket
//! checked exactly as the fleet checks its own (TR-069 Annex G: `ts`, `id`, `un`, `cn`, `sig` =
//! HMAC-SHA1 with the ConnectionRequestPassword, stale and repeated messages ignored), so a
//! case proves the ACS signs its UDP connection requests right, not only that it sends some.
//!
//! Its public address is the socket itself: the ACS and the device share the host, as the
//! fleet's NAT on loopback does (`cr::udp::nat`).

use std::net::SocketAddr;
use std::sync::Mutex;

use crate::cr::udp::{UdpCrConfig, UdpCrReject, UdpEndpoint, UdpRouter, UdpStats};

use super::*;

/// The device's current connection-request credentials, as the UDP check needs them.
type Credentials = Arc<Mutex<(String, String)>>;

/// Wakes the script for a request that passed every check.
struct WakeOnUdp {
    credentials: Credentials,
    wake: Arc<Notify>,
}

impl UdpRouter for WakeOnUdp {
    fn resolve_user(&self, usernames: &[String; 2]) -> Option<(usize, CrDevice)> {
        let (username, password) = self.credentials.lock().ok()?.clone();
        usernames.contains(&username).then_some((
            0,
            CrDevice {
                index: 0,
                username,
                password,
            },
        ))
    }
    fn deliver(&self, _index: u32, _at: Instant) -> CrResult {
        self.wake.notify_one();
        CrResult::Accepted
    }
}

/// The running UDP side of a scripted device.
pub(super) struct UdpSide {
    pub(super) addr: SocketAddr,
    pub(super) wake: Arc<Notify>,
    pub(super) credentials: Credentials,
    stats: Arc<UdpStats>,
    stop: CancellationToken,
}

impl UdpSide {
    pub(super) async fn start(ip: std::net::IpAddr) -> Result<UdpSide, String> {
        let stats = Arc::new(UdpStats::default());
        let ep = UdpEndpoint::bind(ip, 1, 1, UdpCrConfig::default(), stats.clone())
            .await
            .map_err(|e| format!("UDP connection-request socket: {e}"))?;
        let addr = ep.local_addr(0).ok_or("UDP connection-request socket")?;
        let wake = Arc::new(Notify::new());
        let credentials: Credentials = Arc::default();
        let router = Arc::new(WakeOnUdp {
            credentials: credentials.clone(),
            wake: wake.clone(),
        });
        let stop = CancellationToken::new();
        tokio::spawn(crate::cr::udp::serve(
            Arc::new(ep),
            router,
            None,
            stop.clone(),
        ));
        Ok(UdpSide {
            addr,
            wake,
            credentials,
            stats,
            stop,
        })
    }

    /// What arrived and why it was ignored, for a failure message: "3 datagrams: 1 accepted,
    /// 2 replayed".
    pub(super) fn summary(&self) -> String {
        let g = UdpStats::get;
        let mut parts = vec![format!("{} accepted", g(&self.stats.accepted))];
        for r in UdpCrReject::ALL {
            let n = self.stats.rejected(r);
            if n > 0 {
                parts.push(format!("{n} {}", r.label()));
            }
        }
        format!(
            "{} datagrams: {}",
            g(&self.stats.received),
            parts.join(", ")
        )
    }
}

impl Drop for UdpSide {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Run<'_> {
    /// The `stun_binding` step: the device's UDP socket becomes its public address (reported
    /// per the parameters' notification attributes), and HTTP no longer reaches it.
    pub(super) async fn stun_binding(&mut self) -> Result<(), String> {
        if self.udp.is_none() {
            self.udp = Some(UdpSide::start(self.opts.cr_ip).await?);
        }
        let addr = self.udp.as_ref().map(|u| u.addr.to_string());
        let root = self.dev.cpe.template.root().to_string();
        for (name, value) in [
            ("UDPConnectionRequestAddress", addr.unwrap_or_default()),
            ("STUNEnable", "true".to_string()),
            ("NATDetected", "true".to_string()),
        ] {
            let path = format!("{root}ManagementServer.{name}");
            self.dev
                .cpe
                .with_view(|v| v.set_local(&path, &value))
                .map_err(|f| format!("stun_binding: {path}: fault {}", f.code))?;
        }
        self.behind_nat
            .store(true, std::sync::atomic::Ordering::Relaxed);
        self.sync_udp_credentials();
        Ok(())
    }

    /// The UDP check follows the credentials the ACS set (by SetParameterValues).
    pub(super) fn sync_udp_credentials(&self) {
        let Some(udp) = &self.udp else {
            return;
        };
        let root = self.dev.cpe.template.root().to_string();
        let get = |name: &str| {
            self.dev.cpe.with_view_ref(|v| {
                v.get(&format!("{root}ManagementServer.{name}"))
                    .map(|p| p.value.to_string())
                    .unwrap_or_default()
            })
        };
        let creds = (
            get("ConnectionRequestUsername"),
            get("ConnectionRequestPassword"),
        );
        if let Ok(mut c) = udp.credentials.lock() {
            *c = creds;
        }
    }
}
