//! The image work: decode (with limits), orient, flatten, fit onto the canvas,
//! rotate, encode. Pure functions from bytes to bytes; no I/O.
//!
//! Speed and memory come from decoding JPEGs at a DCT scale (1/8, 1/4, 1/2) close
//! to the output size, under a budget computed from their headers, so a
//! 64-megapixel photo is never held at full size; from SIMD resizing
//! (`fast_image_resize`) and encoding (libjpeg-turbo). Rotations are lossless
//! transforms of the processed JPEG's DCT coefficients.

use std::panic::{AssertUnwindSafe, catch_unwind};

use fast_image_resize as fr;
use image::{DynamicImage, RgbImage};

use crate::contract::Angle;
use crate::limits::CANVAS_SIDE_PX;
use crate::reject::{Claimed, Rejection};
use crate::sniff::{ImageFormat, check_upload};

mod encode;
mod jpeg;
mod jpeg_dc;
mod jpeg_entropy;
mod jpeg_frame;
mod jpeg_header;
mod jpeg_rules;
pub(crate) mod png;
mod processed;
mod size;
mod turbo;
mod unchanged;

pub use encode::encode_jpeg;
pub use png::flatten_onto_white;
pub use size::fit_size;

/// Each sample of the canvas's white.
const WHITE: u8 = u8::MAX;

/// The version of libjpeg-turbo built into this binary (`3.1.0`), as its
/// `jconfig.h` says (read at build time; "unknown" if it could not be): the C
/// code that reads every JPEG upload, for `augment --version --verbose`, the
/// Lambdas' first log line and the check against its known CVEs.
pub fn libjpeg_turbo_version() -> &'static str {
    env!("AUGMENT_LIBJPEG_TURBO_VERSION")
}

/// An upload's bytes → the processed image: fitted onto a white 256×256 canvas,
/// encoded as JPEG (quality 90). Every input problem is a [`Rejection`].
pub fn process_upload_bytes(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    guard(|| {
        let format = check_upload(bytes)?;
        let image = decode_unguarded(bytes, format, CANVAS_SIDE_PX)?;
        Ok(encode_jpeg(&fit_onto_canvas(&image)))
    })
}

/// A processed image's bytes → its rotation by `angle`, counter-clockwise, as JPEG.
///
/// The rotation is exact: the DCT coefficients are moved (libjpeg-turbo's lossless
/// transform), nothing is decoded or encoded again, and 360° copies the coefficients as they are (the same pass refuses a damaged file).
/// For 360° of a file exactly as the processor writes it, that copy is the file
/// itself: it is read through once and returned ([`unchanged`]), not transformed.
/// Only what the processor writes is turned (see [`processed::check_processed`]:
/// a baseline 256×256 YCbCr 4:2:0 JPEG of one scan, at most [`crate::limits::MAX_OUTPUT_BYTES`],
/// checked from its headers before the transform runs); anything else under
/// `processed/` is refused at once (`unsupported_type`). 256 is a multiple of the
/// 16-px MCU of 4:2:0, so the transform is exact.
pub fn rotate_jpeg_bytes(bytes: &[u8], angle: Angle) -> Result<Vec<u8>, Rejection> {
    let mut turned = rotate_jpeg_bytes_all(bytes, &[angle])?;
    turned
        .pop()
        .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "the transform gave no image"))
}

/// [`rotate_jpeg_bytes`] for each of `angles`, in their order, from one entropy
/// decode of the image for all its transforms (libjpeg-turbo's transform takes
/// several at once): how local mode makes an upload's rotations together. The
/// same bytes as one call each.
pub fn rotate_jpeg_bytes_all(bytes: &[u8], angles: &[Angle]) -> Result<Vec<Vec<u8>>, Rejection> {
    guard(|| {
        processed::check_processed(bytes)?;
        let copied = angles.contains(&Angle::Deg360) && unchanged::is_canonical(bytes);
        let transformed = |&angle: &Angle| !(copied && angle == Angle::Deg360);
        // libjpeg-turbo's ROT90 turns clockwise; our angles are counter-clockwise.
        let ops: Vec<_> = angles
            .iter()
            .filter(|angle| transformed(angle))
            .map(|angle| match angle {
                Angle::Deg90 => turbojpeg::TransformOp::Rot270,
                Angle::Deg180 => turbojpeg::TransformOp::Rot180,
                Angle::Deg270 => turbojpeg::TransformOp::Rot90,
                // The processed image's coefficients copied as they are: exact, and
                // the same pass proves the file whole, so a damaged or padded file
                // under `processed/` is refused or comes out as a clean JPEG.
                Angle::Deg360 => turbojpeg::TransformOp::None,
            })
            .collect();
        let turned = turbo::transform_many(bytes, &ops)
            .map_err(|err| Rejection::corrupt(Claimed::Jpeg, err))?;
        if turned.len() != ops.len() {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "the transform gave too few images",
            ));
        }
        let mut turned = turned.into_iter();
        Ok(angles
            .iter()
            .map(|angle| {
                if transformed(angle) {
                    turned.next().unwrap_or_default()
                } else {
                    bytes.to_vec()
                }
            })
            .collect())
    })
}

/// Decoders are fuzzed upstream, but a panic on hostile input must still end as a
/// rejection of that input, not as a crashed batch. Every public entry point that
/// decodes untrusted bytes runs inside it, so no caller has to remember to.
/// The log-only detail of a rejection made from a caught decoder panic.
pub const DECODER_PANICKED: &str = "the decoder panicked on this data";

fn guard<T>(work: impl FnOnce() -> Result<T, Rejection>) -> Result<T, Rejection> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(Rejection::corrupt(Claimed::Image, DECODER_PANICKED)))
}

/// Decodes to RGB with EXIF orientation applied and transparency flattened onto
/// white, no smaller than what fitting into `target_side`² needs (JPEGs may come
/// back reduced by a DCT scale).
///
/// Inside the decoder guard, as the app's thumbnails call it on bucket bytes.
pub fn decode(bytes: &[u8], format: ImageFormat, target_side: u32) -> Result<RgbImage, Rejection> {
    guard(|| decode_unguarded(bytes, format, target_side))
}

/// A pipeline output read back from the bucket (a processed image or a
/// rotation) → RGB, for a viewer that treats the bucket as untrusted (anyone
/// with write access can put anything under `processed/`). Only what the
/// pipeline itself writes is decoded, by the worker's own check (a baseline
/// 256×256 YCbCr 4:2:0 JPEG of one scan, at most [`crate::limits::MAX_OUTPUT_BYTES`]), read
/// before any decoder runs; the decode then runs under the upload's budgets and
/// inside the decoder guard. Anything else is `unsupported_type`.
pub fn decode_output(bytes: &[u8]) -> Result<RgbImage, Rejection> {
    guard(|| {
        processed::check_processed(bytes)?;
        decode_unguarded(bytes, ImageFormat::Jpeg, CANVAS_SIDE_PX)
    })
}

fn decode_unguarded(
    bytes: &[u8],
    format: ImageFormat,
    target_side: u32,
) -> Result<RgbImage, Rejection> {
    let (image, orientation) = match format {
        ImageFormat::Jpeg => jpeg::decode_jpeg(bytes, target_side)?,
        ImageFormat::Png => png::decode_png(bytes, target_side)?,
    };
    let mut image = DynamicImage::ImageRgb8(image);
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

/// Scales `image` to fit inside the canvas (Lanczos3; never enlarges) and centres it
/// on white.
pub fn fit_onto_canvas(image: &RgbImage) -> RgbImage {
    let (fit_w, fit_h) = fit_size(image.width(), image.height(), CANVAS_SIDE_PX);
    let resized = resize(image, fit_w, fit_h);
    place_on_white(resized.as_raw(), fit_w, fit_h)
}

/// A white canvas with `pixels` (`width`×`height` RGB, at most the canvas) centred
/// on it: rows copied whole, no per-pixel work.
fn place_on_white(pixels: &[u8], width: u32, height: u32) -> RgbImage {
    let side = CANVAS_SIDE_PX as usize;
    let (width, height) = (width as usize, height as usize);
    let (x, y) = ((side - width) / 2, (side - height) / 2);
    let mut canvas = vec![WHITE; side * side * 3];
    for (row, from) in canvas
        .chunks_exact_mut(side * 3)
        .skip(y)
        .zip(pixels.chunks_exact(width * 3))
    {
        row[x * 3..(x + width) * 3].copy_from_slice(from);
    }
    RgbImage::from_raw(CANVAS_SIDE_PX, CANVAS_SIDE_PX, canvas)
        .unwrap_or_else(|| unreachable!("the canvas is side × side RGB by construction"))
}

fn resize(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    if image.dimensions() == (width, height) {
        return image.clone();
    }
    let src = fr::images::ImageRef::new(
        image.width(),
        image.height(),
        image.as_raw(),
        fr::PixelType::U8x3,
    );
    let mut dst = fr::images::Image::new(width, height, fr::PixelType::U8x3);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    let resized = src.is_ok_and(|src| fr::Resizer::new().resize(&src, &mut dst, &options).is_ok());
    if !resized {
        return fallback_resize(image, width, height);
    }
    RgbImage::from_raw(width, height, dst.into_vec())
        .unwrap_or_else(|| fallback_resize(image, width, height))
}

/// The resize above only fails on mismatched buffer sizes, which `RgbImage`
/// rules out; should that ever change, fall back to the `image` crate's resize
/// rather than fail the upload.
fn fallback_resize(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    image::imageops::resize(image, width, height, image::imageops::FilterType::Lanczos3)
}

/// Rotates counter-clockwise, as Pillow's `Image.rotate(angle)` does; 360 is a copy.
pub fn rotate(image: &RgbImage, angle: Angle) -> RgbImage {
    match angle {
        // `image`'s rotate90 is clockwise: 90° counter-clockwise is 270° clockwise.
        Angle::Deg90 => image::imageops::rotate270(image),
        Angle::Deg180 => image::imageops::rotate180(image),
        Angle::Deg270 => image::imageops::rotate90(image),
        Angle::Deg360 => image.clone(),
    }
}
