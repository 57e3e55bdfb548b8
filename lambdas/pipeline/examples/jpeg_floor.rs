//! The JPEG floor: how long libjpeg-turbo's own 1/8 scaled decode of a file takes,
//! next to our decode at the scale the pipeline picks and the whole job (process
//! and four rotations), interleaved in one process so the ratios hold on a busy
//! machine.
//!
//! `jpeg_floor <file> <repeat>` prints one JSON line of median milliseconds:
//! `{"floor_ms": N, "decode_ms": N, "process_ms": N, "job_ms": N}`.
//! `jpeg_floor <file> <repeat> floor|decode|job|local` runs only that part, for an
//! instruction count (`valgrind --tool=callgrind`) of each on its own; `local` is
//! the job as local mode does it (the four rotations from one entropy decode).

use std::error::Error;
use std::time::Instant;

use augment_pipeline::Angle;
use augment_pipeline::imaging::{
    decode, process_upload_bytes, rotate_jpeg_bytes, rotate_jpeg_bytes_all,
};
use augment_pipeline::limits::CANVAS_SIDE_PX;
use augment_pipeline::sniff::ImageFormat;
use serde_json::json;

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, repeat, only) = match args.as_slice() {
        [file, repeat] => (file, repeat, None),
        [file, repeat, only] => (file, repeat, Some(only.as_str())),
        _ => return Err("usage: jpeg_floor <file> <repeat> [floor|decode|job|local]".into()),
    };
    let bytes = std::fs::read(file)?;
    let repeat: usize = repeat.parse()?;
    match only {
        Some(only) => run_part(&bytes, repeat, only),
        None => measure_all(&bytes, repeat),
    }
}

/// One part alone, `repeat` times, for an instruction count of it.
fn run_part(bytes: &[u8], repeat: usize, only: &str) -> Result<(), Box<dyn Error>> {
    for _ in 0..repeat {
        match only {
            "floor" => drop(std::hint::black_box(floor(bytes)?)),
            "decode" => drop(std::hint::black_box(decode(
                bytes,
                ImageFormat::Jpeg,
                CANVAS_SIDE_PX,
            )?)),
            "job" => {
                let processed = process_upload_bytes(bytes)?;
                for angle in Angle::ALL {
                    std::hint::black_box(rotate_jpeg_bytes(&processed, angle)?);
                }
            }
            "local" => {
                let processed = process_upload_bytes(bytes)?;
                std::hint::black_box(rotate_jpeg_bytes_all(&processed, &Angle::ALL)?);
            }
            other => {
                return Err(format!("no part `{other}`: floor, decode, job or local").into());
            }
        }
    }
    Ok(())
}

/// The floor, the decode, the processing and the whole job, interleaved
/// `repeat` times; prints the medians as one JSON line.
fn measure_all(bytes: &[u8], repeat: usize) -> Result<(), Box<dyn Error>> {
    let mut times = [const { Vec::new() }; 4];
    for _ in 0..repeat {
        let start = Instant::now();
        std::hint::black_box(floor(bytes)?);
        times[0].push(start.elapsed());
        let start = Instant::now();
        std::hint::black_box(decode(bytes, ImageFormat::Jpeg, CANVAS_SIDE_PX)?);
        times[1].push(start.elapsed());
        let start = Instant::now();
        let processed = process_upload_bytes(bytes)?;
        times[2].push(start.elapsed());
        for angle in Angle::ALL {
            std::hint::black_box(rotate_jpeg_bytes(&processed, angle)?);
        }
        times[3].push(start.elapsed());
    }
    let [floor_ms, decode_ms, process_ms, job_ms] = times.map(|mut t| {
        t.sort();
        t[t.len() / 2].as_secs_f64() * 1000.0
    });
    println!(
        "{}",
        json!({ "floor_ms": floor_ms, "decode_ms": decode_ms, "process_ms": process_ms, "job_ms": job_ms })
    );
    Ok(())
}

/// libjpeg-turbo's 1/8 decode to RGB, alone.
fn floor(bytes: &[u8]) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut decompressor = turbojpeg::Decompressor::new()?;
    decompressor.set_scaling_factor(turbojpeg::ScalingFactor::ONE_EIGHTH)?;
    let header = decompressor.read_header(bytes)?;
    let (width, height) = (header.width.div_ceil(8), header.height.div_ceil(8));
    let mut image = turbojpeg::Image {
        pixels: vec![0; width * height * 3],
        width,
        pitch: width * 3,
        height,
        format: turbojpeg::PixelFormat::RGB,
    };
    decompressor.decompress(bytes, image.as_deref_mut())?;
    Ok(image.pixels)
}
