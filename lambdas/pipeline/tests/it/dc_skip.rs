//! The DC-only decoder on baseline files: at 1/8 it keeps each block's DC and steps
//! over the AC symbols without decoding them, many at a time. One symbol misread
//! and every block after it is garbage, so it is checked on noisy photos (dense
//! AC codes of every length, large values, stuffed `FF 00` bytes, restart
//! markers) against two references: the same image encoded progressively (its DC
//! scans carry the same DC coefficients and need no AC skipping at all), and for
//! grayscale libjpeg-turbo's own 1/8 decode.

use augment_pipeline::imaging::decode;
use augment_pipeline::sniff::ImageFormat;
use image::RgbImage;
use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};

/// Not a multiple of 16 either way: partial MCUs at the right and bottom.
const WIDTH: usize = 1208;
const HEIGHT: usize = 904;

/// A gradient under heavy per-pixel noise (a fixed-seed generator).
fn noisy_photo(seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut noise = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 58) as i32 - 32
    };
    let mut rgb = vec![0_u8; WIDTH * HEIGHT * 3];
    for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
        let (x, y) = ((i % WIDTH) as i32, (i / WIDTH) as i32);
        let base = [
            x * 200 / WIDTH as i32,
            y * 180 / HEIGHT as i32,
            (x + y) % 256,
        ];
        for (channel, base) in px.iter_mut().zip(base) {
            *channel = (base + 30 + noise()).clamp(0, 255) as u8;
        }
    }
    rgb
}

fn turbo(rgb: &[u8], quality: i32, subsamp: Subsamp, progressive: bool) -> Vec<u8> {
    let mut compressor = Compressor::new().unwrap();
    compressor.set_quality(quality).unwrap();
    compressor.set_subsamp(subsamp).unwrap();
    if subsamp == Subsamp::Gray {
        compressor
            .set_colorspace(turbojpeg::Colorspace::Gray)
            .unwrap();
    }
    compressor.set_progressive(progressive).unwrap();
    let image = Image {
        pixels: rgb,
        width: WIDTH,
        pitch: WIDTH * 3,
        height: HEIGHT,
        format: PixelFormat::RGB,
    };
    compressor.compress_to_vec(image).unwrap()
}

fn with_restarts(rgb: &[u8], interval: u16, progressive: bool) -> Vec<u8> {
    let mut jpeg = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 95);
    encoder.set_restart_interval(interval);
    encoder.set_progressive(progressive);
    let (w, h) = (WIDTH as u16, HEIGHT as u16);
    encoder
        .encode(rgb, w, h, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    jpeg
}

fn ours(jpeg: &[u8]) -> RgbImage {
    let image = decode(jpeg, ImageFormat::Jpeg, 128).unwrap();
    assert_eq!(image.dimensions(), (151, 113), "decoded at 1/8");
    image
}

#[test]
fn baseline_dc_at_one_eighth_is_the_progressive_dc_on_noisy_photos() {
    let cases = [
        (75, Subsamp::Sub2x2),
        (92, Subsamp::Sub2x2),
        (100, Subsamp::Sub2x2),
        (100, Subsamp::None),
        (97, Subsamp::Sub2x1),
        (100, Subsamp::Gray),
    ];
    for (seed, (quality, subsamp)) in (1..).zip(cases) {
        let rgb = noisy_photo(seed);
        let baseline = turbo(&rgb, quality, subsamp, false);
        let progressive = turbo(&rgb, quality, subsamp, true);
        let stuffed = baseline.windows(2).filter(|w| w == &[0xFF, 0]).count();
        assert!(
            stuffed > 100,
            "q{quality} {subsamp:?}: {stuffed} stuffed bytes"
        );
        assert!(
            ours(&baseline) == ours(&progressive),
            "q{quality} {subsamp:?}: baseline and progressive DC differ"
        );
    }
    for interval in [1, 7] {
        let rgb = noisy_photo(10 + u64::from(interval));
        assert!(
            ours(&with_restarts(&rgb, interval, false)) == ours(&with_restarts(&rgb, 0, true)),
            "restart interval {interval}: baseline and progressive DC differ"
        );
    }
}

#[test]
fn baseline_gray_at_one_eighth_is_libjpeg_turbos() {
    let jpeg = turbo(&noisy_photo(20), 100, Subsamp::Gray, false);
    let mut decompressor = turbojpeg::Decompressor::new().unwrap();
    decompressor
        .set_scaling_factor(turbojpeg::ScalingFactor::ONE_EIGHTH)
        .unwrap();
    let mut theirs = Image {
        pixels: vec![0; 151 * 113],
        width: 151,
        pitch: 151,
        height: 113,
        format: PixelFormat::GRAY,
    };
    decompressor
        .decompress(&jpeg, theirs.as_deref_mut())
        .unwrap();
    let ours = ours(&jpeg);
    let luma: Vec<u8> = ours.pixels().map(|p| p[0]).collect();
    assert!(
        luma == theirs.pixels,
        "gray 1/8 differs from libjpeg-turbo's"
    );
}
