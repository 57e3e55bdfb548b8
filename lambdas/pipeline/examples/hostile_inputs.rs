//! Writes the worst inputs the pipeline accepts to files, so the Lambda bootstraps
//! can be measured on them (`xtask/bench/lambda_invocations.py`, issue 11 §5): the
//! biggest photos of each kind, and the extreme cases of the hostile-corpus tests
//! (`tests/it/jpeg_budget.rs`, `tests/it/png_budget.rs`) that are processed rather
//! than rejected. Each is checked to be accepted (`process_upload_bytes`) before it
//! is written.
//!
//! `hostile_inputs <dir>` writes one file per case and prints its name and size.

use std::error::Error;
use std::path::Path;

use augment_pipeline::imaging::process_upload_bytes;
use augment_pipeline::limits::{MAX_SIDE_PX, MAX_UPLOAD_BYTES};
use turbojpeg::{Colorspace, Compressor, Image, PixelFormat, Subsamp};

type Result<T, E = Box<dyn Error>> = std::result::Result<T, E>;
/// One case: its file name and how to make it.
type Case = (&'static str, Box<dyn Fn() -> Result<Vec<u8>>>);

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        return Err("usage: hostile_inputs <dir>".into());
    };
    let dir = Path::new(dir);
    std::fs::create_dir_all(dir)?;
    let side = MAX_SIDE_PX;
    let cases: Vec<Case> = vec![
        (
            "baseline_64mp_photo.jpg",
            Box::new(|| photo_jpeg(8000, 8000, false)),
        ),
        (
            "progressive_48mp_photo.jpg",
            Box::new(|| photo_jpeg(8000, 6000, true)),
        ),
        (
            "progressive_64mp_ycbcr.jpg",
            Box::new(|| flat_jpeg(PixelFormat::RGB, None, true)),
        ),
        (
            "progressive_64mp_cmyk.jpg",
            Box::new(|| flat_jpeg(PixelFormat::CMYK, Some(Colorspace::CMYK), true)),
        ),
        (
            "progressive_64mp_ycck.jpg",
            Box::new(|| flat_jpeg(PixelFormat::CMYK, Some(Colorspace::YCCK), true)),
        ),
        ("restart_every_mcu_64mp.jpg", Box::new(restart_every_mcu)),
        ("lossless_biggest.jpg", Box::new(biggest_lossless)),
        (
            "exif_150_segments.jpg",
            Box::new(|| with_segments(0xE1, b"Exif\0\0", 150)),
        ),
        (
            "rgba_64mp.png",
            Box::new(|| solid_png((8000, 8000), 8, false)),
        ),
        (
            "rgba_64mp_adam7.png",
            Box::new(|| solid_png((8000, 8000), 8, true)),
        ),
        (
            "rgba16_at_limit.png",
            Box::new(move || solid_png((side, 3906), 16, false)),
        ),
        (
            "rgba16_at_limit_adam7.png",
            Box::new(move || solid_png((side, 3906), 16, true)),
        ),
    ];
    for (name, make) in cases {
        let bytes = make()?;
        if bytes.len() as u64 > MAX_UPLOAD_BYTES {
            return Err(format!("{name}: {} bytes, over the upload limit", bytes.len()).into());
        }
        process_upload_bytes(&bytes).map_err(|err| format!("{name} is not accepted: {err}"))?;
        std::fs::write(dir.join(name), &bytes)?;
        println!("{name:32} {:>10} bytes", bytes.len());
    }
    Ok(())
}

/// A photo-like picture (gradients, soft blotches, sensor noise), as in
/// `tests/it/jpeg_budget.rs`, so the file weighs what a camera's would.
fn photo_pixels(width: usize, height: usize) -> Vec<u8> {
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

fn photo_jpeg(width: usize, height: usize, progressive: bool) -> Result<Vec<u8>> {
    let pixels = photo_pixels(width, height);
    let mut compressor = Compressor::new()?;
    compressor.set_quality(90)?;
    compressor.set_subsamp(Subsamp::Sub2x2)?;
    compressor.set_progressive(progressive)?;
    Ok(compressor.compress_to_vec(Image {
        pixels: pixels.as_slice(),
        width,
        pitch: width * 3,
        height,
        format: PixelFormat::RGB,
    })?)
}

/// A smooth 8000x8000 picture (so the file is small), in any colour space.
fn flat_jpeg(
    format: PixelFormat,
    colorspace: Option<Colorspace>,
    progressive: bool,
) -> Result<Vec<u8>> {
    let (width, height) = (8000, 8000);
    let channels = format.size();
    let mut pixels = vec![0_u8; width * height * channels];
    for (y, row) in pixels.chunks_exact_mut(width * channels).enumerate() {
        let v = (y * 200 / height) as u8;
        for (x, px) in row.chunks_exact_mut(channels).enumerate() {
            px.fill(v);
            px[0] = (x * 200 / width) as u8;
        }
    }
    let mut compressor = Compressor::new()?;
    compressor.set_quality(85)?;
    if let Some(colorspace) = colorspace {
        compressor.set_subsamp(Subsamp::None)?;
        compressor.set_colorspace(colorspace)?;
    } else {
        compressor.set_subsamp(Subsamp::Sub2x2)?;
    }
    compressor.set_progressive(progressive)?;
    Ok(compressor.compress_to_vec(Image {
        pixels: pixels.as_slice(),
        width,
        pitch: width * channels,
        height,
        format,
    })?)
}

/// 8000x8000 photo with a restart marker after every MCU.
fn restart_every_mcu() -> Result<Vec<u8>> {
    let (width, height) = (8000_u16, 8000_u16);
    let pixels = photo_pixels(usize::from(width), usize::from(height));
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 80);
    encoder.set_restart_interval(1);
    encoder.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    encoder.encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)?;
    Ok(out)
}

/// The biggest square lossless RGB JPEG the pipeline accepts, to 50 px.
fn biggest_lossless() -> Result<Vec<u8>> {
    let mut best = None;
    for side in (1200..=2000).step_by(50) {
        let pixels: Vec<u8> = (0..side * side * 3)
            .map(|i| ((i / 3 % side + i / (3 * side)) / 16 % 256) as u8)
            .collect();
        let mut compressor = Compressor::new()?;
        compressor.set_lossless(true)?;
        let jpeg = compressor.compress_to_vec(Image {
            pixels: pixels.as_slice(),
            width: side,
            pitch: side * 3,
            height: side,
            format: PixelFormat::RGB,
        })?;
        if process_upload_bytes(&jpeg).is_err() {
            break;
        }
        best = Some(jpeg);
    }
    best.ok_or_else(|| "no lossless JPEG of 1200 px is accepted".into())
}

/// A 1024x768 photo with `count` `APPn` segments of 64 KiB after its start marker.
fn with_segments(marker: u8, signature: &[u8], count: usize) -> Result<Vec<u8>> {
    let jpeg = photo_jpeg(1024, 768, false)?;
    let mut out = jpeg[..2].to_vec();
    let mut body = signature.to_vec();
    body.resize(65_533, 0);
    let len = u16::try_from(body.len() + 2)?;
    for _ in 0..count {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&body);
    }
    out.extend_from_slice(&jpeg[2..]);
    Ok(out)
}

/// A solid blue RGBA PNG (8 or 16 bits), plain or Adam7: each row is the filter
/// byte and the pixel repeated, deflated as back-references, as in
/// `tests/it/png_budget.rs` (so the file is small whatever the size).
fn solid_png((width, height): (u32, u32), depth: u8, adam7: bool) -> Result<Vec<u8>> {
    const ADAM7: [(u32, u32, u32, u32); 7] = [
        (0, 8, 0, 8),
        (4, 8, 0, 8),
        (0, 4, 4, 8),
        (2, 4, 0, 4),
        (0, 2, 2, 4),
        (1, 2, 0, 2),
        (0, 1, 1, 2),
    ];
    let pixel: &[u8] = if depth == 16 {
        &[0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
    } else {
        &[0, 0, 0xFF, 0xFF]
    };
    let passes: Vec<(u32, u32)> = if adam7 {
        ADAM7
            .iter()
            .map(|&(x0, dx, y0, dy)| {
                (
                    width.saturating_sub(x0).div_ceil(dx),
                    height.saturating_sub(y0).div_ceil(dy),
                )
            })
            .filter(|&(samples, lines)| samples > 0 && lines > 0)
            .collect()
    } else {
        vec![(width, height)]
    };
    let mut runs: Vec<(&[u8], u64)> = Vec::new();
    for (samples, lines) in passes {
        for _ in 0..lines {
            runs.push((&[0], 1));
            runs.push((pixel, u64::from(samples) * pixel.len() as u64));
        }
    }
    let zlib = zlib_of_runs(&runs);
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, 6, 0, 0, u8::from(adam7)]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &zlib), (b"IEND", &[])] {
        png.extend_from_slice(&u32::try_from(data.len())?.to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    Ok(png)
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A zlib stream of `runs`, one fixed-Huffman deflate block: each `(period, len)` is
/// `len` bytes repeating `period`, written the way a decompression bomb is: the
/// period once as literals, then 258-byte back-references of 13 to 21 bits each
/// (so 256 MB of zeros fit in about 1.6 MB). A period longer than 32 KiB (deflate's
/// window) can only be written once, as literals.
pub fn zlib_of_runs(runs: &[(&[u8], u64)]) -> Vec<u8> {
    let mut bits = Bits {
        out: vec![0x78, 0x01],
        acc: 0,
        n: 0,
    };
    bits.put(1, 1); // final block
    bits.put(1, 2); // fixed Huffman codes
    let mut adler = Adler { a: 1, b: 0 };
    for &(period, len) in runs {
        let p = period.len() as u64;
        let head = len.min(p);
        for &byte in &period[..head as usize] {
            bits.literal(byte);
        }
        let copies = (len - head) / 258;
        if copies > 0 {
            assert!(
                p <= 32_768,
                "a period of {p} bytes is beyond deflate's window"
            );
            for _ in 0..copies {
                bits.code(0b1100_0101, 8); // length 258 (symbol 285)
                bits.distance(p);
            }
        }
        for at in head + copies * 258..len {
            bits.literal(period[(at % p) as usize]);
        }
        adler.add_run(period, len);
    }
    bits.code(0, 7); // end of block
    bits.put(0, 7); // flush to a byte
    let mut zlib = bits.out;
    zlib.extend_from_slice(&adler.value().to_be_bytes());
    zlib
}

struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    /// `count` bits of `value`, least significant first (deflate's bit order).
    fn put(&mut self, value: u64, count: u32) {
        self.acc |= value << self.n;
        self.n += count;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, most significant bit first.
    fn code(&mut self, code: u64, count: u32) {
        let reversed = code.reverse_bits() >> (64 - count);
        self.put(reversed, count);
    }

    /// A literal byte in the fixed code.
    fn literal(&mut self, byte: u8) {
        if byte < 144 {
            self.code(0x30 + u64::from(byte), 8);
        } else {
            self.code(0x190 + u64::from(byte - 144), 9);
        }
    }

    /// A back-reference distance (1 to 32768): its 5-bit code, then the extra bits.
    fn distance(&mut self, distance: u64) {
        let (mut code, mut base) = (0, 1);
        loop {
            let extra = if code < 4 { 0 } else { (code - 2) / 2 };
            let next = base + (1_u64 << extra);
            if distance < next {
                self.code(code, 5);
                self.put(distance - base, extra as u32);
                return;
            }
            (code, base) = (code + 1, next);
        }
    }
}

/// Adler-32 over runs of a repeating period, in closed form (no pass over the bytes).
struct Adler {
    a: u128,
    b: u128,
}

impl Adler {
    const MOD: u128 = 65_521;

    fn add_run(&mut self, period: &[u8], len: u64) {
        // After a byte c: a += c, b += a. Over the run: a' = a + Σ c_t and
        // b' = b + len·a + Σ (len − t)·c_t; byte r of the period is at t = r + m·p.
        let (len, p) = (u128::from(len), period.len() as u128);
        let (mut sum, mut weighted) = (0_u128, 0_u128);
        for (r, &c) in (0..len.min(p)).zip(period) {
            let count = (len - r).div_ceil(p);
            sum += u128::from(c) * count;
            weighted += u128::from(c) * (count * (len - r) - p * count * (count - 1) / 2);
        }
        self.b = (self.b + len * self.a + weighted) % Self::MOD;
        self.a = (self.a + sum) % Self::MOD;
    }

    fn value(&self) -> u32 {
        ((self.b << 16) | self.a) as u32
    }
}
