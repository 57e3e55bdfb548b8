//! Entropy-coded JPEG data for the DC-only decoder ([`super::jpeg_dc`]): the bit
//! reader, the Huffman tables, and a sequential (baseline) scan decoded at 1/8,
//! which keeps each block's DC coefficient and steps over its AC symbols without
//! building a coefficient.
//!
//! Speed comes from three things. The bit buffer is 64 bits wide and refilled
//! eight bytes at a time when none of them is `0xFF` (a stuffed `FF 00` or a
//! marker: then a byte at a time). Each AC table has a skip table: indexed by the
//! next [`LOOKAHEAD`] bits, it gives how many bits the whole symbols starting
//! there take — code *and* extra bits — how far they move through the block, and
//! whether they end it, so one lookup steps over one to several symbols. Only
//! what does not fit (long codes, large values, the block's last coefficients)
//! takes the symbol-at-a-time path.

use super::jpeg_frame::Frame;
use super::jpeg_header::next_marker;
use crate::reject::{Claimed, Rejection};

/// Bits a table lookup resolves at once.
pub(super) const LOOKAHEAD: u32 = 12;
const SLOTS: usize = 1 << LOOKAHEAD;
/// In a skip entry: the symbols end with an end-of-block.
const SKIP_EOB: u16 = 1 << 15;
/// In a skip entry: where the advance (bits 8..14) is held at, or above which the
/// entry is never taken (`k + advance < 64` fails for every `k ≥ 1`).
const SKIP_MAX_ADVANCE: u32 = 63;

fn bad_code() -> Rejection {
    Rejection::corrupt(Claimed::Jpeg, "a bad JPEG Huffman code")
}

/// A Huffman table: a lookup for codes up to [`LOOKAHEAD`] bits, the
/// canonical-code limits for longer ones, and for AC tables the skip lookup.
pub(super) struct Huffman {
    /// `length << 8 | symbol`, 0 where the code is longer than the lookahead.
    fast: Box<[u16]>,
    /// AC tables: `bits | advance << 8 | SKIP_EOB` of the whole symbols that
    /// start at each lookahead, 0 where not even one fits. Empty for DC tables.
    /// Two bytes an entry, so both AC tables stay in the L1 cache.
    skip: Box<[u16]>,
    /// DC tables: `value << 4 | bits` of the difference (code and extra bits)
    /// that starts at each lookahead, 0 where it does not fit. Empty for AC.
    dc_value: Box<[i16]>,
    /// Largest code of each length (1..=16), −1 where none.
    max_code: [i32; 17],
    /// Index into `values` of the first code of each length, minus that code.
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    /// A table from its DHT counts and values; `ac` adds the skip lookup.
    pub(super) fn new(counts: &[u8; 16], values: &[u8], ac: bool) -> Result<Self, Rejection> {
        let bad = || Rejection::corrupt(Claimed::Jpeg, "a bad JPEG Huffman table");
        let mut fast = vec![0_u16; SLOTS].into_boxed_slice();
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
        let slots = 0..SLOTS as u32;
        let (skip, dc_value) = if ac {
            (
                slots.map(|bits| skip_entry(&fast, bits)).collect(),
                Box::default(),
            )
        } else {
            (
                Box::default(),
                slots.map(|bits| dc_entry(&fast, bits)).collect(),
            )
        };
        Ok(Self {
            fast,
            skip,
            dc_value,
            max_code,
            offset,
            values: values[..k].to_vec(),
        })
    }

    /// The next symbol.
    #[inline]
    pub(super) fn decode(&self, bits: &mut Bits<'_>) -> Result<u8, Rejection> {
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
                return self.values.get(index).copied().ok_or_else(bad_code);
            }
        }
        Err(bad_code())
    }

    /// The next DC difference (a DC table's code and its extra bits).
    #[inline]
    pub(super) fn dc_difference(&self, bits: &mut Bits<'_>) -> Result<i32, Rejection> {
        bits.refill();
        let entry = i32::from(self.dc_value[bits.peek(LOOKAHEAD) as usize]);
        if entry != 0 {
            bits.consume((entry & 15) as u32);
            return Ok(entry >> 4);
        }
        let size = u32::from(self.decode(bits)?);
        if size > 11 {
            return Err(Rejection::corrupt(Claimed::Jpeg, "a bad JPEG DC value"));
        }
        Ok(bits.receive_extend(size))
    }
}

/// The DC entry for the lookahead `bits`: the difference whose code and extra
/// bits it holds whole.
fn dc_entry(fast: &[u16], bits: u32) -> i16 {
    let entry = fast[bits as usize];
    let (length, size) = (u32::from(entry >> 8), u32::from(entry as u8));
    if entry == 0 || size > 11 || length + size > LOOKAHEAD {
        return 0;
    }
    let raw = ((bits >> (LOOKAHEAD - length - size)) & ((1 << size) - 1)) as i32;
    (extend(raw, size) << 4 | (length + size) as i32) as i16
}

/// JPEG's EXTEND: `size` bits as a signed value.
#[inline]
fn extend(raw: i32, size: u32) -> i32 {
    if size == 0 {
        0
    } else if raw < 1 << (size - 1) {
        raw - (1 << size) + 1
    } else {
        raw
    }
}

/// The skip entry for the lookahead `bits`: AC symbols (code and extra bits) read
/// off it while they fit whole, up to and including an end-of-block.
fn skip_entry(fast: &[u16], bits: u32) -> u16 {
    let (mut used, mut advance) = (0_u32, 0_u32);
    while used < LOOKAHEAD {
        let rest = (bits << used) as usize & (SLOTS - 1);
        let entry = fast[rest];
        let length = u32::from(entry >> 8);
        let (run, size) = (u32::from(entry as u8 >> 4), u32::from(entry as u8 & 15));
        if entry == 0 || length + size > LOOKAHEAD - used {
            break;
        }
        used += length + size;
        if size == 0 && run != 15 {
            return entry_of(used, advance) | SKIP_EOB;
        }
        advance += run + 1;
    }
    if used == 0 {
        0
    } else {
        entry_of(used, advance)
    }
}

/// `used` (at most [`LOOKAHEAD`]) and `advance` in a skip entry.
fn entry_of(used: u32, advance: u32) -> u16 {
    (used | advance.min(SKIP_MAX_ADVANCE) << 8) as u16
}

/// Steps over one block's AC symbols of a sequential scan.
#[inline]
fn skip_ac(table: &Huffman, bits: &mut Bits<'_>) -> Result<(), Rejection> {
    let mut k = 1_u32;
    loop {
        if bits.count < 32 {
            bits.refill();
        }
        let entry = table.skip[bits.peek(LOOKAHEAD) as usize];
        let advance = u32::from(entry >> 8) & SKIP_MAX_ADVANCE;
        // Whole symbols, none reaching the block's end: all stepped over at once.
        if entry != 0 && k + advance < 64 {
            bits.consume(u32::from(entry) & 0xFF);
            k += advance;
            if entry & SKIP_EOB != 0 {
                return Ok(());
            }
            continue;
        }
        let symbol = table.decode(bits)?;
        let (run, size) = (u32::from(symbol >> 4), u32::from(symbol & 15));
        if size == 0 && run != 15 {
            return Ok(()); // end of block
        }
        k += run + 1;
        // The decode left at least 57 − 16 bits: enough for the value's.
        bits.consume(size);
        if k >= 64 {
            return Ok(());
        }
    }
}

/// A component of a sequential scan: where its DC coefficients go, its tables.
pub(super) struct Coder<'t> {
    pub plane: usize,
    pub dc: &'t Huffman,
    pub ac: &'t Huffman,
}

/// One block of an MCU (or the one of a non-interleaved scan's unit): its scan
/// component and where its DC goes in its plane, `uy * row + ux * across + offset`.
pub(super) struct Place {
    pub slot: usize,
    offset: usize,
    across: usize,
    row: usize,
}

impl Place {
    /// The block's index in its plane in the unit (`ux`, `uy`).
    #[inline]
    pub(super) fn at(&self, ux: usize, uy: usize) -> usize {
        uy * self.row + ux * self.across + self.offset
    }
}

/// The blocks of a scan's unit (an MCU if it has several components) whose
/// components are `planes`, in coding order; and its units across and down.
pub(super) fn scan_places(
    frame: &Frame,
    planes: &[usize],
) -> Result<(Vec<Place>, (u32, u32)), Rejection> {
    let interleaved = planes.len() > 1;
    let mut places = Vec::new();
    for (slot, &plane) in planes.iter().enumerate() {
        let component = frame.components.get(plane).ok_or_else(bad_code)?;
        let padded_w = frame.padded_blocks(component).0 as usize;
        let (h, v) = if interleaved {
            (usize::from(component.h), usize::from(component.v))
        } else {
            (1, 1)
        };
        for by in 0..v {
            for bx in 0..h {
                let (offset, across, row) = (by * padded_w + bx, h, v * padded_w);
                places.push(Place {
                    slot,
                    offset,
                    across,
                    row,
                });
            }
        }
    }
    let units = match planes {
        [one] => frame.blocks(&frame.components[*one]),
        _ => frame.mcus(),
    };
    Ok((places, units))
}

/// Decodes a sequential scan's DC coefficients into `planes` (each padded to whole
/// MCUs, as [`Frame::padded_blocks`]), stepping over the AC symbols; `bits` is
/// left after the scan's last block.
pub(super) fn sequential_scan(
    bits: &mut Bits<'_>,
    frame: &Frame,
    coders: &[Coder<'_>],
    planes: &mut [Vec<i16>],
    restart_interval: u32,
) -> Result<(), Rejection> {
    let scan_planes: Vec<usize> = coders.iter().map(|coder| coder.plane).collect();
    let (places, (units_x, units_y)) = scan_places(frame, &scan_planes)?;
    let mut restarts = Restarts::new(restart_interval);
    let mut preds = [0_i32; 4];
    for uy in 0..units_y as usize {
        for ux in 0..units_x as usize {
            if restarts.before_unit(bits)? {
                preds = [0; 4];
            }
            for place in &places {
                let coder = &coders[place.slot];
                let pred = preds[place.slot].wrapping_add(coder.dc.dc_difference(bits)?);
                preds[place.slot] = pred;
                *planes[coder.plane]
                    .get_mut(place.at(ux, uy))
                    .ok_or_else(bad_code)? = pred as i16;
                skip_ac(coder.ac, bits)?;
            }
            if bits.overran() {
                return Err(Rejection::corrupt(
                    Claimed::Jpeg,
                    "the JPEG data ends early",
                ));
            }
        }
    }
    Ok(())
}

/// Restart markers between a scan's units: every `interval` units (none if 0),
/// numbered 0..=7 in turn.
pub(super) struct Restarts {
    interval: u64,
    unit: u64,
    next: u8,
}

impl Restarts {
    pub(super) fn new(interval: u32) -> Self {
        Self {
            interval: u64::from(interval),
            unit: 0,
            next: 0,
        }
    }

    /// Before each unit: at the end of an interval, reads the restart marker that
    /// must come next; returns whether it did (the DC predictions then restart).
    pub(super) fn before_unit(&mut self, bits: &mut Bits<'_>) -> Result<bool, Rejection> {
        let due = self.interval > 0 && self.unit > 0 && self.unit.is_multiple_of(self.interval);
        if due {
            bits.restart(self.next)?;
            self.next = (self.next + 1) % 8;
        }
        self.unit += 1;
        Ok(due)
    }
}

/// Whether any of the eight bytes of `word` is `0xFF`.
#[inline]
fn has_ff(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let inverted = !word;
    inverted.wrapping_sub(ONES) & word & HIGHS != 0
}

/// Entropy-coded data as bits: `FF 00` unstuffed, zeros after a marker (or the
/// end of the data), counted so reading into them can be told apart.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pub(super) pos: usize,
    /// Bits, most significant first.
    acc: u64,
    count: u32,
    /// Of `count`, how many are zeros appended after a marker.
    padding: u32,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    pub(super) fn new(data: &'a [u8], pos: usize) -> Self {
        Self {
            data,
            pos,
            acc: 0,
            count: 0,
            padding: 0,
            at_marker: false,
        }
    }

    /// Tops the buffer up to at least 57 bits: whole bytes, eight at a time when
    /// none of them is `0xFF`.
    #[inline]
    pub(super) fn refill(&mut self) {
        if self.count > 56 {
            return;
        }
        if !self.at_marker
            && let Some(&chunk) = self.data.get(self.pos..).and_then(<[u8]>::first_chunk::<8>)
        {
            let word = u64::from_be_bytes(chunk);
            if !has_ff(word) {
                // 1..=8 bytes, as many as fit whole.
                let taken = (64 - self.count) / 8 * 8;
                self.acc |= (word >> (64 - taken)) << (64 - self.count - taken);
                self.pos += (taken / 8) as usize;
                self.count += taken;
                return;
            }
        }
        self.refill_bytes();
    }

    #[cold]
    fn refill_bytes(&mut self) {
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
    pub(super) fn peek(&self, n: u32) -> u32 {
        (self.acc >> (64 - n)) as u32
    }

    #[inline]
    pub(super) fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.count -= n;
    }

    /// `n` bits (0..=16) as a signed DCT value (JPEG's EXTEND).
    #[inline]
    pub(super) fn receive_extend(&mut self, n: u32) -> i32 {
        if n == 0 {
            return 0;
        }
        self.refill();
        let value = self.peek(n) as i32;
        self.consume(n);
        extend(value, n)
    }

    #[inline]
    pub(super) fn bit(&mut self) -> bool {
        self.refill();
        let bit = self.peek(1) == 1;
        self.consume(1);
        bit
    }

    /// Whether a read went past the data into the zeros after a marker.
    #[inline]
    pub(super) fn overran(&self) -> bool {
        self.count < self.padding
    }

    /// Whether the data read so far is all there is: what is left of it is under
    /// a byte of one bits (an encoder's padding), then the marker at `marker`.
    pub(super) fn ends_with_padding_at(&mut self, marker: usize) -> bool {
        self.refill();
        if self.overran() || self.pos != marker {
            return false;
        }
        let left = self.count - self.padding;
        left == 0 || (left < 8 && self.peek(left) == (1 << left) - 1)
    }

    /// Drops the rest of the byte-aligned data and reads the restart marker that
    /// must come next.
    pub(super) fn restart(&mut self, expected: u8) -> Result<(), Rejection> {
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
