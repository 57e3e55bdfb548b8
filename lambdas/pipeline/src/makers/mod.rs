//! Feature `testing`: makers of test inputs, built in code so a hostile corpus is a
//! few kilobytes of source: photo-like and hostile JPEGs, PNGs whose image data is
//! deflate back-references (a 64-megapixel image in a few megabytes), EXIF blocks.
//! The pipeline's tests and its `hostile_inputs` example both make their files
//! here, so a benchmark runs on the very inputs the budget tests check.
//!
//! A maker panics on parameters its encoder refuses: these are test inputs, and a
//! panic names the broken setup.

mod jpeg;
mod png;

pub use jpeg::{flat_jpeg, photo_jpeg, photo_pixels, restart_every_mcu, segment, with_segments};
pub use png::{
    Pass, crc32, fix_png_crcs, ihdr, passes, png_chunk, png_of_chunks, png_of_zeros, png_with,
    solid_png, zlib_of_runs,
};

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

/// Panics unless `bytes` fits an upload: a maker of an accepted input must make one.
fn assert_uploadable(bytes: &[u8]) {
    assert!(
        bytes.len() as u64 <= crate::limits::MAX_UPLOAD_BYTES,
        "{} bytes is over the upload limit",
        bytes.len()
    );
}
