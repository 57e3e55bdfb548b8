//! The processed image's encoder: what the processor writes, and what the 360°
//! check (`unchanged`) reads its fixed headers and tables from.

use image::RgbImage;

use super::turbo::with_compressor;
#[cfg(doc)]
use crate::limits::JPEG_QUALITY;

/// Baseline JPEG, 4:2:0 chroma (box-averaged), quality [`JPEG_QUALITY`], by
/// libjpeg-turbo.
pub fn encode_jpeg(image: &RgbImage) -> Vec<u8> {
    let encoded = with_compressor(|compressor| {
        compressor.compress_to_vec(turbojpeg::Image {
            pixels: image.as_raw().as_slice(),
            width: image.width() as usize,
            pitch: image.width() as usize * 3,
            height: image.height() as usize,
            format: turbojpeg::PixelFormat::RGB,
        })
    });
    // The buffer matches its size by construction and libjpeg-turbo takes any
    // size up to 65,535 a side (ours are at most the canvas): only running out of
    // memory could fail, and that aborts anyway.
    match encoded {
        Ok(jpeg) => jpeg,
        Err(err) => unreachable!("JPEG encoding of a valid RGB buffer failed: {err}"),
    }
}
