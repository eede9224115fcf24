//! The per-device memory of the last accepted UDP connection request: its timestamp and a
//! digest of its `id`, packed in one `AtomicU64` (8 bytes a device, so 8 MB for a million).
//! TR-069 Annex G: retransmissions carry the same `id` and are ignored once one copy was
//! accepted; a message older than the last accepted one is a replay.

use std::sync::atomic::{AtomicU64, Ordering};

use super::message::{UdpCr, UdpCrReject};

pub struct ReplayWindow {
    last: Vec<AtomicU64>,
}

impl ReplayWindow {
    /// One slot per local device.
    pub fn new(devices: usize) -> Self {
        ReplayWindow {
            last: (0..devices).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    fn pack(cr: &UdpCr<'_>) -> u64 {
        // +1 keeps 0 for "never"; u32 seconds last until 2106.
        ((cr.ts.min(u64::from(u32::MAX - 1)) + 1) << 32) | u64::from(cr.id_digest())
    }

    /// Whether `cr` is new for device `local` (an out-of-range device is never new).
    pub fn check(&self, local: usize, cr: &UdpCr<'_>) -> Result<(), UdpCrReject> {
        let slot = self.last.get(local).ok_or(UdpCrReject::UnknownUser)?;
        let last = slot.load(Ordering::Relaxed);
        if last == 0 {
            return Ok(());
        }
        let this = Self::pack(cr);
        if (last as u32) == (this as u32) || (this >> 32) < (last >> 32) {
            return Err(UdpCrReject::Replayed);
        }
        Ok(())
    }

    /// Remembers `cr` as the last accepted message of device `local`.
    pub fn record(&self, local: usize, cr: &UdpCr<'_>) {
        if let Some(slot) = self.last.get(local) {
            slot.store(Self::pack(cr), Ordering::Relaxed);
        }
    }

    /// A factory reset forgets (a new boot knows no earlier message).
    pub fn forget(&self, local: usize) {
        if let Some(slot) = self.last.get(local) {
            slot.store(0, Ordering::Relaxed);
        }
    }
}
