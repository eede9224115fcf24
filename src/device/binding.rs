//! A device's STUN binding (TR-069 Annex G), kept in one byte of its record instead of three
//! values in its [`Delta`](super::Delta).
//!
//! Why: a binding is `UDPConnectionRequestAddress`, `NATDetected` and `STUNEnable`. Written as
//! values, they cost a device its first `Delta` (a box of seven vectors) plus three strings —
//! about 480 bytes, measured (BENCHMARKS.md): more than the whole budget of an idle device.
//! But the addresses are few: devices send their keep-alives from the fleet's few shared UDP
//! sockets, so the public address a STUN server maps is one of at most a few per socket. The
//! fleet interns them in one table ([`PublicAddrs`]) and a device holds the entry's number
//! and the NATDetected bit; its view reads the three values from there. A value the ACS wrote
//! (STUNEnable by SetParameterValues) is in the delta and wins, as any written value does.

use std::net::SocketAddr;
use std::sync::OnceLock;

/// Public addresses the fleet has seen, numbered; append-only, so readers take no lock.
#[derive(Debug)]
pub struct PublicAddrs {
    slots: Box<[OnceLock<SocketAddr>]>,
}

/// Entries a table holds: a device's byte keeps 7 bits of entry number (0 = no binding).
pub const MAX_PUBLIC_ADDRS: usize = 127;

impl Default for PublicAddrs {
    fn default() -> Self {
        PublicAddrs {
            slots: (0..MAX_PUBLIC_ADDRS).map(|_| OnceLock::new()).collect(),
        }
    }
}

impl PublicAddrs {
    /// The entry number of `addr`, added when new; None when the table is full (the caller
    /// then writes the binding as plain values). Two racing writers may add the same address
    /// twice: both entries read back the same.
    pub fn intern(&self, addr: SocketAddr) -> Option<u8> {
        for (i, slot) in self.slots.iter().enumerate() {
            match slot.get() {
                Some(a) if *a == addr => return Some(i as u8),
                Some(_) => continue,
                None => {
                    let _ = slot.set(addr);
                    if slot.get() == Some(&addr) {
                        return Some(i as u8);
                    }
                }
            }
        }
        None
    }

    pub fn get(&self, entry: u8) -> Option<SocketAddr> {
        self.slots.get(usize::from(entry))?.get().copied()
    }
}

/// A device's binding byte: bit 7 NATDetected, bits 0..7 the entry number + 1 (0 = none).
pub(crate) fn pack(entry: u8, nat_detected: bool) -> u8 {
    (entry.min(MAX_PUBLIC_ADDRS as u8 - 1) + 1) | if nat_detected { 0x80 } else { 0 }
}

/// (entry number, NATDetected) of a binding byte; None when the device has no binding.
pub(crate) fn unpack(b: u8) -> Option<(u8, bool)> {
    let n = b & 0x7F;
    (n != 0).then(|| (n - 1, b & 0x80 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_intern_once_and_bytes_round_trip() {
        let t = PublicAddrs::default();
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let b: SocketAddr = "[2001:db8::1]:4001".parse().unwrap();
        assert_eq!(
            (t.intern(a), t.intern(b), t.intern(a)),
            (Some(0), Some(1), Some(0))
        );
        assert_eq!(t.get(1), Some(b));
        assert_eq!(t.get(2), None);
        for e in [0, 5, 126] {
            for nat in [false, true] {
                assert_eq!(unpack(pack(e, nat)), Some((e, nat)));
            }
        }
        assert_eq!(unpack(0), None);
        let full = PublicAddrs::default();
        for p in 0..MAX_PUBLIC_ADDRS as u16 {
            assert!(full.intern(SocketAddr::from(([10, 0, 0, 1], p))).is_some());
        }
        assert_eq!(full.intern(a), None, "full: the caller writes values");
    }
}
