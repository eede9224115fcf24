//! A shard's timer queue: one binary heap of 16-byte entries for every device that will wake,
//! with lazy invalidation — rescheduling bumps the device's generation and pushes a new entry;
//! stale entries are skipped when they surface. No future, waker or task per idle device.

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
    pub fn with_capacity(n: usize) -> Self {
        TimerQueue {
            heap: BinaryHeap::with_capacity(n),
        }
    }

    pub fn push(&mut self, due_ms: u64, slot: u32, gen: u32) {
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
        q.push(30, 1, 0);
        q.push(10, 2, 0);
        q.push(20, 3, 0);
        assert_eq!(q.next_due(), Some(10));
        assert_eq!(q.pop_due(5), None);
        assert_eq!(q.pop_due(25).map(|e| e.slot), Some(2));
        assert_eq!(q.pop_due(25).map(|e| e.slot), Some(3));
        assert_eq!(q.pop_due(25), None);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn entries_are_16_bytes() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }
}
