//! JPEG decoding: the headers are read and budgeted in Rust first
//! ([`jpeg_header`]), then one decode at the DCT scale closest above the output
//! size: DC coefficients only ([`jpeg_dc`]) at 1/8, libjpeg-turbo at 1/4, 1/2 and
//! full size, and jpeg-decoder for the rare lossless JPEGs (which
//! have no DCT to scale).

use image::RgbImage;
use image::metadata::Orientation;

use super::jpeg_dc::{self, ColourKind, colour_kind, inverted_cmyk_to_rgb};
use super::jpeg_frame::Coding;
use super::jpeg_header::{JpegHeader, essential_segments, read_header};
use super::jpeg_rules::check_data_amount;
use super::size::{check_dimensions, fit_size};
use super::turbo::with_decompressor;
use crate::limits::{
    MAX_DECODE_ALLOC_BYTES, MAX_JPEG_BLOCK_VISITS, MAX_JPEG_LOSSLESS_SAMPLES, MAX_JPEG_SCANS,
};
use crate::reject::{Claimed, RejectCode, Rejection};

/// What libjpeg-turbo holds whatever the image: its state, Huffman and range
/// tables (measured: about 100 KiB; this is rounded up).
const LIBJPEG_FIXED_BYTES: u64 = 512 * 1024;

/// How an image is to be decoded, and what that costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// DC coefficients only, at 1/8 (Huffman-coded DCT frames).
    DcOnly,
    /// libjpeg-turbo at `eighths`/8.
    Turbo { eighths: u32 },
    /// jpeg-decoder, at full size.
    Lossless,
}

pub(super) fn decode_jpeg(
    bytes: &[u8],
    target_side: u32,
) -> Result<(RgbImage, Orientation), Rejection> {
    let header = read_header(bytes)?;
    let frame = &header.frame;
    check_dimensions(frame.width, frame.height)?;
    check_data_amount(frame, &header.scans)?;
    let orientation = header
        .exif
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    let path = choose_path(&header, target_side);
    check_budget(&header, path)?;
    let image = match path {
        Path::DcOnly => jpeg_dc::decode_dc(bytes, &header)?,
        Path::Turbo { eighths } => decode_turbo(bytes, &header, eighths)?,
        Path::Lossless => decode_lossless(bytes)?,
    };
    Ok((image, orientation))
}

/// The largest DCT reduction (1/8, 1/4, 1/2) that still leaves at least the
/// fitted size on both axes; the rest is done by a proper resampling filter.
fn choose_path(header: &JpegHeader<'_>, target_side: u32) -> Path {
    let frame = &header.frame;
    if frame.coding == Coding::Lossless {
        return Path::Lossless;
    }
    let (width, height) = (frame.width, frame.height);
    let (fit_w, fit_h) = fit_size(width, height, target_side);
    let scaled = |len: u32, eighths: u32| (len * eighths).div_ceil(8);
    let eighths = [1, 2, 4]
        .into_iter()
        .find(|&e| scaled(width, e) >= fit_w && scaled(height, e) >= fit_h)
        .unwrap_or(8);
    // At 1/8 a block is its DC coefficient: the DC-only decoder keeps those and
    // steps over the AC codes without building a coefficient (baseline), or skips
    // the AC scans whole (progressive). libjpeg-turbo at 1/8 decodes what it then
    // throws away, and buffers every coefficient of a file of several scans.
    if eighths == 1 {
        Path::DcOnly
    } else {
        Path::Turbo { eighths }
    }
}

/// Memory and work of decoding `header` along `path`, against the limits.
fn check_budget(header: &JpegHeader<'_>, path: Path) -> Result<(), Rejection> {
    let frame = &header.frame;
    let (bytes, visits) = decode_cost(header, path);
    if visits > MAX_JPEG_BLOCK_VISITS {
        return Err(Rejection::new(
            RejectCode::TooComplex,
            format!(
                "The JPEG's {} scans would make {visits} block decodes, over the limit of {MAX_JPEG_BLOCK_VISITS}; real photos need a few million. Re-save it as a standard JPEG, then upload it again.",
                header.scans.len()
            ),
        ));
    }
    if bytes > MAX_DECODE_ALLOC_BYTES {
        let mib = MAX_DECODE_ALLOC_BYTES / (1024 * 1024);
        let (w, h) = (frame.width, frame.height);
        let why = match path {
            Path::Lossless => format!(
                "It is a lossless JPEG, which has no reduced-size decoding, and at {w}×{h} it would need more than {mib} MiB. Re-save it as a standard JPEG or PNG, then upload it again."
            ),
            _ => format!(
                "At {w}×{h} it would need more than {mib} MiB to decode. Scale it down, then upload it again."
            ),
        };
        return Err(Rejection::new(
            RejectCode::TooManyPixels,
            format!("The JPEG is too large to decode. {why}"),
        ));
    }
    let samples = header.lossless_samples();
    if path == Path::Lossless && samples > MAX_JPEG_LOSSLESS_SAMPLES {
        return Err(Rejection::new(
            RejectCode::TooComplex,
            format!(
                "The lossless JPEG's {} scans would decode {samples} samples, over the limit of {MAX_JPEG_LOSSLESS_SAMPLES}. Re-save it as a standard JPEG or PNG, then upload it again.",
                header.scans.len()
            ),
        ));
    }
    Ok(())
}

/// What decoding `header` along `path` costs: peak bytes allocated, and blocks
/// visited by the entropy decoder.
fn decode_cost(header: &JpegHeader<'_>, path: Path) -> (u64, u64) {
    let frame = &header.frame;
    let (width, height) = (u64::from(frame.width), u64::from(frame.height));
    let components = frame.components.len() as u64;
    match path {
        Path::DcOnly => {
            // DC planes (2 bytes a block), then one sample a block per component
            // and the RGB output.
            let out = width.div_ceil(8) * height.div_ceil(8);
            let bytes = frame.total_blocks() * 2 + out * (components + 3);
            (bytes, header.dc_block_visits())
        }
        Path::Turbo { eighths } => (turbo_bytes(header, eighths), header.block_visits()),
        Path::Lossless => {
            // jpeg-decoder's sample planes and interleaved output, the RGB image
            // and the prepared copy of the file: measured 20 bytes a pixel for
            // 8-bit RGB (a 2000×2000 one peaked at 79 MB), budgeted at 8 a sample.
            let pixels = width * height;
            (pixels * components * 8 + pixels * 3 + header.file_bytes, 0)
        }
    }
}

/// Peak bytes of libjpeg-turbo's decode of `header` at `eighths`/8.
fn turbo_bytes(header: &JpegHeader<'_>, eighths: u32) -> u64 {
    let frame = &header.frame;
    let (width, height) = (u64::from(frame.width), u64::from(frame.height));
    let components = frame.components.len() as u64;
    let (out_w, out_h) = (
        (width * u64::from(eighths)).div_ceil(8),
        (height * u64::from(eighths)).div_ceil(8),
    );
    // The output (CMYK is converted to RGB after, so both are held), and
    // libjpeg's row buffers: each component's MCU row at the output scale,
    // three times over (context rows and upsampling).
    let out_channels = if components == 4 { 4 + 3 } else { 3 };
    let mcu_rows = u64::from(frame.max_v()) * u64::from(eighths);
    let rows = 3 * mcu_rows * out_w.div_ceil(8) * 8 * (components + 4);
    let coefficients = if header.multi_scan() {
        frame.total_blocks() * 128
    } else {
        0
    };
    // Plus the copy of the essential segments handed to it, if cleaned.
    out_w * out_h * out_channels + rows + coefficients + header.file_bytes + LIBJPEG_FIXED_BYTES
}

/// libjpeg-turbo at `eighths`/8, to RGB (CMYK and YCCK through CMYK).
fn decode_turbo(
    bytes: &[u8],
    header: &JpegHeader<'_>,
    eighths: u32,
) -> Result<RgbImage, Rejection> {
    let kind = colour_kind(header);
    let cmyk = matches!(kind, ColourKind::Cmyk | ColourKind::Ycck);
    let frame = &header.frame;
    let width = (frame.width * eighths).div_ceil(8) as usize;
    let height = (frame.height * eighths).div_ceil(8) as usize;
    let format = if cmyk {
        turbojpeg::PixelFormat::CMYK
    } else {
        turbojpeg::PixelFormat::RGB
    };
    let channels = format.size();
    let mut pixels = vec![0_u8; width * height * channels];
    let image = turbojpeg::Image {
        pixels: pixels.as_mut_slice(),
        width,
        pitch: width * channels,
        height,
        format,
    };
    let cleaned;
    let input = if header.needs_cleaning {
        cleaned = essential_segments(bytes)?;
        cleaned.as_slice()
    } else {
        bytes
    };
    // libjpeg-turbo reports a warning (data ending early, a missing restart
    // marker, a scan of the wrong length) as an error once it is done: every one
    // is a rejection, so a truncated file never comes out partly grey.
    with_decompressor(|decompressor| {
        decompressor.set_scaling_factor(turbojpeg::ScalingFactor::new(eighths as usize, 8))?;
        decompressor.set_scan_limit(MAX_JPEG_SCANS as u32)?;
        decompressor.decompress(input, image)
    })
    .map_err(turbo_rejection)?;
    if cmyk {
        pixels = pixels
            .chunks_exact(4)
            .flat_map(|p| inverted_cmyk_to_rgb([p[0], p[1], p[2], p[3]]))
            .collect();
    }
    RgbImage::from_raw(width as u32, height as u32, pixels).ok_or_else(|| {
        Rejection::corrupt(Claimed::Jpeg, "the decoded size does not match the header")
    })
}

fn turbo_rejection(err: turbojpeg::Error) -> Rejection {
    match err {
        turbojpeg::Error::TurboJpegError(message) => {
            let message = message.trim_end_matches('.').to_owned();
            if message.contains("Premature end") {
                Rejection::corrupt(Claimed::Jpeg, "the JPEG data ends early")
            } else if message.contains("Unsupported") || message.contains("not supported") {
                Rejection::unsupported_jpeg_feature(message)
            } else {
                Rejection::corrupt(Claimed::Jpeg, message)
            }
        }
        other => Rejection::corrupt(Claimed::Jpeg, other),
    }
}

/// Lossless JPEGs (SOF3) through jpeg-decoder, at full size: the budget has
/// bounded their size.
fn decode_lossless(bytes: &[u8]) -> Result<RgbImage, Rejection> {
    use jpeg_decoder::Decoder;

    let prepared = prepare_jpeg(bytes)?;
    let mut decoder = Decoder::new(prepared.bytes.as_slice());
    let pixels = decoder.decode().map_err(jpeg_rejection)?;
    let info = decoder
        .info()
        .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "no JPEG frame header"))?;
    let (out_w, out_h) = (u32::from(info.width), u32::from(info.height));
    let rgb = lossless_to_rgb(pixels, prepared.precision, info.pixel_format)?;
    // `from_raw` accepts a longer buffer than the size needs; a mismatch either way
    // means the decoder and its header disagree.
    if Some(rgb.len()) != usize::try_from(u64::from(out_w) * u64::from(out_h) * 3).ok() {
        return Err(Rejection::corrupt(
            Claimed::Jpeg,
            "the decoded size does not match the header",
        ));
    }
    RgbImage::from_raw(out_w, out_h, rgb).ok_or_else(|| {
        Rejection::corrupt(Claimed::Jpeg, "the decoded size does not match the header")
    })
}

/// Lossless JPEG samples → 8-bit RGB. The decoder hands them out unconverted: one
/// byte each at 8 bits, otherwise two (native-endian, `0..2^precision`), with no
/// colour transform.
fn lossless_to_rgb(
    pixels: Vec<u8>,
    precision: u8,
    format: jpeg_decoder::PixelFormat,
) -> Result<Vec<u8>, Rejection> {
    use jpeg_decoder::PixelFormat;

    let max = (1_u32 << precision.clamp(2, 16)) - 1;
    let to_8_bits = |sample: u32| ((sample.min(max) * 255 + max / 2) / max) as u8;
    let samples: Vec<u8> = if precision == 8 {
        pixels
    } else {
        pixels
            .chunks_exact(2)
            .map(|ne| to_8_bits(u32::from(u16::from_ne_bytes([ne[0], ne[1]]))))
            .collect()
    };
    match format {
        PixelFormat::L8 | PixelFormat::L16 => Ok(samples.iter().flat_map(|&l| [l, l, l]).collect()),
        PixelFormat::RGB24 => Ok(samples),
        PixelFormat::CMYK32 => Err(Rejection::new(
            RejectCode::UnsupportedType,
            "The JPEG is a lossless CMYK JPEG, which this tool cannot read. Re-save it as a standard JPEG or PNG, then upload it again.",
        )),
    }
}

/// A JPEG's bytes, made safe for jpeg-decoder to finish.
struct PreparedJpeg {
    bytes: Vec<u8>,
    /// Bits per sample, from the frame header (the decoder does not expose it).
    precision: u8,
}

/// Ones to put before each marker that ends entropy-coded data: six `0xFF` bytes,
/// each stuffed as `FF 00`. No more, because the decoder must still read on to the
/// marker after a complete scan or restart interval: it refills its bit buffer up to
/// 57 bits or the next marker, and then holds at most 7 padding bits + these 48.
const ONES_BEFORE_MARKER: [u8; 12] = [
    0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0xFF, 0x00,
];

/// Rejects a JPEG whose scans end early, which jpeg-decoder would otherwise decode
/// into a partly grey image.
///
/// When jpeg-decoder meets a marker inside a scan it goes on with zero bits, so a
/// truncated file with a marker after the cut (an appended end-of-image, or a header
/// claiming more pixels than the data holds) decodes "successfully". Before every
/// marker that ends entropy-coded data this puts a run of one bits: a complete scan
/// never reads them (the encoder's padding is ones too), while a scan that is short
/// of data reads them as Huffman codes, and an all-ones code is invalid in JPEG, so
/// the decoder fails there. It also checks that every component got its DC and AC
/// coefficients in some scan: a progressive file cut between scans is missing some.
///
/// Bytes after the end-of-image marker are kept as they are (cameras append data
/// there; the decoder stops at the marker).
fn prepare_jpeg(bytes: &[u8]) -> Result<PreparedJpeg, Rejection> {
    let mut out = Vec::with_capacity(bytes.len() + 16 * ONES_BEFORE_MARKER.len());
    let mut seen = Seen {
        precision: 8,
        progressive: false,
        coverage: Vec::new(),
    };
    let mut in_scan = false;
    let mut at = 0;
    while at < bytes.len() {
        // Copy up to the next 0xFF (data in a scan; stray bytes between segments,
        // which decoders skip).
        let Some(skip) = bytes[at..].iter().position(|&b| b == 0xFF) else {
            out.extend_from_slice(&bytes[at..]);
            break;
        };
        out.extend_from_slice(&bytes[at..at + skip]);
        at += skip;
        // `at` is an 0xFF: fill bytes, then the marker code.
        let Some(fill) = bytes[at..].iter().position(|&b| b != 0xFF) else {
            out.extend_from_slice(&bytes[at..]);
            break;
        };
        let code_at = at + fill;
        let code = bytes[code_at];
        if code == 0x00 {
            // A stuffed 0xFF data byte.
            out.extend_from_slice(&bytes[at..=code_at]);
            at = code_at + 1;
            continue;
        }
        if in_scan {
            out.extend_from_slice(&ONES_BEFORE_MARKER);
            in_scan = (0xD0..=0xD7).contains(&code); // a restart marker continues the scan
        }
        let segment_end = match code {
            // Markers without a length: SOI, TEM, RSTn.
            0xD8 | 0x01 | 0xD0..=0xD7 => code_at + 1,
            0xD9 => {
                check_coverage(&seen.coverage, seen.progressive)?;
                out.extend_from_slice(&bytes[at..]);
                break;
            }
            _ => {
                let Some(end) = segment_end(bytes, code_at) else {
                    out.extend_from_slice(&bytes[at..]);
                    break;
                };
                in_scan = seen.note_segment(code, bytes.get(code_at + 3..end).unwrap_or_default());
                end
            }
        };
        out.extend_from_slice(&bytes[at..segment_end]);
        at = segment_end;
    }
    Ok(PreparedJpeg {
        bytes: out,
        precision: seen.precision,
    })
}

/// Where the segment whose marker code is at `code_at` ends (its length counts
/// from the byte after the code; cut at the end of the file), or `None` when the
/// file ends inside its length.
fn segment_end(bytes: &[u8], code_at: usize) -> Option<usize> {
    let Some(&[high, low]) = bytes.get(code_at + 1..code_at + 3) else {
        return None;
    };
    Some((code_at + 1 + usize::from(u16::from_be_bytes([high, low]))).min(bytes.len()))
}

/// What [`prepare_jpeg`] has read of the headers so far: the frame's precision
/// and coding, and which coefficients each component has been sent.
struct Seen {
    precision: u8,
    progressive: bool,
    /// (component id, coefficients 0..64 sent so far as bits)
    coverage: Vec<(u8, u64)>,
}

impl Seen {
    /// Notes a segment with a length (marker `code`, `body` after the length);
    /// returns whether entropy-coded data follows it (a scan header).
    fn note_segment(&mut self, code: u8, body: &[u8]) -> bool {
        match code {
            // Frame headers (SOF0..SOF15 but DHT, JPG and DAC).
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                self.precision = body.first().copied().unwrap_or(8);
                self.progressive = matches!(code, 0xC2 | 0xC6 | 0xCA | 0xCE);
                self.coverage = body
                    .get(6..)
                    .unwrap_or_default()
                    .chunks_exact(3)
                    .map(|component| (component[0], 0))
                    .collect();
                false
            }
            0xDA => {
                note_scan(&mut self.coverage, body, self.progressive);
                true
            }
            _ => false,
        }
    }
}

/// Records which coefficients of which components a scan header says it sends.
/// Sequential (and lossless) scans send everything; progressive ones a band, first
/// (high bits, `Ah = 0`) or as a refinement of an earlier first scan.
fn note_scan(coverage: &mut [(u8, u64)], header: &[u8], progressive: bool) {
    let Some((&count, rest)) = header.split_first() else {
        return;
    };
    let selectors = rest.get(..2 * usize::from(count)).unwrap_or_default();
    let band = match rest.get(2 * usize::from(count)..2 * usize::from(count) + 3) {
        _ if !progressive => u64::MAX,
        Some(&[start, end, approximation])
            if approximation >> 4 == 0 && start <= end && end < 64 =>
        {
            (u64::MAX >> (63 - end)) & (u64::MAX << start)
        }
        _ => 0,
    };
    for selector in selectors.chunks_exact(2) {
        if let Some((_, sent)) = coverage.iter_mut().find(|(id, _)| *id == selector[0]) {
            *sent |= band;
        }
    }
}

fn check_coverage(coverage: &[(u8, u64)], progressive: bool) -> Result<(), Rejection> {
    if coverage.iter().all(|&(_, sent)| sent == u64::MAX) {
        return Ok(());
    }
    Err(Rejection::corrupt(
        Claimed::Jpeg,
        if progressive {
            "the JPEG ends before all of its progressive scans"
        } else {
            "the JPEG ends before all of its scans"
        },
    ))
}

fn jpeg_rejection(err: jpeg_decoder::Error) -> Rejection {
    match err {
        jpeg_decoder::Error::Unsupported(feature) => {
            Rejection::unsupported_jpeg_feature(format!("{feature:?}"))
        }
        jpeg_decoder::Error::Io(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            Rejection::corrupt(Claimed::Jpeg, "the JPEG data ends early")
        }
        other => Rejection::corrupt(Claimed::Jpeg, other),
    }
}
