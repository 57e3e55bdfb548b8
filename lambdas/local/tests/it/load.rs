//! Load through local mode: memory does not grow with the number of uploads.
//! The peak of live heap bytes over 2,000 uploads stays within that of 400 plus
//! a margin (a leak of even a few hundred bytes per upload would pass it). The
//! 10,000-upload figure (images/s, peak RSS) comes from the release example
//! `load`, which is measured, not asserted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use augment_local::{LocalPipeline, PipelineEvent};
use augment_pipeline::contract::UPLOAD_PREFIX;
use augment_pipeline::imaging;
use augment_pipeline::ports::{ObjectStore as _, PutObject};
use image::{Rgb, RgbImage};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

#[expect(
    unsafe_code,
    reason = "a global allocator is an unsafe trait; it only forwards to System"
)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const JOBS: usize = 2;

/// Peak live heap bytes while `count` uploads go through a fresh pipeline.
fn peak_over(count: usize) -> usize {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(JOBS + 1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let body = imaging::encode_jpeg(&RgbImage::from_fn(64, 48, |x, y| {
        Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    }));
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
    let before = LIVE.load(Ordering::Relaxed);
    let rotations = runtime.block_on(async {
        let (pipeline, mut events) = LocalPipeline::start(dir.path(), JOBS);
        let feeder = pipeline.clone();
        let uploads = tokio::spawn(async move {
            for i in 0..count {
                let key = format!("{UPLOAD_PREFIX}img_{i:05}.jpg");
                feeder
                    .store()
                    .put(PutObject::new(key.clone(), body.clone(), "image/jpeg"))
                    .await
                    .unwrap();
                feeder.notify_upload(key).await;
            }
        });
        let mut rotations = 0;
        while rotations < 4 * count {
            match events.recv().await.unwrap() {
                PipelineEvent::Rotation { result, .. } => {
                    result.unwrap();
                    rotations += 1;
                }
                PipelineEvent::Upload { result, .. } => drop(result.unwrap()),
            }
        }
        uploads.await.unwrap();
        rotations
    });
    assert_eq!(rotations, 4 * count);
    drop(runtime);
    PEAK.load(Ordering::Relaxed).saturating_sub(before)
}

#[test]
fn memory_does_not_grow_with_the_number_of_uploads() {
    let small = peak_over(400);
    let large = peak_over(2000);
    eprintln!("peak live heap: 400 uploads {small} B, 2,000 uploads {large} B");
    // 1,600 more uploads: a leak of 512 B each would add 800 KiB.
    assert!(
        large <= small + 512 * 1024,
        "peak grew from {small} B (400 uploads) to {large} B (2,000)"
    );
}
