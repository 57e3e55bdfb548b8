//! The rotations of the processor's output are libjpeg-turbo's lossless
//! transform, byte for byte: our specialised transform (decode the coefficients,
//! move and flip the blocks, encode again with the same tables) against
//! libjpeg-turbo's own, on many generated images of every size and content.

use augment_pipeline::Angle;
use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use turbojpeg::{Compressor, Image, PixelFormat, Subsamp, Transform, TransformOp, Transformer};

/// libjpeg-turbo's lossless transform, as the worker ran it before: ROT90 turns
/// clockwise, our angles counter-clockwise.
fn reference(jpeg: &[u8], angle: Angle) -> Vec<u8> {
    let op = match angle {
        Angle::Deg90 => TransformOp::Rot270,
        Angle::Deg180 => TransformOp::Rot180,
        Angle::Deg270 => TransformOp::Rot90,
        Angle::Deg360 => TransformOp::None,
    };
    let mut transform = Transform::op(op);
    transform.perfect = true;
    transform.copy_none = true;
    Transformer::new()
        .unwrap()
        .transform_to_vec(&transform, jpeg)
        .unwrap()
}

/// A generated upload: a size, a gradient, blocks of flat colour, and noise of a
/// strength, all from one seed.
fn upload(seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |below: u32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % u64::from(below)) as u32
    };
    let (width, height) = (8 + next(600), 8 + next(600));
    let noise = next(80) as i32;
    let cell = 4 + next(60);
    let tint = [next(256), next(256), next(256)].map(|c| c as i32);
    let mut pixels = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            let flat = ((x / cell + y / cell) % 3) as i32 * 60;
            for (c, &tint) in tint.iter().enumerate() {
                let gradient = (x * 255 / width) as i32 * (c as i32 + 1) / 3;
                let jitter = next(noise as u32 * 2 + 1) as i32 - noise;
                pixels.push(((gradient + flat + tint) / 2 + jitter).clamp(0, 255) as u8);
            }
        }
    }
    let mut compressor = Compressor::new().unwrap();
    compressor.set_quality(95).unwrap();
    compressor.set_subsamp(Subsamp::None).unwrap();
    let image = Image {
        pixels: pixels.as_slice(),
        width: width as usize,
        pitch: width as usize * 3,
        height: height as usize,
        format: PixelFormat::RGB,
    };
    compressor.compress_to_vec(image).unwrap()
}

#[test]
fn rotations_are_libjpeg_turbos_lossless_transform_byte_for_byte() {
    for seed in 0..60 {
        let processed = process_upload_bytes(&upload(seed)).unwrap();
        for angle in Angle::ALL {
            let ours = rotate_jpeg_bytes(&processed, angle).unwrap();
            assert!(
                ours == reference(&processed, angle),
                "seed {seed}, {angle}: our rotation differs from libjpeg-turbo's"
            );
        }
    }
}

#[test]
fn a_damaged_processed_image_is_refused_not_turned() {
    let processed = process_upload_bytes(&upload(7)).unwrap();
    // The entropy-coded data cut in half, the end-of-image marker kept.
    let data_at = processed.len() / 2;
    let mut cut = processed[..data_at].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    for angle in Angle::ALL {
        assert!(
            rotate_jpeg_bytes(&cut, angle).is_err(),
            "{angle}: cut data turned"
        );
    }
}
