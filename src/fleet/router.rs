//! Routes connection requests from the shared listener to the device's shard, in O(1): the path
//! names the device index, the index names the shard (`index % shards`). CR credentials are
//! computed from the template for untouched devices and kept here only for devices whose
//! credentials the ACS changed (GenieACS does that on first contact), so the listener answers
//! without asking the shard — which may be busy — and answers within GenieACS's 2 s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::cr::{CrDevice, CrResult, CrRouter, CrTransport};
use crate::model::device_from_cr_path;
use crate::net::wan::{Direction, WanModel};

use super::shard::ShardMsg;

/// Computes a device's default CR credentials (from its template's values).
pub type DefaultCredentials = dyn Fn(u32) -> Option<(String, String)> + Send + Sync;

pub struct Router {
    /// First device index of this process (sharded runs) and the count.
    pub first: u32,
    pub count: u32,
    inboxes: Vec<mpsc::Sender<ShardMsg>>,
    /// Credentials the ACS set, by device index; sharded to keep lock contention low.
    overrides: Vec<RwLock<HashMap<u32, (String, String)>>>,
    defaults: Arc<DefaultCredentials>,
    /// Per device: when the last request was accepted (deciseconds since start), for the
    /// per-device rate limit.
    last_accept: Vec<AtomicU32>,
    started: Instant,
    min_interval_ds: u32,
    /// Usernames the ACS set, by FNV hash, for UDP connection requests (which name the device
    /// by username only); only devices whose credentials changed have an entry.
    by_user: RwLock<HashMap<u64, u32>>,
    /// The groups' WANs, when any group has one: a connection request crosses it too.
    wan: Option<CrWan>,
    /// Index ranges of the groups behind the simulated NAT (`transport: udp`).
    behind_nat: Vec<std::ops::Range<u32>>,
}

/// What the WAN does to connection requests: per group (first index, count, model), and per
/// device the number of requests so far, the ordinal of each one's seeded legs.
struct CrWan {
    seed: u64,
    groups: Vec<(u32, u32, WanModel)>,
    requests: Vec<AtomicU32>,
}

const CRED_SHARDS: usize = 64;

impl Router {
    pub fn new(
        first: u32,
        count: u32,
        inboxes: Vec<mpsc::Sender<ShardMsg>>,
        defaults: Arc<DefaultCredentials>,
        min_interval: std::time::Duration,
    ) -> Self {
        Router {
            first,
            count,
            inboxes,
            overrides: (0..CRED_SHARDS)
                .map(|_| RwLock::new(HashMap::new()))
                .collect(),
            defaults,
            last_accept: (0..count).map(|_| AtomicU32::new(0)).collect(),
            started: Instant::now(),
            min_interval_ds: (min_interval.as_millis() / 100) as u32,
            by_user: RwLock::new(HashMap::new()),
            wan: None,
            behind_nat: Vec::new(),
        }
    }

    /// Connection requests cross the groups' WANs (`groups`: first index, count, model).
    /// Without any WAN nothing is kept per device.
    pub fn with_wan(mut self, seed: u64, groups: Vec<(u32, u32, WanModel)>) -> Self {
        if groups.iter().any(|g| !g.2.is_none()) {
            self.wan = Some(CrWan {
                seed,
                groups,
                requests: (0..self.count).map(|_| AtomicU32::new(0)).collect(),
            });
        }
        self
    }

    /// The devices of these index ranges sit behind the simulated NAT: an HTTP connection
    /// request cannot reach them (TR-069 Annex G exists because a NAT drops inbound
    /// connections), so the shared HTTP listener finds no one at their paths (404, counted as
    /// `not_found`). GenieACS sends an HTTP request beside every UDP one; without this, the
    /// HTTP one would wake the device too and a test could not tell which transport did.
    pub fn behind_nat(mut self, ranges: Vec<std::ops::Range<u32>>) -> Self {
        self.behind_nat = ranges;
        self
    }

    /// The ACS changed a device's CR credentials.
    pub fn set_credentials(&self, index: u32, username: String, password: String) {
        if let Ok(mut m) = self.by_user.write() {
            m.insert(crate::seed::fnv1a(username.as_bytes()), index);
        }
        if let Ok(mut m) = self.overrides[index as usize % CRED_SHARDS].write() {
            m.insert(index, (username, password));
        }
    }

    /// A device's XMPP client connection came up (bound `jid`) or went down; the shard writes
    /// its ConnReqJabberID and XMPP.Connection.1 Status. Dropped (and logged) when the shard's
    /// inbox is full: the status is late, connection requests are unaffected.
    pub fn xmpp_link(&self, index: u32, link: crate::cr::xmpp::client::Link<'_>) {
        use crate::cr::xmpp::client::Link;
        let msg = ShardMsg::XmppLink {
            index,
            jid: match link {
                Link::Up(jid) => Some(jid.into()),
                Link::Down(_) => None,
            },
            status: match link {
                Link::Up(_) => "Enabled",
                Link::Down(r) => r.status(),
            },
        };
        if !self.send(index, msg) {
            tracing::debug!(index, "shard inbox full: XMPP connection status dropped");
        }
    }

    /// A factory reset brings the template's credentials back.
    pub fn reset_credentials(&self, index: u32) {
        if let Ok(mut m) = self.overrides[index as usize % CRED_SHARDS].write() {
            m.remove(&index);
        }
    }

    /// The device the ACS gave username `user` (its hash), if any.
    pub(super) fn index_by_set_user(&self, hash: u64) -> Option<u32> {
        self.by_user.read().ok()?.get(&hash).copied()
    }

    /// A message to the device's shard; false (dropped) when its inbox is full.
    pub(super) fn send(&self, index: u32, msg: ShardMsg) -> bool {
        let Some(local) = self.local(index) else {
            return false;
        };
        self.inboxes[self.shard_of(local)].try_send(msg).is_ok()
    }

    /// The shard holding this process's `local`-th device. The shards split the process's
    /// devices by local index (`Shard::slot_of`): by the global one, a process whose first
    /// device is not a multiple of the shard count would send to a shard without the device.
    fn shard_of(&self, local: usize) -> usize {
        local % self.inboxes.len().max(1)
    }

    pub(super) fn credentials(&self, index: u32) -> Option<(String, String)> {
        if let Ok(m) = self.overrides[index as usize % CRED_SHARDS].read() {
            if let Some(c) = m.get(&index) {
                return Some(c.clone());
            }
        }
        (self.defaults)(index)
    }

    pub(super) fn local(&self, index: u32) -> Option<usize> {
        index
            .checked_sub(self.first)
            .filter(|i| *i < self.count)
            .map(|i| i as usize)
    }
}

impl CrRouter for Router {
    fn locate(&self, path: &str) -> Option<u32> {
        let index = device_from_cr_path(path)?;
        self.local(index)?;
        if self.behind_nat.iter().any(|r| r.contains(&index)) {
            return None;
        }
        Some(index)
    }

    fn resolve(&self, path: &str) -> Option<CrDevice> {
        let index = self.locate(path)?;
        let (username, password) = self.credentials(index).unwrap_or_default();
        Some(CrDevice {
            index,
            username,
            password,
        })
    }

    fn deliver(&self, index: u32, at: Instant) -> CrResult {
        self.deliver_via(index, at, CrTransport::Http)
    }

    fn deliver_via(&self, index: u32, at: Instant, via: CrTransport) -> CrResult {
        Router::deliver_via(self, index, at, via)
    }

    fn wan_legs(&self, index: u32) -> (Duration, Duration) {
        let (Some(w), Some(local)) = (&self.wan, self.local(index)) else {
            return (Duration::ZERO, Duration::ZERO);
        };
        let Some(model) = w
            .groups
            .iter()
            .find(|(first, count, _)| index >= *first && index - first < *count)
            .map(|g| g.2)
        else {
            return (Duration::ZERO, Duration::ZERO);
        };
        let n = w.requests[local].fetch_add(1, Ordering::Relaxed);
        let legs = crate::seed::event(
            w.seed,
            crate::seed::Stream::ConnectionRequest,
            u64::from(index),
            u64::from(n),
        );
        (
            model.leg(legs, 1, Direction::Down, 0).time,
            model.leg(legs, 2, Direction::Up, 0).time,
        )
    }
}

impl Router {
    /// Wakes the device for a request that arrived over `via` (the per-device rate limit is
    /// shared by the transports: GenieACS sends HTTP and UDP together).
    pub(super) fn deliver_via(&self, index: u32, at: Instant, via: CrTransport) -> CrResult {
        let Some(local) = self.local(index) else {
            return CrResult::NotFound;
        };
        // deciseconds since start, +1 so 0 means "never".
        let now_ds = (self.started.elapsed().as_millis() / 100) as u32 + 1;
        let last = self.last_accept[local].load(Ordering::Relaxed);
        if last != 0 && now_ds.saturating_sub(last) < self.min_interval_ds {
            return CrResult::RateLimited;
        }
        let shard = self.shard_of(local);
        match self.inboxes[shard].try_send(ShardMsg::ConnectionRequest { index, at, via }) {
            Ok(()) => {
                self.last_accept[local].store(now_ds, Ordering::Relaxed);
                CrResult::Accepted
            }
            Err(_) => CrResult::Busy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(first: u32, count: u32, shards: usize) -> (Router, Vec<mpsc::Receiver<ShardMsg>>) {
        let (tx, rx) = (0..shards).map(|_| mpsc::channel(8)).unzip();
        let defaults: Arc<DefaultCredentials> = Arc::new(|_| None);
        (
            Router::new(first, count, tx, defaults, std::time::Duration::ZERO),
            rx,
        )
    }

    #[test]
    fn requests_go_to_the_shard_that_holds_the_device() {
        // This process holds devices 10..20 over 3 shards; shard k holds local indexes k, k+3…
        // (Shard::slot_of), so device 13 (local 3) is shard 0's, not shard 13 % 3 = 1's.
        let (r, mut rx) = router(10, 10, 3);
        for index in 10..20u32 {
            assert_eq!(r.deliver(index, Instant::now()), CrResult::Accepted);
            let shard = (index - 10) as usize % 3;
            match rx[shard].try_recv() {
                Ok(ShardMsg::ConnectionRequest { index: got, .. }) => assert_eq!(got, index),
                other => panic!("device {index}: shard {shard} got {other:?}"),
            }
        }
        assert!(rx.iter_mut().all(|r| r.try_recv().is_err()));
        assert_eq!(r.deliver(20, Instant::now()), CrResult::NotFound);
    }

    #[test]
    fn connection_requests_cross_the_group_wan_seeded_per_request() {
        let wan = WanModel {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(30),
            ..WanModel::default()
        };
        // Devices 0..4 on a WAN, 4..8 on none.
        let groups = vec![(0, 4, wan), (4, 4, WanModel::default())];
        let legs = |r: &Router, index| (0..5).map(|_| r.wan_legs(index)).collect::<Vec<_>>();
        let a = router(0, 8, 1).0.with_wan(7, groups.clone());
        let b = router(0, 8, 1).0.with_wan(7, groups.clone());
        let first = legs(&a, 2);
        assert_eq!(first, legs(&b, 2), "the same seed, the same legs");
        for (down, up) in &first {
            for leg in [down, up] {
                assert!((50..=80).contains(&leg.as_millis()), "{leg:?}");
            }
        }
        assert!(first.windows(2).any(|w| w[0] != w[1]), "jitter per request");
        assert_ne!(first, legs(&router(0, 8, 1).0.with_wan(8, groups), 2));
        assert_eq!(a.wan_legs(5), (Duration::ZERO, Duration::ZERO), "no WAN");
        let none = router(0, 8, 1)
            .0
            .with_wan(7, vec![(0, 8, WanModel::default())]);
        assert!(none.wan.is_none(), "nothing kept per device without a WAN");
    }
}
