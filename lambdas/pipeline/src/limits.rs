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
/// scale near the output size; PNGs are decoded streaming under
/// [`MAX_PNG_DECODE_BYTES`] instead.
pub const MAX_DECODE_ALLOC_BYTES: u64 = 256 * 1024 * 1024;

/// Most bytes a PNG decode may hold: the `png` crate's row buffers (a few rows and
/// its inflate window), one 8-bit row, and the sums of the box shrink that runs as
/// rows arrive (a 64-megapixel PNG is never held at full size). Computed from the
/// header (width, bit depth, colour type, the shrink factor) before anything is
/// allocated; over it is `too_many_pixels`. For the 256 px canvas the most any PNG
/// within [`MAX_PIXELS`] and [`MAX_SIDE_PX`] needs is about 6 MiB, so no such PNG,
/// 16-bit or Adam7-interlaced ones included, is refused (measured: 1.4 MiB for a
/// 16384-wide RGBA16 one, 5 MiB for a 510² one, which is not shrunk).
pub const MAX_PNG_DECODE_BYTES: u64 = 16 * 1024 * 1024;

/// Most bytes of a PNG's `eXIf` chunk searched for the orientation tag (it sits in
/// the first directory, near the start). The chunk is read in place, never copied,
/// whatever its size. Colour profiles (`iCCP`) and text chunks are never inflated:
/// the pipeline uses no colour profile.
pub const MAX_PNG_EXIF_BYTES: usize = 64 * 1024;

/// Side of the square white canvas every image is fitted onto.
pub const CANVAS_SIDE_PX: u32 = 256;

/// JPEG quality of every output (processed image and rotations).
pub const JPEG_QUALITY: u8 = 90;
