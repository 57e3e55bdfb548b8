//! What the test modules share: colours, and the counting allocator (one per
//! binary). The makers of
//! test inputs are the library's `makers` (feature `testing`), shared with the
//! `hostile_inputs` example.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

pub type Rgb = [u8; 3];

pub const RED: Rgb = [255, 0, 0];
pub const GREEN: Rgb = [0, 255, 0];
pub const BLUE: Rgb = [0, 0, 255];
pub const WHITE: Rgb = [255, 255, 255];
pub const BLACK: Rgb = [0, 0, 0];
pub const GRAY: Rgb = [128, 128, 128];
/// Red at 50% over white (or opaque red and transparent pixels, half and half).
pub const PINK: Rgb = [255, 128, 128];

// ---------------------------------------------------------------------------------
// Counting allocations (this thread only), to show what a decode holds at its peak

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

pub const MIB: usize = 1024 * 1024;
