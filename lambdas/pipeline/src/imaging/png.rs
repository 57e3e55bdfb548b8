//! PNG decoding, streaming: rows come out of the `png` crate one at a time and are
//! box-averaged as they arrive (Adam7 passes included), so a 64-megapixel PNG never
//! exists at full size. The working memory is computed from the header and checked
//! against [`MAX_PNG_DECODE_BYTES`] before anything is allocated.
//!
//! Colour profiles (`iCCP`) and text (`tEXt`, `zTXt`, `iTXt`) are skipped, never
//! inflated: the pipeline uses no colour profile (pixels are taken as sRGB). The
//! `eXIf` chunk is read in place for its orientation and never copied. Of an APNG
//! only the default image (`IDAT`) is decoded; its `fdAT` frames are never read.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

use image::metadata::Orientation;
use image::{DynamicImage, RgbImage, RgbaImage};
use png::{Adam7Info, ColorType, DecodingError, InterlaceInfo, Transformations};

use super::size::{check_dimensions, fit_size};
use crate::limits::{MAX_PNG_DECODE_BYTES, MAX_PNG_EXIF_BYTES, MAX_PNG_IMAGE_DATA_BYTES};
use crate::reject::{Claimed, RejectCode, Rejection};

/// Decodes to RGB flattened onto white, box-shrunk by the largest integer factor that
/// keeps it at least as large as its fit into `target_side`², with the EXIF
/// orientation still to apply.
pub(super) fn decode_png(
    bytes: &[u8],
    target_side: u32,
) -> Result<(RgbImage, Orientation), Rejection> {
    let orientation = exif_orientation(bytes);
    let limits = png::Limits {
        bytes: usize::try_from(MAX_PNG_DECODE_BYTES).unwrap_or(usize::MAX),
    };
    let mut decoder = png::Decoder::new_with_limits(WithoutExif::new(bytes), limits);
    decoder.set_ignore_iccp_chunk(true);
    decoder.set_ignore_text_chunk(true);
    // To 8 bits per channel; palette, tRNS and 1/2/4-bit gray expanded.
    decoder.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    let header = decoder
        .read_header_info()
        .map_err(|err| png_rejection(err, "header"))?;
    let (width, height) = (header.width, header.height);
    check_dimensions(width, height)?;
    // Within the side limit just checked, so no overflow.
    let raw_row_bytes = header.raw_row_length();
    let shrink = BoxShrink::plan(width, height, target_side);
    if shrink.budget_bytes(raw_row_bytes) > MAX_PNG_DECODE_BYTES {
        return Err(too_much_memory(width, height));
    }
    let interlaced = header.interlaced;
    let bits_a_pixel =
        u64::from(header.color_type.samples() as u8) * u64::from(header.bit_depth as u8);
    let image_data_bytes = image_data_bytes(width, height, interlaced, bits_a_pixel);
    if image_data_bytes > MAX_PNG_IMAGE_DATA_BYTES {
        return Err(too_much_data(
            width,
            height,
            header.bit_depth as u8,
            image_data_bytes,
        ));
    }

    let mut reader = decoder
        .read_info()
        .map_err(|err| png_rejection(err, "metadata"))?;
    // The crate takes a PLTE of any length from 3 to 768 bytes, then reads it in RGB
    // triples when it expands the palette and panics on a partial one (png 0.18.1,
    // found by fuzzing): a palette must be whole entries, as the PNG spec says.
    if reader
        .info()
        .palette
        .as_ref()
        .is_some_and(|palette| palette.len() % 3 != 0)
    {
        return Err(Rejection::corrupt(
            Claimed::Png,
            "the PNG palette (PLTE) is not a whole number of RGB entries",
        ));
    }
    let channels = match reader.output_color_type() {
        (ColorType::Grayscale, png::BitDepth::Eight) => Channels::Gray,
        (ColorType::GrayscaleAlpha, png::BitDepth::Eight) => Channels::GrayAlpha,
        (ColorType::Rgb, png::BitDepth::Eight) => Channels::Rgb,
        (ColorType::Rgba, png::BitDepth::Eight) => Channels::Rgba,
        _ => {
            return Err(Rejection::corrupt(
                Claimed::Png,
                "the PNG colour type is not valid",
            ));
        }
    };
    let mut sums = shrink.sums(channels, interlaced);
    // Exactly as many rows as the header announces: never polling past the last one
    // means image data after it (however much) is never inflated.
    for pass in passes(width, height, interlaced) {
        for line in 0..pass.lines {
            let row = reader
                .next_interlaced_row()
                .map_err(|err| png_rejection(err, "image data"))?
                .ok_or_else(|| Rejection::corrupt(Claimed::Png, "the PNG image data ends early"))?;
            // The crate's row order is the one above; a row elsewhere would be summed
            // into the wrong box, so check it.
            let in_order = match (pass.number, row.interlace()) {
                (None, InterlaceInfo::Null(_)) => true,
                (Some(number), InterlaceInfo::Adam7(got)) => {
                    *got == Adam7Info::new(number, line, width)
                }
                _ => false,
            };
            let pixels = usize::try_from(pass.samples).unwrap_or(usize::MAX);
            if !in_order || row.data().len() != pixels.saturating_mul(channels.count()) {
                return Err(Rejection::corrupt(
                    Claimed::Png,
                    "the PNG rows are not what its header says",
                ));
            }
            let y = pass.y0 + line * pass.dy;
            sums.add_row(row.data(), y, pass.x0, pass.dx);
        }
    }
    // The image data after the last row is not inflated, but a file cut anywhere
    // before its end chunk is still a truncated file.
    if !runs_to_iend(bytes) {
        return Err(Rejection::corrupt(Claimed::Png, "the PNG data ends early"));
    }
    Ok((sums.onto_white(), orientation))
}

/// The `png` crate's error kinds in plain words; `part` says where it happened.
fn png_rejection(err: DecodingError, part: &str) -> Rejection {
    match err {
        DecodingError::IoError(err) if err.kind() == io::ErrorKind::UnexpectedEof => {
            Rejection::corrupt(Claimed::Png, "the PNG data ends early")
        }
        DecodingError::IoError(err) => Rejection::corrupt(
            Claimed::Png,
            format!("the PNG {part} cannot be read: {err}"),
        ),
        DecodingError::Format(err) => {
            Rejection::corrupt(Claimed::Png, format!("the PNG {part} is damaged: {err}"))
        }
        DecodingError::Parameter(err) => {
            Rejection::corrupt(Claimed::Png, format!("the PNG {part} is damaged: {err}"))
        }
        DecodingError::LimitsExceeded => Rejection::new(
            RejectCode::TooManyPixels,
            format!(
                "The PNG needs more than {} MiB to decode. Scale it down, then upload it again.",
                MAX_PNG_DECODE_BYTES / (1024 * 1024)
            ),
        ),
    }
}

/// Bytes of filtered rows (a filter byte each) over every pass: what the decoder
/// inflates and unfilters.
fn image_data_bytes(width: u32, height: u32, interlaced: bool, bits_a_pixel: u64) -> u64 {
    passes(width, height, interlaced)
        .iter()
        .map(|pass| {
            u64::from(pass.lines) * (1 + (u64::from(pass.samples) * bits_a_pixel).div_ceil(8))
        })
        .sum()
}

fn too_much_data(width: u32, height: u32, depth: u8, bytes: u64) -> Rejection {
    let mib = |bytes: u64| bytes.div_ceil(1024 * 1024);
    Rejection::new(
        RejectCode::TooManyPixels,
        format!(
            "The PNG is {width}×{height} pixels at {depth} bits a channel: {} MiB of image data to unpack, over the limit of {} MiB. Scale it down or save it at 8 bits a channel, then upload it again.",
            mib(bytes),
            mib(MAX_PNG_IMAGE_DATA_BYTES)
        ),
    )
}

fn too_much_memory(width: u32, height: u32) -> Rejection {
    Rejection::new(
        RejectCode::TooManyPixels,
        format!(
            "The PNG is {width}×{height} pixels; shrinking it would need more than {} MiB. Scale it down, then upload it again.",
            MAX_PNG_DECODE_BYTES / (1024 * 1024)
        ),
    )
}

// ---------------------------------------------------------------------------------
// Chunks

const SIGNATURE_LEN: usize = 8;

/// The chunks of a PNG after its signature: `(type, data)`, `data` cut short where the
/// file is. Stops at the first chunk whose header is incomplete.
fn chunks(bytes: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut at = SIGNATURE_LEN;
    std::iter::from_fn(move || {
        let (len, kind) = chunk_header(bytes, at)?;
        let data_start = at + 8;
        let data_end = data_start.saturating_add(len).min(bytes.len());
        at = data_start.saturating_add(len).saturating_add(4);
        Some((kind, &bytes[data_start..data_end]))
    })
}

/// The length and type of the chunk starting at `at`, if its 8-byte header is there.
fn chunk_header(bytes: &[u8], at: usize) -> Option<(usize, [u8; 4])> {
    let header = bytes.get(at..at.checked_add(8)?)?;
    let (len, kind) = header.split_at(4);
    let len = u32::from_be_bytes(len.try_into().ok()?);
    Some((usize::try_from(len).ok()?, kind.try_into().ok()?))
}

/// Whether the chunks follow one another whole up to an `IEND` chunk: a walk over
/// their headers, a few steps per chunk, nothing inflated.
fn runs_to_iend(bytes: &[u8]) -> bool {
    let mut at = SIGNATURE_LEN;
    while let Some((len, kind)) = chunk_header(bytes, at) {
        let Some(end) = at.checked_add(12).and_then(|end| end.checked_add(len)) else {
            return false;
        };
        if end > bytes.len() {
            return false;
        }
        if &kind == b"IEND" {
            return true;
        }
        at = end;
    }
    false
}

/// The orientation in the first `eXIf` chunk before the image data, read in place
/// from at most [`MAX_PNG_EXIF_BYTES`] of it (the tag sits in the first directory).
fn exif_orientation(bytes: &[u8]) -> Orientation {
    chunks(bytes)
        .take_while(|(kind, _)| kind != b"IDAT" && kind != b"IEND")
        .find(|(kind, _)| kind == b"eXIf")
        .and_then(|(_, exif)| {
            Orientation::from_exif_chunk(&exif[..exif.len().min(MAX_PNG_EXIF_BYTES)])
        })
        .unwrap_or(Orientation::NoTransforms)
}

/// The PNG as the `png` crate reads it, without its `eXIf` chunks: the crate would
/// copy a chunk of any size into memory, and [`exif_orientation`] has read it already.
struct WithoutExif<'a> {
    bytes: &'a [u8],
    at: usize,
    /// End of the run of bytes passed on as they are (the signature, then a chunk).
    run_end: usize,
}

impl<'a> WithoutExif<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            run_end: SIGNATURE_LEN.min(bytes.len()),
        }
    }
}

impl Read for WithoutExif<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for WithoutExif<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.at == self.run_end && self.at < self.bytes.len() {
            // A chunk starts here (or the file ends in a partial header, passed on).
            let Some((len, kind)) = chunk_header(self.bytes, self.at) else {
                self.run_end = self.bytes.len();
                break;
            };
            let end = self
                .at
                .saturating_add(12)
                .saturating_add(len)
                .min(self.bytes.len());
            if &kind == b"eXIf" {
                self.at = end;
            }
            self.run_end = end;
        }
        Ok(&self.bytes[self.at..self.run_end])
    }

    fn consume(&mut self, amount: usize) {
        self.at = (self.at + amount).min(self.run_end);
    }
}

impl Seek for WithoutExif<'_> {
    /// The `png` crate asks for `Seek` but never seeks.
    fn seek(&mut self, _: SeekFrom) -> io::Result<u64> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the PNG is read front to back",
        ))
    }
}

// ---------------------------------------------------------------------------------
// Rows and passes

/// The rows of one Adam7 pass (or of the whole image, not interlaced): pixel `i` of
/// line `l` lands at `(x0 + i·dx, y0 + l·dy)`. Public through `makers` (feature
/// `testing`), so test PNGs are laid out by the same table; the `png` crate reads
/// them by its own, so a wrong entry here fails those tests.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    /// The Adam7 pass, 1 to 7; `None` when not interlaced.
    pub number: Option<u8>,
    pub x0: u32,
    pub dx: u32,
    pub y0: u32,
    pub dy: u32,
    /// Pixels a line.
    pub samples: u32,
    pub lines: u32,
}

/// The passes in the order the rows arrive; Adam7 passes with no pixels are skipped,
/// as the `png` crate skips them.
pub fn passes(width: u32, height: u32, interlaced: bool) -> Vec<Pass> {
    if !interlaced {
        return vec![Pass {
            number: None,
            x0: 0,
            dx: 1,
            y0: 0,
            dy: 1,
            samples: width,
            lines: height,
        }];
    }
    // (x0, dx, y0, dy) of passes 1 to 7, from the PNG specification.
    const ADAM7: [(u32, u32, u32, u32); 7] = [
        (0, 8, 0, 8),
        (4, 8, 0, 8),
        (0, 4, 4, 8),
        (2, 4, 0, 4),
        (0, 2, 2, 4),
        (1, 2, 0, 2),
        (0, 1, 1, 2),
    ];
    (1..)
        .zip(ADAM7)
        .map(|(number, (x0, dx, y0, dy))| Pass {
            number: Some(number),
            x0,
            dx,
            y0,
            dy,
            samples: width.saturating_sub(x0).div_ceil(dx),
            lines: height.saturating_sub(y0).div_ceil(dy),
        })
        .filter(|pass| pass.samples > 0 && pass.lines > 0)
        .collect()
}

// ---------------------------------------------------------------------------------
// Box shrink

/// Largest box side: 256² pixels of alpha-weighted 8-bit colour (255 · 255 each)
/// still fit a `u32` sum. Only a target under 64 px could want more.
const MAX_BOX_SIDE: u32 = 256;

/// The 8-bit samples of a decoded row.
#[derive(Clone, Copy)]
enum Channels {
    Gray,
    GrayAlpha,
    Rgb,
    Rgba,
}

impl Channels {
    fn count(self) -> usize {
        match self {
            Self::Gray => 1,
            Self::GrayAlpha => 2,
            Self::Rgb => 3,
            Self::Rgba => 4,
        }
    }
}

/// An integer box shrink of a `width`×`height` image by `factor`.
struct BoxShrink {
    width: u32,
    height: u32,
    factor: u32,
    out_width: u32,
    out_height: u32,
}

impl BoxShrink {
    /// The largest factor `k` such that `ceil(width / k)` and `ceil(height / k)` are
    /// still at least the fit into `target_side`², so Lanczos3 has the last word.
    fn plan(width: u32, height: u32, target_side: u32) -> Self {
        let (fit_width, fit_height) = fit_size(width, height, target_side);
        // ceil(n / k) >= f  ⇔  n > k·(f − 1)  ⇔  k <= (n − 1) / (f − 1).
        let largest = |n: u32, f: u32| {
            (n.saturating_sub(1))
                .checked_div(f.saturating_sub(1))
                .unwrap_or(u32::MAX)
        };
        let factor = largest(width, fit_width)
            .min(largest(height, fit_height))
            .clamp(1, MAX_BOX_SIDE);
        Self {
            width,
            height,
            factor,
            out_width: width.div_ceil(factor),
            out_height: height.div_ceil(factor),
        }
    }

    /// Bytes the decode holds at most: the `png` crate's row buffers (the rows it
    /// inflates and unfilters in, with the inflate window: measured at about 8 raw
    /// rows for the widest, 128 KiB and more for narrow ones), one 8-bit output row
    /// and its column sums, the box sums and the RGB result. Adam7 needs no more:
    /// its pass rows are shorter, and the box sums are the same.
    fn budget_bytes(&self, raw_row_bytes: usize) -> u64 {
        let raw_row = raw_row_bytes as u64;
        let png_buffers = 10 * raw_row + 256 * 1024;
        let output_row = (4 + 4 * 4) * u64::from(self.width);
        let out_pixels = u64::from(self.out_width) * u64::from(self.out_height);
        png_buffers + output_row + out_pixels * (4 * 4 + 3)
    }

    fn sums(self, channels: Channels, interlaced: bool) -> Sums {
        let ch = channels.count();
        let cells = self.out_width as usize * self.out_height as usize * ch;
        let opaque = matches!(channels, Channels::Gray | Channels::Rgb);
        let band = if opaque && !interlaced {
            vec![0; self.width as usize * ch]
        } else {
            Vec::new()
        };
        Sums {
            shrink: self,
            channels,
            sums: vec![0; cells],
            band,
        }
    }
}

/// Per output pixel, the sums of its box: of the samples, or with alpha, of the
/// premultiplied colour (Σ a·c) and of alpha (Σ a), so transparent pixels lend the
/// box no colour and edges get no dark fringe.
struct Sums {
    shrink: BoxShrink,
    channels: Channels,
    sums: Vec<u32>,
    /// Not interlaced, rows arrive top to bottom: without alpha, each is added to
    /// these column sums (a loop the compiler vectorises), and a whole band of
    /// `factor` rows is then added to its boxes at once. Empty otherwise: Adam7
    /// rows and rows with alpha (premultiplied on the way) go to the boxes directly.
    band: Vec<u32>,
}

impl Sums {
    /// Adds row `y`'s pixels, pixel `i` at `x0 + i·dx`.
    fn add_row(&mut self, row: &[u8], y: u32, x0: u32, dx: u32) {
        match (self.band.is_empty(), self.channels) {
            (false, Channels::Gray) => return self.add_to_band::<1>(row, y),
            (false, Channels::Rgb) => return self.add_to_band::<3>(row, y),
            _ => {}
        }
        match self.channels {
            Channels::Gray => self.add::<1, false>(row, y, x0, dx),
            Channels::GrayAlpha => self.add::<2, true>(row, y, x0, dx),
            Channels::Rgb => self.add::<3, false>(row, y, x0, dx),
            Channels::Rgba => self.add::<4, true>(row, y, x0, dx),
        }
    }

    /// Adds a whole row (not interlaced, no alpha) to the column sums, and the band
    /// to its boxes once its last row is in.
    fn add_to_band<const CH: usize>(&mut self, row: &[u8], y: u32) {
        for (sum, &v) in self.band.iter_mut().zip(row) {
            *sum += u32::from(v);
        }
        let BoxShrink {
            height,
            factor,
            out_width,
            ..
        } = self.shrink;
        if !(y + 1).is_multiple_of(factor) && y + 1 != height {
            return;
        }
        let out_row = (y / factor) as usize * out_width as usize * CH;
        let cells = &mut self.sums[out_row..out_row + out_width as usize * CH];
        let columns = self.band.chunks(factor as usize * CH);
        for (cell, columns) in cells.chunks_exact_mut(CH).zip(columns) {
            for column in columns.chunks_exact(CH) {
                for c in 0..CH {
                    cell[c] += column[c];
                }
            }
        }
        self.band.fill(0);
    }

    fn add<const CH: usize, const ALPHA: bool>(&mut self, row: &[u8], y: u32, x0: u32, dx: u32) {
        let BoxShrink {
            width,
            factor,
            out_width,
            ..
        } = self.shrink;
        let out_row = (y / factor) as usize * out_width as usize * CH;
        let cells = &mut self.sums[out_row..out_row + out_width as usize * CH];
        let samples = row.len() / CH;
        let mut start = 0;
        for (out_x, cell) in (0..out_width).zip(cells.chunks_exact_mut(CH)) {
            // The samples whose x is before this box's end.
            let box_end = ((out_x + 1) * factor).min(width);
            let end = (box_end.saturating_sub(x0).div_ceil(dx) as usize).min(samples);
            if end <= start {
                continue;
            }
            let pixels = row[start * CH..end * CH].chunks_exact(CH);
            if ALPHA {
                let mut sum = [0_u32; CH];
                for px in pixels {
                    let alpha = u32::from(px[CH - 1]);
                    for c in 0..CH - 1 {
                        sum[c] += u32::from(px[c]) * alpha;
                    }
                    sum[CH - 1] += alpha;
                }
                for c in 0..CH {
                    cell[c] += sum[c];
                }
            } else {
                let mut sum = [0_u32; CH];
                for px in pixels {
                    for c in 0..CH {
                        sum[c] += u32::from(px[c]);
                    }
                }
                for c in 0..CH {
                    cell[c] += sum[c];
                }
            }
            start = end;
        }
    }

    /// The box means, composited over white: `(Σ a·c + 255·(255·n − Σ a)) / (255·n)`
    /// for `n` pixels a box (the plain mean without alpha).
    fn onto_white(self) -> RgbImage {
        let BoxShrink {
            width,
            height,
            factor,
            out_width,
            out_height,
        } = self.shrink;
        let ch = self.channels.count();
        let mut rgb = Vec::with_capacity(out_width as usize * out_height as usize * 3);
        let mut cells = self.sums.chunks_exact(ch);
        for out_y in 0..out_height {
            let box_height = ((out_y + 1) * factor).min(height) - out_y * factor;
            for out_x in 0..out_width {
                let box_width = ((out_x + 1) * factor).min(width) - out_x * factor;
                let n = u64::from(box_width) * u64::from(box_height);
                let Some(cell) = cells.next() else {
                    unreachable!("one cell per output pixel");
                };
                let mean = |sum: u32| ((u64::from(sum) + n / 2) / n) as u8;
                let over_white = |premultiplied: u32, alpha: u32| {
                    let whole = 255 * n;
                    let white = 255 * (whole - u64::from(alpha));
                    ((u64::from(premultiplied) + white + whole / 2) / whole) as u8
                };
                match self.channels {
                    Channels::Gray => rgb.extend_from_slice(&[mean(cell[0]); 3]),
                    Channels::GrayAlpha => {
                        rgb.extend_from_slice(&[over_white(cell[0], cell[1]); 3]);
                    }
                    Channels::Rgb => rgb.extend(cell.iter().map(|&sum| mean(sum))),
                    Channels::Rgba => {
                        rgb.extend(cell[..3].iter().map(|&sum| over_white(sum, cell[3])));
                    }
                }
            }
        }
        RgbImage::from_raw(out_width, out_height, rgb)
            .unwrap_or_else(|| unreachable!("3 bytes per output pixel"))
    }
}

// ---------------------------------------------------------------------------------
// The `image` crate's decoders

/// Any colour type and depth → 8-bit RGB; transparent pixels are composited onto
/// white, as a viewer shows them on a white page. (PNG uploads are flattened by the
/// streaming decode above, at the reduced size.)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_box_is_the_largest_that_keeps_the_fit() {
        let sides = [1, 2, 3, 7, 255, 256, 257, 511, 512, 513, 1000, 4000, 16_384];
        for width in sides {
            for height in sides {
                for target in [1, 96, 192, 256] {
                    let shrink = BoxShrink::plan(width, height, target);
                    let (fit_width, fit_height) = fit_size(width, height, target);
                    let keeps =
                        |k: u32| width.div_ceil(k) >= fit_width && height.div_ceil(k) >= fit_height;
                    let what = format!("{width}x{height} into {target}: k = {}", shrink.factor);
                    assert!(keeps(shrink.factor), "{what} is too large");
                    assert!(
                        shrink.factor == MAX_BOX_SIDE || !keeps(shrink.factor + 1),
                        "{what} is not the largest"
                    );
                    assert_eq!(
                        (shrink.out_width, shrink.out_height),
                        (
                            width.div_ceil(shrink.factor),
                            height.div_ceil(shrink.factor)
                        )
                    );
                }
            }
        }
    }

    #[test]
    fn the_budget_of_the_worst_png_for_the_canvas_is_well_within_the_limit() {
        // 16384 a side, RGBA16: the longest raw rows; 510² (not shrunk) the most sums.
        for (width, height) in [
            (16_384, 3906),
            (8000, 8000),
            (510, 510),
            (3906, 16_384),
            (16_384, 1),
        ] {
            let raw_row = 1 + 8 * width as usize;
            let shrink = BoxShrink::plan(width, height, crate::limits::CANVAS_SIDE_PX);
            let budget = shrink.budget_bytes(raw_row);
            assert!(
                budget <= 6 * 1024 * 1024,
                "{width}x{height}: {budget} bytes"
            );
        }
    }
}
