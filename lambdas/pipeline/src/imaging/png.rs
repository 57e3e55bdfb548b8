//! PNG decoding, and flattening transparency onto white.

use std::io::Cursor;

use image::codecs::png::PngDecoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _, ImageError, RgbImage, RgbaImage};

use super::decode_with_limits;
use crate::limits::MAX_DECODE_ALLOC_BYTES;
use crate::reject::{RejectCode, Rejection};

pub(super) fn decode_png(bytes: &[u8]) -> Result<(RgbImage, Orientation), Rejection> {
    let mut decoder =
        PngDecoder::new(Cursor::new(bytes)).map_err(|err| image_rejection(err, "PNG"))?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = decode_with_limits(decoder, "PNG")?;
    Ok((flatten_onto_white(image), orientation))
}

pub(super) fn image_rejection(err: ImageError, format: &str) -> Rejection {
    match err {
        ImageError::Limits(_) => Rejection::new(
            RejectCode::TooManyPixels,
            format!(
                "The {format} needs more than {} MiB to decode. Scale it down, then upload it again.",
                MAX_DECODE_ALLOC_BYTES / (1024 * 1024)
            ),
        ),
        ImageError::Unsupported(err) => Rejection::new(
            RejectCode::UnsupportedType,
            format!(
                "The {format} uses a feature this tool cannot read ({err}). Re-save it as a standard PNG or JPEG, then upload it again."
            ),
        ),
        ImageError::IoError(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            Rejection::corrupt(format!("the {format} data ends early"))
        }
        other => Rejection::corrupt(other),
    }
}

/// Any colour type and depth → 8-bit RGB; transparent pixels are composited onto
/// white, as a viewer shows them on a white page.
pub fn flatten_onto_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba: RgbaImage = image.into_rgba8();
    let (width, height) = rgba.dimensions();
    let rgb = rgba
        .as_raw()
        .chunks_exact(4)
        .flat_map(|px| {
            let alpha = u32::from(px[3]);
            let over_white =
                |c: u8| ((u32::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
            [over_white(px[0]), over_white(px[1]), over_white(px[2])]
        })
        .collect();
    RgbImage::from_raw(width, height, rgb).unwrap_or_else(|| unreachable!("3 bytes per RGBA pixel"))
}
