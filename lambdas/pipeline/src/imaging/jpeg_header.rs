//! A JPEG's headers, read in Rust before any decoder sees the data: the frame
//! (kind, precision, size, components and their sampling), every scan header, the
//! Adobe colour transform and the EXIF block. From them the
//! decode budget (memory and work) of each decode path is computed, so that what
//! would need too much is rejected before anything is allocated.

use super::jpeg_frame::{Coding, Component, Frame, Scan};
use super::jpeg_rules::{check_coverage, check_progression};
use crate::limits::MAX_JPEG_SCANS;
use crate::reject::{Claimed, RejectCode, Rejection};

/// What the walk over a JPEG's markers found.
#[derive(Debug, Clone)]
pub(super) struct JpegHeader<'a> {
    pub frame: Frame,
    pub scans: Vec<Scan>,
    /// The Adobe APP14 transform flag (0: none/CMYK, 1: YCbCr, 2: YCCK), if present.
    pub adobe_transform: Option<u8>,
    /// The first `Exif\0\0` APP1 payload (after the signature).
    pub exif: Option<&'a [u8]>,
    /// A JFIF APP0 segment is present (so three components are YCbCr).
    pub jfif: bool,
    /// Length of the file.
    pub file_bytes: u64,
    /// Holds something libjpeg-turbo would warn about, and so fail on, that the
    /// image does not need: stray bytes between segments, a colour profile.
    pub needs_cleaning: bool,
}

impl JpegHeader<'_> {
    /// Blocks visited over all scans: what a full decode (libjpeg's) costs in
    /// work, and what a scan flood inflates.
    pub fn block_visits(&self) -> u64 {
        self.scans.iter().map(|scan| self.scan_blocks(scan)).sum()
    }

    /// Samples visited over all scans of a lossless frame (its decoder's work).
    pub fn lossless_samples(&self) -> u64 {
        self.scans
            .iter()
            .flat_map(|scan| &scan.components)
            .map(|&(index, _, _)| self.frame.samples(&self.frame.components[index]))
            .sum()
    }

    /// Blocks visited by the DC scans alone (the DC-only decoder's work).
    pub fn dc_block_visits(&self) -> u64 {
        self.scans
            .iter()
            .filter(|scan| scan.ss == 0)
            .map(|scan| self.scan_blocks(scan))
            .sum()
    }

    fn scan_blocks(&self, scan: &Scan) -> u64 {
        scan.components
            .iter()
            .map(|&(index, _, _)| {
                let (w, h) = self.frame.padded_blocks(&self.frame.components[index]);
                u64::from(w) * u64::from(h)
            })
            .sum()
    }

    /// Several scans: libjpeg buffers every coefficient of the whole image.
    pub fn multi_scan(&self) -> bool {
        self.scans.len() > 1 || self.frame.coding == Coding::Progressive
    }
}

/// Walks the markers of `bytes` up to the end-of-image marker. Checks what a
/// decoder would trust: one frame before the first scan, scan headers that name
/// frame components, a bounded number of scans, and — at the end — that every
/// component got all of its coefficients (a file cut between progressive scans
/// is missing some). A file without an end-of-image marker is cut short.
pub(super) fn read_header(bytes: &[u8]) -> Result<JpegHeader<'_>, Rejection> {
    walk(bytes, None)
}

/// The segments a decoder needs (frame, tables, restart interval, scans and their
/// data, JFIF and Adobe markers), in order, with nothing between them: no
/// metadata, no colour profile (which libjpeg-turbo would parse, and reject the
/// image for a malformed one), no stray bytes between segments (which it warns
/// about, failing the decode).
pub(super) fn essential_segments(bytes: &[u8]) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    walk(bytes, Some(&mut out))?;
    out.extend_from_slice(&[0xFF, 0xD9]);
    Ok(out)
}

fn walk<'a>(bytes: &'a [u8], mut sink: Option<&mut Vec<u8>>) -> Result<JpegHeader<'a>, Rejection> {
    let mut frame: Option<Frame> = None;
    let mut scans: Vec<Scan> = Vec::new();
    let mut adobe_transform = None;
    let mut exif = None;
    let mut jfif = false;
    let mut needs_cleaning = false;
    let mut at = 2; // after SOI
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(Rejection::corrupt(
            Claimed::Jpeg,
            "no JPEG start-of-image marker",
        ));
    }
    let mut in_scan = false;
    let mut at_scan_data = 0;
    loop {
        let Some(code_at) = next_marker(bytes, at) else {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "the JPEG data ends early",
            ));
        };
        let code = bytes[code_at];
        if !in_scan && code_at != at + 1 {
            needs_cleaning = true;
        }
        if in_scan
            && !(0xD0..=0xD7).contains(&code)
            && let Some(scan) = scans.last_mut()
        {
            scan.data_len = (code_at - 1).saturating_sub(at_scan_data);
            if let Some(out) = sink.as_deref_mut() {
                out.extend_from_slice(&bytes[at_scan_data..at_scan_data + scan.data_len]);
            }
        }
        match code {
            0xD0..=0xD7 if in_scan => {
                if let Some(scan) = scans.last_mut() {
                    scan.restart_markers += 1;
                }
                at = code_at + 1;
                continue;
            }
            0xD9 => break,
            // Markers without a length.
            0xD8 | 0x01 | 0xD0..=0xD7 => {
                at = code_at + 1;
                in_scan = false;
                continue;
            }
            _ => {}
        }
        in_scan = false;
        let Some(&[high, low]) = bytes.get(code_at + 1..code_at + 3) else {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "the JPEG data ends early",
            ));
        };
        let length = usize::from(u16::from_be_bytes([high, low]));
        if length < 2 {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "a JPEG segment with a bad length",
            ));
        }
        let Some(body) = bytes.get(code_at + 3..code_at + 1 + length) else {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "the JPEG data ends early",
            ));
        };
        let essential = match code {
            0xC0..=0xCF | 0xDA | 0xDB | 0xDD => code != 0xC8,
            0xE0 => body.starts_with(b"JFIF\0"),
            0xEE => body.starts_with(b"Adobe"),
            _ => false,
        };
        if essential && let Some(out) = sink.as_deref_mut() {
            out.extend_from_slice(&[0xFF, code]);
            out.extend_from_slice(&bytes[code_at + 1..code_at + 1 + length]);
        }
        at = code_at + 1 + length;
        match code {
            0xC0..=0xCF if !matches!(code, 0xC4 | 0xC8 | 0xCC) => {
                if frame.is_some() {
                    return Err(Rejection::corrupt(
                        Claimed::Jpeg,
                        "a JPEG with two frame headers",
                    ));
                }
                frame = Some(parse_frame(code, body)?);
            }
            0xDA => {
                let Some(frame) = &frame else {
                    return Err(Rejection::corrupt(
                        Claimed::Jpeg,
                        "a JPEG scan before its frame header",
                    ));
                };
                scans.push(parse_scan(frame, body)?);
                if scans.len() > MAX_JPEG_SCANS {
                    return Err(Rejection::new(
                        RejectCode::TooComplex,
                        format!(
                            "The JPEG has more than {MAX_JPEG_SCANS} scans; cameras and image editors write at most a few dozen, and each one costs a pass over the whole image. Re-save it as a standard JPEG, then upload it again."
                        ),
                    ));
                }
                in_scan = true;
                at_scan_data = at;
            }
            0xDD if body.len() < 2 => {
                return Err(Rejection::corrupt(
                    Claimed::Jpeg,
                    "a short restart interval segment",
                ));
            }
            0xE1 if exif.is_none() && body.starts_with(b"Exif\0\0") => {
                exif = Some(&body[6..]);
            }
            0xE0 if body.starts_with(b"JFIF\0") => jfif = true,
            0xE2 => needs_cleaning = true,
            0xEE if body.starts_with(b"Adobe") && body.len() >= 12 => {
                adobe_transform = Some(body[11]);
            }
            _ => {}
        }
    }
    let Some(frame) = frame else {
        return Err(Rejection::corrupt(Claimed::Jpeg, "no JPEG frame header"));
    };
    if scans.is_empty() {
        return Err(Rejection::corrupt(
            Claimed::Jpeg,
            "a JPEG without image data",
        ));
    }
    check_coverage(&frame, &scans)?;
    if frame.coding == Coding::Progressive {
        check_progression(&frame, &scans)?;
    }
    Ok(JpegHeader {
        frame,
        scans,
        adobe_transform,
        exif,
        jfif,
        file_bytes: bytes.len() as u64,
        needs_cleaning,
    })
}

/// Where the next marker's code byte is, from `at`: in a scan, skipping entropy
/// data (stuffed `FF 00`); between segments, skipping stray bytes as decoders do.
pub(super) fn next_marker(bytes: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let ff = at + memchr::memchr(0xFF, bytes.get(at..)?)?;
        let fill = bytes[ff..].iter().position(|&b| b != 0xFF)?;
        let code_at = ff + fill;
        if bytes[code_at] != 0x00 {
            return Some(code_at);
        }
        at = code_at + 1;
    }
}

fn parse_frame(code: u8, body: &[u8]) -> Result<Frame, Rejection> {
    let unsupported = |what: &str| {
        Rejection::new(
            RejectCode::UnsupportedType,
            format!(
                "The JPEG is {what}, which this tool cannot read. Re-save it as a standard JPEG or PNG, then upload it again."
            ),
        )
    };
    let coding = match code {
        0xC0 | 0xC1 => Coding::Sequential,
        0xC2 => Coding::Progressive,
        0xC3 => Coding::Lossless,
        // Refused by measurement, not for want of a decoder: see
        // `limits::MAX_JPEG_BLOCK_VISITS`.
        0xC9..=0xCB => {
            return Err(Rejection::new(
                RejectCode::UnsupportedType,
                "The JPEG is arithmetic-coded, which web browsers and this tool do not read. Re-save it as a standard JPEG or PNG, then upload it again.",
            ));
        }
        _ => return Err(unsupported("a hierarchical JPEG")),
    };
    let Some(&[precision, h1, h0, w1, w0, count]) = body.get(..6) else {
        return Err(Rejection::corrupt(
            Claimed::Jpeg,
            "a short JPEG frame header",
        ));
    };
    let (width, height) = (
        u32::from(u16::from_be_bytes([w1, w0])),
        u32::from(u16::from_be_bytes([h1, h0])),
    );
    let components: Vec<Component> = body
        .get(6..6 + 3 * usize::from(count))
        .ok_or_else(|| Rejection::corrupt(Claimed::Jpeg, "a short JPEG frame header"))?
        .chunks_exact(3)
        .map(|c| Component {
            id: c[0],
            h: c[1] >> 4,
            v: c[1] & 15,
            tq: c[2],
        })
        .collect();
    if !matches!(components.len(), 1 | 3 | 4) {
        return Err(unsupported(&format!(
            "a JPEG with {} colour components",
            components.len()
        )));
    }
    if components
        .iter()
        .any(|c| !(1..=4).contains(&c.h) || !(1..=4).contains(&c.v) || c.tq > 3)
    {
        return Err(Rejection::corrupt(
            Claimed::Jpeg,
            "bad sampling factors in the JPEG frame",
        ));
    }
    let ok_precision = match coding {
        Coding::Lossless => (2..=16).contains(&precision),
        _ => precision == 8,
    };
    if !ok_precision {
        return Err(unsupported(&format!(
            "a {precision}-bit {} JPEG",
            if coding == Coding::Lossless {
                "lossless"
            } else {
                "DCT"
            }
        )));
    }
    Ok(Frame {
        marker: code,
        coding,
        precision,
        width,
        height,
        components,
    })
}

pub(super) fn parse_scan(frame: &Frame, body: &[u8]) -> Result<Scan, Rejection> {
    let bad = || Rejection::corrupt(Claimed::Jpeg, "a bad JPEG scan header");
    let (&count, rest) = body.split_first().ok_or_else(bad)?;
    let count = usize::from(count);
    if count == 0 || count > 4 {
        return Err(bad());
    }
    let selectors = rest.get(..2 * count).ok_or_else(bad)?;
    let Some(&[ss, se, a]) = rest.get(2 * count..2 * count + 3) else {
        return Err(bad());
    };
    let mut components = Vec::with_capacity(count);
    for selector in selectors.chunks_exact(2) {
        let index = frame
            .components
            .iter()
            .position(|c| c.id == selector[0])
            .ok_or_else(bad)?;
        if components.iter().any(|&(i, _, _)| i == index) {
            return Err(bad());
        }
        components.push((index, selector[1] >> 4, selector[1] & 15));
    }
    let scan = Scan {
        components,
        ss,
        se,
        ah: a >> 4,
        al: a & 15,
        data_len: 0,
        restart_markers: 0,
    };
    let ok = match frame.coding {
        Coding::Progressive => {
            scan.se < 64
                && scan.ss <= scan.se
                && (scan.ss == 0) == (scan.se == 0)
                && (scan.ss == 0 || count == 1)
                && scan.al < 14
        }
        _ => true,
    };
    if !ok {
        return Err(bad());
    }
    Ok(scan)
}
