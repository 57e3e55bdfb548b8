//! A DC-only JPEG decoder: the image at 1/8 scale, one pixel a block, from the DC
//! coefficients alone.
//!
//! At 1/8 a block's pixel is its DC coefficient (`DC × Q0 / 8 + 128`): the AC
//! coefficients do not change it. So a progressive JPEG needs only its DC scans,
//! and its AC scans are skipped to the next marker with no Huffman work at all;
//! only the DC coefficients are kept (2 bytes a block, where a full progressive
//! decode keeps 128). Sequential (baseline) scans interleave AC codes with the DC
//! ones, so their AC symbols are decoded, but only to step over them: no
//! coefficient is built. Chroma is replicated over its blocks, and the colour
//! conversions follow libjpeg's (YCbCr, grayscale, RGB, CMYK and YCCK as stored).
//!
//! Every allocation is bounded by the frame header, which the caller has already
//! budgeted; a malformed stream is a `corrupt` rejection, never a panic.

use image::RgbImage;

use super::jpeg_header::{Coding, Frame, JpegHeader, next_marker};
use crate::reject::{Claimed, Rejection};

/// Bits the fast Huffman lookup resolves at once.
const LOOKAHEAD: u32 = 10;

/// A Huffman table: a lookup for codes up to [`LOOKAHEAD`] bits, and the
/// canonical-code limits for longer ones.
struct Huffman {
    /// `length << 8 | symbol`, 0 where the code is longer than the lookahead.
    fast: Box<[u16; 1 << LOOKAHEAD]>,
    /// Largest code of each length (1..=16), −1 where none.
    max_code: [i32; 17],
    /// Index into `values` of the first code of each length, minus that code.
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: &[u8]) -> Result<Self, Rejection> {
        let bad = || Rejection::corrupt(Claimed::Jpeg, "a bad JPEG Huffman table");
        let mut fast = Box::new([0_u16; 1 << LOOKAHEAD]);
        let mut max_code = [-1_i32; 17];
        let mut offset = [0_i32; 17];
        let mut code = 0_u32;
        let mut k = 0_usize;
        for length in 1..=16_u32 {
            let count = usize::from(counts[length as usize - 1]);
            if count > 0 {
                offset[length as usize] = k as i32 - code as i32;
                for _ in 0..count {
                    let symbol = *values.get(k).ok_or_else(bad)?;
                    if length <= LOOKAHEAD {
                        let shift = LOOKAHEAD - length;
                        let first = (code << shift) as usize;
                        let entry = (length as u16) << 8 | u16::from(symbol);
                        fast.get_mut(first..first + (1 << shift))
                            .ok_or_else(bad)?
                            .fill(entry);
                    }
                    code += 1;
                    k += 1;
                }
                max_code[length as usize] = code as i32 - 1;
            }
            // An all-ones code of any length is reserved; more codes than fit in
            // `length` bits is a broken table.
            if code > (1 << length) - u32::from(length == 16) {
                return Err(bad());
            }
            code <<= 1;
        }
        Ok(Self {
            fast,
            max_code,
            offset,
            values: values[..k].to_vec(),
        })
    }

    #[inline]
    fn decode(&self, bits: &mut Bits<'_>) -> Result<u8, Rejection> {
        bits.refill();
        let entry = self.fast[bits.peek(LOOKAHEAD) as usize];
        if entry != 0 {
            bits.consume(u32::from(entry >> 8));
            return Ok(entry as u8);
        }
        for length in LOOKAHEAD + 1..=16 {
            let code = bits.peek(length) as i32;
            if code <= self.max_code[length as usize] {
                bits.consume(length);
                let index = (self.offset[length as usize] + code) as usize;
                return self
                    .values
                    .get(index)
                    .copied()
                    .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "a bad JPEG Huffman code"));
            }
        }
        Err(Rejection::corrupt(Claimed::Jpeg, "a bad JPEG Huffman code"))
    }
}

/// Entropy-coded data as bits: `FF 00` unstuffed, zeros after a marker (or the
/// end of the data), counted so reading into them can be told apart.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bits, most significant first.
    acc: u64,
    count: u32,
    /// Of `count`, how many are zeros appended after a marker.
    padding: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            acc: 0,
            count: 0,
            padding: 0,
            at_marker: false,
        }
    }

    /// Tops the buffer up to at least 57 bits.
    #[inline]
    fn refill(&mut self) {
        while self.count <= 56 {
            let byte = if self.at_marker {
                self.padding += 8;
                0
            } else {
                match self.data.get(self.pos) {
                    Some(&0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                        self.pos += 2;
                        0xFF
                    }
                    Some(&0xFF) | None => {
                        self.at_marker = true;
                        self.padding += 8;
                        0
                    }
                    Some(&byte) => {
                        self.pos += 1;
                        byte
                    }
                }
            };
            self.acc |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
    }

    /// The next `n` bits (1..=16); the buffer holds them after a refill.
    #[inline]
    fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// `n` bits (0..=16) as a signed DCT value (JPEG's EXTEND).
    #[inline]
    fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        self.refill();
        let value = self.peek(n) as i32;
        self.consume(n);
        if value < 1 << (n - 1) {
            value - (1 << n) + 1
        } else {
            value
        }
    }

    #[inline]
    fn bit(&mut self) -> bool {
        self.refill();
        let bit = self.peek(1) == 1;
        self.consume(1);
        bit
    }

    /// Whether a read went past the data into the zeros after a marker.
    #[inline]
    fn overran(&self) -> bool {
        self.count < self.padding
    }

    /// Drops the rest of the byte-aligned data and reads the restart marker that
    /// must come next.
    fn restart(&mut self, expected: u8) -> Result<(), Rejection> {
        let at = next_marker(self.data, self.pos)
            .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "the JPEG data ends early"))?;
        if self.data[at] != 0xD0 + expected {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "a missing JPEG restart marker",
            ));
        }
        self.pos = at + 1;
        self.acc = 0;
        self.count = 0;
        self.padding = 0;
        self.at_marker = false;
        Ok(())
    }
}

/// Decodes the image at 1/8 scale (`⌈w/8⌉ × ⌈h/8⌉`, as libjpeg's 1/8). The
/// caller has read and budgeted `header`, a Huffman-coded DCT frame.
pub(super) fn decode_dc(bytes: &[u8], header: &JpegHeader<'_>) -> Result<RgbImage, Rejection> {
    let frame = &header.frame;
    let mut state = State::new(frame);
    let mut at = 2;
    loop {
        let code_at = next_marker(bytes, at)
            .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "the JPEG data ends early"))?;
        let code = bytes[code_at];
        if matches!(code, 0xD9) {
            break;
        }
        if matches!(code, 0xD8 | 0x01 | 0xD0..=0xD7) {
            at = code_at + 1;
            continue;
        }
        let Some(&[high, low]) = bytes.get(code_at + 1..code_at + 3) else {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "the JPEG data ends early",
            ));
        };
        let end = code_at + 1 + usize::from(u16::from_be_bytes([high, low]));
        let body = bytes
            .get(code_at + 3..end)
            .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "the JPEG data ends early"))?;
        at = end;
        match code {
            0xC4 => state.define_huffman(body)?,
            0xDB => state.define_quantisation(body)?,
            0xDD => {
                if let Some(&[high, low]) = body.get(..2) {
                    state.restart_interval = u32::from(u16::from_be_bytes([high, low]));
                }
            }
            0xDA => at = state.scan(bytes, body, end)?,
            _ => {}
        }
    }
    state.into_rgb(header)
}

struct State<'f> {
    frame: &'f Frame,
    dc_tables: [Option<Huffman>; 4],
    ac_tables: [Option<Huffman>; 4],
    /// The DC entry of each quantisation table.
    quant_dc: [Option<u16>; 4],
    /// Each component's quantiser, latched at its first scan (as libjpeg does).
    latched: Vec<Option<u16>>,
    restart_interval: u32,
    /// Each component's DC coefficients, a block each, padded to whole MCUs.
    dc: Vec<Vec<i16>>,
}

impl<'f> State<'f> {
    fn new(frame: &'f Frame) -> Self {
        let dc = frame
            .components
            .iter()
            .map(|c| {
                let (w, h) = frame.padded_blocks(c);
                vec![0_i16; w as usize * h as usize]
            })
            .collect();
        Self {
            frame,
            dc_tables: [None, None, None, None],
            ac_tables: [None, None, None, None],
            quant_dc: [None; 4],
            latched: vec![None; frame.components.len()],
            restart_interval: 0,
            dc,
        }
    }

    fn define_huffman(&mut self, mut body: &[u8]) -> Result<(), Rejection> {
        let bad = || Rejection::corrupt(Claimed::Jpeg, "a bad JPEG Huffman table");
        while let Some((&class_id, rest)) = body.split_first() {
            let counts: &[u8; 16] = rest
                .get(..16)
                .and_then(|c| c.try_into().ok())
                .ok_or_else(bad)?;
            let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let values = rest.get(16..16 + total).ok_or_else(bad)?;
            let table = Huffman::new(counts, values)?;
            let (class, id) = (class_id >> 4, usize::from(class_id & 15));
            match (class, id) {
                (0, 0..=3) => self.dc_tables[id] = Some(table),
                (1, 0..=3) => self.ac_tables[id] = Some(table),
                _ => return Err(bad()),
            }
            body = &rest[16 + total..];
        }
        Ok(())
    }

    fn define_quantisation(&mut self, mut body: &[u8]) -> Result<(), Rejection> {
        let bad = || Rejection::corrupt(Claimed::Jpeg, "a bad JPEG quantisation table");
        while let Some((&precision_id, rest)) = body.split_first() {
            let id = usize::from(precision_id & 15);
            let (first, size) = match precision_id >> 4 {
                0 => (u16::from(*rest.first().ok_or_else(bad)?), 64),
                1 => {
                    let &[high, low] = rest.get(..2).ok_or_else(bad)? else {
                        return Err(bad());
                    };
                    (u16::from_be_bytes([high, low]), 128)
                }
                _ => return Err(bad()),
            };
            if id > 3 || rest.len() < size {
                return Err(bad());
            }
            self.quant_dc[id] = Some(first);
            body = &rest[size..];
        }
        Ok(())
    }

    /// Decodes (or skips) one scan whose data starts at `data_at`; returns where
    /// its data ends (the next marker that is not a restart).
    fn scan(&mut self, bytes: &[u8], header: &[u8], data_at: usize) -> Result<usize, Rejection> {
        let frame = self.frame;
        let scan = super::jpeg_header::parse_scan(frame, header)?;
        let progressive = frame.coding == Coding::Progressive;
        if progressive && scan.ss > 0 {
            return skip_scan(bytes, data_at);
        }
        if !progressive && (scan.ss != 0 || scan.se != 63 || scan.ah != 0 || scan.al != 0) {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "a bad sequential JPEG scan header",
            ));
        }
        for &(index, _, _) in &scan.components {
            if self.latched[index].is_none() {
                let tq = usize::from(frame.components[index].tq);
                self.latched[index] = Some(self.quant_dc[tq].ok_or_else(|| {
                    Rejection::corrupt(Claimed::Jpeg, "a missing JPEG quantisation table")
                })?);
            }
        }
        let refine = progressive && scan.ah != 0;
        // (component index, DC table, AC table) for each component of the scan.
        let mut coders = Vec::with_capacity(scan.components.len());
        for &(index, dc_id, ac_id) in &scan.components {
            let dc = if refine {
                None
            } else {
                Some(table(&self.dc_tables, dc_id)?)
            };
            let ac = if progressive {
                None
            } else {
                Some(table(&self.ac_tables, ac_id)?)
            };
            coders.push((index, dc, ac));
        }

        let interleaved = scan.components.len() > 1;
        let (units_x, units_y) = if interleaved {
            frame.mcus()
        } else {
            frame.blocks(&frame.components[scan.components[0].0])
        };
        let mut bits = Bits::new(bytes, data_at);
        let mut preds = [0_i32; 4];
        let mut next_restart = 0_u8;
        let total_units = u64::from(units_x) * u64::from(units_y);
        let interval = u64::from(self.restart_interval);
        let al = u32::from(scan.al);
        let mut unit = 0_u64;
        for uy in 0..units_y {
            for ux in 0..units_x {
                if interval > 0 && unit > 0 && unit.is_multiple_of(interval) {
                    bits.restart(next_restart)?;
                    next_restart = (next_restart + 1) % 8;
                    preds = [0; 4];
                }
                unit += 1;
                for (slot, &(index, dc_table, ac_table)) in coders.iter().enumerate() {
                    let component = &frame.components[index];
                    let (padded_w, _) = frame.padded_blocks(component);
                    let (h, v) = if interleaved {
                        (u32::from(component.h), u32::from(component.v))
                    } else {
                        (1, 1)
                    };
                    for by in 0..v {
                        for bx in 0..h {
                            let (x, y) = (ux * h + bx, uy * v + by);
                            let at = y as usize * padded_w as usize + x as usize;
                            let coefficient = &mut self.dc[index][at];
                            match dc_table {
                                Some(table) => {
                                    let size = u32::from(table.decode(&mut bits)?);
                                    if size > 11 {
                                        return Err(Rejection::corrupt(
                                            Claimed::Jpeg,
                                            "a bad JPEG DC value",
                                        ));
                                    }
                                    preds[slot] =
                                        preds[slot].wrapping_add(bits.receive_extend(size));
                                    *coefficient = (preds[slot] << al) as i16;
                                }
                                None => {
                                    if bits.bit() {
                                        *coefficient |= 1 << al;
                                    }
                                }
                            }
                            if let Some(table) = ac_table {
                                skip_ac(table, &mut bits)?;
                            }
                            if bits.overran() {
                                return Err(Rejection::corrupt(
                                    Claimed::Jpeg,
                                    "the JPEG data ends early",
                                ));
                            }
                        }
                    }
                }
            }
        }
        debug_assert_eq!(unit, total_units);
        skip_scan(bytes, bits.pos)
    }

    /// The DC planes → RGB at 1/8 scale.
    fn into_rgb(self, header: &JpegHeader<'_>) -> Result<RgbImage, Rejection> {
        let frame = self.frame;
        let (width, height) = (frame.width.div_ceil(8), frame.height.div_ceil(8));
        let (max_h, max_v) = (frame.max_h(), frame.max_v());
        // One 1/8-scale sample a block: DC × Q0 / 8 + 128, rounded as libjpeg's
        // 1×1 inverse DCT does.
        let planes: Vec<Vec<u8>> = frame
            .components
            .iter()
            .zip(&self.dc)
            .zip(&self.latched)
            .map(|((component, dc), quant)| {
                let quant = i32::from(quant.unwrap_or(0));
                let (padded_w, _) = frame.padded_blocks(component);
                let (h, v) = (u32::from(component.h), u32::from(component.v));
                let mut plane = Vec::with_capacity(width as usize * height as usize);
                for y in 0..height {
                    let row = (y * v / max_v) as usize * padded_w as usize;
                    for x in 0..width {
                        let dc = i32::from(dc[row + (x * h / max_h) as usize]);
                        let sample = ((dc * quant + 4) >> 3) + 128;
                        plane.push(sample.clamp(0, 255) as u8);
                    }
                }
                plane
            })
            .collect();
        let rgb: Vec<u8> = match (planes.as_slice(), colour_kind(header)) {
            ([gray], _) => gray.iter().flat_map(|&l| [l, l, l]).collect(),
            ([r, g, b], ColourKind::Rgb) => (0..r.len()).flat_map(|i| [r[i], g[i], b[i]]).collect(),
            ([y, cb, cr], _) => (0..y.len())
                .flat_map(|i| ycc_to_rgb(y[i], cb[i], cr[i]))
                .collect(),
            ([c, m, ye, k], kind) => (0..c.len())
                .flat_map(|i| {
                    let [c, m, ye] = if kind == ColourKind::Ycck {
                        ycc_to_rgb(c[i], m[i], ye[i]).map(|v| 255 - v)
                    } else {
                        [c[i], m[i], ye[i]]
                    };
                    inverted_cmyk_to_rgb([c, m, ye, k[i]])
                })
                .collect(),
            _ => {
                return Err(Rejection::corrupt(
                    Claimed::Jpeg,
                    "a JPEG with an odd number of components",
                ));
            }
        };
        RgbImage::from_raw(width, height, rgb).ok_or_else(|| {
            Rejection::corrupt(Claimed::Jpeg, "the decoded size does not match the header")
        })
    }
}

fn table(tables: &[Option<Huffman>; 4], id: u8) -> Result<&Huffman, Rejection> {
    tables
        .get(usize::from(id))
        .and_then(Option::as_ref)
        .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "a missing JPEG Huffman table"))
}

/// Steps over one block's AC codes of a sequential scan.
#[inline]
fn skip_ac(table: &Huffman, bits: &mut Bits<'_>) -> Result<(), Rejection> {
    let mut k = 1;
    while k < 64 {
        let symbol = table.decode(bits)?;
        let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
        if size == 0 {
            if run != 15 {
                break; // end of block
            }
            k += 16;
            continue;
        }
        k += run + 1;
        bits.refill();
        bits.consume(size);
    }
    Ok(())
}

/// Where a scan's data ends: the next marker that is not a restart marker.
fn skip_scan(bytes: &[u8], mut at: usize) -> Result<usize, Rejection> {
    loop {
        let code_at = next_marker(bytes, at)
            .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "the JPEG data ends early"))?;
        if !(0xD0..=0xD7).contains(&bytes[code_at]) {
            // Back to the 0xFF, for the marker walk.
            return Ok(code_at - 1);
        }
        at = code_at + 1;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ColourKind {
    Gray,
    Rgb,
    YCbCr,
    Cmyk,
    Ycck,
}

/// How the components are to be read, by libjpeg's rules: JFIF or the Adobe
/// transform flag, else the component ids ('R','G','B'), else YCbCr; four
/// components are YCCK with Adobe's flag 2, else CMYK.
pub(super) fn colour_kind(header: &JpegHeader<'_>) -> ColourKind {
    let ids: Vec<u8> = header.frame.components.iter().map(|c| c.id).collect();
    match ids.len() {
        1 => ColourKind::Gray,
        3 => {
            let rgb = match header.adobe_transform {
                _ if header.jfif => false,
                Some(transform) => transform == 0,
                None => ids == b"RGB",
            };
            if rgb {
                ColourKind::Rgb
            } else {
                ColourKind::YCbCr
            }
        }
        _ if header.adobe_transform == Some(2) => ColourKind::Ycck,
        _ => ColourKind::Cmyk,
    }
}

/// libjpeg's YCbCr → RGB (16-bit fixed point, rounded).
fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const HALF: i32 = 1 << 15;
    let fix = |x: f64| (x * 65536.0 + 0.5) as i32;
    let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
    let r = y + ((fix(1.402) * cr + HALF) >> 16);
    let g = y + ((-fix(0.344_136_286) * cb - fix(0.714_136_286) * cr + HALF) >> 16);
    let b = y + ((fix(1.772) * cb + HALF) >> 16);
    [r, g, b].map(|v| v.clamp(0, 255) as u8)
}

/// CMYK as libjpeg hands it out (as stored: Adobe's inverted convention, 255 =
/// no ink) → RGB, the naive conversion without a colour profile.
pub(super) fn inverted_cmyk_to_rgb([c, m, y, k]: [u8; 4]) -> [u8; 3] {
    let k = u16::from(k);
    let channel = |v: u8| (u16::from(v) * k / 255) as u8;
    [channel(c), channel(m), channel(y)]
}
