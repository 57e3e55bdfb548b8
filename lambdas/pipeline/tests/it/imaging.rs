//! The image work checked as a person would check it: every output is decoded with an
//! independent decoder (the `image` crate's, not the one under test) and looked at:
//! is it a 256×256 RGB JPEG, is the picture where it should be, are the colours right.
//!
//! Inputs are made here in code with `jpeg-encoder`, `png` and `image`; the one
//! real-world file (a Pillow CMYK JPEG) is in `tests/fixtures/` with its script.

use std::io::Cursor;

use augment_pipeline::imaging::{fit_size, process_upload_bytes, rotate_jpeg_bytes};
use augment_pipeline::limits::{CANVAS_SIDE_PX, MAX_UPLOAD_BYTES};
use augment_pipeline::{Angle, RejectCode, Rejection};
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder as _, ImageFormat, RgbImage};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use augment_pipeline::makers::{crc32, exif_tiff, fix_png_crcs, png_chunk, png_of_zeros};

use crate::support::{BLACK, BLUE, GRAY, GREEN, MIB, PINK, RED, Rgb, WHITE, measured};

/// How far a channel may drift through JPEG compression on a flat area.
const TOL: u8 = 16;

// ---------------------------------------------------------------------------------
// Looking at outputs

/// Decodes an output as a person's viewer would, insisting on what the contract says.
fn open_output(jpeg: &[u8]) -> RgbImage {
    assert!(
        jpeg.starts_with(&[0xFF, 0xD8, 0xFF]),
        "the output is not a JPEG"
    );
    let image = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
        .expect("the output decodes as a JPEG");
    assert_eq!(image.color(), image::ColorType::Rgb8, "the output is RGB");
    assert_eq!(
        (image.width(), image.height()),
        (CANVAS_SIDE_PX, CANVAS_SIDE_PX),
        "the output is 256x256"
    );
    image.into_rgb8()
}

fn process(input: &[u8]) -> RgbImage {
    match process_upload_bytes(input) {
        Ok(jpeg) => open_output(&jpeg),
        Err(rejection) => panic!("the input was rejected: {rejection}"),
    }
}

fn reject(input: &[u8]) -> Rejection {
    match process_upload_bytes(input) {
        Ok(_) => panic!("the input was accepted"),
        Err(rejection) => rejection,
    }
}

/// The input is rejected with `code`, and its message says `says`.
fn assert_rejected_saying(input: &[u8], code: RejectCode, says: &str) {
    let rejection = reject(input);
    assert_eq!(rejection.code, code, "{says}");
    assert!(
        rejection.message.contains(says),
        "{says}: {}",
        rejection.message
    );
}

/// A JPEG cut after `len` bytes, closed with an end-of-image marker as a
/// careless writer would.
fn cut_short(whole: &[u8], len: usize) -> Vec<u8> {
    let mut input = whole[..len].to_vec();
    input.extend_from_slice(&[0xFF, 0xD9]);
    input
}

/// Mean colour of the square of side `2 * radius + 1` around `(x, y)`.
fn mean(image: &RgbImage, (x, y): (u32, u32), radius: u32) -> Rgb {
    let (mut sum, mut n) = ([0_u32; 3], 0_u32);
    for yy in y.saturating_sub(radius)..=(y + radius).min(image.height() - 1) {
        for xx in x.saturating_sub(radius)..=(x + radius).min(image.width() - 1) {
            for (s, c) in sum.iter_mut().zip(image.get_pixel(xx, yy).0) {
                *s += u32::from(c);
            }
            n += 1;
        }
    }
    sum.map(|s| u8::try_from((s + n / 2) / n).unwrap())
}

fn near(actual: Rgb, expected: Rgb, tolerance: u8) -> bool {
    actual
        .iter()
        .zip(expected)
        .all(|(&a, e)| a.abs_diff(e) <= tolerance)
}

#[track_caller]
fn assert_colour(image: &RgbImage, at: (u32, u32), expected: Rgb, what: &str) {
    assert_colour_within(image, at, expected, TOL, what);
}

#[track_caller]
fn assert_colour_within(
    image: &RgbImage,
    at: (u32, u32),
    expected: Rgb,
    tolerance: u8,
    what: &str,
) {
    let actual = mean(image, at, 3);
    assert!(
        near(actual, expected, tolerance),
        "{what}: at {at:?} the colour is {actual:?}, expected {expected:?} ± {tolerance}"
    );
}

/// The smallest box (inclusive corners) holding every pixel that is clearly not white.
fn content_box(image: &RgbImage) -> Option<(u32, u32, u32, u32)> {
    let mut found: Option<(u32, u32, u32, u32)> = None;
    for (x, y, px) in image.enumerate_pixels() {
        if px.0.iter().any(|&c| c < 200) {
            found = Some(match found {
                None => (x, y, x, y),
                Some((x0, y0, x1, y1)) => (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
            });
        }
    }
    found
}

/// Where the picture of a `width`×`height` input should land on the canvas.
fn expected_box(width: u32, height: u32) -> (u32, u32, u32, u32) {
    let (w, h) = fit_size(width, height, CANVAS_SIDE_PX);
    let (x, y) = ((CANVAS_SIDE_PX - w) / 2, (CANVAS_SIDE_PX - h) / 2);
    (x, y, x + w - 1, y + h - 1)
}

#[track_caller]
fn assert_box(image: &RgbImage, expected: (u32, u32, u32, u32), what: &str) {
    let actual = content_box(image).unwrap_or_else(|| panic!("{what}: the canvas is all white"));
    let off = [
        actual.0.abs_diff(expected.0),
        actual.1.abs_diff(expected.1),
        actual.2.abs_diff(expected.2),
        actual.3.abs_diff(expected.3),
    ];
    assert!(
        off.iter().all(|&d| d <= 1),
        "{what}: the picture covers {actual:?}, expected {expected:?} (±1)"
    );
}

/// Checks vertical stripes of `expected` colours filling the canvas area at
/// `(x, y, width, height)`, each at its centre.
#[track_caller]
fn assert_stripes(image: &RgbImage, area: (u32, u32, u32, u32), expected: &[Rgb], what: &str) {
    let (x, y, width, height) = area;
    let stripe = width / u32::try_from(expected.len()).unwrap();
    for (i, &colour) in (0_u32..).zip(expected) {
        let at = (x + stripe * i + stripe / 2, y + height / 2);
        assert_colour(image, at, colour, &format!("{what}, stripe {i}"));
    }
}

// ---------------------------------------------------------------------------------
// Making inputs

fn rgb_image(width: u32, height: u32, mut colour_at: impl FnMut(u32, u32) -> Rgb) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| image::Rgb(colour_at(x, y)))
}

/// Interleaved samples of vertical stripes, one colour each, equally wide.
fn stripes<T: Copy, const N: usize>(width: u32, height: u32, colours: &[[T; N]]) -> Vec<T> {
    let count = u32::try_from(colours.len()).unwrap();
    let row: Vec<T> = (0..width)
        .flat_map(|x| colours[usize::try_from((x * count / width).min(count - 1)).unwrap()])
        .collect();
    row.repeat(usize::try_from(height).unwrap())
}

fn stripes_image(width: u32, height: u32, colours: &[Rgb]) -> RgbImage {
    RgbImage::from_raw(width, height, stripes(width, height, colours)).unwrap()
}

/// A JPEG from `jpeg-encoder` at quality 95; `configure` picks sampling, progressive…
fn jpeg_raw(
    data: &[u8],
    (width, height): (u32, u32),
    colour: ColorType,
    configure: impl FnOnce(&mut Encoder<&mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = Encoder::new(&mut out, 95);
    configure(&mut encoder);
    let (width, height) = (
        u16::try_from(width).unwrap(),
        u16::try_from(height).unwrap(),
    );
    encoder.encode(data, width, height, colour).unwrap();
    out
}

fn jpeg_with(image: &RgbImage, configure: impl FnOnce(&mut Encoder<&mut Vec<u8>>)) -> Vec<u8> {
    jpeg_raw(
        image.as_raw(),
        image.dimensions(),
        ColorType::Rgb,
        configure,
    )
}

fn jpeg(image: &RgbImage) -> Vec<u8> {
    jpeg_with(image, |_| {})
}

fn png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// An indexed PNG: `indices` already packed at `depth` bits per pixel.
fn png_indexed(
    (width, height): (u32, u32),
    depth: png::BitDepth,
    palette: &[Rgb],
    trns: Option<&[u8]>,
    indices: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(depth);
    encoder.set_palette(palette.concat());
    if let Some(trns) = trns {
        encoder.set_trns(trns.to_vec());
    }
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(indices).unwrap();
    writer.finish().unwrap();
    out
}

/// Overwrites the size in a JPEG's frame header (SOF0/SOF2), as a hostile file would.
fn with_jpeg_size(mut jpeg: Vec<u8>, width: u16, height: u16) -> Vec<u8> {
    let sof = jpeg
        .windows(2)
        .position(|m| m == [0xFF, 0xC0] || m == [0xFF, 0xC2])
        .expect("a frame header");
    jpeg[sof + 5..sof + 7].copy_from_slice(&height.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&width.to_be_bytes());
    jpeg
}

fn with_png_size(mut png: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    assert_eq!(&png[12..16], b"IHDR");
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

/// A JPEG APP1 payload: `Exif\0\0` then the TIFF block.
fn exif_app1(orientation: u16, big_endian: bool) -> Vec<u8> {
    [b"Exif\0\0".as_slice(), &exif_tiff(orientation, big_endian)].concat()
}

/// Deterministic pseudo-random numbers (xorshift64), so failures reproduce.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

/// A busy picture (gradients plus noise), so the JPEG has real entropy-coded data.
fn busy_image(width: u32, height: u32, seed: u64) -> RgbImage {
    let mut rng = XorShift(seed);
    rgb_image(width, height, |x, y| {
        let noise = u32::from(rng_byte(&mut rng) >> 2);
        [
            ((x * 255 / width.max(1) + noise) % 256) as u8,
            ((y * 255 / height.max(1) + noise) % 256) as u8,
            ((x + y + noise) % 256) as u8,
        ]
    })
}

fn rng_byte(rng: &mut XorShift) -> u8 {
    rng.next().to_le_bytes()[0]
}

// ---------------------------------------------------------------------------------
// Rotation

/// White 256×256 with a red block top-left and a blue block top-right.
fn marker_canvas() -> RgbImage {
    rgb_image(256, 256, |x, y| match (x, y) {
        (0..64, 0..64) => RED,
        (192..256, 0..64) => BLUE,
        _ => WHITE,
    })
}

const TOP_LEFT: (u32, u32) = (32, 32);
const TOP_RIGHT: (u32, u32) = (224, 32);
const BOTTOM_LEFT: (u32, u32) = (32, 224);
const BOTTOM_RIGHT: (u32, u32) = (224, 224);

#[test]
fn rotations_turn_counter_clockwise_like_pillow() {
    let processed = process_upload_bytes(&png(&marker_canvas().into())).unwrap();
    let before = open_output(&processed);
    assert_colour(&before, TOP_LEFT, RED, "processed");
    assert_colour(&before, TOP_RIGHT, BLUE, "processed");

    // Pillow's Image.rotate(angle) turns counter-clockwise: at 90 the top-left corner
    // goes to the bottom-left and the top-right one to the top-left.
    let cases = [
        (Angle::Deg90, BOTTOM_LEFT, TOP_LEFT),
        (Angle::Deg180, BOTTOM_RIGHT, BOTTOM_LEFT),
        (Angle::Deg270, TOP_RIGHT, BOTTOM_RIGHT),
        (Angle::Deg360, TOP_LEFT, TOP_RIGHT),
    ];
    for (angle, red_at, blue_at) in cases {
        let rotated = open_output(&rotate_jpeg_bytes(&processed, angle).unwrap());
        let what = format!("rotated by {angle}");
        assert_colour(&rotated, red_at, RED, &what);
        assert_colour(&rotated, blue_at, BLUE, &what);
        for corner in [TOP_LEFT, TOP_RIGHT, BOTTOM_LEFT, BOTTOM_RIGHT] {
            if corner != red_at && corner != blue_at {
                assert_colour(&rotated, corner, WHITE, &what);
            }
        }
    }

    // 360 is the unrotated image: only re-encoding separates them.
    let same = open_output(&rotate_jpeg_bytes(&processed, Angle::Deg360).unwrap());
    let total: u64 = before
        .as_raw()
        .iter()
        .zip(same.as_raw())
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    let mean_diff = total as f64 / before.as_raw().len() as f64;
    assert!(
        mean_diff < 1.5,
        "360 differs from the original by {mean_diff:.2} a channel on average"
    );
}

#[test]
fn rotating_rejects_what_is_not_an_image() {
    let rejection = rotate_jpeg_bytes(b"not a jpeg", Angle::Deg90).unwrap_err();
    assert_eq!(rejection.code, RejectCode::UnsupportedType);
}

// ---------------------------------------------------------------------------------
// Fitting onto the canvas

#[test]
fn fit_size_keeps_the_aspect_and_never_enlarges() {
    assert_eq!(fit_size(1000, 250, 256), (256, 64));
    assert_eq!(fit_size(250, 1000, 256), (64, 256));
    assert_eq!(fit_size(6000, 4000, 256), (256, 171));
    assert_eq!(fit_size(10, 10, 256), (10, 10));
    assert_eq!(fit_size(256, 256, 256), (256, 256));
    assert_eq!(fit_size(257, 1, 256), (256, 1));
    assert_eq!(fit_size(1, 1000, 256), (1, 256));
    assert_eq!(fit_size(257, 256, 256), (256, 255));
}

const DARK: Rgb = [40, 40, 40];

/// `image` encoded as a PNG and as a JPEG, each processed.
fn processed_as_png_and_jpeg(image: &RgbImage) -> [(&'static str, RgbImage); 2] {
    [
        ("PNG", process(&png(&image.clone().into()))),
        ("JPEG", process(&jpeg(image))),
    ]
}

#[test]
fn wide_and_tall_images_fit_the_canvas_with_white_bars_on_the_short_sides() {
    // 1000×250 fits the width (bars above and below), 250×1000 the height (bars
    // left and right).
    for (what, size, content, bars) in [
        (
            "wide",
            (1000, 250),
            (0, 96, 255, 159),
            [(128, 40), (128, 215)],
        ),
        (
            "tall",
            (250, 1000),
            (96, 0, 159, 255),
            [(40, 128), (215, 128)],
        ),
    ] {
        let image = rgb_image(size.0, size.1, |_, _| DARK);
        for (kind, out) in processed_as_png_and_jpeg(&image) {
            let kind = format!("{what} {kind}");
            assert_box(&out, content, &kind);
            assert_colour(&out, (128, 128), DARK, &kind);
            for bar in bars {
                assert_colour(&out, bar, WHITE, &kind);
            }
        }
    }
}

#[test]
fn tiny_images_are_centred_and_not_enlarged() {
    let tiny = rgb_image(10, 10, |_, _| DARK);
    for (kind, out) in processed_as_png_and_jpeg(&tiny) {
        assert_box(&out, (123, 123, 132, 132), kind);
        assert_colour_within(&out, (127, 127), DARK, 24, kind);
    }
}

#[test]
fn a_256_square_fills_the_canvas() {
    // Four quadrants, so a shift or a flip would show.
    let square = rgb_image(256, 256, |x, y| match (x < 128, y < 128) {
        (true, true) => RED,
        (false, true) => GREEN,
        (true, false) => BLUE,
        (false, false) => DARK,
    });
    for (kind, input) in [
        ("PNG", png(&square.clone().into())),
        ("JPEG", jpeg(&square)),
    ] {
        let out = process(&input);
        assert_colour(&out, (3, 3), RED, kind);
        assert_colour(&out, (252, 3), GREEN, kind);
        assert_colour(&out, (3, 252), BLUE, kind);
        assert_colour(&out, (252, 252), DARK, kind);
        assert_colour(&out, (64, 64), RED, kind);
        assert_colour(&out, (192, 192), DARK, kind);
    }
}

#[test]
fn a_huge_photo_is_scaled_down() {
    // 6000×4000 (24 megapixels), left half red, right half blue.
    let huge = stripes_image(6000, 4000, &[RED, BLUE]);
    let input = jpeg(&huge);
    drop(huge);
    let (out, peak, _) = measured(|| process(&input));
    assert_box(&out, expected_box(6000, 4000), "6000x4000");
    assert_eq!(expected_box(6000, 4000), (0, 42, 255, 212));
    assert_colour(&out, (64, 128), RED, "left half");
    assert_colour(&out, (192, 128), BLUE, "right half");
    assert_colour(&out, (128, 20), WHITE, "bar above");
    assert_colour(&out, (128, 236), WHITE, "bar below");
    // Decoded at a DCT scale: no full-size (72 MB) image is ever held.
    assert!(peak < 16 * MIB, "held {peak} bytes");
}

#[test]
fn odd_sizes_never_panic_and_fill_the_right_box() {
    let sizes = [
        (257, 1),
        (1, 1000),
        (1, 1),
        (1000, 1),
        (3, 7),
        (255, 257),
        (257, 255),
        (16_384, 1),
        (1, 16_384),
        (517, 3),
        (9, 4099),
    ];
    for (width, height) in sizes {
        let image = rgb_image(width, height, |_, _| BLACK);
        for (kind, input) in [("PNG", png(&image.clone().into())), ("JPEG", jpeg(&image))] {
            let what = format!("{kind} {width}x{height}");
            let out = process(&input);
            let (x0, y0, x1, y1) = expected_box(width, height);
            if x1 - x0 >= 2 && y1 - y0 >= 2 {
                assert_box(&out, (x0, y0, x1, y1), &what);
            } else {
                // A line one pixel thin: only check it is there, dark, where expected.
                let centre = ((x0 + x1) / 2, (y0 + y1) / 2);
                let px = out.get_pixel(centre.0, centre.1).0;
                assert!(
                    px.iter().all(|&c| c < 160),
                    "{what}: the line at {centre:?} is {px:?}"
                );
                assert_colour(
                    &out,
                    (x0.saturating_sub(8), y0.saturating_sub(8)),
                    WHITE,
                    &what,
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// EXIF orientation

/// What a viewer should show: gray, with a red block top-left and a blue one top-right.
fn display_image(width: u32, height: u32) -> RgbImage {
    let block = height / 4;
    rgb_image(width, height, |x, y| {
        if y >= block {
            GRAY
        } else if x < block {
            RED
        } else if x >= width - block {
            BLUE
        } else {
            GRAY
        }
    })
}

/// The pixels a camera stores for `display` under EXIF orientation `orientation`,
/// straight from the TIFF definition of where row 0 and column 0 of the stored image
/// are shown (e.g. 6: row 0 is the right side, column 0 the top).
fn stored_for(display: &RgbImage, orientation: u16) -> RgbImage {
    let (w, h) = display.dimensions();
    let d = |x: u32, y: u32| *display.get_pixel(x, y);
    match orientation {
        1 => display.clone(),
        2 => RgbImage::from_fn(w, h, |x, y| d(w - 1 - x, y)),
        3 => RgbImage::from_fn(w, h, |x, y| d(w - 1 - x, h - 1 - y)),
        4 => RgbImage::from_fn(w, h, |x, y| d(x, h - 1 - y)),
        5 => RgbImage::from_fn(h, w, |x, y| d(y, x)),
        6 => RgbImage::from_fn(h, w, |x, y| d(w - 1 - y, x)),
        7 => RgbImage::from_fn(h, w, |x, y| d(w - 1 - y, h - 1 - x)),
        8 => RgbImage::from_fn(h, w, |x, y| d(y, h - 1 - x)),
        _ => unreachable!(),
    }
}

/// Checks the output shows `display_image(width, height)` upright.
#[track_caller]
fn assert_upright(out: &RgbImage, (width, height): (u32, u32), what: &str) {
    let (x0, y0, x1, _) = expected_box(width, height);
    let scale = f64::from(x1 - x0 + 1) / f64::from(width);
    let at = |x: u32, y: u32| {
        let map = |v: u32, origin: u32| origin + (f64::from(v) * scale) as u32;
        (map(x, x0), map(y, y0))
    };
    let half_block = height / 8;
    assert_colour(
        out,
        at(half_block, half_block),
        RED,
        &format!("{what}: top-left"),
    );
    assert_colour(
        out,
        at(width - half_block, half_block),
        BLUE,
        &format!("{what}: top-right"),
    );
    assert_colour(
        out,
        at(half_block, height - half_block),
        GRAY,
        &format!("{what}: bottom-left"),
    );
    assert_colour(
        out,
        at(width - half_block, height - half_block),
        GRAY,
        &format!("{what}: bottom-right"),
    );
    // Above the (landscape) picture, the canvas is white: a missed 90° turn would not be.
    assert_colour(out, (128, y0 / 2), WHITE, &format!("{what}: above"));
}

#[test]
fn jpeg_exif_orientation_is_applied_for_all_eight_values() {
    // 240x160 lands unscaled; 1024x512 also goes through the DCT-scaled decode.
    for size in [(240, 160), (1024, 512)] {
        let display = display_image(size.0, size.1);
        for orientation in 1..=8 {
            for big_endian in [false, true] {
                let stored = stored_for(&display, orientation);
                let input = jpeg_with(&stored, |e| {
                    e.set_sampling_factor(SamplingFactor::R_4_4_4);
                    e.add_app_segment(1, exif_app1(orientation, big_endian))
                        .unwrap();
                });
                let what =
                    format!("JPEG {size:?} orientation {orientation} big-endian {big_endian}");
                assert_upright(&process(&input), size, &what);
            }
        }
    }
}

#[test]
fn png_exif_orientation_is_applied_for_all_eight_values() {
    let size = (240, 160);
    let display = display_image(size.0, size.1);
    for orientation in 1..=8 {
        let stored = stored_for(&display, orientation);
        let mut input = Vec::new();
        let mut encoder = PngEncoder::new(&mut input);
        encoder
            .set_exif_metadata(exif_tiff(orientation, false))
            .unwrap();
        let (w, h) = stored.dimensions();
        encoder
            .write_image(stored.as_raw(), w, h, ExtendedColorType::Rgb8)
            .unwrap();
        assert!(
            input.windows(4).any(|c| c == b"eXIf"),
            "the PNG has an eXIf chunk"
        );
        assert_upright(
            &process(&input),
            size,
            &format!("PNG orientation {orientation}"),
        );
    }
}

// ---------------------------------------------------------------------------------
// Transparency

#[test]
fn transparency_is_composited_onto_white() {
    // Quadrants: transparent black, 50% red, opaque blue, transparent green.
    let rgba = image::RgbaImage::from_fn(256, 256, |x, y| {
        image::Rgba(match (x < 128, y < 128) {
            (true, true) => [0, 0, 0, 0],
            (false, true) => [255, 0, 0, 128],
            (true, false) => [0, 0, 255, 255],
            (false, false) => [0, 255, 0, 0],
        })
    });
    let out = process(&png(&rgba.into()));
    assert_colour(&out, (64, 64), WHITE, "transparent black");
    assert_colour_within(&out, (192, 64), PINK, 8, "50% red");
    assert_colour(&out, (64, 192), BLUE, "opaque blue");
    assert_colour(&out, (192, 192), WHITE, "transparent green");
}

// ---------------------------------------------------------------------------------
// Input kinds: every one comes out as RGB with the right colours

/// 256×128 inputs land unscaled at rows 64..192.
const BAND: (u32, u32, u32, u32) = (0, 64, 256, 128);

#[test]
fn grayscale_jpeg() {
    let input = jpeg_raw(
        &stripes(256, 128, &[[50_u8], [200]]),
        (256, 128),
        ColorType::Luma,
        |_| {},
    );
    assert_stripes(&process(&input), BAND, &[[50; 3], [200; 3]], "gray JPEG");
}

#[test]
fn grayscale_png_8_and_16_bit() {
    let gray8 = image::GrayImage::from_raw(256, 128, stripes(256, 128, &[[50_u8], [200]])).unwrap();
    assert_stripes(
        &process(&png(&gray8.into())),
        BAND,
        &[[50; 3], [200; 3]],
        "L8 PNG",
    );
    let gray16 = image::ImageBuffer::<image::Luma<u16>, _>::from_raw(
        256,
        128,
        stripes(256, 128, &[[50 * 257_u16], [200 * 257]]),
    )
    .unwrap();
    let input = png(&DynamicImage::ImageLuma16(gray16));
    assert_stripes(&process(&input), BAND, &[[50; 3], [200; 3]], "L16 PNG");
}

#[test]
fn gray_alpha_png() {
    // Transparent black → white; 50% black → mid gray; opaque dark gray.
    let la = stripes(256, 128, &[[0_u8, 0], [0, 128], [60, 255], [0, 255]]);
    let image = image::GrayAlphaImage::from_raw(256, 128, la).unwrap();
    let expected = [WHITE, [127; 3], [60; 3], BLACK];
    assert_stripes(
        &process(&png(&image.into())),
        BAND,
        &expected,
        "gray+alpha PNG",
    );
}

#[test]
fn palette_png_without_transparency() {
    // 1 bit per pixel: the left half index 0, the right half index 1.
    let row = [[0x00_u8; 16], [0xFF; 16]].concat();
    let indices = row.repeat(128);
    let input = png_indexed((256, 128), png::BitDepth::One, &[RED, BLUE], None, &indices);
    assert_stripes(&process(&input), BAND, &[RED, BLUE], "palette PNG");
}

#[test]
fn palette_png_with_trns() {
    // Opaque red, transparent blue, 50% green.
    let indices = stripes(256, 128, &[[0_u8], [1], [2]]);
    let trns = [255, 0, 128];
    let input = png_indexed(
        (256, 128),
        png::BitDepth::Eight,
        &[RED, BLUE, GREEN],
        Some(&trns),
        &indices,
    );
    let out = process(&input);
    // Three stripes of 85 px: sample their centres.
    assert_colour(&out, (42, 128), RED, "opaque entry");
    assert_colour(&out, (128, 128), WHITE, "transparent entry");
    assert_colour_within(&out, (213, 128), [127, 255, 127], 10, "50% entry");
}

#[test]
fn sixteen_bit_png_rgb_and_rgba() {
    let rgb16 = image::ImageBuffer::<image::Rgb<u16>, _>::from_raw(
        256,
        128,
        stripes(
            256,
            128,
            &[[65535_u16, 0, 0], [0, 0, 65535], [32768, 32768, 32768]],
        ),
    )
    .unwrap();
    let out = process(&png(&DynamicImage::ImageRgb16(rgb16)));
    assert_colour(&out, (42, 128), RED, "RGB16 red");
    assert_colour(&out, (128, 128), BLUE, "RGB16 blue");
    assert_colour(&out, (213, 128), GRAY, "RGB16 gray");

    let rgba16 = image::ImageBuffer::<image::Rgba<u16>, _>::from_raw(
        256,
        128,
        stripes(
            256,
            128,
            &[[65535_u16, 0, 0, 32768], [0, 0, 0, 0], [0, 0, 65535, 65535]],
        ),
    )
    .unwrap();
    let out = process(&png(&DynamicImage::ImageRgba16(rgba16)));
    assert_colour_within(&out, (42, 128), PINK, 8, "RGBA16 50% red");
    assert_colour(&out, (128, 128), WHITE, "RGBA16 transparent");
    assert_colour(&out, (213, 128), BLUE, "RGBA16 opaque blue");
}

/// Plain ink amounts (0 = no ink): red, blue, black, white.
const CMYK_STRIPES: [[u8; 4]; 4] = [
    [0, 255, 255, 0],
    [255, 255, 0, 0],
    [0, 0, 0, 255],
    [0, 0, 0, 0],
];
const CMYK_AS_RGB: [Rgb; 4] = [RED, BLUE, BLACK, WHITE];

#[test]
fn cmyk_and_ycck_jpegs_from_jpeg_encoder() {
    for (what, colour_type) in [
        ("CMYK JPEG", ColorType::Cmyk),
        ("YCCK JPEG", ColorType::CmykAsYcck),
    ] {
        let input = jpeg_raw(
            &stripes(256, 128, &CMYK_STRIPES),
            (256, 128),
            colour_type,
            |_| {},
        );
        assert_stripes(&process(&input), BAND, &CMYK_AS_RGB, what);
    }
}

#[test]
fn cmyk_jpeg_from_pillow_reads_like_photoshop_cmyk() {
    // The real-world convention (inverted channels, Adobe APP14), made by
    // tests/fixtures/make_fixtures.py: 64x16, the same four stripes, 16 px each.
    let input = include_bytes!("../fixtures/cmyk_pillow.jpg");
    assert!(
        input.windows(5).any(|w| w == b"Adobe"),
        "the fixture has an Adobe segment"
    );
    let out = process(input);
    // Placed at (96, 120), 64x16; the last stripe is white like the canvas.
    assert_eq!(expected_box(64, 16), (96, 120, 159, 135));
    assert_box(&out, (96, 120, 96 + 47, 135), "Pillow CMYK");
    for (i, colour) in (0_u32..).zip(CMYK_AS_RGB) {
        if colour != WHITE {
            let at = (96 + 16 * i + 8, 128);
            assert_colour_within(&out, at, colour, 24, &format!("Pillow CMYK stripe {i}"));
        }
    }
    assert_colour(&out, (96 + 56, 128), WHITE, "Pillow CMYK white stripe");
}

/// Red, green, blue, dark stripes at 1024×512: decoded at a DCT scale, then resized.
fn rgb_stripes_large() -> RgbImage {
    stripes_image(1024, 512, &[RED, GREEN, BLUE, DARK])
}

#[test]
fn progressive_jpeg() {
    for image in [
        rgb_stripes_large(),
        stripes_image(256, 128, &[RED, GREEN, BLUE, DARK]),
    ] {
        let input = jpeg_with(&image, |e| e.set_progressive(true));
        assert!(
            input.windows(2).any(|m| m == [0xFF, 0xC2]),
            "the JPEG is progressive"
        );
        let out = process(&input);
        assert_stripes(&out, BAND, &[RED, GREEN, BLUE, DARK], "progressive JPEG");
        assert_colour(&out, (128, 30), WHITE, "progressive JPEG, above");
    }
}

#[test]
fn jpeg_with_restart_markers() {
    for (interval, progressive) in [(1, false), (3, false), (7, false), (1, true), (3, true)] {
        let input = jpeg_with(&rgb_stripes_large(), |e| {
            e.set_restart_interval(interval);
            e.set_progressive(progressive);
        });
        assert!(
            input
                .windows(2)
                .any(|m| m[0] == 0xFF && (0xD0..=0xD7).contains(&m[1])),
            "the JPEG has restart markers"
        );
        let what = format!("restart interval {interval}, progressive {progressive}");
        assert_stripes(&process(&input), BAND, &[RED, GREEN, BLUE, DARK], &what);
    }
}

#[test]
fn every_chroma_subsampling() {
    let factors = [
        SamplingFactor::R_4_4_4,
        SamplingFactor::R_4_2_2,
        SamplingFactor::R_4_2_0,
        SamplingFactor::R_4_4_0,
        SamplingFactor::R_4_1_1,
        SamplingFactor::R_4_1_0,
    ];
    for factor in factors {
        for image in [
            rgb_stripes_large(),
            stripes_image(256, 128, &[RED, GREEN, BLUE, DARK]),
        ] {
            let input = jpeg_with(&image, |e| e.set_sampling_factor(factor));
            let what = format!("{factor:?} {:?}", image.dimensions());
            assert_stripes(&process(&input), BAND, &[RED, GREEN, BLUE, DARK], &what);
        }
    }
}

// ---------------------------------------------------------------------------------
// Lossless JPEG (SOF3): rare, but the decoder accepts it, so it must come out right

/// A lossless JPEG (predictor 1, one Huffman table) of `samples`, interleaved,
/// `components` to a pixel, at `precision` bits.
pub(crate) fn lossless_jpeg(
    precision: u8,
    (width, height): (u16, u16),
    components: u8,
    samples: &[u16],
) -> Vec<u8> {
    let n = usize::from(components);
    let (w, h) = (usize::from(width), usize::from(height));
    assert_eq!(samples.len(), w * h * n);
    let mut out = vec![0xFF, 0xD8];
    let mut segment = |marker: u8, body: &[u8]| {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(body);
    };
    let mut sof = vec![precision];
    sof.extend_from_slice(&height.to_be_bytes());
    sof.extend_from_slice(&width.to_be_bytes());
    sof.push(components);
    for id in 1..=components {
        sof.extend_from_slice(&[id, 0x11, 0]);
    }
    segment(0xC3, &sof);
    // Symbols 0..=16 (difference categories), all with 5-bit codes: code = symbol.
    let mut dht = vec![0x00];
    let mut bits = [0_u8; 16];
    bits[4] = 17;
    dht.extend_from_slice(&bits);
    dht.extend(0..=16_u8);
    segment(0xC4, &dht);
    let mut sos = vec![components];
    for id in 1..=components {
        sos.extend_from_slice(&[id, 0x00]);
    }
    sos.extend_from_slice(&[1, 0, 0]); // predictor 1 (left), no point transform
    segment(0xDA, &sos);

    /// Bits most significant first, with JPEG's byte stuffing.
    struct Bits {
        data: Vec<u8>,
        acc: u64,
        count: u32,
    }
    impl Bits {
        fn put(&mut self, value: u64, bits: u32) {
            self.acc = (self.acc << bits) | (value & ((1 << bits) - 1));
            self.count += bits;
            while self.count >= 8 {
                self.count -= 8;
                let byte = (self.acc >> self.count) as u8;
                self.data.push(byte);
                if byte == 0xFF {
                    self.data.push(0);
                }
            }
        }
    }
    let mut bits = Bits {
        data: Vec::new(),
        acc: 0,
        count: 0,
    };
    let at = |x: usize, y: usize, c: usize| i32::from(samples[(y * w + x) * n + c]);
    for y in 0..h {
        for x in 0..w {
            for c in 0..n {
                let prediction = match (x, y) {
                    (0, 0) => 1 << (precision - 1),
                    (0, _) => at(0, y - 1, c),
                    _ => at(x - 1, y, c),
                };
                let diff = at(x, y, c) - prediction;
                let category = 32 - diff.unsigned_abs().leading_zeros();
                bits.put(u64::from(category), 5);
                if category > 0 && category < 16 {
                    let extra = if diff < 0 { diff - 1 } else { diff };
                    bits.put(u64::from(extra as u32), category);
                }
            }
        }
    }
    let pad = (8 - bits.count % 8) % 8;
    bits.put(0x7F, pad); // pad with ones
    out.extend_from_slice(&bits.data);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

#[test]
fn lossless_jpeg_of_every_depth_reads_right() {
    // Gray at 8, 12 and 16 bits: left 25% gray, right 75% gray.
    for precision in [8_u8, 12, 16] {
        let max = (1_u32 << precision) - 1;
        let level = |fraction: u32| u16::try_from(max * fraction / 4).unwrap();
        let samples = stripes(64, 32, &[[level(1)], [level(3)]]);
        let input = lossless_jpeg(precision, (64, 32), 1, &samples);
        let out = process(&input);
        assert_box(&out, expected_box(64, 32), &format!("{precision}-bit gray"));
        let what = format!("{precision}-bit lossless gray");
        assert_colour(&out, (128 - 16, 128), [63; 3], &what);
        assert_colour(&out, (128 + 16, 128), [191; 3], &what);
    }
    // RGB at 8 and 12 bits.
    for precision in [8_u8, 12] {
        let max = (1_u16 << precision) - 1;
        let samples = stripes(64, 32, &[[max, 0, 0], [0, 0, max]]);
        let input = lossless_jpeg(precision, (64, 32), 3, &samples);
        let out = process(&input);
        let what = format!("{precision}-bit lossless RGB");
        assert_colour(&out, (128 - 16, 128), RED, &what);
        assert_colour(&out, (128 + 16, 128), BLUE, &what);
    }
}

#[test]
fn large_lossless_jpeg_is_scaled_like_any_other() {
    // Big enough that a DCT scale would be asked for, which lossless data cannot do.
    let samples = stripes(1024, 512, &[[1000_u16], [3000]]);
    let input = lossless_jpeg(12, (1024, 512), 1, &samples);
    let out = process(&input);
    assert_box(&out, (0, 64, 255, 191), "1024x512 lossless");
    assert_colour(&out, (64, 128), [62; 3], "left");
    assert_colour(&out, (192, 128), [187; 3], "right");
}

// ---------------------------------------------------------------------------------
// Rejections

#[test]
fn what_is_not_a_jpeg_or_png_is_unsupported_whatever_its_name() {
    let text_named_jpg = b"Holiday photos: see attached.\n".as_slice();
    let gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;".as_slice();
    let webp = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00".as_slice();
    for (what, bytes) in [
        ("text", text_named_jpg),
        ("a GIF image", gif),
        ("a WebP image", webp),
        ("empty", b""),
    ] {
        assert_rejected_saying(bytes, RejectCode::UnsupportedType, what);
    }
}

#[test]
fn more_than_10_mib_is_too_large_and_exactly_10_mib_is_fine() {
    let limit = usize::try_from(MAX_UPLOAD_BYTES).unwrap();
    let mut input = jpeg(&stripes_image(64, 64, &[RED, BLUE]));
    // Bytes after the end-of-image marker are common (camera trailers) and ignored.
    input.resize(limit, 0);
    let out = process(&input);
    assert_colour(&out, (112, 128), RED, "10 MiB JPEG");
    input.push(0);
    assert_rejected_saying(&input, RejectCode::TooLarge, "10 MiB");
}

#[test]
fn trailing_bytes_after_a_jpeg_are_ignored() {
    let mut input = jpeg(&stripes_image(64, 64, &[RED, BLUE]));
    input.extend_from_slice(b"\x00\x00some camera trailer\xFF\xD8\xFF\xE1 and more");
    let out = process(&input);
    assert_colour(&out, (112, 128), RED, "with trailer");
    assert_colour(&out, (144, 128), BLUE, "with trailer");
}

#[test]
fn truncated_jpegs_are_corrupt() {
    let image = busy_image(128, 96, 7);
    for progressive in [false, true] {
        let whole = jpeg_with(&image, |e| e.set_progressive(progressive));
        let cuts = [
            whole.len() / 2,
            whole.len() / 4,
            whole.len() * 3 / 4,
            whole.len() - 2,
            whole.len() - 40,
        ];
        for cut in cuts {
            let rejection = reject(&whole[..cut]);
            assert_eq!(
                rejection.code,
                RejectCode::Corrupt,
                "progressive {progressive}, cut at {cut} of {}: {rejection}",
                whole.len()
            );
        }
    }
}

/// jpeg-decoder fills a scan that meets a marker early with zero bits: a truncated
/// file that still ends in an end-of-image marker (some tools append one when they
/// "repair" a download) must not come out as a partly grey picture.
#[test]
fn truncated_jpegs_ending_in_a_marker_are_corrupt() {
    let image = busy_image(128, 96, 13);
    let variants: [(&str, Vec<u8>); 5] = [
        ("baseline 4:2:0", jpeg(&image)),
        (
            "baseline 4:4:4",
            jpeg_with(&image, |e| e.set_sampling_factor(SamplingFactor::R_4_4_4)),
        ),
        (
            "progressive",
            jpeg_with(&image, |e| e.set_progressive(true)),
        ),
        (
            "restart interval 2",
            jpeg_with(&image, |e| e.set_restart_interval(2)),
        ),
        (
            "gray",
            jpeg_raw(
                &image.pixels().map(|p| p.0[1]).collect::<Vec<_>>(),
                (128, 96),
                ColorType::Luma,
                |_| {},
            ),
        ),
    ];
    for (what, whole) in variants {
        for cut in [
            whole.len() / 4,
            whole.len() / 2,
            whole.len() * 3 / 4,
            whole.len() - 20,
        ] {
            let rejection = reject(&cut_short(&whole, cut));
            assert_eq!(
                rejection.code,
                RejectCode::Corrupt,
                "{what}, cut at {cut} of {}",
                whole.len()
            );
        }
    }
}

#[test]
fn a_progressive_jpeg_cut_between_scans_is_corrupt() {
    let whole = jpeg_with(&busy_image(128, 96, 17), |e| e.set_progressive(true));
    let scans: Vec<usize> = (0..whole.len() - 1)
        .filter(|&i| whole[i..i + 2] == [0xFF, 0xDA])
        .collect();
    assert!(scans.len() > 2, "the progressive JPEG has several scans");
    for &next_scan in &scans[1..] {
        let rejection = reject(&cut_short(&whole, next_scan));
        assert_eq!(
            rejection.code,
            RejectCode::Corrupt,
            "cut before the scan at {next_scan}"
        );
    }
    process(&whole);
}

#[test]
fn truncated_pngs_are_corrupt() {
    let whole = png(&busy_image(128, 96, 9).into());
    // Cut anywhere, including just before the closing IEND chunk.
    for cut in [whole.len() / 2, 40, whole.len() - 30, whole.len() - 12] {
        let rejection = reject(&whole[..cut]);
        assert_eq!(
            rejection.code,
            RejectCode::Corrupt,
            "cut at {cut} of {}: {rejection}",
            whole.len()
        );
    }
    // Half of the image data in a well-formed chunk, then IEND: the PNG twin of a
    // cut JPEG with its end marker put back.
    let idat = whole.windows(4).position(|w| w == b"IDAT").unwrap() - 4;
    let len = usize::try_from(u32::from_be_bytes(
        whole[idat..idat + 4].try_into().unwrap(),
    ))
    .unwrap();
    let mut input = whole[..idat].to_vec();
    png_chunk(&mut input, b"IDAT", &whole[idat + 8..idat + 8 + len / 2]);
    png_chunk(&mut input, b"IEND", &[]);
    let rejection = reject(&input);
    assert_eq!(
        rejection.code,
        RejectCode::Corrupt,
        "half the image data: {rejection}"
    );
}

/// `input` is rejected as too many pixels from its header, holding under 4 MiB.
#[track_caller]
fn assert_too_many_pixels_cheaply(what: &str, input: &[u8]) {
    let (result, peak, _) = measured(|| process_upload_bytes(input));
    let Err(rejection) = result else {
        panic!("{what}: accepted");
    };
    assert_eq!(
        rejection.code,
        RejectCode::TooManyPixels,
        "{what}: {rejection}"
    );
    assert!(peak < 4 * MIB, "{what}: held {peak} bytes to reject");
}

#[test]
fn huge_dimensions_are_rejected_at_the_header() {
    let small_jpeg = jpeg(&stripes_image(64, 64, &[RED, BLUE]));
    let small_png = png(&stripes_image(64, 64, &[RED, BLUE]).into());
    let cases = [
        (
            "JPEG 60000x60000",
            with_jpeg_size(small_jpeg.clone(), 60_000, 60_000),
        ),
        (
            "JPEG 16385 wide",
            with_jpeg_size(small_jpeg.clone(), 16_385, 100),
        ),
        (
            "JPEG 8001x8000",
            with_jpeg_size(small_jpeg.clone(), 8001, 8000),
        ),
        (
            "PNG 60000x60000",
            with_png_size(small_png.clone(), 60_000, 60_000),
        ),
        (
            "PNG 16385 high",
            with_png_size(small_png.clone(), 100, 16_385),
        ),
        ("PNG 2^31 wide", with_png_size(small_png, 1 << 31, 1)),
    ];
    for (what, input) in cases {
        assert_too_many_pixels_cheaply(what, &input);
    }
}

#[test]
fn dimensions_at_the_limit_are_not_too_many_pixels() {
    // 8000x8000 is exactly 64 megapixels: allowed, so this stub (no image data) fails
    // as corrupt instead, before the 192 MB it would decode to is allocated.
    let input = with_jpeg_size(jpeg(&stripes_image(64, 64, &[RED, BLUE])), 8000, 8000);
    let (result, peak, _) = measured(|| process_upload_bytes(&input));
    let Err(rejection) = result else {
        panic!("a 64x64 image's data passed for 8000x8000");
    };
    assert_eq!(rejection.code, RejectCode::Corrupt, "{rejection}");
    assert!(peak < 4 * MIB, "held {peak} bytes to reject");
}

#[test]
fn png_bombs_are_too_many_pixels() {
    // Make sure the bomb maker writes real PNGs: a small one decodes to zeros.
    let small = png_of_zeros(64, 48, 6, 16, 8);
    let decoded = image::load_from_memory_with_format(&small, ImageFormat::Png).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (64, 48));
    assert!(decoded.into_rgba16().as_raw().iter().all(|&v| v == 0));

    let cases = [
        // 16000×16000 gray, 256 MB of zeros in 1.6 MB: over the pixel limit.
        // (An 8000×8000 RGBA16 one, within the limit, is processed streaming: see
        // `png_budget`.)
        ("16000x16000 L8", png_of_zeros(16_000, 16_000, 0, 8, 1)),
    ];
    for (what, input) in cases {
        assert!(input.len() < 4 * MIB, "{what}: {} bytes", input.len());
        assert_too_many_pixels_cheaply(what, &input);
    }
}

// ---------------------------------------------------------------------------------
// Robustness and determinism

/// Damages `bytes` one of four ways, chosen by `rng`.
fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>) {
    match rng.below(4) {
        0 => {
            for _ in 0..=rng.below(8) {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
        }
        1 => bytes.truncate(rng.below(bytes.len())),
        2 => {
            let at = rng.below(bytes.len());
            let end = (at + 1 + rng.below(32)).min(bytes.len());
            bytes[at..end].fill(0);
        }
        _ => {
            for _ in 0..=rng.below(4) {
                let at = rng.below(bytes.len());
                bytes[at] = if rng.below(2) == 0 {
                    0xFF
                } else {
                    rng_byte(rng)
                };
            }
        }
    }
}

#[test]
fn damaged_inputs_never_panic() {
    let image = busy_image(48, 40, 3);
    let seeds = [
        jpeg(&image),
        jpeg_with(&image, |e| {
            e.set_progressive(true);
            e.set_restart_interval(2);
            e.set_sampling_factor(SamplingFactor::R_4_4_4);
        }),
        png(&DynamicImage::ImageRgb8(image.clone()).into_rgba8().into()),
        png_indexed(
            (40, 30),
            png::BitDepth::Eight,
            &[RED, GREEN, BLUE],
            Some(&[255, 128]),
            &stripes(40, 30, &[[0_u8], [1], [2]]),
        ),
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let (mut accepted, mut codes) = (0, std::collections::BTreeMap::<&str, u32>::new());
    for i in 0..600 {
        let seed = &seeds[i % seeds.len()];
        let mut input = seed.clone();
        mutate(&mut rng, &mut input);
        if input.starts_with(b"\x89PNG") && i % 8 < 4 {
            fix_png_crcs(&mut input);
        }
        match process_upload_bytes(&input) {
            Ok(out) => {
                open_output(&out);
                accepted += 1;
            }
            Err(rejection) => {
                assert!(!rejection.message.is_empty());
                assert!(
                    !rejection.detail_says(augment_pipeline::imaging::DECODER_PANICKED),
                    "iteration {i}: a decoder panicked: {rejection} ({:?})",
                    rejection.detail
                );
                *codes.entry(rejection.code.as_str()).or_default() += 1;
            }
        }
    }
    println!("600 damaged inputs: {accepted} accepted, rejected {codes:?}");
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let inputs = [
        jpeg(&rgb_stripes_large()),
        png(&busy_image(300, 200, 5).into()),
        jpeg_with(&busy_image(700, 500, 11), |e| e.set_progressive(true)),
    ];
    for input in inputs {
        let first = process_upload_bytes(&input).unwrap();
        let second = process_upload_bytes(&input).unwrap();
        assert!(first == second, "two runs on the same input differ");
        let rotated = [
            rotate_jpeg_bytes(&first, Angle::Deg90),
            rotate_jpeg_bytes(&first, Angle::Deg90),
        ];
        assert!(rotated[0].as_ref().unwrap() == rotated[1].as_ref().unwrap());
    }
}

/// A damaged file reads plainly: what it is not and what to do, never the decoder's
/// own words (those are the rejection's log-only detail).
#[test]
fn damaged_files_get_plain_messages_and_the_decoder_words_go_to_the_detail() {
    let good_png = png(&DynamicImage::ImageRgb8(RgbImage::new(16, 16)));
    // The signature and header whole, then garbage where the chunks were.
    let mut garbage_png = good_png[..33].to_vec();
    garbage_png.extend((0..400_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    let mut garbage_jpeg = jpeg(&RgbImage::new(64, 48));
    let middle = garbage_jpeg.len() / 2;
    for byte in &mut garbage_jpeg[middle..middle + 64] {
        *byte = 0xAB;
    }
    for (what, input, plain) in [
        (
            "garbage PNG",
            garbage_png,
            "This is not a valid PNG file: the data is damaged or cut short. Export or download the image again.",
        ),
        (
            "truncated PNG",
            good_png[..good_png.len() - 20].to_vec(),
            "This is not a valid PNG file: the data is damaged or cut short. Export or download the image again.",
        ),
    ] {
        let rejection = reject(&input);
        assert_eq!(rejection.code, RejectCode::Corrupt, "{what}");
        assert_eq!(rejection.message, plain, "{what}");
        assert!(
            rejection.detail.is_some(),
            "{what}: the log keeps what the decoder said"
        );
    }
    // A JPEG damaged mid-scan may still decode (JPEG is forgiving); when it is
    // refused, the message is as plain.
    if let Err(rejection) = process_upload_bytes(&garbage_jpeg) {
        assert!(
            rejection
                .message
                .starts_with("This is not a valid JPEG file"),
            "{rejection}"
        );
    }
    let rejection = reject(&[0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02]);
    assert_eq!(rejection.code, RejectCode::Corrupt);
    assert_eq!(
        rejection.message,
        "This is not a valid JPEG file: the data is damaged or cut short. Export or download the image again."
    );
}
