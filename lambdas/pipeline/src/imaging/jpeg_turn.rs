//! The rotations of what the processor writes, by a transform specialised for it:
//! a baseline 256×256 YCbCr 4:2:0 JPEG of one scan (checked before this runs).
//! Its coefficients are entropy-decoded with its own Huffman tables, each block is
//! moved to its turned place and transposed or sign-flipped as a lossless
//! transform does (a DCT basis function of odd frequency changes sign when
//! mirrored), and everything is entropy-coded again with the same tables behind
//! the same headers: the bytes libjpeg-turbo's lossless transform writes (the
//! tests hold it as the reference), without its general machinery.
//!
//! A file of any other layout (restart markers, other segments, a table that
//! lacks a symbol the turned blocks need) is left to libjpeg-turbo: `None`.

use super::jpeg_entropy::{Bits, Huffman};
use crate::contract::Angle;
use crate::reject::{Claimed, Rejection};

/// Blocks a side of the luma plane (256 / 8) and of each chroma plane (128 / 8).
const LUMA_BLOCKS: usize = 32;
const CHROMA_BLOCKS: usize = 16;
/// MCUs a side (16 pixels each).
const MCUS: usize = 16;

type Block = [i16; 64];

/// A table as its DHT segment gives it, for decoding and encoding.
struct Table<'a> {
    counts: &'a [u8; 16],
    values: &'a [u8],
}

/// The file's parts the transform needs.
struct Layout<'a> {
    /// Everything up to the entropy-coded data (kept as it is but for the
    /// quantisation tables, transposed for a quarter turn).
    header: &'a [u8],
    /// Where in `header` each DQT segment's body is.
    quantisation: Vec<std::ops::Range<usize>>,
    /// DC tables 0..4 then AC tables 0..4.
    tables: [Option<Table<'a>>; 8],
    /// Per scan component, in scan order: (plane, DC table, AC table).
    coders: [(usize, usize, usize); 3],
}

/// `bytes` turned by `angle` (counter-clockwise); `None` if the file is not of
/// the one layout this handles.
pub(super) fn turn(bytes: &[u8], angle: Angle) -> Option<Result<Vec<u8>, Rejection>> {
    let layout = layout(bytes)?;
    let decoded = match decode(bytes, &layout) {
        Ok(planes) => planes,
        Err(rejection) => return Some(Err(rejection)),
    };
    let data = encode(&turn_planes(&decoded, angle), &layout)?;
    let mut out = Vec::with_capacity(layout.header.len() + data.len() + 2);
    out.extend_from_slice(layout.header);
    if matches!(angle, Angle::Deg90 | Angle::Deg270) {
        for body in &layout.quantisation {
            transpose_quantisation(&mut out[body.clone()])?;
        }
    }
    out.extend_from_slice(&data);
    out.extend_from_slice(&[0xFF, 0xD9]);
    Some(Ok(out))
}

/// Reads the segments: only JFIF, quantisation and Huffman tables, the frame and
/// the scan header, as the processor writes them.
fn layout(bytes: &[u8]) -> Option<Layout<'_>> {
    let mut tables: [Option<Table<'_>>; 8] = Default::default();
    let mut frame = None;
    let mut quantisation = Vec::new();
    let mut at = 2;
    loop {
        let &[0xFF, code, high, low] = bytes.get(at..at + 4)? else {
            return None;
        };
        let end = at + 2 + usize::from(u16::from_be_bytes([high, low]));
        let body = bytes.get(at + 4..end)?;
        match code {
            0xE0 => {}
            0xDB => quantisation.push(at + 4..end),
            0xC0 => frame = Some(body),
            0xC4 => read_tables(body, &mut tables)?,
            0xDA => {
                let coders = scan_coders(frame?, body)?;
                return Some(Layout {
                    header: &bytes[..end],
                    quantisation,
                    tables,
                    coders,
                });
            }
            _ => return None,
        }
        at = end;
    }
}

fn read_tables<'a>(mut body: &'a [u8], tables: &mut [Option<Table<'a>>; 8]) -> Option<()> {
    while let Some((&class_id, rest)) = body.split_first() {
        let counts: &[u8; 16] = rest.first_chunk()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = rest.get(16..16 + total)?;
        let (class, id) = (usize::from(class_id >> 4), usize::from(class_id & 15));
        if class > 1 || id > 3 {
            return None;
        }
        tables[class * 4 + id] = Some(Table { counts, values });
        body = &rest[16 + total..];
    }
    Some(())
}

/// The scan's components as planes of the frame (Y, Cb, Cr in frame order).
fn scan_coders(frame: &[u8], scan: &[u8]) -> Option<[(usize, usize, usize); 3]> {
    // The frame's component ids (checked to be three, 2×2/1×1/1×1).
    let ids = [frame.get(6)?, frame.get(9)?, frame.get(12)?];
    let &[3, a, at, b, bt, c, ct, ..] = scan else {
        return None;
    };
    let mut coders = [(0, 0, 0); 3];
    for (coder, (id, tables)) in coders.iter_mut().zip([(a, at), (b, bt), (c, ct)]) {
        let plane = ids.iter().position(|&&frame_id| frame_id == id)?;
        *coder = (
            plane,
            usize::from(tables >> 4),
            4 + usize::from(tables & 15),
        );
    }
    Some(coders)
}

/// Each block of a plane (row by row) of a component, and blocks a side.
struct Plane {
    side: usize,
    blocks: Vec<Block>,
}

impl Plane {
    fn new(side: usize) -> Self {
        Self {
            side,
            blocks: vec![[0; 64]; side * side],
        }
    }
}

/// For each block of an MCU in scan order: (scan slot, block x, block y within it).
fn mcu_blocks(layout: &Layout<'_>) -> Vec<(usize, usize, usize)> {
    let mut blocks = Vec::with_capacity(6);
    for (slot, &(plane, _, _)) in layout.coders.iter().enumerate() {
        let side = if plane == 0 { 2 } else { 1 };
        for y in 0..side {
            for x in 0..side {
                blocks.push((slot, x, y));
            }
        }
    }
    blocks
}

fn decode(bytes: &[u8], layout: &Layout<'_>) -> Result<[Plane; 3], Rejection> {
    let corrupt = |what: &str| Rejection::corrupt(Claimed::Jpeg, what.to_owned());
    let table = |index: usize, ac: bool| {
        let table = layout.tables[index]
            .as_ref()
            .ok_or_else(|| corrupt("a missing JPEG Huffman table"))?;
        Huffman::new(table.counts, table.values, ac)
    };
    let mut huffman = Vec::with_capacity(3);
    for &(_, dc, ac) in &layout.coders {
        huffman.push((table(dc, false)?, table(ac, true)?));
    }
    let mut planes = [
        Plane::new(LUMA_BLOCKS),
        Plane::new(CHROMA_BLOCKS),
        Plane::new(CHROMA_BLOCKS),
    ];
    let mut bits = Bits::new(bytes, layout.header.len());
    let mut preds = [0_i32; 3];
    let blocks = mcu_blocks(layout);
    for my in 0..MCUS {
        for mx in 0..MCUS {
            for &(slot, x, y) in &blocks {
                let plane = &mut planes[layout.coders[slot].0];
                let per = if plane.side == LUMA_BLOCKS { 2 } else { 1 };
                let at = (my * per + y) * plane.side + mx * per + x;
                let (dc, ac) = &huffman[slot];
                preds[slot] = preds[slot].wrapping_add(dc.dc_difference(&mut bits)?);
                let block = &mut plane.blocks[at];
                block[0] = preds[slot] as i16;
                ac.ac_coefficients(&mut bits, block)?;
            }
        }
        if bits.overran() {
            return Err(corrupt("the JPEG data ends early"));
        }
    }
    Ok(planes)
}

/// The zigzag position of each natural-order (row-major) coefficient.
fn zigzag_of_natural() -> [usize; 64] {
    let mut zigzag = [0; 64];
    let mut index = 0;
    for diagonal in 0..15_usize {
        let rows: Vec<usize> = (diagonal.saturating_sub(7)..=diagonal.min(7)).collect();
        // Even diagonals run up (row falling), odd ones down.
        let ordered: Vec<usize> = if diagonal % 2 == 0 {
            rows.into_iter().rev().collect()
        } else {
            rows
        };
        for row in ordered {
            zigzag[row * 8 + diagonal - row] = index;
            index += 1;
        }
    }
    zigzag
}

/// For each zigzag position of a turned block: the zigzag position it comes from
/// in the original block, and whether its sign flips.
fn coefficient_map(angle: Angle) -> [(usize, bool); 64] {
    let zigzag = zigzag_of_natural();
    let mut map = [(0, false); 64];
    for v in 0..8 {
        for u in 0..8 {
            // Output coefficient (row frequency v, column frequency u), from the
            // clockwise turns of a lossless transform (ours are counter-clockwise).
            let (from, flip) = match angle {
                Angle::Deg90 => ((u, v), v % 2 == 1),
                Angle::Deg180 => ((v, u), (u + v) % 2 == 1),
                Angle::Deg270 => ((u, v), u % 2 == 1),
                Angle::Deg360 => ((v, u), false),
            };
            map[zigzag[v * 8 + u]] = (zigzag[from.0 * 8 + from.1], flip);
        }
    }
    map
}

/// A DQT body's tables transposed (zigzag order, 8- or 16-bit entries), as the
/// coefficients they quantise are by a quarter turn.
fn transpose_quantisation(mut body: &mut [u8]) -> Option<()> {
    let transposed = coefficient_map(Angle::Deg90);
    while let Some((&mut precision_id, rest)) = std::mem::take(&mut body).split_first_mut() {
        let width = if precision_id >> 4 == 0 { 1 } else { 2 };
        let table = rest.get_mut(..64 * width)?;
        let original = table.to_vec();
        for (to, &(from, _)) in transposed.iter().enumerate() {
            table[to * width..(to + 1) * width]
                .copy_from_slice(&original[from * width..(from + 1) * width]);
        }
        body = &mut rest[64 * width..];
    }
    Some(())
}

/// The block a turned plane's block (x, y) comes from.
fn source_block(angle: Angle, side: usize, x: usize, y: usize) -> (usize, usize) {
    let last = side - 1;
    match angle {
        Angle::Deg90 => (last - y, x),
        Angle::Deg180 => (last - x, last - y),
        Angle::Deg270 => (y, last - x),
        Angle::Deg360 => (x, y),
    }
}

fn turn_planes(planes: &[Plane; 3], angle: Angle) -> [Plane; 3] {
    let map = coefficient_map(angle);
    planes.each_ref().map(|plane| {
        let side = plane.side;
        let mut turned = Plane::new(side);
        for y in 0..side {
            for x in 0..side {
                let (sx, sy) = source_block(angle, side, x, y);
                let source = &plane.blocks[sy * side + sx];
                let block = &mut turned.blocks[y * side + x];
                for (out, &(from, flip)) in block.iter_mut().zip(&map) {
                    *out = if flip { -source[from] } else { source[from] };
                }
            }
        }
        turned
    })
}

/// Canonical codes of a table, `(code, length)` by symbol; length 0 where the
/// table lacks the symbol.
fn codes(table: &Table<'_>) -> [(u16, u8); 256] {
    let mut codes = [(0, 0); 256];
    let (mut code, mut k) = (0_u32, 0);
    for (length, &count) in (1..=16_u8).zip(table.counts) {
        for _ in 0..count {
            if let Some(&symbol) = table.values.get(k) {
                codes[usize::from(symbol)] = (code as u16, length);
            }
            code += 1;
            k += 1;
        }
        code <<= 1;
    }
    codes
}

/// The scan data of `planes`, with the file's tables; `None` if a table lacks a
/// symbol the turned blocks need.
fn encode(planes: &[Plane; 3], layout: &Layout<'_>) -> Option<Vec<u8>> {
    let table_codes = |index: usize| layout.tables[index].as_ref().map(codes);
    let mut coders = Vec::with_capacity(3);
    for &(_, dc, ac) in &layout.coders {
        coders.push((table_codes(dc)?, table_codes(ac)?));
    }
    let mut out = BitWriter::default();
    let mut preds = [0_i32; 3];
    let blocks = mcu_blocks(layout);
    for my in 0..MCUS {
        for mx in 0..MCUS {
            for &(slot, x, y) in &blocks {
                let plane = &planes[layout.coders[slot].0];
                let per = if plane.side == LUMA_BLOCKS { 2 } else { 1 };
                let block = &plane.blocks[(my * per + y) * plane.side + mx * per + x];
                let (dc, ac) = &coders[slot];
                let value = i32::from(block[0]);
                out.value(dc, 0, value - preds[slot])?;
                preds[slot] = value;
                let mut run = 0;
                for &coefficient in &block[1..] {
                    if coefficient == 0 {
                        run += 1;
                        continue;
                    }
                    while run > 15 {
                        out.symbol(ac, 0xF0)?;
                        run -= 16;
                    }
                    out.value(ac, run, i32::from(coefficient))?;
                    run = 0;
                }
                if run > 0 {
                    out.symbol(ac, 0x00)?;
                }
            }
        }
    }
    Some(out.finish())
}

/// Entropy-coded bytes: most significant bit first, `0xFF` stuffed with `00`.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    acc: u64,
    count: u32,
}

impl BitWriter {
    fn bits(&mut self, value: u32, length: u32) {
        self.acc = self.acc << length | u64::from(value & ((1 << length) - 1));
        self.count += length;
        while self.count >= 8 {
            self.count -= 8;
            let byte = (self.acc >> self.count) as u8;
            self.bytes.push(byte);
            if byte == 0xFF {
                self.bytes.push(0);
            }
        }
    }

    fn symbol(&mut self, codes: &[(u16, u8); 256], symbol: u8) -> Option<()> {
        let (code, length) = codes[usize::from(symbol)];
        if length == 0 {
            return None;
        }
        self.bits(u32::from(code), u32::from(length));
        Some(())
    }

    /// A run of zeros (AC; 0 for DC) then `value`: its size category's symbol,
    /// then its bits (negative values as their one's complement).
    fn value(&mut self, codes: &[(u16, u8); 256], run: u8, value: i32) -> Option<()> {
        let size = 32 - value.unsigned_abs().leading_zeros();
        self.symbol(codes, run << 4 | size as u8)?;
        if size > 0 {
            let bits = if value < 0 { value - 1 } else { value };
            self.bits(bits as u32, size);
        }
        Some(())
    }

    /// The bytes, the last one padded with one bits.
    fn finish(mut self) -> Vec<u8> {
        let pad = (8 - self.count % 8) % 8;
        self.bits((1 << pad) - 1, pad);
        self.bytes
    }
}
