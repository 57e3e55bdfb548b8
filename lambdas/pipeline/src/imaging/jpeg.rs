//! JPEG decoding: at a DCT scale close to the output size, with the checks that
//! make a truncated or incomplete file a rejection.

use image::RgbImage;
use image::metadata::Orientation;

use super::{check_dimensions, fit_size};
use crate::reject::{RejectCode, Rejection};

pub(super) fn decode_jpeg(
    bytes: &[u8],
    target_side: u32,
) -> Result<(RgbImage, Orientation), Rejection> {
    use jpeg_decoder::{CodingProcess, Decoder, PixelFormat};

    let prepared = prepare_jpeg(bytes)?;
    let mut decoder = Decoder::new(prepared.bytes.as_slice());
    decoder.read_info().map_err(jpeg_rejection)?;
    let info = decoder
        .info()
        .ok_or_else(|| Rejection::corrupt("no JPEG frame header"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height)?;
    let lossless = info.coding_process == CodingProcess::Lossless;

    // The largest DCT reduction (1/8, 1/4, 1/2) that still leaves at least the
    // fitted size on both axes; the rest is done by a proper resampling filter.
    // Lossless JPEGs have no DCT to scale: the decoder would report the scaled size
    // but hand out full-size samples.
    let (fit_w, fit_h) = fit_size(width, height, target_side);
    let scaled = |len: u32, eighths: u32| (len * eighths).div_ceil(8);
    if !lossless
        && let Some(eighths) = [1, 2, 4]
            .into_iter()
            .find(|&e| scaled(width, e) >= fit_w && scaled(height, e) >= fit_h)
    {
        let (Ok(w), Ok(h)) = (
            u16::try_from(scaled(width, eighths)),
            u16::try_from(scaled(height, eighths)),
        ) else {
            unreachable!("a scaled JPEG dimension is no larger than the u16 original");
        };
        decoder.scale(w, h).map_err(jpeg_rejection)?;
    }

    let pixels = decoder.decode().map_err(jpeg_rejection)?;
    let info = decoder
        .info()
        .ok_or_else(|| Rejection::corrupt("no JPEG frame header"))?;
    let (out_w, out_h) = (u32::from(info.width), u32::from(info.height));
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);

    let rgb = if lossless {
        lossless_to_rgb(pixels, prepared.precision, info.pixel_format)?
    } else {
        match info.pixel_format {
            PixelFormat::RGB24 => pixels,
            PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
            PixelFormat::CMYK32 => pixels.chunks_exact(4).flat_map(cmyk_to_rgb).collect(),
            // The decoder only reads 8-bit DCT data; more bits are lossless-only.
            PixelFormat::L16 => return Err(Rejection::corrupt("a 16-bit DCT JPEG")),
        }
    };
    // `from_raw` accepts a longer buffer than the size needs; a mismatch either way
    // means the decoder and its header disagree.
    if Some(rgb.len()) != usize::try_from(u64::from(out_w) * u64::from(out_h) * 3).ok() {
        return Err(Rejection::corrupt(
            "the decoded size does not match the header",
        ));
    }
    let image = RgbImage::from_raw(out_w, out_h, rgb)
        .ok_or_else(|| Rejection::corrupt("the decoded size does not match the header"))?;
    Ok((image, orientation))
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
    let mut precision = 8;
    let mut progressive = false;
    // (component id, coefficients 0..64 sent so far as bits)
    let mut coverage: Vec<(u8, u64)> = Vec::new();
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
                check_coverage(&coverage, progressive)?;
                out.extend_from_slice(&bytes[at..]);
                break;
            }
            _ => {
                let Some(&[high, low]) = bytes.get(code_at + 1..code_at + 3) else {
                    out.extend_from_slice(&bytes[at..]);
                    break;
                };
                let body_start = code_at + 3;
                let end =
                    (code_at + 1 + usize::from(u16::from_be_bytes([high, low]))).min(bytes.len());
                let body = bytes.get(body_start..end).unwrap_or_default();
                match code {
                    // Frame headers (SOF0..SOF15 but DHT, JPG and DAC).
                    0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                        precision = body.first().copied().unwrap_or(8);
                        progressive = matches!(code, 0xC2 | 0xC6 | 0xCA | 0xCE);
                        coverage = body
                            .get(6..)
                            .unwrap_or_default()
                            .chunks_exact(3)
                            .map(|component| (component[0], 0))
                            .collect();
                    }
                    0xDA => {
                        note_scan(&mut coverage, body, progressive);
                        in_scan = true;
                    }
                    _ => {}
                }
                end
            }
        };
        out.extend_from_slice(&bytes[at..segment_end]);
        at = segment_end;
    }
    Ok(PreparedJpeg {
        bytes: out,
        precision,
    })
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
    Err(Rejection::corrupt(if progressive {
        "the JPEG ends before all of its progressive scans"
    } else {
        "the JPEG ends before all of its scans"
    }))
}

/// The decoder hands out plain CMYK (0 = no ink): it inverts the samples, undoing
/// the Adobe convention (inverted channels, as Photoshop and Pillow write them)
/// and converts YCCK first. This is the naive conversion without a colour profile.
fn cmyk_to_rgb(cmyk: &[u8]) -> [u8; 3] {
    let k = 255 - u16::from(cmyk[3]);
    let channel = |ink: u8| ((255 - u16::from(ink)) * k / 255) as u8;
    [channel(cmyk[0]), channel(cmyk[1]), channel(cmyk[2])]
}

fn jpeg_rejection(err: jpeg_decoder::Error) -> Rejection {
    match err {
        jpeg_decoder::Error::Unsupported(feature) => Rejection::new(
            RejectCode::UnsupportedType,
            format!(
                "The JPEG uses a feature this tool cannot read ({feature:?}). Re-save it as a standard JPEG or PNG, then upload it again."
            ),
        ),
        jpeg_decoder::Error::Io(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            Rejection::corrupt("the JPEG data ends early")
        }
        other => Rejection::corrupt(other),
    }
}
