//! Images a second of the image core on many files: each file read, processed and
//! turned four ways (the per-upload job of `augment process`, without its local
//! bucket's file writes), on N threads taking files from a shared counter.
//!
//! `throughput <dir> <threads>` prints one JSON line:
//! `{"images": N, "threads": N, "secs": N, "images_per_s": N}`.

use std::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use augment_pipeline::Angle;
use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use serde_json::json;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, threads] = args.as_slice() else {
        return Err("usage: throughput <dir> <threads>".into());
    };
    let threads: usize = threads.parse()?;
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<(), String> {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
                        let processed = process_upload_bytes(&bytes)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        for angle in Angle::ALL {
                            std::hint::black_box(
                                rotate_jpeg_bytes(&processed, angle).map_err(|e| e.to_string())?,
                            );
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| "a worker panicked".to_owned())??;
        }
        Ok(())
    })?;
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        json!({ "images": files.len(), "threads": threads, "secs": secs,
                "images_per_s": files.len() as f64 / secs })
    );
    Ok(())
}
