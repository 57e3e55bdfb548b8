//! The hostile corpus as files, made by the same `makers` as the budget tests
//! (`tests/it/jpeg_budget.rs`, `tests/it/png_budget.rs`):
//!
//! - `hostile_inputs <dir>` writes the worst inputs the pipeline accepts, so the
//!   Lambda bootstraps can be measured on them (`xtask/bench/lambda_invocations.py`):
//!   the biggest photos of each kind and the costliest accepted hostile cases.
//!   Each is checked to be accepted (`process_upload_bytes`) before it is written.
//! - `hostile_inputs --measure` runs every kind, accepted or not, in a child
//!   process of its own (this example again) and prints a table: file bytes,
//!   outcome, peak RSS (the child's `VmHWM`) and CPU time (user + system, from
//!   `wait4`). Uploads go through `process_upload_bytes`, planted processed
//!   images through `rotate_jpeg_bytes` at all four angles (a worker's batch);
//!   the arithmetic-coded kinds are also decoded by libjpeg-turbo at 1/8 as the
//!   pipeline did before it refused them, to show what they cost.
//! - `hostile_inputs --seeds <corpus dir>` writes the small hostile seeds of the
//!   fuzz targets (`fuzz/corpus/<target>/`).
//!
//! Build it with `--release --features testing` for figures.

use std::error::Error;
use std::io::Read as _;
use std::path::Path;
use std::process::{Command, Stdio};

use augment_pipeline::Angle;
use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use augment_pipeline::limits::MAX_UPLOAD_BYTES;
use augment_pipeline::makers::{
    Coding, Colours, arithmetic_bomb, arithmetic_without_data, flat_jpeg, hand_made_jpeg,
    huffman_table_flood, lossless_scan_flood, many_idat_png, paeth_png, photo_jpeg,
    refinement_flood, restart_every_block, restart_every_mcu, solid_png, with_segments,
};
use turbojpeg::{Colorspace, Compressor, Image, PixelFormat};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;
/// One kind: its file name and how to make it.
type Kind = (&'static str, fn() -> Vec<u8>);

const RGBA8: (u8, u8) = (6, 8);
const RGBA16: (u8, u8) = (6, 16);
const BLUE8: [u8; 4] = [0, 0, 0xFF, 0xFF];
const BLUE16: [u8; 8] = [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF];

/// The worst inputs the pipeline accepts (written by `hostile_inputs <dir>`).
const ACCEPTED: &[Kind] = &[
    ("baseline_64mp_photo.jpg", || photo_jpeg(8000, 8000, false)),
    ("progressive_48mp_photo.jpg", || {
        photo_jpeg(8000, 6000, true)
    }),
    ("progressive_64mp_ycbcr.jpg", || {
        progressive_flat_64mp(Colours::Ycc420)
    }),
    ("progressive_64mp_cmyk.jpg", || {
        progressive_flat_64mp(Colours::Cmyk)
    }),
    ("progressive_64mp_ycck.jpg", || {
        progressive_flat_64mp(Colours::Ycck)
    }),
    ("restart_every_mcu_64mp.jpg", restart_every_mcu),
    ("lossless_biggest.jpg", biggest_lossless),
    ("exif_150_segments.jpg", || {
        with_segments(0xE1, b"Exif\0\0", 150)
    }),
    ("refined_bands_2040_cmyk.jpg", || {
        refinement_flood(2040, 4, true)
    }),
    ("mcu_1x1_16384_wide.jpg", || {
        hand_made_jpeg(0xC0, (16384, 3906), 1, &[], 2048 * 489 / 4)
    }),
    ("mcu_1x1_64mp_cmyk.jpg", || {
        hand_made_jpeg(0xC0, (8000, 8000), 4, &[], 1000 * 1000)
    }),
    ("restart_every_block_16384_wide.jpg", || {
        restart_every_block((16384, 3906))
    }),
    ("huffman_tables_9mib.jpg", || huffman_table_flood(9 << 20)),
    ("rgba_64mp.png", || {
        solid_png((8000, 8000), RGBA8, &BLUE8, false, &[])
    }),
    ("rgba_64mp_adam7.png", || {
        solid_png((8000, 8000), RGBA8, &BLUE8, true, &[])
    }),
    ("rgba16_at_limit.png", || {
        solid_png((16_384, 2047), RGBA16, &BLUE16, false, &[])
    }),
    ("rgba16_at_limit_adam7.png", || {
        solid_png((16_384, 2047), RGBA16, &BLUE16, true, &[])
    }),
    ("rgba16_at_limit_paeth.png", || {
        paeth_png((16_384, 2047), 16, false)
    }),
    ("rgba16_at_limit_paeth_adam7.png", || {
        paeth_png((16_384, 2047), 16, true)
    }),
    ("rgba8_64mp_paeth_adam7.png", || {
        paeth_png((8000, 8000), 8, true)
    }),
    ("idat_800k_empty.png", || many_idat_png(800_000, 0)),
    ("idat_1_byte_chunks.png", || many_idat_png(0, 1)),
];

/// Uploads that are refused (measured, never written as accepted).
const REFUSED: &[Kind] = &[
    ("arithmetic_4160_100_scans.jpg", || {
        arithmetic_bomb(4160, 100)
    }),
    ("arithmetic_cmyk_64mp_no_data.jpg", || {
        arithmetic_without_data((8000, 8000), 4)
    }),
    ("arithmetic_baseline_16mp.jpg", || {
        flat_jpeg((4000, 4000), Colours::Ycc420, Coding::Arithmetic)
    }),
    ("lossless_1000_42_scans.jpg", || {
        lossless_scan_flood(1000, 42)
    }),
    ("dc_refined_64mp_cmyk.jpg", || {
        refinement_flood(8000, 4, false)
    }),
    ("rgba16_64mp_paeth.png", || {
        paeth_png((16_384, 3906), 16, false)
    }),
    ("rgba16_64mp_paeth_adam7.png", || {
        paeth_png((16_384, 3906), 16, true)
    }),
];

/// Files planted under `processed/`, turned four ways as the worker would.
const PLANTED: &[Kind] = &[
    ("planted_processed_output.jpg", || {
        process_upload_bytes(&photo_jpeg(1024, 768, false)).unwrap_or_default()
    }),
    ("planted_arithmetic_4160_100_scans.jpg", || {
        arithmetic_bomb(4160, 100)
    }),
    ("planted_baseline_3712.jpg", || {
        flat_jpeg((3712, 3712), Colours::Ycc420, Coding::Baseline)
    }),
    ("planted_progressive_256.jpg", || {
        flat_jpeg((256, 256), Colours::Ycc420, Coding::Progressive)
    }),
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["--one", work, file] => one(work, Path::new(file)),
        ["--measure"] => measure(),
        ["--seeds", dir] => seeds(Path::new(dir)),
        [dir] => write_accepted(Path::new(dir)),
        _ => Err("usage: hostile_inputs <dir> | --measure | --seeds <corpus dir>".into()),
    }
}

fn write_accepted(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    for &(name, make) in ACCEPTED {
        let bytes = make();
        if bytes.len() as u64 > MAX_UPLOAD_BYTES {
            return Err(format!("{name}: {} bytes, over the upload limit", bytes.len()).into());
        }
        process_upload_bytes(&bytes).map_err(|err| format!("{name} is not accepted: {err}"))?;
        std::fs::write(dir.join(name), &bytes)?;
        println!("{name:36} {:>10} bytes", bytes.len());
    }
    Ok(())
}

/// Every kind in a child of its own; one row each.
fn measure() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("hostile-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "{:40} {:>10}  {:28} {:>10} {:>8}",
        "kind", "bytes", "outcome", "peak RSS", "CPU"
    );
    let arithmetic = REFUSED.iter().filter(|(name, _)| name.starts_with("arith"));
    let runs = ACCEPTED
        .iter()
        .chain(REFUSED)
        .map(|kind| ("process", kind))
        .chain(PLANTED.iter().map(|kind| ("rotate", kind)))
        .chain(arithmetic.map(|kind| ("turbo-1/8", kind)));
    for (work, &(name, make)) in runs {
        let path = dir.join(name);
        std::fs::write(&path, make())?;
        let (outcome, rss_kib, cpu_ms) = run_child(work, &path)?;
        println!(
            "{:40} {:>10}  {:28} {:>6} MiB {:>5} ms",
            format!("{name} ({work})"),
            std::fs::metadata(&path)?.len(),
            outcome,
            rss_kib.div_ceil(1024),
            cpu_ms
        );
        std::fs::remove_file(&path)?;
    }
    std::fs::remove_dir(&dir)?;
    Ok(())
}

/// In the child: the work on one file, then its outcome and `VmHWM` on stdout.
fn one(work: &str, file: &Path) -> Result<()> {
    let bytes = std::fs::read(file)?;
    let outcome = match work {
        "rotate" => Angle::ALL
            .into_iter()
            .try_for_each(|angle| rotate_jpeg_bytes(&bytes, angle).map(drop))
            .map_or_else(|err| format!("rejected:{}", err.code), |()| "turned".into()),
        "turbo-1/8" => turbo_eighth(&bytes),
        _ => process_upload_bytes(&bytes).map_or_else(
            |err| format!("rejected:{}", err.code),
            |_| "processed".into(),
        ),
    };
    let status = std::fs::read_to_string("/proc/self/status")?;
    let hwm = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kib| kib.trim().trim_end_matches(" kB").parse::<u64>().ok())
        .ok_or("no VmHWM")?;
    println!("{outcome} {hwm}");
    Ok(())
}

/// What the pipeline did with an arithmetic-coded JPEG before refusing them: one
/// libjpeg-turbo decode at 1/8.
fn turbo_eighth(bytes: &[u8]) -> String {
    let decoded = turbojpeg::Decompressor::new().and_then(|mut decompressor| {
        decompressor.set_scaling_factor(turbojpeg::ScalingFactor::ONE_EIGHTH)?;
        let header = decompressor.read_header(bytes)?;
        let scaled = header.scaled(turbojpeg::ScalingFactor::ONE_EIGHTH);
        let format = match header.colorspace {
            Colorspace::CMYK | Colorspace::YCCK => PixelFormat::CMYK,
            _ => PixelFormat::RGB,
        };
        let mut pixels = vec![0; scaled.width * scaled.height * format.size()];
        decompressor.decompress(
            bytes,
            Image {
                pixels: pixels.as_mut_slice(),
                width: scaled.width,
                pitch: scaled.width * format.size(),
                height: scaled.height,
                format,
            },
        )
    });
    match decoded {
        Ok(()) => "decoded".into(),
        Err(err) => format!("failed:{}", err.to_string().replace(' ', "_")),
    }
}

/// Runs `--one work file` and returns its outcome, peak RSS (KiB) and CPU (ms).
fn run_child(work: &str, file: &Path) -> Result<(String, u64, u64)> {
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--one")
        .arg(work)
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .ok_or("no stdout")?
        .read_to_string(&mut stdout)?;
    let cpu_ms = reap(child.id())?;
    let mut fields = stdout.split_whitespace();
    let (Some(outcome), Some(rss)) = (fields.next(), fields.next()) else {
        return Err(format!("{}: the child said {stdout:?}", file.display()).into());
    };
    Ok((outcome.to_owned(), rss.parse()?, cpu_ms))
}

/// Reaps the child `pid` with `wait4`: its own user + system CPU time, in ms.
#[expect(
    unsafe_code,
    reason = "wait4 is the one call that gives a single child's CPU time"
)]
fn reap(pid: u32) -> Result<u64> {
    let pid = libc::pid_t::try_from(pid)?;
    let mut status = 0;
    // SAFETY: `rusage` is plain data, zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped; the pointers are to locals.
    let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    if reaped != pid {
        return Err(std::io::Error::last_os_error().into());
    }
    let ms = |time: libc::timeval| -> Result<u64> {
        Ok(u64::try_from(time.tv_sec)? * 1000 + u64::try_from(time.tv_usec)? / 1000)
    };
    Ok(ms(usage.ru_utime)? + ms(usage.ru_stime)?)
}

/// The fuzz targets' hostile seeds: small versions of every kind above.
fn seeds(corpus: &Path) -> Result<()> {
    let uploads = upload_seeds();
    let planted = planted_seeds()?;
    let uploads_dir = corpus.join("process_upload");
    for (name, bytes) in &uploads {
        std::fs::write(uploads_dir.join(name), bytes)?;
    }
    // As the rotate target reads them: the first byte picks the angle (0: 90°,
    // 1: 180°, 2: 270°, 3: 360°), the rest is what lies under `processed/`.
    let rotate_dir = corpus.join("rotate");
    let all = planted
        .iter()
        .map(|(name, bytes)| ((*name).to_owned(), bytes))
        .chain(uploads.iter().map(|(name, bytes)| {
            let stem = name.trim_start_matches("hostile-");
            let stem = stem.rsplit_once('.').map_or(stem, |(stem, _)| stem);
            (format!("planted-{stem}.bin"), bytes)
        }));
    for (selector, (name, bytes)) in (0_u8..).zip(all) {
        let mut seed = vec![selector % 4];
        seed.extend_from_slice(bytes);
        std::fs::write(rotate_dir.join(name), seed)?;
    }
    Ok(())
}

/// Uploads for the `process_upload` target (and, as planted, for `rotate`).
fn upload_seeds() -> [(&'static str, Vec<u8>); 9] {
    [
        (
            "hostile-arithmetic-64-100-scans.jpg",
            arithmetic_bomb(64, 100),
        ),
        (
            "hostile-arithmetic-cmyk-no-data.jpg",
            arithmetic_without_data((64, 64), 4),
        ),
        ("hostile-lossless-42-scans.jpg", lossless_scan_flood(16, 42)),
        (
            "hostile-refined-bands-cmyk.jpg",
            refinement_flood(32, 4, true),
        ),
        (
            "hostile-restart-every-block.jpg",
            restart_every_block((64, 16)),
        ),
        (
            "hostile-mcu-1x1-cmyk.jpg",
            hand_made_jpeg(0xC0, (64, 32), 4, &[], 32 * 2 * 4 / 8),
        ),
        (
            "hostile-paeth-16bit-adam7.png",
            paeth_png((24, 16), 16, true),
        ),
        ("hostile-idat-8-byte-chunks.png", many_idat_png(40, 8)),
        (
            "hostile-arithmetic-256.jpg",
            flat_jpeg((256, 256), Colours::Ycc420, Coding::Arithmetic),
        ),
    ]
}

/// What may lie under `processed/`, for the `rotate` target.
fn planted_seeds() -> Result<[(&'static str, Vec<u8>); 4]> {
    let processed = process_upload_bytes(&photo_jpeg(320, 240, false))?;
    Ok([
        ("processed-photo-256-rot90.bin", processed),
        (
            "planted-arithmetic-64-100-scans-rot180.bin",
            arithmetic_bomb(64, 100),
        ),
        (
            "planted-progressive-256-rot270.bin",
            flat_jpeg((256, 256), Colours::Ycc420, Coding::Progressive),
        ),
        (
            "planted-444-256-rot360.bin",
            flat_jpeg((256, 256), Colours::Ycc444, Coding::Baseline),
        ),
    ])
}

/// A smooth 8000×8000 progressive JPEG in `colours`.
fn progressive_flat_64mp(colours: Colours) -> Vec<u8> {
    flat_jpeg((8000, 8000), colours, Coding::Progressive)
}

/// The biggest square lossless RGB JPEG the pipeline accepts, to 50 px (empty if
/// none of 1200 px is).
fn biggest_lossless() -> Vec<u8> {
    let mut best = Vec::new();
    for side in (1200..=2000).step_by(50) {
        let pixels: Vec<u8> = (0..side * side * 3)
            .map(|i| ((i / 3 % side + i / (3 * side)) / 16 % 256) as u8)
            .collect();
        let jpeg = Compressor::new().and_then(|mut compressor| {
            compressor.set_lossless(true)?;
            compressor.compress_to_vec(Image {
                pixels: pixels.as_slice(),
                width: side,
                pitch: side * 3,
                height: side,
                format: PixelFormat::RGB,
            })
        });
        match jpeg {
            Ok(jpeg) if process_upload_bytes(&jpeg).is_ok() => best = jpeg,
            _ => break,
        }
    }
    best
}
