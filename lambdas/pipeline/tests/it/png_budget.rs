//! Hostile PNGs, made here in code (a few megabytes at most, most of it deflate
//! back-references): colour-profile and text bombs, 64-megapixel images plain,
//! Adam7-interlaced, 16-bit and turned by EXIF, a huge `eXIf`, empty and endless
//! image data, an APNG of many big frames, sizes over the limits. Each has its
//! outcome (processed and looking right, or its rejection code), and the peak heap
//! bytes of the decode are asserted: PNGs are decoded in pure Rust, so the counting
//! allocator sees every byte. CPU time is printed, never asserted.

use augment_pipeline::imaging::{self, process_upload_bytes};
use augment_pipeline::limits::{CANVAS_SIDE_PX, MAX_PNG_DECODE_BYTES};
use augment_pipeline::sniff::ImageFormat;
use augment_pipeline::{RejectCode, Rejection};
use image::RgbImage;

use augment_pipeline::makers::{
    exif_tiff, fix_png_crcs, ihdr, passes, png_chunk, png_of_chunks, png_with, solid_png,
    zlib_of_runs,
};

use crate::support::{BLACK, BLUE, GRAY, MIB, PINK, RED, Rgb, WHITE, measured};

/// What any PNG decode may hold at its peak, fit and JPEG encode included: the
/// budget the decoder checks from the header.
const PEAK_BYTES: usize = MAX_PNG_DECODE_BYTES as usize;

const RGB8: u8 = 2;
const RGBA8: u8 = 6;

// ---------------------------------------------------------------------------------
// Running a case

/// Processes `input`, printing its peak heap bytes and CPU time, and asserting the
/// peak is within the decoder's budget.
fn run(what: &str, input: &[u8]) -> Result<RgbImage, Rejection> {
    assert!(
        input.len() <= 10 * MIB,
        "{what}: {} bytes is over the upload limit",
        input.len()
    );
    let cpu_before = thread_cpu_ms();
    let (result, peak, elapsed) = measured(|| process_upload_bytes(input));
    let cpu_ms = thread_cpu_ms() - cpu_before;
    println!(
        "{what}: {} KiB in, peak {:.2} MiB, CPU {cpu_ms} ms, wall {elapsed:?}",
        input.len() / 1024,
        peak as f64 / MIB as f64
    );
    assert!(
        peak <= PEAK_BYTES,
        "{what}: held {peak} bytes at the peak, over {PEAK_BYTES}"
    );
    result.map(|jpeg| {
        let image = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg)
            .expect("the output decodes as a JPEG")
            .into_rgb8();
        assert_eq!(image.dimensions(), (CANVAS_SIDE_PX, CANVAS_SIDE_PX));
        image
    })
}

#[track_caller]
fn processed(what: &str, input: &[u8]) -> RgbImage {
    match run(what, input) {
        Ok(image) => image,
        Err(rejection) => panic!("{what}: rejected: {rejection}"),
    }
}

#[track_caller]
fn rejected(what: &str, input: &[u8], code: RejectCode) -> Rejection {
    match run(what, input) {
        Ok(_) => panic!("{what}: accepted"),
        Err(rejection) => {
            assert_eq!(rejection.code, code, "{what}: {rejection}");
            assert_plain(what, &rejection);
            rejection
        }
    }
}

/// A message for people: no decoder's debug text.
#[track_caller]
fn assert_plain(what: &str, rejection: &Rejection) {
    for debug in ["{", "}", "::", "Error", "ChunkType"] {
        assert!(
            !rejection.message.contains(debug),
            "{what}: the message shows decoder text: {}",
            rejection.message
        );
    }
}

/// User + system CPU time of this thread so far, in ms (10 ms ticks), or 0 off Linux.
fn thread_cpu_ms() -> u64 {
    let Ok(stat) = std::fs::read_to_string("/proc/thread-self/stat") else {
        return 0;
    };
    let Some((_, fields)) = stat.rsplit_once(") ") else {
        return 0;
    };
    let ticks: u64 = fields
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|field| field.parse::<u64>().ok())
        .sum();
    ticks * 10
}

/// Mean colour of the output over `x0..x1` × `y0..y1`.
fn mean(image: &RgbImage, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> Rgb {
    let mut sum = [0_u64; 3];
    for y in y0..y1 {
        for x in x0..x1 {
            for (s, &v) in sum.iter_mut().zip(&image.get_pixel(x, y).0) {
                *s += u64::from(v);
            }
        }
    }
    let n = u64::from((x1 - x0) * (y1 - y0));
    sum.map(|s| u8::try_from(s / n).unwrap())
}

#[track_caller]
fn assert_near(what: &str, actual: Rgb, expected: Rgb, tolerance: u8) {
    let near = actual
        .iter()
        .zip(&expected)
        .all(|(&a, &e)| a.abs_diff(e) <= tolerance);
    assert!(near, "{what}: {actual:?}, expected {expected:?}");
}

/// The output shows a `colour` picture filling the centred `width`×`height` box of
/// the canvas, on white.
#[track_caller]
fn assert_picture(what: &str, out: &RgbImage, (width, height): (u32, u32), colour: Rgb) {
    let side = CANVAS_SIDE_PX;
    let (x0, y0) = ((side - width) / 2, (side - height) / 2);
    // Inside, away from the edges Lanczos and JPEG blur.
    let inside = mean(out, (x0 + 4, x0 + width - 4), (y0 + 4, y0 + height - 4));
    assert_near(&format!("{what}: the picture"), inside, colour, 6);
    if y0 >= 8 {
        let above = mean(out, (0, side), (0, y0 - 4));
        assert_near(&format!("{what}: above the picture"), above, WHITE, 3);
    }
    if x0 >= 8 {
        let left = mean(out, (0, x0 - 4), (0, side));
        assert_near(&format!("{what}: left of the picture"), left, WHITE, 3);
    }
}

// ---------------------------------------------------------------------------------
// Making PNGs

/// A 1-pixel checkerboard of opaque red and transparent green, RGBA: two rows
/// repeat (not interlaced), or each Adam7 pass repeats one row (every pass but the
/// last is one colour: its x and y steps are even).
fn checkerboard(width: u32, height: u32, interlaced: bool) -> Vec<u8> {
    let colour = |x: u32, y: u32| -> [u8; 4] {
        if (x + y).is_multiple_of(2) {
            [255, 0, 0, 255]
        } else {
            [0, 255, 0, 0]
        }
    };
    let row = |x0: u32, dx: u32, y: u32, samples: u32| -> Vec<u8> {
        let mut row = vec![0];
        for i in 0..samples {
            row.extend_from_slice(&colour(x0 + i * dx, y));
        }
        row
    };
    let periods: Vec<(Vec<u8>, u64)> = if interlaced {
        passes(width, height, true)
            .into_iter()
            .map(|pass| {
                let row = row(pass.x0, pass.dx, pass.y0, pass.samples);
                let len = row.len() as u64 * u64::from(pass.lines);
                (row, len)
            })
            .collect()
    } else {
        let two_rows = [row(0, 1, 0, width), row(0, 1, 1, width)].concat();
        let len = (two_rows.len() as u64 / 2) * u64::from(height);
        vec![(two_rows, len)]
    };
    let runs: Vec<(&[u8], u64)> = periods.iter().map(|(p, len)| (&p[..], *len)).collect();
    png_with(
        &ihdr(width, height, 8, RGBA8, interlaced),
        &[],
        &zlib_of_runs(&runs),
    )
}

/// A busy picture (gradients, noise and, in RGBA, varying alpha), as a PNG with
/// every byte a literal, plain or Adam7-interlaced.
fn busy_png(width: u32, height: u32, colour_type: u8, interlaced: bool) -> Vec<u8> {
    let channels = if colour_type == RGBA8 { 4 } else { 3 };
    let pixel = |x: u32, y: u32| -> [u8; 4] {
        let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 27;
        [
            (x * 255 / width) as u8,
            (y * 255 / height) as u8,
            ((x + y + noise) % 256) as u8,
            ((x * 7 + y * 3) % 256) as u8,
        ]
    };
    let mut raw = Vec::new();
    for pass in passes(width, height, interlaced) {
        for line in 0..pass.lines {
            raw.push(0);
            for i in 0..pass.samples {
                let (x, y) = (pass.x0 + i * pass.dx, pass.y0 + line * pass.dy);
                raw.extend_from_slice(&pixel(x, y)[..channels]);
            }
        }
    }
    png_with(
        &ihdr(width, height, 8, colour_type, interlaced),
        &[],
        &zlib_of_runs(&[(&raw, raw.len() as u64)]),
    )
}

/// A compressed chunk's data (iCCP, zTXt): a keyword, the method, then `len`
/// zeros deflated.
fn compressed_chunk(keyword: &str, len: u64) -> Vec<u8> {
    let mut data = keyword.as_bytes().to_vec();
    data.extend_from_slice(&[0, 0]);
    data.extend_from_slice(&zlib_of_runs(&[(&[0], len)]));
    data
}

fn small_red(extra: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    solid_png((640, 480), (RGB8, 8), &RED, false, extra)
}

// ---------------------------------------------------------------------------------
// Ancillary chunks: never inflated, never copied

#[test]
fn a_colour_profile_bomb_is_skipped() {
    // 512 MiB of zeros behind a colour profile: the pipeline uses no profile.
    let icc = compressed_chunk("bomb", 512 * MIB as u64);
    let input = small_red(&[(b"iCCP", &icc)]);
    let out = processed("iCCP inflating to 512 MiB", &input);
    assert_picture("iCCP bomb", &out, (256, 192), RED);
}

#[test]
fn text_bombs_are_skipped() {
    let ztxt = compressed_chunk("Comment", 512 * MIB as u64);
    let mut itxt = b"Comment\0\x01\0\0\0".to_vec(); // compressed, no language or key
    itxt.extend_from_slice(&zlib_of_runs(&[(&[0], 256 * MIB as u64)]));
    let input = small_red(&[(b"zTXt", &ztxt), (b"iTXt", &itxt)]);
    let out = processed("zTXt and iTXt inflating to 768 MiB", &input);
    assert_picture("text bombs", &out, (256, 192), RED);
}

#[test]
fn a_huge_exif_chunk_is_read_in_place() {
    // A 640x320 picture turned by EXIF 6 (shown 320 wide, 640 high), its eXIf
    // padded to 9 MiB: read where it lies, never copied.
    let mut exif = exif_tiff(6, false);
    exif.resize(9 * MIB, 0);
    let input = solid_png((640, 320), (RGB8, 8), &BLUE, false, &[(b"eXIf", &exif)]);
    let out = processed("9 MiB eXIf, orientation 6", &input);
    assert_picture("huge eXIf", &out, (128, 256), BLUE);
}

// ---------------------------------------------------------------------------------
// 64 megapixels, streamed

#[test]
fn a_64_megapixel_checkerboard_averages_to_the_right_colour_plain_or_adam7() {
    // Opaque red and transparent pixels average, over white, to pink: averaged with
    // premultiplied alpha, the transparent green lends no colour. The Adam7 passes
    // land in the same box sums, so the output is the plain one's.
    let plain = processed(
        "64 MP RGBA checkerboard",
        &checkerboard(4000, 16_000, false),
    );
    assert_picture("64 MP checkerboard", &plain, (64, 256), PINK);
    let interlaced = processed(
        "64 MP RGBA checkerboard, Adam7",
        &checkerboard(4000, 16_000, true),
    );
    assert!(
        interlaced == plain,
        "Adam7 and plain give different outputs"
    );
}

#[test]
fn adam7_gives_the_same_output_as_plain_on_a_busy_picture() {
    // Odd sizes, so the passes' partial blocks and the boxes' edges are both met;
    // tiny ones, where some passes have no pixels at all.
    for (width, height) in [
        (1003, 701),
        (1, 1),
        (2, 3),
        (5, 1),
        (1, 9),
        (7, 7),
        (300, 17),
    ] {
        // RGB rows are summed a band at a time when not interlaced, RGBA ones
        // premultiplied straight into the boxes: both must match Adam7's.
        for (colour_type, name) in [(RGB8, "RGB"), (RGBA8, "RGBA")] {
            let what = format!("busy {width}x{height} {name}");
            let plain = processed(&what, &busy_png(width, height, colour_type, false));
            let interlaced = processed(
                &format!("{what}, Adam7"),
                &busy_png(width, height, colour_type, true),
            );
            assert!(
                plain == interlaced,
                "{what}: Adam7 and plain give different outputs"
            );
        }
    }
}

#[test]
fn a_64_megapixel_png_turned_by_exif_6_comes_out_landscape() {
    // Stored 4000 wide and 16000 high, shown 16000 wide and 4000 high.
    let exif = exif_tiff(6, false);
    let input = solid_png(
        (4000, 16_000),
        (RGBA8, 8),
        &[0, 0, 0, 255],
        false,
        &[(b"eXIf", &exif)],
    );
    let out = processed("64 MP RGBA, EXIF 6", &input);
    assert_picture("64 MP EXIF 6", &out, (256, 64), BLACK);
}

#[test]
fn sixteen_bit_rgba_up_to_the_image_data_limit_is_processed_plain_or_adam7() {
    // 16384 a side, 8 bytes a pixel: 2047 rows are just under 256 MiB of rows.
    let gray16 = [0x80, 0x00, 0x80, 0x00, 0x80, 0x00, 0xFF, 0xFF];
    for (what, interlaced) in [("plain", false), ("Adam7", true)] {
        let input = solid_png((16_384, 2047), (RGBA8, 16), &gray16, interlaced, &[]);
        let out = processed(&format!("16384x2047 RGBA16, {what}"), &input);
        assert_picture(
            &format!("RGBA16 at the limit, {what}"),
            &out,
            (256, 32),
            GRAY,
        );
        // 64 megapixels of it would be 512 MB of rows to inflate and unfilter.
        let over = solid_png((16_384, 3906), (RGBA8, 16), &gray16, interlaced, &[]);
        let rejection = rejected(
            &format!("16384x3906 RGBA16, {what}"),
            &over,
            RejectCode::TooManyPixels,
        );
        assert!(
            rejection.message.contains("16 bits a channel"),
            "{rejection}"
        );
    }
}

/// Costly PNGs within the limits, each processed in a child whose CPU time and
/// peak RSS are asserted (see `budget`).
#[cfg(target_os = "linux")]
const CASES: &[crate::budget::Case] = {
    use crate::budget::{Case, Expect};
    use augment_pipeline::makers::{many_idat_png, paeth_png};
    &[
        Case {
            name: "RGBA16 16384x2047 Paeth",
            make: || paeth_png((16_384, 2047), 16, false),
            expect: Expect::Processed,
        },
        Case {
            name: "RGBA16 16384x2047 Paeth Adam7",
            make: || paeth_png((16_384, 2047), 16, true),
            expect: Expect::Processed,
        },
        Case {
            name: "RGBA16 16384x3906 Paeth (64 MP)",
            make: || paeth_png((16_384, 3906), 16, false),
            expect: Expect::Rejected(RejectCode::TooManyPixels),
        },
        Case {
            name: "RGBA8 8000x8000 Paeth Adam7",
            make: || paeth_png((8000, 8000), 8, true),
            expect: Expect::Processed,
        },
        Case {
            name: "800,000 empty IDAT chunks",
            make: || many_idat_png(800_000, 0),
            expect: Expect::Processed,
        },
        Case {
            name: "image data in 1-byte IDAT chunks",
            make: || many_idat_png(0, 1),
            expect: Expect::Processed,
        },
    ]
};

#[cfg(target_os = "linux")]
#[test]
fn costly_pngs_stay_within_the_cpu_and_memory_budget() {
    if crate::budget::run_child_if_asked() {
        return;
    }
    crate::budget::check_cases(
        "png_budget::costly_pngs_stay_within_the_cpu_and_memory_budget",
        CASES,
    );
}

#[test]
fn adam7_at_the_pixel_limit_is_processed() {
    let input = solid_png((8000, 8000), (RGBA8, 8), &[0, 0, 255, 255], true, &[]);
    let out = processed("8000x8000 RGBA, Adam7", &input);
    assert_picture("Adam7 at the limit", &out, (256, 256), BLUE);
}

// ---------------------------------------------------------------------------------
// Image data: empty, endless, frames

#[test]
fn empty_image_data_is_corrupt() {
    let input = png_with(&ihdr(64, 48, 8, RGB8, false), &[], &[]);
    rejected("empty IDAT", &input, RejectCode::Corrupt);
}

#[test]
fn image_data_that_never_yields_the_image_is_corrupt() {
    // 9 MiB of empty stored deflate blocks: no pixels, however long it is read.
    let mut zlib = vec![0x78, 0x01];
    for _ in 0..(9 * MIB / 5) {
        zlib.extend_from_slice(&[0x00, 0x00, 0x00, 0xFF, 0xFF]);
    }
    zlib.extend_from_slice(&[0x01, 0x00, 0x00, 0xFF, 0xFF]);
    let input = png_with(&ihdr(64, 48, 8, RGB8, false), &[], &zlib);
    rejected("9 MiB of empty deflate blocks", &input, RejectCode::Corrupt);
}

#[test]
fn image_data_going_on_after_the_image_is_never_inflated() {
    // A whole picture, then 6.6 MiB more IDAT chunks of a deflate bomb.
    let picture = small_red(&[]);
    let bomb = zlib_of_runs(&[(&[0], 1 << 30)]);
    let iend = picture.len() - 12;
    let mut input = picture[..iend].to_vec();
    for piece in bomb.chunks(64 * 1024) {
        png_chunk(&mut input, b"IDAT", piece);
    }
    png_chunk(&mut input, b"IEND", &[]);
    let out = processed("picture then 6.6 MiB more IDAT", &input);
    assert_picture("endless IDAT", &out, (256, 192), RED);
}

#[test]
fn of_an_apng_only_the_default_image_is_decoded() {
    // The default image is blue; then 400 frames of 1000x1000 zeros (black), 1.2 GB
    // to inflate if read.
    let (width, height) = (1000_u32, 1000_u32);
    let fctl = |sequence: u32| {
        let mut data = sequence.to_be_bytes().to_vec();
        for v in [width, height, 0, 0] {
            data.extend_from_slice(&v.to_be_bytes());
        }
        data.extend_from_slice(&[0, 1, 0, 10, 0, 0]); // delay 1/10 s, no dispose, source
        data
    };
    let frames = 400_u32;
    let mut actl = (frames + 1).to_be_bytes().to_vec();
    actl.extend_from_slice(&0_u32.to_be_bytes()); // loop forever
    let frame_zlib = zlib_of_runs(&[(&[0], u64::from(height) * (1 + u64::from(width) * 3))]);
    let default = solid_png((width, height), (RGB8, 8), &BLUE, false, &[]);
    let idat_end = default.len() - 12;
    let first_chunk = 8 + 25; // signature, IHDR
    let mut input = default[..first_chunk].to_vec();
    png_chunk(&mut input, b"acTL", &actl);
    png_chunk(&mut input, b"fcTL", &fctl(0));
    input.extend_from_slice(&default[first_chunk..idat_end]);
    for frame in 0..frames {
        png_chunk(&mut input, b"fcTL", &fctl(2 * frame + 1));
        let mut fdat = (2 * frame + 2).to_be_bytes().to_vec();
        fdat.extend_from_slice(&frame_zlib);
        png_chunk(&mut input, b"fdAT", &fdat);
    }
    png_chunk(&mut input, b"IEND", &[]);
    let out = processed("APNG, 400 big fdAT frames", &input);
    assert_picture("APNG", &out, (256, 256), BLUE);
}

// ---------------------------------------------------------------------------------
// Over the limits: rejected at the header

#[test]
fn sizes_over_the_limits_are_too_many_pixels() {
    for (what, (width, height)) in [
        ("16385x100", (16_385, 100)),
        ("100x16385", (100, 16_385)),
        ("8001x8000", (8001, 8000)),
    ] {
        let input = solid_png((width, height), (RGB8, 8), &RED, false, &[]);
        let rejection = rejected(what, &input, RejectCode::TooManyPixels);
        let (_, peak, _) = measured(|| process_upload_bytes(&input));
        assert!(
            peak < MIB,
            "{what}: held {peak} bytes to reject: {rejection}"
        );
    }
}

#[test]
fn a_shrink_over_the_budget_is_refused_before_allocating() {
    // Fitting a 64 MP PNG into 4096² (as no caller of the pipeline does) would keep
    // 4096×977 sums: over the budget, so refused from the header alone.
    let input = png_of_chunks(&[
        (b"IHDR", &ihdr(16_384, 3906, 16, RGBA8, true)),
        (b"IEND", &[]),
    ]);
    let (result, peak, _) = measured(|| imaging::decode(&input, ImageFormat::Png, 4096));
    let Err(rejection) = result else {
        panic!("a 64 MP shrink into 4096² was accepted");
    };
    assert_eq!(rejection.code, RejectCode::TooManyPixels, "{rejection}");
    assert_plain("over the budget", &rejection);
    assert!(peak < MIB, "held {peak} bytes to refuse");
}

#[test]
fn garbage_after_the_signature_gets_a_plain_message() {
    let cases: [(&str, Vec<u8>); 3] = [
        ("bad chunk type", {
            let mut input = small_red(&[]);
            input[12..16].copy_from_slice(b"I\x01DR");
            fix_png_crcs(&mut input);
            input
        }),
        ("bad CRC", {
            let mut input = small_red(&[]);
            input[29] ^= 0xFF;
            input
        }),
        ("no IHDR", {
            let mut input = b"\x89PNG\r\n\x1a\n".to_vec();
            input.extend_from_slice(&[0xAB; 64]);
            input
        }),
    ];
    for (what, input) in cases {
        rejected(what, &input, RejectCode::Corrupt);
    }
}
