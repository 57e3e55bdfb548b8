//! The 360° "rotation" of a processed image without libjpeg-turbo's transform, when
//! the transform would give back the very same bytes.
//!
//! libjpeg-turbo's lossless transform with no operation decodes every coefficient
//! and encodes it again behind its own headers, with its standard Huffman tables.
//! For a file the processor wrote, that is the file itself, byte for byte: the same
//! headers (the processor's are one fixed sequence: JFIF, the quality's
//! quantisation tables, a 256×256 4:2:0 frame, the standard tables, one scan) and
//! the same coefficients coded the one way an encoder codes them. So when a file
//! has exactly those headers and its entropy-coded data is exactly what an encoder
//! writes, the output is a copy; every symbol is still read, so a damaged file is
//! never passed on. Anything else (other headers, a code an encoder never writes,
//! data that does not end cleanly at the end of the file) goes to libjpeg-turbo.
//!
//! What an encoder never writes, with the standard tables (which hold no other
//! size-0 AC symbol than end-of-block and the run of 16 zeros): a run of 16 zeros
//! not followed by a coefficient in its block, a coefficient placed past the
//! block's 64th, a DC value out of 16 bits, padding bits other than ones, or
//! bytes between the last block and the end-of-image marker.

use std::sync::OnceLock;

use super::encode::encode_jpeg;
use super::jpeg_entropy::{Bits, Huffman, LOOKAHEAD};
use crate::limits::CANVAS_SIDE_PX;

/// MCUs in a processed image (16×16 pixels each).
const MCUS: usize = (CANVAS_SIDE_PX as usize / 16) * (CANVAS_SIDE_PX as usize / 16);
/// Each block of an MCU: its component (for the DC prediction) and its tables.
const MCU_BLOCKS: [(usize, usize); 6] = [(0, 0), (0, 0), (0, 0), (0, 0), (1, 1), (2, 1)];
const EOI: [u8; 2] = [0xFF, 0xD9];

/// The processor's headers (everything before the entropy-coded data) and their
/// Huffman tables (luma, chroma), made once from the processor's own encoder.
struct Canonical {
    header: Vec<u8>,
    dc: [Huffman; 2],
    ac: [Huffman; 2],
    /// For each AC table, indexed by the next [`LOOKAHEAD`] bits: the whole
    /// symbols (code and extra bits) that start there, up to an end-of-block and
    /// never a run of 16 zeros, as `bits | advance << 8 | WALK_EOB`; 0 where none.
    walk: [Box<[u16]>; 2],
}

/// In a walk entry: its symbols end with an end-of-block.
const WALK_EOB: u16 = 1 << 15;

fn canonical() -> Option<&'static Canonical> {
    static CANONICAL: OnceLock<Option<Canonical>> = OnceLock::new();
    CANONICAL
        .get_or_init(|| {
            let white = image::RgbImage::from_pixel(
                CANVAS_SIDE_PX,
                CANVAS_SIDE_PX,
                image::Rgb([u8::MAX; 3]),
            );
            read_canonical(&encode_jpeg(&white))
        })
        .as_ref()
}

/// The headers of `jpeg` up to the end of its scan header, and its tables.
fn read_canonical(jpeg: &[u8]) -> Option<Canonical> {
    let mut tables: [Vec<Huffman>; 2] = [Vec::new(), Vec::new()];
    let mut walk = Vec::with_capacity(2);
    let mut at = 2;
    loop {
        let &[0xFF, marker, high, low] = jpeg.get(at..at + 4)? else {
            return None;
        };
        let end = at + 2 + usize::from(u16::from_be_bytes([high, low]));
        let mut body = jpeg.get(at + 4..end)?;
        if marker == 0xC4 {
            // Tables in the encoder's order: DC luma, AC luma, DC chroma, AC chroma.
            while let Some((&class_id, rest)) = body.split_first() {
                let counts: &[u8; 16] = rest.first_chunk()?;
                let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                let ac = class_id >> 4 == 1;
                let values = rest.get(16..16 + total)?;
                if ac {
                    walk.push(walk_table(counts, values));
                }
                let table = Huffman::new(counts, values, ac).ok()?;
                tables[usize::from(ac)].push(table);
                body = rest.get(16 + total..)?;
            }
        }
        if marker == 0xDA {
            let [dc, ac] = tables.map(|list| <[Huffman; 2]>::try_from(list).ok());
            return Some(Canonical {
                header: jpeg[..end].to_vec(),
                dc: dc?,
                ac: ac?,
                walk: walk.try_into().ok()?,
            });
        }
        at = end;
    }
}

/// The walk entries of an AC table (see [`Canonical::walk`]).
fn walk_table(counts: &[u8; 16], values: &[u8]) -> Box<[u16]> {
    // (code length, symbol) of the code each lookahead starts with; length 0
    // where the code is longer than the lookahead.
    let mut first = vec![(0_u32, 0_u8); 1 << LOOKAHEAD];
    let mut code = 0_u32;
    let mut symbols = values.iter();
    for (length, &count) in (1..=LOOKAHEAD).zip(counts) {
        for &symbol in symbols.by_ref().take(usize::from(count)) {
            let shift = LOOKAHEAD - length;
            let from = (code << shift) as usize;
            if let Some(slots) = first.get_mut(from..from + (1 << shift)) {
                slots.fill((length, symbol));
            }
            code += 1;
        }
        code <<= 1;
    }
    (0..1_u32 << LOOKAHEAD)
        .map(|bits| {
            let (mut used, mut advance) = (0_u32, 0_u32);
            while used < LOOKAHEAD {
                let (length, symbol) = first[((bits << used) & ((1 << LOOKAHEAD) - 1)) as usize];
                let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
                let whole = length > 0 && length + size <= LOOKAHEAD - used;
                if !whole || (size == 0 && run != 0) {
                    break;
                }
                used += length + size;
                if size == 0 {
                    return (used | advance << 8) as u16 | WALK_EOB;
                }
                advance += run + 1;
            }
            (used | advance << 8) as u16
        })
        .collect()
}

/// Whether libjpeg-turbo's transform with no operation would give `bytes` back
/// unchanged (see the module's documentation); `false` sends it to the transform.
pub(super) fn is_canonical(bytes: &[u8]) -> bool {
    let Some(canonical) = canonical() else {
        return false;
    };
    if !bytes.starts_with(&canonical.header) || !bytes.ends_with(&EOI) {
        return false;
    }
    let mut bits = Bits::new(bytes, canonical.header.len());
    let mut preds = [0_i32; 3];
    for _ in 0..MCUS {
        for (slot, table) in MCU_BLOCKS {
            let Ok(difference) = canonical.dc[table].dc_difference(&mut bits) else {
                return false;
            };
            preds[slot] = preds[slot].saturating_add(difference);
            if i16::try_from(preds[slot]).is_err()
                || !block_is_canonical(&canonical.ac[table], &canonical.walk[table], &mut bits)
            {
                return false;
            }
        }
    }
    bits.ends_with_padding_at(bytes.len() - EOI.len())
}

/// Reads one block's AC symbols: whether they are coded as an encoder codes them.
/// Several symbols at a time from the walk table where they fit; a run of 16
/// zeros, and the symbol after it, one at a time.
fn block_is_canonical(ac: &Huffman, walk: &[u16], bits: &mut Bits<'_>) -> bool {
    let mut k = 1_u32;
    let mut zero_runs = false;
    while k < 64 {
        bits.refill();
        let entry = walk[bits.peek(LOOKAHEAD) as usize];
        let advance = u32::from(entry >> 8) & 0x7F;
        if entry != 0 && !zero_runs && k + advance < 64 {
            bits.consume(u32::from(entry) & 0xFF);
            k += advance;
            if entry & WALK_EOB != 0 {
                return !bits.overran();
            }
            continue;
        }
        let Ok(symbol) = ac.decode(bits) else {
            return false;
        };
        let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
        match (run, size) {
            (0, 0) => return !zero_runs && !bits.overran(),
            (15, 0) => {
                zero_runs = true;
                k += 16;
            }
            (_, 0) => return false,
            _ => {
                k += run;
                if k > 63 {
                    return false;
                }
                bits.receive_extend(size);
                zero_runs = false;
                k += 1;
            }
        }
    }
    !zero_runs && !bits.overran()
}

#[cfg(test)]
mod tests {
    use image::{Rgb, RgbImage};

    use super::{encode_jpeg, is_canonical};

    /// A canvas as the processor encodes it: a busy picture (gradients and
    /// xorshift noise, so every AC size is coded) of `w`×`h` on white.
    fn processed(w: u32, h: u32) -> Vec<u8> {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ u64::from(w * 1000 + h);
        let (x0, y0) = ((256 - w) / 2, (256 - h) / 2);
        encode_jpeg(&RgbImage::from_fn(256, 256, |x, y| {
            if x < x0 || y < y0 || x >= x0 + w || y >= y0 + h {
                return Rgb([u8::MAX; 3]);
            }
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 48) as u8;
            Rgb([
                (x as u8).wrapping_add(noise),
                (y as u8) / 2 + noise,
                ((x + y) / 4) as u8,
            ])
        }))
    }

    #[test]
    fn what_the_processor_writes_is_copied_and_a_changed_end_is_not() {
        for (w, h) in [(64, 48), (256, 192), (97, 256)] {
            let processed = processed(w, h);
            assert!(is_canonical(&processed), "{w}x{h}");
            let mut trailing = processed.clone();
            trailing.extend_from_slice(&[0xFF, 0xD9]);
            assert!(!is_canonical(&trailing), "{w}x{h} with a second end");
            let mut cut = processed.clone();
            cut.drain(cut.len() - 10..cut.len() - 2);
            assert!(!is_canonical(&cut), "{w}x{h} cut short");
        }
    }
}
