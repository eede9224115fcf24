//! The fleet's UDP connection-request side (TR-069 Annex G): the shared sockets, one STUN
//! keep-alive driver per UDP group, and the two links to the shards — a device found by its
//! ConnectionRequestUsername, and its new binding written into its data model.
//!
//! Memory per UDP device: 12 bytes in the username directory (hash and index, only devices
//! of UDP groups), 8 in the replay window, and 36 of keep-alive state; the sockets are shared
//! (see `cr::udp::listener` for why).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::router::Router;
use super::shard::ShardMsg;
use super::{FleetError, GroupRt};
use crate::acs::stun_server::{self, StunCredentials, StunServerStats};
use crate::cr::udp::{self, keepalive, BindingSink, KeepAliveConfig, NatModel, UdpCrConfig};
use crate::cr::udp::{StunReceived, UdpEndpoint, UdpRouter, UdpStats};
use crate::cr::{CrDevice, CrResult, CrTransport};
use crate::seed::fnv1a;

/// Bytes of UDP state per device of a UDP group, beyond an idle device's: its directory entry,
/// replay slot and keep-alive record (the binding it learns is three parameter values in the
/// device's own record, measured in BENCHMARKS.md).
pub fn bytes_per_udp_device() -> usize {
    let directory = std::mem::size_of::<u64>() + std::mem::size_of::<u32>();
    let replay = std::mem::size_of::<u64>();
    directory + replay + keepalive::bytes_per_device()
}

/// Finds devices by username: the template's usernames of the UDP groups' devices, sorted by
/// hash, and the usernames the ACS set (kept by the router).
struct Directory {
    router: Arc<Router>,
    hashes: Vec<u64>,
    indices: Vec<u32>,
}

impl Directory {
    fn build(router: Arc<Router>, groups: &[GroupRt]) -> Directory {
        let mut pairs: Vec<(u64, u32)> = Vec::new();
        for g in groups.iter().filter(|g| g.cr.transport == CrTransport::Udp) {
            for index in g.first..g.first + g.count {
                if let Some((user, _)) = router.credentials(index) {
                    pairs.push((fnv1a(user.as_bytes()), index));
                }
            }
        }
        pairs.sort_unstable();
        let (hashes, indices) = pairs.into_iter().unzip();
        Directory {
            router,
            hashes,
            indices,
        }
    }

    fn lookup(&self, user: &str) -> Option<(usize, CrDevice)> {
        let h = fnv1a(user.as_bytes());
        let from_template = || {
            let i = self.hashes.partition_point(|x| *x < h);
            (self.hashes.get(i) == Some(&h)).then(|| self.indices[i])
        };
        let index = self.router.index_by_set_user(h).or_else(from_template)?;
        let local = self.router.local(index)?;
        let (username, password) = self.router.credentials(index)?;
        // A hash is not a name: the device's current username must be this one.
        (username == user).then_some((
            local,
            CrDevice {
                index,
                username,
                password,
            },
        ))
    }
}

impl UdpRouter for Directory {
    fn resolve_user(&self, usernames: &[String; 2]) -> Option<(usize, CrDevice)> {
        usernames.iter().find_map(|u| self.lookup(u))
    }
    fn deliver(&self, index: u32, at: Instant) -> CrResult {
        self.router.deliver_via(index, at, CrTransport::Udp)
    }
}

/// Bindings go to the device's shard, bounded: a full inbox drops one (counted); the next
/// keep-alive's response brings it again.
struct ShardSink {
    router: Arc<Router>,
    stats: Arc<UdpStats>,
}

impl BindingSink for ShardSink {
    fn binding(&self, index: u32, addr: SocketAddr, nat_detected: bool) {
        let msg = ShardMsg::UdpBinding {
            index,
            addr,
            nat_detected,
        };
        if !self.router.send(index, msg) {
            self.stats.overflow.fetch_add(1, Relaxed);
        }
    }
}

/// What the UDP side started (the STUN server's counts when the fleet runs its own).
pub struct UdpSide {
    pub endpoint: Arc<UdpEndpoint>,
    pub stun_server: Option<(SocketAddr, Arc<StunServerStats>)>,
}

/// Starts the UDP side when a group uses `transport: udp`.
pub async fn start(
    groups: &[GroupRt],
    ip: IpAddr,
    seed: u64,
    router: Arc<Router>,
    stats: Arc<UdpStats>,
    cancel: CancellationToken,
) -> Result<Option<UdpSide>, FleetError> {
    let udp_groups: Vec<&GroupRt> = groups
        .iter()
        .filter(|g| g.cr.transport == CrTransport::Udp)
        .collect();
    if udp_groups.is_empty() {
        return Ok(None);
    }
    let listen_err = |source| FleetError::Listen {
        addr: format!("udp {ip}"),
        source,
    };
    let ports = udp_groups.iter().map(|g| g.cr.nat.ports).max().unwrap_or(1);
    let devices = router.count as usize;
    let ep = UdpEndpoint::bind(ip, ports, devices, UdpCrConfig::default(), stats.clone());
    let ep = Arc::new(ep.await.map_err(listen_err)?);
    let (tx, rx) = tokio::sync::mpsc::channel(8192);
    let dir = Arc::new(Directory::build(router.clone(), groups));
    tokio::spawn(udp::serve(ep.clone(), dir, Some(tx), cancel.clone()));
    let mut stun_server = None;
    let mut drivers = Vec::new();
    for g in udp_groups {
        let Some(stun) = &g.cr.stun else { continue };
        let server = match &stun.server {
            Some(host) => resolve(host, stun.port).await.map_err(listen_err)?,
            None => {
                let (addr, _) = embedded_stun(&mut stun_server, ip, stun, &cancel).await?;
                addr
            }
        };
        let cfg = KeepAliveConfig {
            server,
            username: stun.username.clone(),
            password: stun.password.clone(),
            min: stun.min_keep_alive,
            max: stun.max_keep_alive,
            nat: Some(NatModel::new(g.cr.nat, seed)),
            seed,
            first: g.first,
            count: g.count,
        };
        drivers.push(cfg);
    }
    // One receiver of STUN responses: each is routed by its transaction id to its group.
    let mut senders = Vec::new();
    for cfg in drivers {
        let (gtx, grx) = tokio::sync::mpsc::channel(4096);
        let range = cfg.first..cfg.first + cfg.count;
        senders.push((range, gtx));
        let sink = Arc::new(ShardSink {
            router: router.clone(),
            stats: stats.clone(),
        });
        tokio::spawn(keepalive::run(cfg, ep.clone(), sink, grx, cancel.clone()));
    }
    tokio::spawn(fan_out(rx, senders, stats));
    Ok(Some(UdpSide {
        endpoint: ep,
        stun_server,
    }))
}

/// One receiver of STUN responses: each is routed by its transaction id (the device index in
/// bytes 4..8) to its group's keep-alive driver; a full or unknown driver is counted.
async fn fan_out(
    mut rx: tokio::sync::mpsc::Receiver<StunReceived>,
    senders: Vec<(
        std::ops::Range<u32>,
        tokio::sync::mpsc::Sender<StunReceived>,
    )>,
    stats: Arc<UdpStats>,
) {
    while let Some(r) = rx.recv().await {
        let t = &r.message.txid;
        let index = u32::from_be_bytes([t[4], t[5], t[6], t[7]]);
        match senders.iter().find(|(range, _)| range.contains(&index)) {
            Some((_, tx)) if tx.try_send(r).is_ok() => {}
            Some(_) => {
                stats.overflow.fetch_add(1, Relaxed);
            }
            None => {
                stats.stun_stray.fetch_add(1, Relaxed);
            }
        }
    }
}

async fn resolve(host: &str, port: u16) -> std::io::Result<SocketAddr> {
    tokio::net::lookup_host((host, port))
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("{host}: no address")))
}

/// The minimal STUN server beside the embedded ACS (TR-069 Annex G: no STUNServerAddress means
/// the ACS's host), started once for every group that names no server.
async fn embedded_stun(
    slot: &mut Option<(SocketAddr, Arc<StunServerStats>)>,
    ip: IpAddr,
    stun: &crate::scenario::cr_transport::Stun,
    cancel: &CancellationToken,
) -> Result<(SocketAddr, Arc<StunServerStats>), FleetError> {
    if let Some(s) = slot {
        return Ok(s.clone());
    }
    let listen_err = |source| FleetError::Listen {
        addr: format!("stun {ip}"),
        source,
    };
    let socket = tokio::net::UdpSocket::bind(SocketAddr::new(ip, 0))
        .await
        .map_err(listen_err)?;
    let addr = socket.local_addr().map_err(listen_err)?;
    let stats = Arc::new(StunServerStats::default());
    let creds = stun.username.clone().map(|username| StunCredentials {
        username,
        password: stun.password.clone().unwrap_or_default(),
    });
    tokio::spawn(stun_server::serve(
        socket,
        creds,
        stats.clone(),
        cancel.clone(),
    ));
    *slot = Some((addr, stats.clone()));
    Ok((addr, stats))
}
