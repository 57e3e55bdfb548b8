//! What the pipeline reads back from the bucket (a processed image under
//! `processed/`, a rotation under `augmented-images/`) is checked to be exactly what
//! the processor writes, from its headers, before any decoder or transform runs:
//! anyone who can write to the bucket can put anything there, and a worker that
//! trusts it can be made to spend seconds of CPU or a hundred MiB on one task.

use super::jpeg_frame::Coding;
use super::jpeg_header::{JpegHeader, read_header};
use super::jpeg_rules::check_data_amount;
use crate::limits::{CANVAS_SIDE_PX, MAX_OUTPUT_BYTES};
use crate::reject::{RejectCode, Rejection};
use crate::sniff::{ImageFormat, sniff};

/// Each component's sampling factors in what the processor writes: luma 2×2,
/// chroma 1×1 (4:2:0, libjpeg-turbo's `TJSAMP_420`).
const SAMPLING_420: [(u8, u8); 3] = [(2, 2), (1, 1), (1, 1)];

/// Checks that `bytes` is a JPEG such as the processor writes, and returns its
/// header. Accepted, and nothing else:
///
/// - at most [`MAX_OUTPUT_BYTES`];
/// - a baseline frame (SOF0: sequential, Huffman-coded), 8 bits a sample;
/// - [`CANVAS_SIDE_PX`] × [`CANVAS_SIDE_PX`] pixels;
/// - three components sampled 2×2, 1×1, 1×1 (YCbCr 4:2:0);
/// - one scan, of all three components, all 64 coefficients at full precision;
/// - scan data enough for every block (two bits a block at least).
///
/// Between the segments anything a decoder skips is allowed: a JFIF `APP0` (which
/// libjpeg-turbo's compressor writes), other `APPn` and comments, Huffman and
/// quantisation tables, a restart interval (`DRI`) with its `RSTn` markers. The
/// processor writes none of the last, but a restart marker costs nothing here and
/// the rotations of libjpeg-turbo's transform keep whatever the source had. A
/// rotation is the same kind of file (the transform keeps the frame), so the app's
/// thumbnails of rotations pass the same check.
pub(super) fn check_processed(bytes: &[u8]) -> Result<JpegHeader<'_>, Rejection> {
    if bytes.len() as u64 > MAX_OUTPUT_BYTES {
        return Err(not_processed(&format!(
            "it is {} bytes, more than a processed image (at most {} KiB)",
            bytes.len(),
            MAX_OUTPUT_BYTES / 1024
        )));
    }
    if sniff(bytes) != Some(ImageFormat::Jpeg) {
        return Err(not_processed("it is not a JPEG"));
    }
    let header = read_header(bytes).map_err(|rejection| {
        not_processed("its JPEG data is damaged, cut short or of another kind").with_detail(
            format!(
                "{} ({})",
                rejection.message,
                rejection.detail.as_deref().unwrap_or("")
            ),
        )
    })?;
    let frame = &header.frame;
    if frame.marker != 0xC0 || frame.coding != Coding::Sequential || frame.precision != 8 {
        return Err(not_processed(&format!(
            "it is not a baseline JPEG (frame marker {:02X}, {} bits)",
            frame.marker, frame.precision
        )));
    }
    if (frame.width, frame.height) != (CANVAS_SIDE_PX, CANVAS_SIDE_PX) {
        return Err(not_processed(&format!(
            "it is {}×{} pixels, not {CANVAS_SIDE_PX}×{CANVAS_SIDE_PX}",
            frame.width, frame.height
        )));
    }
    let sampling: Vec<(u8, u8)> = frame.components.iter().map(|c| (c.h, c.v)).collect();
    if sampling != SAMPLING_420 {
        return Err(not_processed(&format!(
            "its components are sampled {sampling:?}, not as YCbCr 4:2:0"
        )));
    }
    let [scan] = header.scans.as_slice() else {
        return Err(not_processed(&format!(
            "it has {} scans, not one",
            header.scans.len()
        )));
    };
    if scan.components.len() != 3 || (scan.ss, scan.se, scan.ah, scan.al) != (0, 63, 0, 0) {
        return Err(not_processed(
            "its scan is not one of every component and coefficient",
        ));
    }
    check_data_amount(frame, &header.scans)
        .map_err(|_| not_processed("its scan has too little data for its blocks"))?;
    Ok(header)
}

/// The rejection of a file at a pipeline output key that the pipeline did not
/// write: `why` (plain words) says how it differs.
fn not_processed(why: &str) -> Rejection {
    Rejection::new(
        RejectCode::UnsupportedType,
        format!(
            "This is not an image the pipeline wrote: {why}. Upload the original again to make it anew."
        ),
    )
}
