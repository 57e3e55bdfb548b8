//! A counting global allocator (this thread only): how many bytes a piece of work
//! held live at its peak, to show a rejection costs no memory and a decode stays
//! in its budget. It sees Rust allocations only; C code (libjpeg-turbo) allocates
//! with malloc, which the peak-RSS harness (`budget`) measures instead.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
struct Usage {
    live: usize,
    peak: usize,
}

thread_local! {
    static USAGE: Cell<Option<Usage>> = const { Cell::new(None) };
}

fn track(grow: usize, shrink: usize) {
    let _ = USAGE.try_with(|usage| {
        if let Some(mut u) = usage.get() {
            u.live = (u.live + grow).saturating_sub(shrink);
            u.peak = u.peak.max(u.live);
            usage.set(Some(u));
        }
    });
}

struct CountingAlloc;

#[expect(
    unsafe_code,
    reason = "a global allocator is unsafe to implement; this one only counts and forwards to System"
)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size(), 0);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(layout.size(), 0);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(0, layout.size());
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size, layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Runs `work`, returning its result, the peak bytes it held live on this thread,
/// and how long it took.
pub fn measured<T>(work: impl FnOnce() -> T) -> (T, usize, Duration) {
    USAGE.with(|u| u.set(Some(Usage { live: 0, peak: 0 })));
    let started = Instant::now();
    let result = work();
    let elapsed = started.elapsed();
    let peak = USAGE.with(|u| u.take().map_or(0, |u| u.peak));
    (result, peak, elapsed)
}
