//! PNGs chunk by chunk, their image data deflated by hand as back-references, so a
//! 64-megapixel picture or a decompression bomb is a few megabytes.

pub use crate::imaging::png::{Pass, passes};

/// The CRC-32 of a chunk (its type and data), as PNG stores it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// Appends a chunk: its length, `kind`, `data`, its CRC.
pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).expect("a chunk under 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Rewrites every chunk's CRC, so a mutated PNG gets past the CRC check into the
/// parser and inflater behind it.
pub fn fix_png_crcs(png: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= png.len() {
        let len = u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
        let Some(end) = usize::try_from(len)
            .ok()
            .and_then(|len| (at + 8).checked_add(len))
        else {
            return;
        };
        if end + 4 > png.len() {
            return;
        }
        let crc = crc32(&png[at + 4..end]);
        png[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
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
        for &byte in &period[..usize::try_from(head).expect("at most a period")] {
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
            bits.literal(period[usize::try_from(at % p).expect("within a period")]);
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
                self.put(
                    distance - base,
                    u32::try_from(extra).expect("at most 13 extra bits"),
                );
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
        u32::try_from((self.b << 16) | self.a).expect("two 16-bit sums")
    }
}

/// An IHDR chunk's data.
pub fn ihdr(width: u32, height: u32, depth: u8, colour_type: u8, interlaced: bool) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[depth, colour_type, 0, 0, u8::from(interlaced)]);
    ihdr
}

/// The PNG signature, then `chunks` (type, data), each with its length and CRC.
pub fn png_of_chunks(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in chunks {
        png_chunk(&mut png, kind, data);
    }
    png
}

/// A valid PNG whose image data is `width`×`height` pixels of zeros, compressed the
/// way a decompression bomb is (see [`zlib_of_runs`]).
pub fn png_of_zeros(
    width: u32,
    height: u32,
    colour_type: u8,
    depth: u8,
    bytes_per_pixel: u64,
) -> Vec<u8> {
    let raw_len = u64::from(height) * (1 + u64::from(width) * bytes_per_pixel);
    png_of_chunks(&[
        (b"IHDR", &ihdr(width, height, depth, colour_type, false)),
        (b"IDAT", &zlib_of_runs(&[(&[0], raw_len)])),
        (b"IEND", &[]),
    ])
}

/// A PNG of `width`×`height` pixels all `pixel` (its bytes as stored: 3, 4 or 8 per
/// pixel for `colour_type` and `depth`), plain or Adam7, with `extra` chunks before
/// the image data. Each row is the filter byte and the pixel repeated, so any size
/// compresses to a few megabytes.
pub fn solid_png(
    (width, height): (u32, u32),
    (colour_type, depth): (u8, u8),
    pixel: &[u8],
    interlaced: bool,
    extra: &[(&[u8; 4], &[u8])],
) -> Vec<u8> {
    let mut runs: Vec<(&[u8], u64)> = Vec::new();
    for pass in passes(width, height, interlaced) {
        for _ in 0..pass.lines {
            runs.push((&[0], 1));
            runs.push((pixel, u64::from(pass.samples) * pixel.len() as u64));
        }
    }
    png_with(
        &ihdr(width, height, depth, colour_type, interlaced),
        extra,
        &zlib_of_runs(&runs),
    )
}

/// A PNG of the given IHDR data, `extra` chunks, one IDAT of `zlib`, and IEND.
pub fn png_with(ihdr: &[u8], extra: &[(&[u8; 4], &[u8])], zlib: &[u8]) -> Vec<u8> {
    let mut chunks: Vec<(&[u8; 4], &[u8])> = vec![(b"IHDR", ihdr)];
    chunks.extend_from_slice(extra);
    chunks.push((b"IDAT", zlib));
    chunks.push((b"IEND", &[]));
    png_of_chunks(&chunks)
}
