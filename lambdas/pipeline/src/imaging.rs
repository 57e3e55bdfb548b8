//! The image work: decode (with limits), orient, flatten, fit onto the canvas,
//! rotate, encode. Pure functions from bytes to bytes; no I/O.
//!
//! Speed and memory come from decoding JPEGs at a DCT scale (1/8, 1/4, 1/2) close
//! to the output size, so a 24-megapixel photo is never held at full size, and
//! from SIMD resizing (`fast_image_resize`) and encoding (`jpeg-encoder`).

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};

use fast_image_resize as fr;
use image::codecs::png::PngDecoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder as _, ImageError, Limits, RgbImage, RgbaImage};

use crate::contract::Angle;
use crate::limits::{
    CANVAS_SIDE_PX, JPEG_QUALITY, MAX_DECODE_ALLOC_BYTES, MAX_PIXELS, MAX_SIDE_PX,
};
use crate::reject::{RejectCode, Rejection};
use crate::sniff::{ImageFormat, check_upload};

const WHITE: [u8; 3] = [255, 255, 255];

/// An upload's bytes → the processed image: fitted onto a white 256×256 canvas,
/// encoded as JPEG (quality 90). Every input problem is a [`Rejection`].
pub fn process_upload_bytes(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    guard(|| {
        let format = check_upload(bytes)?;
        let image = decode(bytes, format, CANVAS_SIDE_PX)?;
        Ok(encode_jpeg(&fit_onto_canvas(&image)))
    })
}

/// A processed image's bytes → its rotation by `angle`, counter-clockwise, as JPEG.
pub fn rotate_jpeg_bytes(bytes: &[u8], angle: Angle) -> Result<Vec<u8>, Rejection> {
    guard(|| {
        if check_upload(bytes)? != ImageFormat::Jpeg {
            return Err(Rejection::new(
                RejectCode::UnsupportedType,
                "A processed image must be a JPEG.",
            ));
        }
        // A processed image is small and carries no EXIF: zune-jpeg (inside
        // `image`) decodes it on this thread in a fraction of the time
        // jpeg-decoder takes to start its worker threads.
        let decoder = image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes))
            .map_err(|err| image_rejection(err, "JPEG"))?;
        let image = decode_with_limits(decoder, "JPEG")?.into_rgb8();
        Ok(encode_jpeg(&rotate(&image, angle)))
    })
}

/// Runs an `image` decoder under the pipeline's limits.
fn decode_with_limits(
    mut decoder: impl image::ImageDecoder,
    format: &str,
) -> Result<DynamicImage, Rejection> {
    let (width, height) = decoder.dimensions();
    check_dimensions(width, height)?;
    if decoder.total_bytes() > MAX_DECODE_ALLOC_BYTES {
        return Err(too_many_bytes(width, height));
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX);
    limits.max_image_height = Some(MAX_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODE_ALLOC_BYTES);
    decoder
        .set_limits(limits)
        .map_err(|err| image_rejection(err, format))?;
    DynamicImage::from_decoder(decoder).map_err(|err| image_rejection(err, format))
}

/// Decoders are fuzzed upstream, but a panic on hostile input must still end as a
/// rejection of that input, not as a crashed batch.
fn guard(work: impl FnOnce() -> Result<Vec<u8>, Rejection>) -> Result<Vec<u8>, Rejection> {
    catch_unwind(AssertUnwindSafe(work))
        .unwrap_or_else(|_| Err(Rejection::corrupt("the decoder failed on this data")))
}

/// Decodes to RGB with EXIF orientation applied and transparency flattened onto
/// white, no smaller than what fitting into `target_side`² needs (JPEGs may come
/// back reduced by a DCT scale).
pub fn decode(bytes: &[u8], format: ImageFormat, target_side: u32) -> Result<RgbImage, Rejection> {
    let (image, orientation) = match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, target_side)?,
        ImageFormat::Png => decode_png(bytes)?,
    };
    let mut image = DynamicImage::ImageRgb8(image);
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

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

/// Scales `image` to fit inside the canvas (Lanczos3; never enlarges) and centres it
/// on white.
pub fn fit_onto_canvas(image: &RgbImage) -> RgbImage {
    let (fit_w, fit_h) = fit_size(image.width(), image.height(), CANVAS_SIDE_PX);
    let resized = resize(image, fit_w, fit_h);
    let mut canvas = RgbImage::from_pixel(CANVAS_SIDE_PX, CANVAS_SIDE_PX, image::Rgb(WHITE));
    let x = (CANVAS_SIDE_PX - fit_w) / 2;
    let y = (CANVAS_SIDE_PX - fit_h) / 2;
    image::imageops::replace(&mut canvas, &resized, i64::from(x), i64::from(y));
    canvas
}

fn resize(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    if image.dimensions() == (width, height) {
        return image.clone();
    }
    let src = fr::images::ImageRef::new(
        image.width(),
        image.height(),
        image.as_raw(),
        fr::PixelType::U8x3,
    );
    let mut dst = fr::images::Image::new(width, height, fr::PixelType::U8x3);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    let resized = src.is_ok_and(|src| fr::Resizer::new().resize(&src, &mut dst, &options).is_ok());
    if !resized {
        return fallback_resize(image, width, height);
    }
    RgbImage::from_raw(width, height, dst.into_vec())
        .unwrap_or_else(|| fallback_resize(image, width, height))
}

/// The resize above only fails on mismatched buffer sizes, which `RgbImage`
/// rules out; should that ever change, fall back to the `image` crate's resize
/// rather than fail the upload.
fn fallback_resize(image: &RgbImage, width: u32, height: u32) -> RgbImage {
    image::imageops::resize(image, width, height, image::imageops::FilterType::Lanczos3)
}

/// Rotates counter-clockwise, as Pillow's `Image.rotate(angle)` does; 360 is a copy.
pub fn rotate(image: &RgbImage, angle: Angle) -> RgbImage {
    match angle {
        // `image`'s rotate90 is clockwise: 90° counter-clockwise is 270° clockwise.
        Angle::Deg90 => image::imageops::rotate270(image),
        Angle::Deg180 => image::imageops::rotate180(image),
        Angle::Deg270 => image::imageops::rotate90(image),
        Angle::Deg360 => image.clone(),
    }
}

/// Baseline JPEG, 4:2:0 chroma (box-averaged), quality [`JPEG_QUALITY`].
pub fn encode_jpeg(image: &RgbImage) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 * 1024);
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, JPEG_QUALITY);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder.set_chroma_subsampling_method(jpeg_encoder::ChromaSubsamplingMethod::Average);
    // Our images are at most CANVAS_SIDE_PX square, far inside the encoder's u16
    // limits, and the buffer length matches by construction: encoding cannot fail.
    let (Ok(width), Ok(height)) = (u16::try_from(image.width()), u16::try_from(image.height()))
    else {
        unreachable!("canvas sides fit in u16");
    };
    if let Err(err) = encoder.encode(image.as_raw(), width, height, jpeg_encoder::ColorType::Rgb) {
        unreachable!("JPEG encoding of a valid RGB buffer failed: {err}");
    }
    out
}

fn check_dimensions(width: u32, height: u32) -> Result<(), Rejection> {
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(Rejection::corrupt("the image has no pixels"));
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

fn too_many_bytes(width: u32, height: u32) -> Rejection {
    Rejection::new(
        RejectCode::TooManyPixels,
        format!(
            "The image is {width}×{height} pixels and would need more than {} MiB to decode. Scale it down or save it with 8 bits per channel, then upload it again.",
            MAX_DECODE_ALLOC_BYTES / (1024 * 1024)
        ),
    )
}

fn decode_jpeg(bytes: &[u8], target_side: u32) -> Result<(RgbImage, Orientation), Rejection> {
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

fn decode_png(bytes: &[u8]) -> Result<(RgbImage, Orientation), Rejection> {
    let mut decoder =
        PngDecoder::new(Cursor::new(bytes)).map_err(|err| image_rejection(err, "PNG"))?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = decode_with_limits(decoder, "PNG")?;
    Ok((flatten_onto_white(image), orientation))
}

fn image_rejection(err: ImageError, format: &str) -> Rejection {
    match err {
        ImageError::Limits(_) => Rejection::new(
            RejectCode::TooManyPixels,
            format!(
                "The {format} needs more than {} MiB to decode. Scale it down, then upload it again.",
                MAX_DECODE_ALLOC_BYTES / (1024 * 1024)
            ),
        ),
        ImageError::Unsupported(err) => Rejection::new(
            RejectCode::UnsupportedType,
            format!(
                "The {format} uses a feature this tool cannot read ({err}). Re-save it as a standard PNG or JPEG, then upload it again."
            ),
        ),
        ImageError::IoError(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            Rejection::corrupt(format!("the {format} data ends early"))
        }
        other => Rejection::corrupt(other),
    }
}

/// Any colour type and depth → 8-bit RGB; transparent pixels are composited onto
/// white, as a viewer shows them on a white page.
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
