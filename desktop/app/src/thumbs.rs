//! Thumbnails: decoded and scaled on the worker, turned into textures on the UI
//! thread (only the upload of pixels to the GPU happens there).

use augment_pipeline::imaging;
use augment_pipeline::sniff::check_upload;
use egui::ColorImage;
use image::imageops::FilterType;

/// Side of the thumbnail next to each file in the queue, in pixels.
pub const QUEUE_THUMB_PX: u32 = 96;
/// Side of gallery and rotation thumbnails, in pixels (drawn smaller; the extra
/// pixels keep them sharp at 200 % scale).
pub const GALLERY_THUMB_PX: u32 = 192;
/// The rotations are 256×256: the detail view shows them at full size.
pub const FULL_PX: u32 = augment_pipeline::limits::CANVAS_SIDE_PX;

/// Why a gallery or detail image has no picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoImage {
    /// The bytes are not something the pipeline writes (another type, too
    /// large, a header over 256×256, broken): never decoded further.
    NotProcessed,
    /// The object could not be read (gone, or the connection failed).
    Unavailable,
}

/// A pipeline output read back from the bucket (processed image or rotation),
/// scaled to fit inside `side`² pixels. Bucket content is untrusted: only a
/// JPEG of at most `MAX_OUTPUT_BYTES` (1 MiB) whose header says at most
/// `CANVAS_SIDE_PX` (256) a side is decoded, under the pipeline's decode
/// budgets ([`imaging::decode_output`]); anything else is
/// [`NoImage::NotProcessed`].
pub fn decode_processed(bytes: &[u8], side: u32) -> Result<ColorImage, NoImage> {
    match imaging::decode_output(bytes) {
        Ok(rgb) => Ok(to_color_image(rgb, side)),
        Err(rejection) => {
            tracing::info!("not shown: {}", rejection.message);
            Err(NoImage::NotProcessed)
        }
    }
}

/// A file of the person's own (the queue's thumbnail, before upload): decodes
/// a JPEG or PNG (with the pipeline's decoder limits and EXIF orientation) and scales it to fit inside `side`² pixels. `None` for anything
/// the pipeline would not decode: the caller shows a placeholder instead.
pub fn decode_thumbnail(bytes: &[u8], side: u32) -> Option<ColorImage> {
    let format = check_upload(bytes).ok()?;
    // Untrusted bytes: `decode` runs inside the pipeline's decoder guard, so a
    // panic is a broken file, not a crash.
    let rgb = imaging::decode(bytes, format, side).ok()?;
    Some(to_color_image(rgb, side))
}

fn to_color_image(rgb: image::RgbImage, side: u32) -> ColorImage {
    let (width, height) = imaging::fit_size(rgb.width(), rgb.height(), side);
    let scaled = if (width, height) == rgb.dimensions() {
        rgb
    } else {
        image::imageops::resize(&rgb, width, height, FilterType::Triangle)
    };
    let size = [scaled.width() as usize, scaled.height() as usize];
    ColorImage::from_rgb(size, scaled.as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_becomes_a_small_thumbnail() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../assets/samples/landscape.jpg"
        );
        let bytes = std::fs::read(path).unwrap();
        let thumb = decode_thumbnail(&bytes, QUEUE_THUMB_PX).unwrap();
        assert_eq!(thumb.size, [96, 64]);
        assert!(decode_thumbnail(b"not an image", QUEUE_THUMB_PX).is_none());
    }
}
