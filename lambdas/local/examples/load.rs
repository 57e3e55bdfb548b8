//! Load: N small uploads (64×48 JPEGs) through local mode, as fast as the
//! pipeline takes them; prints images/s and the peak RSS. Run in release:
//! `cargo run --release -p augment-local --example load -- 10000`.

use std::time::Instant;

use augment_local::{LocalPipeline, PipelineEvent};
use augment_pipeline::contract::UPLOAD_PREFIX;
use augment_pipeline::imaging;
use augment_pipeline::ports::{ObjectStore as _, PutObject};
use image::{Rgb, RgbImage};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args().nth(1).map_or(Ok(10_000), |n| n.parse())?;
    let jobs = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(jobs + 1)
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    let body = imaging::encode_jpeg(&RgbImage::from_fn(64, 48, |x, y| {
        Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    }));
    let started = Instant::now();
    let (done, failed) = runtime.block_on(async {
        let (pipeline, mut events) = LocalPipeline::start(dir.path(), jobs);
        let feeder = pipeline.clone();
        let uploads = tokio::spawn(async move {
            for i in 0..count {
                let key = format!("{UPLOAD_PREFIX}img_{i:05}.jpg");
                let put =
                    feeder
                        .store()
                        .put(PutObject::new(key.clone(), body.clone(), "image/jpeg"));
                if put.await.is_ok() {
                    feeder.notify_upload(key).await;
                }
            }
        });
        let (mut rotations, mut failed) = (0, 0);
        while rotations + failed < 4 * count {
            match events.recv().await {
                Some(PipelineEvent::Rotation { result: Ok(_), .. }) => rotations += 1,
                Some(PipelineEvent::Rotation { result: Err(_), .. }) => failed += 1,
                Some(PipelineEvent::Upload { result: Err(_), .. }) => failed += 4,
                Some(PipelineEvent::Upload { .. }) => {}
                None => break,
            }
        }
        let _ = uploads.await;
        (rotations / 4, failed)
    });
    let secs = started.elapsed().as_secs_f64();
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    println!(
        "{done} of {count} uploads done ({failed} rotations failed) in {secs:.1} s: {:.0} images/s with {jobs} jobs; peak RSS {peak}",
        done as f64 / secs
    );
    Ok(())
}
