//! The bench process's allocator, counting calls on demand: `session --count-allocs 1` prints
//! the simulator's allocations per session (malloc, calloc and realloc calls between 10 % and 90 %
//! of the sessions; frees are not counted). Off, the count costs one relaxed load per call.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

// The binary's allocator (src/main.rs), so that the in-process fleet measures what ships.
#[cfg(all(feature = "mimalloc", not(feature = "system-allocator")))]
use mimalloc::MiMalloc as Inner;
#[cfg(not(all(feature = "mimalloc", not(feature = "system-allocator"))))]
use std::alloc::System as Inner;

/// Counting switched on (`--count-allocs`).
pub static ON: AtomicBool = AtomicBool::new(false);
static CALLS: AtomicU64 = AtomicU64::new(0);

/// Allocation calls so far (0 unless counting is on).
pub fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

pub struct Counting;

fn count() {
    if ON.load(Ordering::Relaxed) {
        CALLS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed unchanged to the binary's allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { Inner.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { Inner.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { Inner.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { Inner.dealloc(ptr, layout) }
    }
}
