//! Writes the worst inputs the pipeline accepts to files, so the Lambda bootstraps
//! can be measured on them (`xtask/bench/lambda_invocations.py`, issue 11 §5): the
//! biggest photos of each kind, and the extreme cases of the hostile-corpus tests
//! (`tests/it/jpeg_budget.rs`, `tests/it/png_budget.rs`) that are processed rather
//! than rejected, made by the same `makers` as those tests. Each is checked to be
//! accepted (`process_upload_bytes`) before it is written.
//!
//! `hostile_inputs <dir>` writes one file per case and prints its name and size.

use std::error::Error;
use std::path::Path;

use augment_pipeline::imaging::process_upload_bytes;
use augment_pipeline::limits::{MAX_SIDE_PX, MAX_UPLOAD_BYTES};
use augment_pipeline::makers::{
    flat_jpeg, photo_jpeg, restart_every_mcu, solid_png, with_segments,
};
use turbojpeg::{Colorspace, Compressor, Image, PixelFormat};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;
/// One case: its file name and how to make it.
type Case = (&'static str, Box<dyn Fn() -> Result<Vec<u8>>>);

const RGBA8: (u8, u8) = (6, 8);
const RGBA16: (u8, u8) = (6, 16);
const BLUE8: [u8; 4] = [0, 0, 0xFF, 0xFF];
const BLUE16: [u8; 8] = [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        return Err("usage: hostile_inputs <dir>".into());
    };
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir)?;
    let side = MAX_SIDE_PX;
    let cases: Vec<Case> = vec![
        (
            "baseline_64mp_photo.jpg",
            Box::new(|| Ok(photo_jpeg(8000, 8000, false))),
        ),
        (
            "progressive_48mp_photo.jpg",
            Box::new(|| Ok(photo_jpeg(8000, 6000, true))),
        ),
        (
            "progressive_64mp_ycbcr.jpg",
            Box::new(|| Ok(progressive_flat_64mp(None))),
        ),
        (
            "progressive_64mp_cmyk.jpg",
            Box::new(|| Ok(progressive_flat_64mp(Some(Colorspace::CMYK)))),
        ),
        (
            "progressive_64mp_ycck.jpg",
            Box::new(|| Ok(progressive_flat_64mp(Some(Colorspace::YCCK)))),
        ),
        (
            "restart_every_mcu_64mp.jpg",
            Box::new(|| Ok(restart_every_mcu())),
        ),
        ("lossless_biggest.jpg", Box::new(biggest_lossless)),
        (
            "exif_150_segments.jpg",
            Box::new(|| Ok(with_segments(0xE1, b"Exif\0\0", 150))),
        ),
        (
            "rgba_64mp.png",
            Box::new(|| Ok(solid_png((8000, 8000), RGBA8, &BLUE8, false, &[]))),
        ),
        (
            "rgba_64mp_adam7.png",
            Box::new(|| Ok(solid_png((8000, 8000), RGBA8, &BLUE8, true, &[]))),
        ),
        (
            "rgba16_at_limit.png",
            Box::new(move || Ok(solid_png((side, 3906), RGBA16, &BLUE16, false, &[]))),
        ),
        (
            "rgba16_at_limit_adam7.png",
            Box::new(move || Ok(solid_png((side, 3906), RGBA16, &BLUE16, true, &[]))),
        ),
    ];
    for (name, make) in cases {
        let bytes = make()?;
        if bytes.len() as u64 > MAX_UPLOAD_BYTES {
            return Err(format!("{name}: {} bytes, over the upload limit", bytes.len()).into());
        }
        process_upload_bytes(&bytes).map_err(|err| format!("{name} is not accepted: {err}"))?;
        std::fs::write(dir.join(name), &bytes)?;
        println!("{name:32} {:>10} bytes", bytes.len());
    }
    Ok(())
}

/// A smooth 8000×8000 progressive JPEG: YCbCr 4:2:0 from RGB, or four channels
/// written as `colorspace` (CMYK or YCCK).
fn progressive_flat_64mp(colorspace: Option<Colorspace>) -> Vec<u8> {
    let format = if colorspace.is_some() {
        PixelFormat::CMYK
    } else {
        PixelFormat::RGB
    };
    flat_jpeg((8000, 8000), format, colorspace, true, false)
}

/// The biggest square lossless RGB JPEG the pipeline accepts, to 50 px.
fn biggest_lossless() -> Result<Vec<u8>> {
    let mut best = None;
    for side in (1200..=2000).step_by(50) {
        let pixels: Vec<u8> = (0..side * side * 3)
            .map(|i| ((i / 3 % side + i / (3 * side)) / 16 % 256) as u8)
            .collect();
        let mut compressor = Compressor::new()?;
        compressor.set_lossless(true)?;
        let jpeg = compressor.compress_to_vec(Image {
            pixels: pixels.as_slice(),
            width: side,
            pitch: side * 3,
            height: side,
            format: PixelFormat::RGB,
        })?;
        if process_upload_bytes(&jpeg).is_err() {
            break;
        }
        best = Some(jpeg);
    }
    best.ok_or_else(|| "no lossless JPEG of 1200 px is accepted".into())
}
