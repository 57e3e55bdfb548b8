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

use super::jpeg_entropy::{Bits, Coder, Huffman, Restarts, scan_places, sequential_scan};
use super::jpeg_frame::{Coding, Frame, Scan};
use super::jpeg_header::{JpegHeader, next_marker};
use crate::reject::{Claimed, Rejection};

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
            let (class, id) = (class_id >> 4, usize::from(class_id & 15));
            let table = Huffman::new(counts, values, class == 1)?;
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
        let mut bits = Bits::new(bytes, data_at);
        if progressive {
            self.progressive_dc_scan(&mut bits, &scan)?;
        } else {
            let coders = scan
                .components
                .iter()
                .map(|&(plane, dc_id, ac_id)| {
                    Ok(Coder {
                        plane,
                        dc: table(&self.dc_tables, dc_id)?,
                        ac: table(&self.ac_tables, ac_id)?,
                    })
                })
                .collect::<Result<Vec<_>, Rejection>>()?;
            sequential_scan(
                &mut bits,
                frame,
                &coders,
                &mut self.dc,
                self.restart_interval,
            )?;
        }
        skip_scan(bytes, bits.pos)
    }

    /// A progressive DC scan (first or refinement) into the DC planes.
    fn progressive_dc_scan(&mut self, bits: &mut Bits<'_>, scan: &Scan) -> Result<(), Rejection> {
        let frame = self.frame;
        let refine = scan.ah != 0;
        // (component index, DC table unless refining) for each component of the scan.
        let mut coders = Vec::with_capacity(scan.components.len());
        for &(index, dc_id, _) in &scan.components {
            let dc = if refine {
                None
            } else {
                Some(table(&self.dc_tables, dc_id)?)
            };
            coders.push((index, dc));
        }
        let scan_planes: Vec<usize> = scan.components.iter().map(|c| c.0).collect();
        let (places, (units_x, units_y)) = scan_places(frame, &scan_planes)?;
        let mut preds = [0_i32; 4];
        let mut restarts = Restarts::new(self.restart_interval);
        let al = u32::from(scan.al);
        for uy in 0..units_y as usize {
            for ux in 0..units_x as usize {
                if restarts.before_unit(bits)? {
                    preds = [0; 4];
                }
                for place in &places {
                    let (index, dc_table) = coders[place.slot];
                    let coefficient = self.dc[index]
                        .get_mut(place.at(ux, uy))
                        .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "a bad JPEG scan"))?;
                    match dc_table {
                        Some(table) => {
                            let difference = table.dc_difference(bits)?;
                            preds[place.slot] = preds[place.slot].wrapping_add(difference);
                            *coefficient = (preds[place.slot] << al) as i16;
                        }
                        None => {
                            if bits.bit() {
                                *coefficient |= 1 << al;
                            }
                        }
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
        Ok(())
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
