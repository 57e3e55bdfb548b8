//! Hostile inputs of the second round, each a few bytes to a few megabytes: what
//! an attacker who has read the limits table builds to cost CPU or memory within
//! them. Arithmetic-coded JPEGs whose blocks each hold one coefficient at the last
//! zigzag position (dozens of decisions a block from almost no data), lossless
//! JPEGs of repeated scans, marker floods, processed images that are not what the
//! processor writes, and 16-bit PNGs of Paeth rows.

use turbojpeg::{Compressor, Image, PixelFormat, Subsamp};

use super::jpeg::{photo_jpeg, segment};
use super::png::{ihdr, png_of_chunks, png_with, zlib_of_runs};

/// SOI, a quantisation table of ones, a frame (`sof`) of `components`, each at
/// `sampling` (`0x11` is 1×1), and a one-code Huffman table for DC and AC (the
/// code `0` for symbol 0: a DC difference of 0, an end of block), as headers for
/// hand-made scans.
pub fn jpeg_headers(sof: u8, size: (u16, u16), sampling: &[u8]) -> Vec<u8> {
    let mut out = jpeg_frame(sof, size, sampling);
    for class in [0x00, 0x10] {
        let mut dht = vec![class, 1];
        dht.extend_from_slice(&[0; 15]);
        dht.push(0);
        segment(&mut out, 0xC4, &dht);
    }
    out
}

/// SOI, a quantisation table of ones and a frame (`sof`) of one component a
/// `sampling` entry (`0x11` is 1×1): the start of every hand-made JPEG here.
fn jpeg_frame(sof: u8, (width, height): (u16, u16), sampling: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    let mut dqt = vec![0];
    dqt.extend_from_slice(&[1; 64]);
    segment(&mut out, 0xDB, &dqt);
    let mut frame = vec![8];
    frame.extend_from_slice(&height.to_be_bytes());
    frame.extend_from_slice(&width.to_be_bytes());
    frame.push(u8::try_from(sampling.len()).expect("at most 255 components"));
    for (id, &factors) in (1..).zip(sampling) {
        frame.extend_from_slice(&[id, factors, 0]);
    }
    segment(&mut out, sof, &frame);
    out
}

/// Appends a scan header (SOS) of the component ids `components`, all on tables 0.
pub fn jpeg_scan_header(out: &mut Vec<u8>, components: &[u8], (ss, se): (u8, u8), ah_al: u8) {
    let mut sos = vec![u8::try_from(components.len()).expect("at most 4 components")];
    for &id in components {
        sos.extend_from_slice(&[id, 0x00]);
    }
    sos.extend_from_slice(&[ss, se, ah_al]);
    segment(out, 0xDA, &sos);
}

/// A frame (`sof`) of `components` at 1×1 sampling with one scan of all of them
/// and `data_len` zero bytes of data (`extra` segments before it): with the
/// one-code tables of [`jpeg_headers`], each zero bit pair is a whole block.
pub fn hand_made_jpeg(
    sof: u8,
    (width, height): (u16, u16),
    components: u8,
    extra: &[u8],
    data_len: usize,
) -> Vec<u8> {
    let sampling = vec![0x11; usize::from(components)];
    let mut out = jpeg_headers(sof, (width, height), &sampling);
    out.extend_from_slice(extra);
    let ids: Vec<u8> = (1..=components).collect();
    let band = if sof == 0xC3 { (1, 0) } else { (0, 63) };
    jpeg_scan_header(&mut out, &ids, band, 0);
    out.resize(out.len() + data_len, 0);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// The last zigzag coefficient's basis pattern (7, 7) around mid-grey, each 8×8
/// block the same: its DCT is one coefficient at zigzag position 63 and nothing else.
fn last_coefficient_pattern(width: usize, height: usize) -> Vec<u8> {
    let basis = |i: usize| ((2 * i + 1) as f64 * 7.0 * std::f64::consts::PI / 16.0).cos();
    let mut pixels = vec![0_u8; width * height];
    for (y, row) in pixels.chunks_exact_mut(width).enumerate() {
        for (x, px) in row.iter_mut().enumerate() {
            *px = (128.0 + 100.0 * basis(x % 8) * basis(y % 8)).round() as u8;
        }
    }
    pixels
}

/// A grey `side`² [`last_coefficient_pattern`] as a one-scan JPEG of libjpeg-turbo:
/// arithmetic-coded (SOF9) or Huffman (SOF0).
pub fn last_coefficient_jpeg(side: usize, arithmetic: bool) -> Vec<u8> {
    let pixels = last_coefficient_pattern(side, side);
    let mut compressor = Compressor::new().expect("libjpeg-turbo starts");
    compressor.set_quality(75).expect("quality 75");
    compressor
        .set_arithmetic(arithmetic)
        .expect("arithmetic or Huffman");
    grey_jpeg(compressor, &pixels, side)
}

/// `pixels`, grey `side`², as `compressor` (set up but for the subsampling)
/// encodes them.
fn grey_jpeg(mut compressor: Compressor, pixels: &[u8], side: usize) -> Vec<u8> {
    compressor.set_subsamp(Subsamp::Gray).expect("grey");
    compressor
        .compress_to_vec(Image {
            pixels,
            width: side,
            pitch: side,
            height: side,
            format: PixelFormat::GRAY,
        })
        .expect("a grey image encodes")
}

/// The segments of a one-scan JPEG: everything before its scan header (SOI
/// included), and the scan's entropy-coded data.
fn split_scan(jpeg: &[u8]) -> (&[u8], &[u8]) {
    let sos = (0..jpeg.len() - 1)
        .find(|&i| jpeg[i..i + 2] == [0xFF, 0xDA])
        .expect("a scan");
    let len = usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]));
    (&jpeg[..sos], &jpeg[sos + 2 + len..jpeg.len() - 2])
}

/// The round-2 CPU bomb: a `side`² (a multiple of 32) arithmetic-coded sequential
/// JPEG (SOF9) of three components, luma at 4×4 sampling and chroma at 1×1 (so
/// the coefficients of the whole image fit the memory budget), whose luma is
/// coded in `scans - 2` repeated scans and each chroma once. Every luma block's
/// only coefficient is at zigzag position 63: about 66 arithmetic decisions a
/// block, from under a hundred bytes a scan.
pub fn arithmetic_bomb(side: u16, scans: usize) -> Vec<u8> {
    let side_px = usize::from(side);
    let luma = last_coefficient_jpeg(side_px, true);
    let chroma = last_coefficient_jpeg(side_px / 4, true);
    let (luma_headers, luma_data) = split_scan(&luma);
    let (_, chroma_data) = split_scan(&chroma);
    // libjpeg-turbo's tables, then our frame.
    let tables = tables_of(luma_headers);
    let mut out = vec![0xFF, 0xD8];
    out.extend_from_slice(&tables);
    let mut frame = vec![8];
    frame.extend_from_slice(&side.to_be_bytes());
    frame.extend_from_slice(&side.to_be_bytes());
    frame.extend_from_slice(&[3, 1, 0x44, 0, 2, 0x11, 0, 3, 0x11, 0]);
    segment(&mut out, 0xC9, &frame);
    for _ in 0..scans.saturating_sub(2) {
        jpeg_scan_header(&mut out, &[1], (0, 63), 0);
        out.extend_from_slice(luma_data);
    }
    for id in [2, 3] {
        jpeg_scan_header(&mut out, &[id], (0, 63), 0);
        out.extend_from_slice(chroma_data);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// The table segments (DQT, DHT, DAC, DRI) among `headers`.
fn tables_of(headers: &[u8]) -> Vec<u8> {
    let mut tables = Vec::new();
    let mut at = 2;
    while at + 4 <= headers.len() {
        let code = headers[at + 1];
        let len = usize::from(u16::from_be_bytes([headers[at + 2], headers[at + 3]]));
        if matches!(code, 0xDB | 0xC4 | 0xCC | 0xDD) {
            tables.extend_from_slice(&headers[at..at + 2 + len]);
        }
        at += 2 + len;
    }
    tables
}

/// A `width`×`height` arithmetic-coded JPEG (SOF9) of `components` at 1×1 whose one
/// scan has no data at all: the decoder makes every block up from zeros. The
/// CMYK 64-megapixel one is 192 bytes.
pub fn arithmetic_without_data(size: (u16, u16), components: u8) -> Vec<u8> {
    let mut out = jpeg_frame(0xC9, size, &vec![0x11; usize::from(components)]);
    let ids: Vec<u8> = (1..=components).collect();
    jpeg_scan_header(&mut out, &ids, (0, 63), 0);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A lossless grey `side`² JPEG (libjpeg-turbo's) whose one scan is repeated
/// `scans` times: each copy is a pass over every sample.
pub fn lossless_scan_flood(side: usize, scans: usize) -> Vec<u8> {
    let pixels: Vec<u8> = (0..side * side)
        .map(|i| ((i % side + i / side) / 8 % 256) as u8)
        .collect();
    let mut compressor = Compressor::new().expect("libjpeg-turbo starts");
    compressor.set_lossless(true).expect("lossless");
    let jpeg = grey_jpeg(compressor, &pixels, side);
    let sos = (0..jpeg.len() - 1)
        .find(|&i| jpeg[i..i + 2] == [0xFF, 0xDA])
        .expect("a scan");
    let scan = &jpeg[sos..jpeg.len() - 2];
    let mut out = jpeg[..sos].to_vec();
    for _ in 0..scans {
        out.extend_from_slice(scan);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A 1024×768 photo with `bytes` (about) of Huffman table segments before it, each
/// segment full of one-code table definitions: a table flood.
pub fn huffman_table_flood(bytes: usize) -> Vec<u8> {
    let jpeg = photo_jpeg(1024, 768, false);
    // Table class 0, id 0: one code of length 1, symbol 0 (18 bytes a definition).
    let mut one = vec![0x00, 1];
    one.extend_from_slice(&[0; 15]);
    one.push(0);
    let body: Vec<u8> = one.iter().copied().cycle().take(18 * 3640).collect();
    let mut out = jpeg[..2].to_vec();
    for _ in 0..bytes / body.len() {
        segment(&mut out, 0xC4, &body);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A baseline grey JPEG `width` wide with a restart marker after every one of its
/// 1×1 MCUs (one block each) and a data-less zero-bit block between markers.
pub fn restart_every_block((width, height): (u16, u16)) -> Vec<u8> {
    let mut dri = Vec::new();
    segment(&mut dri, 0xDD, &1_u16.to_be_bytes());
    let mut out = jpeg_headers(0xC0, (width, height), &[0x11]);
    out.extend_from_slice(&dri);
    jpeg_scan_header(&mut out, &[1], (0, 63), 0);
    let blocks = usize::from(width).div_ceil(8) * usize::from(height).div_ceil(8);
    for i in 0..blocks {
        // Two zero bits (DC 0, end of block), padded with ones, then RSTn.
        out.push(0x3F);
        if i + 1 < blocks {
            out.extend_from_slice(&[0xFF, 0xD0 + (i % 8) as u8]);
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A `width`×`height` PNG of `depth`-bit RGBA whose every row is filtered with
/// Paeth (the costliest filter) over zeros, plain or Adam7.
pub fn paeth_png((width, height): (u32, u32), depth: u8, interlaced: bool) -> Vec<u8> {
    let bytes_per_pixel = u64::from(depth / 8) * 4;
    let mut runs: Vec<(&[u8], u64)> = Vec::new();
    for pass in crate::imaging::png::passes(width, height, interlaced) {
        for _ in 0..pass.lines {
            runs.push((&[4], 1));
            runs.push((&[0], u64::from(pass.samples) * bytes_per_pixel));
        }
    }
    png_with(
        &ihdr(width, height, depth, 6, interlaced),
        &[],
        &zlib_of_runs(&runs),
    )
}

/// A small RGB PNG whose image data is split into IDAT chunks of `per_chunk` bytes
/// (0: `empty` zero-length IDATs first, then one chunk of it all).
pub fn many_idat_png(empty: usize, per_chunk: usize) -> Vec<u8> {
    let (width, height) = (640_u32, 480_u32);
    let raw_len = u64::from(height) * (1 + u64::from(width) * 3);
    let zlib = zlib_of_runs(&[(&[0], raw_len)]);
    let header = ihdr(width, height, 8, 2, false);
    let mut chunks: Vec<(&[u8; 4], &[u8])> = vec![(b"IHDR", &header)];
    chunks.extend(std::iter::repeat_n((b"IDAT", &[][..]), empty));
    if per_chunk == 0 {
        chunks.push((b"IDAT", &zlib));
    } else {
        chunks.extend(zlib.chunks(per_chunk).map(|part| (b"IDAT", part)));
    }
    chunks.push((b"IEND", &[]));
    png_of_chunks(&chunks)
}

/// A `side`² progressive JPEG (hand-made, zero data: every block a DC difference
/// of 0 and an end of block) of `components` at 1×1 whose every coefficient is
/// sent in as many scans as the standard allows: first at `Al = 13`, then refined
/// a bit a scan down to 0. DC scans interleave every component; `ac` adds the AC
/// band of each component the same way (else one full AC scan each).
pub fn refinement_flood(side: u16, components: u8, ac: bool) -> Vec<u8> {
    let sampling = vec![0x11; usize::from(components)];
    let mut out = jpeg_headers(0xC2, (side, side), &sampling);
    let blocks = usize::from(side).div_ceil(8).pow(2);
    let ids: Vec<u8> = (1..=components).collect();
    // One bit a block and component, rounded up, padded with ones.
    let data = |out: &mut Vec<u8>, count: usize| {
        out.resize(out.len() + (count * blocks).div_ceil(8), 0);
    };
    jpeg_scan_header(&mut out, &ids, (0, 0), 13);
    data(&mut out, ids.len());
    for al in (0..13).rev() {
        jpeg_scan_header(&mut out, &ids, (0, 0), ((al + 1) << 4) | al);
        data(&mut out, ids.len());
    }
    for &id in &ids {
        if ac {
            jpeg_scan_header(&mut out, &[id], (1, 63), 13);
            data(&mut out, 1);
            for al in (0..13).rev() {
                jpeg_scan_header(&mut out, &[id], (1, 63), ((al + 1) << 4) | al);
                data(&mut out, 1);
            }
        } else {
            jpeg_scan_header(&mut out, &[id], (1, 63), 0);
            data(&mut out, 1);
        }
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
