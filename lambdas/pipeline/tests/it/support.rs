//! Helpers the test modules share: the counting allocator (one per binary) and the
//! makers of hostile PNGs, built in code so the corpus is a few kilobytes of source.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

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

pub fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
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
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
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
        for &byte in &period[..usize::try_from(head).unwrap()] {
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
            bits.literal(period[usize::try_from(at % p).unwrap()]);
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
                self.put(distance - base, u32::try_from(extra).unwrap());
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
        u32::try_from((self.b << 16) | self.a).unwrap()
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

/// The TIFF block of an Exif segment holding one tag: orientation.
pub fn exif_tiff(orientation: u16, big_endian: bool) -> Vec<u8> {
    let u16b = |v: u16| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let u32b = |v: u32| {
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let mut tiff = if big_endian {
        b"MM\0*".to_vec()
    } else {
        b"II*\0".to_vec()
    };
    tiff.extend_from_slice(&u32b(8)); // first IFD right after the header
    tiff.extend_from_slice(&u16b(1)); // one entry
    tiff.extend_from_slice(&u16b(0x0112)); // Orientation
    tiff.extend_from_slice(&u16b(3)); // SHORT
    tiff.extend_from_slice(&u32b(1)); // one value
    tiff.extend_from_slice(&u16b(orientation));
    tiff.extend_from_slice(&[0, 0]); // value padding
    tiff.extend_from_slice(&u32b(0)); // no next IFD
    tiff
}

// ---------------------------------------------------------------------------------
// Counting allocations (this thread only), to show what a decode holds at its peak

#[derive(Clone, Copy)]
struct Usage {
    live: usize,
    peak: usize,
}

thread_local! {
    static USAGE: Cell<Option<Usage>> = const { Cell::new(None) };
}

fn track(grow: usize, shrink: usize) {
    let _ = USAGE.try_with(|usage| {
        if let Some(mut u) = usage.get() {
            u.live = (u.live + grow).saturating_sub(shrink);
            u.peak = u.peak.max(u.live);
            usage.set(Some(u));
        }
    });
}

struct CountingAlloc;

#[expect(
    unsafe_code,
    reason = "a global allocator is unsafe to implement; this one only counts and forwards to System"
)]
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size(), 0);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(layout.size(), 0);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(0, layout.size());
        // SAFETY: forwarded unchanged; `ptr` came from `System` through this allocator.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size, layout.size());
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Runs `work`, returning its result, the peak bytes it held live on this thread,
/// and how long it took.
pub fn measured<T>(work: impl FnOnce() -> T) -> (T, usize, Duration) {
    USAGE.with(|u| u.set(Some(Usage { live: 0, peak: 0 })));
    let started = Instant::now();
    let result = work();
    let elapsed = started.elapsed();
    let peak = USAGE.with(|u| u.take().map_or(0, |u| u.peak));
    (result, peak, elapsed)
}

pub const MIB: usize = 1024 * 1024;
