//! Single-use connection-request nonces in fixed memory.
//!
//! A Digest `Authorization` proves knowledge of the password for one nonce; replayed (same
//! nonce, nc and cnonce) it proves nothing new, so a nonce is accepted once (RFC 7616 §3.3
//! lets a server refuse a nonce it has seen, answering `stale=true` so an honest client simply
//! asks again; TR-069 §3.2.2 ACSs open each connection request with a fresh GET anyway).
//!
//! Memory is fixed, whatever the fleet size: every nonce carries the sequence number of its
//! challenge, and one bit per sequence number is kept for the last [`WINDOW`] challenges (a
//! ring of 2^20 bits, 128 KiB for the process, no per-device heap). A nonce older than the
//! window is treated as stale: at 1 million challenges within a nonce's 60 s life (17k/s, far
//! above what connection-request rate limits let through) an honest ACS gets one more
//! challenge; a replay is never accepted.

use std::sync::atomic::{AtomicU64, Ordering};

/// Challenges remembered (a power of two).
pub const WINDOW: u64 = 1 << 20;

/// The used-nonce ring, shared by every listener task.
#[derive(Debug)]
pub struct NonceWindow {
    /// Sequence number of the next challenge.
    next: AtomicU64,
    /// Bit `seq % WINDOW`: the nonce of challenge `seq` was accepted.
    used: Box<[AtomicU64]>,
}

impl Default for NonceWindow {
    fn default() -> Self {
        NonceWindow {
            next: AtomicU64::new(0),
            used: (0..WINDOW / 64).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl NonceWindow {
    /// A sequence number for a new challenge; its bit starts clear (the slot's previous owner,
    /// WINDOW challenges ago, is outside the window from now on).
    pub fn issue(&self) -> u64 {
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let (word, bit) = slot(seq);
        self.used[word].fetch_and(!bit, Ordering::Relaxed);
        seq
    }

    /// Whether `seq` was issued and is still inside the window.
    pub fn in_window(&self, seq: u64) -> bool {
        let next = self.next.load(Ordering::Relaxed);
        seq < next && next - seq <= WINDOW
    }

    /// Marks `seq` used; false if it already was (a replay) or left the window.
    pub fn consume(&self, seq: u64) -> bool {
        if !self.in_window(seq) {
            return false;
        }
        let (word, bit) = slot(seq);
        let before = self.used[word].fetch_or(bit, Ordering::Relaxed);
        // The slot may have been reissued meanwhile: check the window again after marking.
        before & bit == 0 && self.in_window(seq)
    }
}

fn slot(seq: u64) -> (usize, u64) {
    let i = seq % WINDOW;
    ((i / 64) as usize, 1u64 << (i % 64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_consumed_once() {
        let w = NonceWindow::default();
        let a = w.issue();
        let b = w.issue();
        assert!(w.consume(a));
        assert!(!w.consume(a), "replay");
        assert!(w.consume(b));
        assert!(!w.consume(b + 1), "never issued");
        assert_eq!(w.used.len() * 8, 128 * 1024, "fixed memory");
    }

    #[test]
    fn nonces_older_than_the_window_are_refused() {
        let w = NonceWindow::default();
        let old = w.issue();
        for _ in 0..WINDOW {
            w.issue();
        }
        assert!(!w.in_window(old));
        assert!(!w.consume(old), "its slot belongs to a newer challenge now");
        let fresh = w.issue();
        assert!(w.consume(fresh));
    }
}
