//! The pipeline's limits, in one place. Every rejection names the limit it hit.

/// Largest upload accepted: 10 MiB. Checked before download (from the object's
/// size) and again while reading, so a lying `Content-Length` cannot get past it.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// Longest side, in pixels, that the decoder will accept (either axis).
pub const MAX_SIDE_PX: u32 = 16_384;

/// Most pixels (width × height) the decoder will accept: 64 megapixels, above any
/// phone or DSLR photo; a larger header in a 10 MiB file is a decompression bomb.
pub const MAX_PIXELS: u64 = 64_000_000;

/// Most bytes the decoder may allocate for one image. JPEGs are decoded at a DCT
/// scale near the output size, so this binds on large PNGs only (16-bit RGBA).
pub const MAX_DECODE_ALLOC_BYTES: u64 = 256 * 1024 * 1024;

/// Side of the square white canvas every image is fitted onto.
pub const CANVAS_SIDE_PX: u32 = 256;

/// JPEG quality of every output (processed image and rotations).
pub const JPEG_QUALITY: u8 = 90;

/// Largest pipeline output read back (a processed image or a rotation: the
/// worker, the app's thumbnails and downloads): a 256×256 JPEG at quality 90 is a
/// few tens of KiB, so anything bigger at an output key was not written by the
/// pipeline and is not decoded.
pub const MAX_OUTPUT_BYTES: u64 = 1024 * 1024;
