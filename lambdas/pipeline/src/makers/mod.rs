//! Feature `testing`: makers of test inputs, built in code so a hostile corpus is a
//! few kilobytes of source: photo-like and hostile JPEGs, PNGs whose image data is
//! deflate back-references (a 64-megapixel image in a few megabytes), EXIF blocks,
//! and the red-corner photo whose turns the end-to-end tests check.
//! The pipeline's tests and its `hostile_inputs` example both make their files
//! here, so a benchmark runs on the very inputs the budget tests check.
//!
//! A maker panics on parameters its encoder refuses: these are test inputs, and a
//! panic names the broken setup.

use image::{Rgb, RgbImage};

use crate::contract::Angle;
use crate::sniff::ImageFormat;

mod hostile;
mod jpeg;
mod png;

pub use hostile::{
    arithmetic_bomb, arithmetic_without_data, hand_made_jpeg, huffman_table_flood, jpeg_headers,
    jpeg_scan_header, last_coefficient_jpeg, lossless_scan_flood, many_idat_png, paeth_png,
    refinement_flood, restart_every_block,
};
pub use jpeg::{
    Coding, Colours, flat_jpeg, photo_jpeg, photo_pixels, restart_every_mcu, segment, with_segments,
};
pub use png::{
    Pass, crc32, fix_png_crcs, ihdr, passes, png_chunk, png_of_chunks, png_of_zeros, png_with,
    solid_png, zlib_of_runs,
};

/// A 600×600 JPEG, red in its top-left quarter on white: where the red lands in
/// an output shows which way it was turned (see [`assert_red_corner_turned`]).
pub fn red_corner_photo() -> Vec<u8> {
    let image = RgbImage::from_fn(600, 600, |x, y| {
        if x < 300 && y < 300 {
            Rgb([230, 20, 20])
        } else {
            Rgb([245, 245, 245])
        }
    });
    crate::imaging::encode_jpeg(&image)
}

/// Panics unless `jpeg` (named `what` in the message) is [`red_corner_photo`]
/// processed and turned by `angle`, counter-clockwise: a 256×256 JPEG whose red
/// corner is where that turn puts it.
pub fn assert_red_corner_turned(jpeg: &[u8], angle: Angle, what: &str) {
    let image = crate::imaging::decode(jpeg, ImageFormat::Jpeg, 256)
        .unwrap_or_else(|err| panic!("{what}: not a JPEG that decodes: {err}"));
    assert_eq!(image.dimensions(), (256, 256), "{what}");
    // A pixel well inside the red corner.
    let (x, y) = match angle {
        Angle::Deg90 => (30, 226),
        Angle::Deg180 => (226, 226),
        Angle::Deg270 => (226, 30),
        Angle::Deg360 => (30, 30),
    };
    let px = image.get_pixel(x, y).0;
    assert!(
        px[0] > 180 && px[1] < 80,
        "{what}: red corner at ({x},{y}) is {px:?}"
    );
}

/// The TIFF block of an Exif segment holding one tag: orientation.
pub fn exif_tiff(orientation: u16, big_endian: bool) -> Vec<u8> {
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut tiff = if big_endian {
        b"MM\0*".to_vec()
    } else {
        b"II*\0".to_vec()
    };
    tiff.extend_from_slice(&u32b(8)); // first IFD right after the header
    tiff.extend_from_slice(&u16b(1)); // one entry
    tiff.extend_from_slice(&u16b(0x0112)); // Orientation
    tiff.extend_from_slice(&u16b(3)); // SHORT
    tiff.extend_from_slice(&u32b(1)); // one value
    tiff.extend_from_slice(&u16b(orientation));
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&u32b(0)); // no next IFD
    tiff
}
