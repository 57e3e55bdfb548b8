//! JPEGs: photo-like ones by libjpeg-turbo (fast enough for a 64-megapixel picture
//! in a test), one with a restart marker after every MCU by `jpeg-encoder` (the
//! only encoder here that writes one), and segments for hand-made ones.

use turbojpeg::{Colorspace, Compressor, Image, PixelFormat, Subsamp};

/// A photo-like picture: smooth gradients, soft blotches and sensor noise, so
/// the file weighs what a camera's would (a few bits a pixel at most). RGB.
pub fn photo_pixels(width: usize, height: usize) -> Vec<u8> {
    let mut noise = [0_u8; 4096];
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    for n in &mut noise {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        *n = (state % 9) as u8;
    }
    let mut pixels = vec![0_u8; width * height * 3];
    for (y, row) in pixels.chunks_exact_mut(width * 3).enumerate() {
        let sky = (y * 160 / height) as u8;
        let wave = ((y / 97) % 5) as u8 * 6;
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let n = noise[(x * 7 + y * 131) & 4095];
            let blotch = (((x / 211) ^ (y / 173)) & 3) as u8 * 9;
            px[0] = 40 + sky + blotch + n;
            px[1] = 60 + (x * 120 / width) as u8 + wave + n;
            px[2] = 200 - sky + blotch - n;
        }
    }
    pixels
}

/// [`photo_pixels`] as a quality-90 4:2:0 JPEG, baseline or progressive, within the
/// upload limit.
pub fn photo_jpeg(width: usize, height: usize, progressive: bool) -> Vec<u8> {
    let pixels = photo_pixels(width, height);
    let mut compressor = Compressor::new().expect("libjpeg-turbo starts");
    compressor.set_quality(90).expect("quality 90");
    compressor.set_subsamp(Subsamp::Sub2x2).expect("4:2:0");
    compressor
        .set_progressive(progressive)
        .expect("progressive or not");
    let jpeg = compressor
        .compress_to_vec(Image {
            pixels: pixels.as_slice(),
            width,
            pitch: width * 3,
            height,
            format: PixelFormat::RGB,
        })
        .expect("the photo encodes");
    assert_uploadable(&jpeg);
    jpeg
}

/// The colours [`flat_jpeg`] writes.
#[derive(Debug, Clone, Copy)]
pub enum Colours {
    /// YCbCr 4:2:0 from RGB: what the processor writes.
    Ycc420,
    /// YCbCr from RGB without subsampling.
    Ycc444,
    /// Four channels written as CMYK.
    Cmyk,
    /// Four channels written as YCCK.
    Ycck,
}

/// How [`flat_jpeg`] codes its picture.
#[derive(Debug, Clone, Copy)]
pub enum Coding {
    Baseline,
    Progressive,
    /// Baseline with arithmetic coding.
    Arithmetic,
    ProgressiveArithmetic,
}

/// A smooth picture (so the file is small), in `colours`, coded as `coding`.
pub fn flat_jpeg((width, height): (usize, usize), colours: Colours, coding: Coding) -> Vec<u8> {
    let (format, colorspace) = match colours {
        Colours::Ycc420 => (PixelFormat::RGB, None),
        Colours::Ycc444 => (PixelFormat::RGB, Some(Colorspace::YCbCr)),
        Colours::Cmyk => (PixelFormat::CMYK, Some(Colorspace::CMYK)),
        Colours::Ycck => (PixelFormat::CMYK, Some(Colorspace::YCCK)),
    };
    let progressive = matches!(coding, Coding::Progressive | Coding::ProgressiveArithmetic);
    let arithmetic = matches!(coding, Coding::Arithmetic | Coding::ProgressiveArithmetic);
    let channels = format.size();
    let mut pixels = vec![0_u8; width * height * channels];
    for (y, row) in pixels.chunks_exact_mut(width * channels).enumerate() {
        let v = (y * 200 / height) as u8;
        for (x, px) in row.chunks_exact_mut(channels).enumerate() {
            px.fill(v);
            px[0] = (x * 200 / width) as u8;
        }
    }
    let mut compressor = Compressor::new().expect("libjpeg-turbo starts");
    compressor.set_quality(85).expect("quality 85");
    if let Some(colorspace) = colorspace {
        compressor
            .set_subsamp(Subsamp::None)
            .expect("no subsampling");
        compressor
            .set_colorspace(colorspace)
            .expect("a JPEG colour space");
    } else {
        compressor.set_subsamp(Subsamp::Sub2x2).expect("4:2:0");
    }
    compressor
        .set_progressive(progressive)
        .expect("progressive or not");
    compressor
        .set_arithmetic(arithmetic)
        .expect("arithmetic or Huffman");
    compressor
        .compress_to_vec(Image {
            pixels: pixels.as_slice(),
            width,
            pitch: width * channels,
            height,
            format,
        })
        .expect("the picture encodes")
}

/// An 8000×8000 photo with a restart marker after every MCU (interval 1).
pub fn restart_every_mcu() -> Vec<u8> {
    let (width, height) = (8000_u16, 8000_u16);
    let pixels = photo_pixels(usize::from(width), usize::from(height));
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 80);
    encoder.set_restart_interval(1);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("the photo encodes");
    assert_uploadable(&out);
    out
}

/// Appends a marker segment: `FF marker`, its length, `body`.
pub fn segment(out: &mut Vec<u8>, marker: u8, body: &[u8]) {
    let len = u16::try_from(body.len() + 2).expect("a segment body fits 65,533 bytes");
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
}

/// A 1024×768 photo with `count` `APPn` segments of 64 KiB (`signature`, then
/// filler) after its start marker.
pub fn with_segments(marker: u8, signature: &[u8], count: usize) -> Vec<u8> {
    let jpeg = photo_jpeg(1024, 768, false);
    let mut out = jpeg[..2].to_vec();
    let mut body = signature.to_vec();
    body.resize(65_533, 0x11);
    for _ in 0..count {
        segment(&mut out, marker, &body);
    }
    out.extend_from_slice(&jpeg[2..]);
    assert_uploadable(&out);
    out
}

/// Panics unless `bytes` fits an upload: a maker of an accepted input must make one.
fn assert_uploadable(bytes: &[u8]) {
    assert!(
        bytes.len() as u64 <= crate::limits::MAX_UPLOAD_BYTES,
        "{} bytes is over the upload limit",
        bytes.len()
    );
}
