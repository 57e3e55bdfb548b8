//! What both targets share: a counting global allocator (process-wide, since the
//! decoders may use worker threads) and the check of each result.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use augment_pipeline::Rejection;

/// Peak heap bytes one input may hold live, over what was live before it: the image
/// core's budget (64 MiB of the whole process per upload, issue "Image core: bounded
/// on hostile input"). A hostile file that needs more must be rejected before it is
/// allocated.
pub const PEAK_ALLOC_CEILING_BYTES: usize = 64 * 1024 * 1024;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrink(bytes: usize) {
    LIVE.fetch_sub(bytes, Ordering::Relaxed);
}

pub struct CountingAlloc;

#[expect(
    unsafe_code,
    reason = "a global allocator is unsafe to implement; this one only counts and forwards to System"
)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            shrink(layout.size());
            grow(new_size);
        }
        new
    }
}

/// Runs `work` on one input and fails the run (a crash libFuzzer saves) when it
/// held more than [`PEAK_ALLOC_CEILING_BYTES`] at once, or returned anything but a
/// [`Rejection`] or a JPEG. A panic anywhere, even one the pipeline's decoder guard
/// would turn into a rejection, is a crash too (libFuzzer's panic hook aborts).
/// Returns what `work` returned.
pub fn check(
    what: &str,
    work: impl FnOnce() -> Result<Vec<u8>, Rejection>,
) -> Result<Vec<u8>, Rejection> {
    let result = within_ceiling(what, work);
    if let Ok(jpeg) = &result {
        assert!(
            jpeg.starts_with(&[0xFF, 0xD8, 0xFF]) && jpeg.ends_with(&[0xFF, 0xD9]),
            "{what} returned {} bytes that are not a JPEG",
            jpeg.len()
        );
    }
    result
}

/// Runs `work`, asserting its peak allocation stays within the ceiling.
pub fn within_ceiling<T>(what: &str, work: impl FnOnce() -> T) -> T {
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let result = work();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    assert!(
        peak <= PEAK_ALLOC_CEILING_BYTES,
        "{what} held {peak} bytes at its peak, over the {PEAK_ALLOC_CEILING_BYTES}-byte ceiling"
    );
    result
}
