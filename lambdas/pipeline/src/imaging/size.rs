//! Sizes: what an image's dimensions may be, and the size it is fitted to.

use crate::limits::{MAX_PIXELS, MAX_SIDE_PX};
use crate::reject::{Claimed, RejectCode, Rejection};

/// Size of `width`×`height` scaled to fit inside `side`² keeping the aspect ratio,
/// never enlarged, each side at least one pixel.
pub fn fit_size(width: u32, height: u32, side: u32) -> (u32, u32) {
    if width <= side && height <= side {
        return (width, height);
    }
    let (w, h, s) = (u64::from(width), u64::from(height), u64::from(side));
    // Round to nearest; the long side is exactly `side`.
    let short = |long: u64, short: u64| ((short * s + long / 2) / long).clamp(1, s) as u32;
    if width >= height {
        (side, short(w, h))
    } else {
        (short(h, w), side)
    }
}

pub(super) fn check_dimensions(width: u32, height: u32) -> Result<(), Rejection> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(Rejection::corrupt(
            Claimed::Image,
            "the image has no pixels",
        ));
    }
    if width > MAX_SIDE_PX || height > MAX_SIDE_PX || pixels > MAX_PIXELS {
        return Err(Rejection::new(
            RejectCode::TooManyPixels,
            format!(
                "The image is {width}×{height} pixels; the limit is {MAX_SIDE_PX} pixels a side and {} megapixels. Scale it down, then upload it again.",
                MAX_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}
