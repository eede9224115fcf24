//! STUN keep-alives of a group of devices (TR-069 Annex G, TR-111 Part 2): each device sends a
//! Binding Request with CONNECTION-REQUEST-BINDING from its connection-request socket at a
//! seeded period between STUNMinimumKeepAlivePeriod and STUNMaximumKeepAlivePeriod; the
//! Binding Response tells it its public address, which it reports as
//! `UDPConnectionRequestAddress` (through [`BindingSink`]) when it changed, and flags with
//! BINDING-CHANGE in its next request.
//!
//! One task drives a whole group: a min-heap of due times and a fixed 20-byte record per
//! device, no task or timer per device. Transaction ids carry the device index and its
//! keep-alive number, so a response finds its device without a table of pending requests.
//!
//! A request left unanswered is sent again, as a STUN client does over UDP (RFC 5389 §7.2.1:
//! RTO 500 ms, doubling), at most [`MAX_TRANSMISSIONS`] times in all; then the device waits
//! for its next keep-alive. Each device has one heap entry at a time: its next keep-alive, or
//! the check of the request in flight (the entry's top bit says which).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::listener::{StunReceived, UdpEndpoint};
use super::nat::{NatEvent, NatModel};
use crate::cr::stun::{self, Builder, Kind, MAGIC_COOKIE};
use crate::seed;

/// Where a device's new binding goes (the fleet writes it into the device's data model).
pub trait BindingSink: Send + Sync + 'static {
    /// Device `index` is now reachable at `addr`; `nat_detected` is ManagementServer.NATDetected.
    fn binding(&self, index: u32, addr: SocketAddr, nat_detected: bool);
}

/// One group's STUN settings (its devices' ManagementServer.STUN* values).
#[derive(Debug, Clone)]
pub struct KeepAliveConfig {
    pub server: SocketAddr,
    pub username: Option<String>,
    pub password: Option<String>,
    pub min: Duration,
    pub max: Duration,
    /// `None`: no simulated NAT (NATDetected only when the server sees another address).
    pub nat: Option<NatModel>,
    pub seed: u64,
    /// The group's devices: indices `first..first + count`.
    pub first: u32,
    pub count: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Dev {
    /// The NAT's public port (socket) the device's mapping uses, and how many mappings it had.
    slot: u16,
    epoch: u16,
    /// Keep-alive number of the last request (responses to older ones are stale).
    seq: u32,
    /// When the last request left (deciseconds since start; 0 = never).
    last_ds: u32,
    /// Low 32 bits of the FNV hash of the address last reported (0 = none yet).
    reported: u32,
    pending_change: bool,
    /// Transmissions of the request in flight so far; 0 = answered (or none sent).
    tries: u8,
}

/// Transmissions of one request in all (the first and its retransmissions). RFC 5389 allows
/// seven; four (0.5, 1.5 and 3.5 s after the first) keep a million devices' retries short.
pub const MAX_TRANSMISSIONS: u8 = 4;
/// RFC 5389 §7.2.1's initial retransmission timeout.
const RTO_MS: u64 = 500;
/// A heap entry's flag: the check of a request in flight, not a keep-alive due.
const CHECK: u32 = 1 << 31;

/// Bytes of keep-alive state per device: the record and its heap entry.
pub fn bytes_per_device() -> usize {
    std::mem::size_of::<Dev>() + std::mem::size_of::<Reverse<(u64, u32)>>()
}

/// The driver's working state.
struct Driver<S: BindingSink> {
    cfg: KeepAliveConfig,
    ep: Arc<UdpEndpoint>,
    sink: Arc<S>,
    devs: Vec<Dev>,
    due: BinaryHeap<Reverse<(u64, u32)>>,
    start: Instant,
    salt: u32,
}

/// Runs until `cancel`. `responses` carries the STUN messages the listener received.
pub async fn run<S: BindingSink>(
    cfg: KeepAliveConfig,
    ep: Arc<UdpEndpoint>,
    sink: Arc<S>,
    mut responses: mpsc::Receiver<StunReceived>,
    cancel: CancellationToken,
) {
    let mut d = Driver::new(cfg, ep, sink);
    loop {
        let next = d.due.peek().map(|Reverse((ms, _))| *ms);
        let wake = d.start + Duration::from_millis(next.unwrap_or(3_600_000));
        tokio::select! {
            _ = cancel.cancelled() => return,
            r = responses.recv() => match r {
                Some(r) => d.on_response(r),
                None => return,
            },
            _ = tokio::time::sleep_until(wake), if next.is_some() => d.send_due(),
        }
    }
}

impl<S: BindingSink> Driver<S> {
    fn new(cfg: KeepAliveConfig, ep: Arc<UdpEndpoint>, sink: Arc<S>) -> Self {
        let ports = ep.sockets.len().max(1) as u16;
        let mut devs = vec![Dev::default(); cfg.count as usize];
        let mut due = BinaryHeap::with_capacity(cfg.count as usize);
        for (i, d) in devs.iter_mut().enumerate() {
            let index = cfg.first + i as u32;
            d.slot = cfg
                .nat
                .map_or(index as u16 % ports, |n| n.first_slot(index) % ports);
            // First requests spread over the minimum period, not all at once.
            let at = seed::spread(cfg.seed, 0x57A7, u64::from(index), cfg.min);
            due.push(Reverse((at.as_millis() as u64, i as u32)));
        }
        let salt = seed::mix(cfg.seed ^ 0x5747) as u32;
        Driver {
            cfg,
            ep,
            sink,
            devs,
            due,
            start: Instant::now(),
            salt,
        }
    }

    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The device's keep-alive period: seeded, within [min, max].
    fn period(&self, index: u32) -> Duration {
        let span = self.cfg.max.saturating_sub(self.cfg.min);
        self.cfg.min + seed::spread(self.cfg.seed, 0x9E41, u64::from(index), span)
    }

    /// Sends every request now due and checks those in flight (at most a batch per wake, so
    /// responses are not starved).
    fn send_due(&mut self) {
        let now = self.now_ms();
        for _ in 0..4096 {
            match self.due.peek() {
                Some(Reverse((ms, _))) if *ms <= now => {}
                _ => return,
            }
            let Some(Reverse((due_ms, entry))) = self.due.pop() else {
                return;
            };
            let local = entry & !CHECK;
            if entry & CHECK != 0 {
                self.check(local, now);
                continue;
            }
            let period = self.period(self.cfg.first + local);
            // Due at the device's period after its last one: late (a STUN server or NAT may
            // have dropped the binding) once the lag eats the slack up to the maximum.
            let lag = now.saturating_sub(due_ms);
            let slack = self.cfg.max.saturating_sub(period).as_millis() as u64;
            self.ep.stats.lag(lag, lag > slack);
            self.send_one(local, now, false);
            self.due.push(Reverse((now + RTO_MS, local | CHECK)));
        }
    }

    /// The request of device `local` in flight at its check: answered (its next keep-alive is
    /// due a period after it left), sent again, or given up after [`MAX_TRANSMISSIONS`].
    fn check(&mut self, local: u32, now: u64) {
        let tries = self.devs[local as usize].tries;
        if tries > 0 && tries < MAX_TRANSMISSIONS {
            self.send_one(local, now, true);
            let wait = RTO_MS << tries;
            self.due.push(Reverse((now + wait, local | CHECK)));
            return;
        }
        if tries > 0 {
            self.ep.stats.stun_timeouts.fetch_add(1, Relaxed);
            self.devs[local as usize].tries = 0;
        }
        let sent_ms = u64::from(self.devs[local as usize].last_ds.saturating_sub(1)) * 100;
        let period = self.period(self.cfg.first + local).as_millis() as u64;
        self.due.push(Reverse((sent_ms + period, local)));
    }

    /// Sends device `local`'s request: a new keep-alive, or `again` the one in flight.
    fn send_one(&mut self, local: u32, now_ms: u64, again: bool) {
        let index = self.cfg.first + local;
        let ports = self.ep.sockets.len().max(1) as u16;
        let now_ds = (now_ms / 100) as u32 + 1;
        let dev = &mut self.devs[local as usize];
        if again {
            dev.tries += 1;
            self.ep.stats.stun_retransmits.fetch_add(1, Relaxed);
            let b = self.request(index, local);
            self.transmit(local, &b);
            return;
        }
        if let (Some(nat), true) = (self.cfg.nat, dev.last_ds != 0) {
            let idle = Duration::from_millis(u64::from(now_ds - dev.last_ds) * 100);
            if nat.step(index, dev.seq, idle) != NatEvent::Kept {
                dev.epoch = dev.epoch.wrapping_add(1);
                dev.slot = nat.next_slot(index, u32::from(dev.epoch), dev.slot) % ports;
            }
        }
        dev.seq = dev.seq.wrapping_add(1);
        dev.last_ds = now_ds;
        dev.tries = 1;
        let b = self.request(index, local);
        self.transmit(local, &b);
    }

    /// The Binding Request of device `local`'s current keep-alive (a retransmission is the
    /// same message: same transaction id).
    fn request(&self, index: u32, local: u32) -> Vec<u8> {
        let dev = &self.devs[local as usize];
        let txid = txid(index, dev.seq, self.salt);
        let mut b = Builder::new(Kind::BindingRequest, &txid).connection_request_binding();
        if dev.pending_change {
            b = b.binding_change();
        }
        if let Some(user) = &self.cfg.username {
            b = b.username(user);
            let key = self.cfg.password.as_deref().unwrap_or("");
            b = b.integrity(key.as_bytes());
        }
        b.finish()
    }

    fn transmit(&self, local: u32, message: &[u8]) {
        let dev = &self.devs[local as usize];
        let socket = &self.ep.sockets[usize::from(dev.slot)];
        match socket.try_send_to(message, self.cfg.server) {
            Ok(_) => {
                self.ep.stats.stun_requests.fetch_add(1, Relaxed);
            }
            Err(_) => {
                self.ep.stats.overflow.fetch_add(1, Relaxed);
            }
        }
    }

    fn on_response(&mut self, r: StunReceived) {
        let stats = &self.ep.stats;
        let Some((index, seq)) = parse_txid(&r.message.txid, self.salt) else {
            stats.stun_stray.fetch_add(1, Relaxed);
            return;
        };
        let Some(local) = index
            .checked_sub(self.cfg.first)
            .filter(|l| *l < self.cfg.count)
        else {
            stats.stun_stray.fetch_add(1, Relaxed);
            return;
        };
        let dev = &mut self.devs[local as usize];
        // An older keep-alive's, or a second answer to a retransmitted one.
        if seq != dev.seq || dev.tries == 0 {
            stats.stun_stray.fetch_add(1, Relaxed);
            return;
        }
        dev.tries = 0;
        if r.message.kind == Kind::BindingError {
            stats.stun_errors.fetch_add(1, Relaxed);
            return;
        }
        stats.stun_responses.fetch_add(1, Relaxed);
        let Some(addr) = r.message.address() else {
            stats.stun_errors.fetch_add(1, Relaxed);
            return;
        };
        let hash = (seed::fnv1a(addr.to_string().as_bytes()) as u32).max(1);
        if dev.reported == hash {
            dev.pending_change = false;
            return;
        }
        if dev.reported != 0 {
            stats.binding_changes.fetch_add(1, Relaxed);
            dev.pending_change = true;
        }
        dev.reported = hash;
        let local_addr = self.ep.local_addr(usize::from(r.socket));
        let nat_detected = self.cfg.nat.is_some() || local_addr != Some(addr);
        stats.bindings.fetch_add(1, Relaxed);
        self.sink.binding(index, addr, nat_detected);
    }
}

/// cookie ‖ index ‖ keep-alive number ‖ salt: the response names its device and request.
fn txid(index: u32, seq: u32, salt: u32) -> stun::TxId {
    let mut id = [0u8; 16];
    id[..4].copy_from_slice(&MAGIC_COOKIE);
    id[4..8].copy_from_slice(&index.to_be_bytes());
    id[8..12].copy_from_slice(&seq.to_be_bytes());
    id[12..].copy_from_slice(&salt.to_be_bytes());
    id
}

fn parse_txid(id: &stun::TxId, salt: u32) -> Option<(u32, u32)> {
    let word = |r: std::ops::Range<usize>| u32::from_be_bytes(id[r].try_into().unwrap_or([0; 4]));
    (id[..4] == MAGIC_COOKIE && word(12..16) == salt).then(|| (word(4..8), word(8..12)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_ids_name_device_and_request() {
        let id = txid(123_456, 7, 0xabcd);
        assert_eq!(parse_txid(&id, 0xabcd), Some((123_456, 7)));
        assert_eq!(parse_txid(&id, 0xabce), None, "another run's salt");
        assert_eq!(parse_txid(&[0; 16], 0), None, "classic id");
        assert!(bytes_per_device() <= 40, "{}", bytes_per_device());
    }
}
