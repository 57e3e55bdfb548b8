//! Our peer in `cargo xtask bench` (see docs/BENCHMARKS.md): times the job the
//! pipeline does per upload — process once, then the four rotations of the result.
//!
//! `bench_one <file> <repeat> [--out DIR]` prints one JSON line:
//! `{"ms": [...], "cpu_ms": N, "peak_rss_kib": N, "out_px": [[w, h], ...]}`.
//! `bench_one --baseline` prints the peak RSS of a process that did nothing.

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Instant;

use augment_pipeline::Angle;
use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use serde_json::json;

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;

const USAGE: &str = "usage: bench_one <file> <repeat> [--out DIR] | bench_one --baseline";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--baseline") {
        println!("{}", json!({ "peak_rss_kib": peak_rss_kib() }));
        return Ok(());
    }
    let (Some(file), Some(repeat)) = (args.first(), args.get(1)) else {
        return Err(USAGE.into());
    };
    let repeat: usize = repeat
        .parse()
        .map_err(|err| format!("repeat `{repeat}`: {err}"))?;
    let out_dir = match args.get(2..) {
        Some([flag, dir]) if flag == "--out" => Some(PathBuf::from(dir)),
        Some([]) => None,
        _ => return Err(USAGE.into()),
    };

    let mut ms = Vec::with_capacity(repeat);
    let mut outputs = Vec::new();
    let cpu_before = cpu_ms_so_far();
    for _ in 0..repeat {
        let start = Instant::now();
        outputs = std::hint::black_box(job(Path::new(file))?);
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    let cpu_ms = cpu_ms_so_far()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    // Read before the checks below, so their decoding is not counted.
    let peak_rss_kib = peak_rss_kib();

    let out_px = outputs
        .iter()
        .map(|jpeg| {
            let image = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg)?;
            Ok([image.width(), image.height()])
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(dir) = out_dir {
        let names = ["processed", "90", "180", "270", "360"];
        for (name, jpeg) in names.iter().zip(&outputs) {
            std::fs::write(dir.join(format!("{name}.jpg")), jpeg)?;
        }
    }
    println!(
        "{}",
        json!({ "ms": ms, "cpu_ms": cpu_ms, "peak_rss_kib": peak_rss_kib, "out_px": out_px })
    );
    Ok(())
}

/// From reading the upload to holding all five JPEGs: the processed image and its
/// four rotations, in that order.
fn job(file: &Path) -> Result<Vec<Vec<u8>>> {
    let upload = std::fs::read(file)?;
    let processed = process_upload_bytes(&upload)?;
    let mut outputs = Vec::with_capacity(1 + Angle::ALL.len());
    for angle in Angle::ALL {
        outputs.push(rotate_jpeg_bytes(&processed, angle)?);
    }
    outputs.insert(0, processed);
    Ok(outputs)
}

/// The process's resident-set high-water mark (`VmHWM`), or `None` off Linux.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of the whole process, threads included (the JPEG decoder
/// starts worker threads, so wall time alone would hide extra cores), or `None`
/// off Linux. `/proc` reports it in `USER_HZ` ticks, which Linux fixes at 100 a
/// second for user space, hence 10 ms per tick.
fn cpu_ms_so_far() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name start at field 3 (`state`);
    // `utime` and `stime` are fields 14 and 15.
    let (_, fields) = stat.rsplit_once(") ")?;
    let mut fields = fields.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) * 10)
}
