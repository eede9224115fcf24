//! A shard's timer queue: one binary heap of 16-byte entries for every device that will wake,
//! with lazy invalidation — rescheduling bumps the device's generation and pushes a new entry;
//! stale entries are skipped when they surface. No future, waker or task per idle device.
//!
//! Stale entries are also swept when the heap is full, before it would grow: a device that is
//! woken early (a value change, a connection request, an outage's recovery) leaves its old
//! entry behind until that entry's due time, and a burst of such wakes used to double the
//! heap for good (1.6 MB per 100,000 devices at the soak's outage, issue #13). Only a slot's
//! latest entry is live, so after a sweep the heap holds at most one entry per device; the
//! headroom left above that (an eighth: 2 B per device) keeps sweeps rare (amortised O(1) per
//! push).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// One wake-up: when (ms since the fleet started), which slot, which generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Entry {
    pub due_ms: u64,
    pub slot: u32,
    pub gen: u32,
}

#[derive(Debug, Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Reverse<Entry>>,
}

impl TimerQueue {
    /// Room for `n` devices' live entries and an eighth more of stale ones.
    pub fn with_capacity(n: usize) -> Self {
        TimerQueue {
            heap: BinaryHeap::with_capacity(n + n / 8 + 16),
        }
    }

    /// Adds an entry. When the heap is full, first drops every entry `live` rejects (a slot's
    /// earlier generations); it grows only if that frees less than a sixteenth.
    pub fn push(&mut self, due_ms: u64, slot: u32, gen: u32, live: impl Fn(u32, u32) -> bool) {
        let cap = self.heap.capacity();
        if self.heap.len() == cap && cap >= 16 {
            self.heap.retain(|Reverse(e)| live(e.slot, e.gen));
            if self.heap.len() > cap - cap / 16 {
                self.heap.reserve(cap / 8);
            }
        }
        self.heap.push(Reverse(Entry { due_ms, slot, gen }));
    }

    /// The earliest entry's time.
    pub fn next_due(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse(e)| e.due_ms)
    }

    /// Pops the earliest entry if it is due at `now_ms`.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<Entry> {
        match self.heap.peek() {
            Some(Reverse(e)) if e.due_ms <= now_ms => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Heap bytes held (for the memory estimate and bench).
    pub fn heap_bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<Entry>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_only_when_due() {
        let mut q = TimerQueue::default();
        q.push(30, 1, 0, |_, _| true);
        q.push(10, 2, 0, |_, _| true);
        q.push(20, 3, 0, |_, _| true);
        assert_eq!(q.next_due(), Some(10));
        assert_eq!(q.pop_due(5), None);
        assert_eq!(q.pop_due(25).map(|e| e.slot), Some(2));
        assert_eq!(q.pop_due(25).map(|e| e.slot), Some(3));
        assert_eq!(q.pop_due(25), None);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn stale_entries_are_swept_before_the_heap_grows() {
        let devices = 1000u32;
        let mut q = TimerQueue::with_capacity(devices as usize);
        let cap = q.heap.capacity();
        let mut gen = vec![0u32; devices as usize];
        // Every device is woken early 50 times; each wake leaves its old entry behind.
        for round in 0..50u64 {
            for slot in 0..devices {
                gen[slot as usize] += 1;
                let current = gen[slot as usize];
                q.push(1_000_000 - round, slot, current, |s, e| {
                    gen[s as usize] == e
                });
            }
        }
        assert_eq!(q.heap.capacity(), cap, "the heap grew");
        // Every live entry is still there, and surfaces once.
        let mut seen = vec![false; devices as usize];
        while let Some(e) = q.pop_due(u64::MAX) {
            if gen[e.slot as usize] == e.gen {
                assert!(!seen[e.slot as usize]);
                seen[e.slot as usize] = true;
            }
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn live_entries_beyond_the_room_still_fit() {
        let mut q = TimerQueue::with_capacity(4);
        for slot in 0..100 {
            q.push(slot as u64, slot, 0, |_, _| true);
        }
        assert_eq!(q.len(), 100);
        assert_eq!(q.pop_due(0).map(|e| e.slot), Some(0));
    }

    #[test]
    fn entries_are_16_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }
}
