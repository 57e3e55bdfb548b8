//! Hostile and extreme JPEGs, each with the outcome a user should see, processed
//! in a child process whose peak RSS must stay within the budget (see `budget`).
//! The photo-like inputs come from the library's `makers` (shared with the
//! `hostile_inputs` example); the hostile ones are made here by hand, segment by
//! segment.

use augment_pipeline::RejectCode;
use augment_pipeline::makers::{flat_jpeg, photo_jpeg, restart_every_mcu, segment, with_segments};
use turbojpeg::{Colorspace, PixelFormat};

use crate::budget::{Case, Expect, check_cases, run_child_if_asked};

const CASES: &[Case] = &[
    Case {
        name: "baseline 64 MP photo 4:2:0",
        make: || photo_jpeg(8000, 8000, false),
        expect: Expect::Processed,
    },
    Case {
        name: "progressive 48 MP photo 4:2:0",
        make: || photo_jpeg(8000, 6000, true),
        expect: Expect::Processed,
    },
    Case {
        name: "progressive 64 MP YCbCr, flat",
        make: || flat_jpeg((8000, 8000), PixelFormat::RGB, None, true, false),
        expect: Expect::Processed,
    },
    Case {
        name: "progressive 64 MP CMYK",
        make: || {
            flat_jpeg(
                (8000, 8000),
                PixelFormat::CMYK,
                Some(Colorspace::CMYK),
                true,
                false,
            )
        },
        expect: Expect::Processed,
    },
    Case {
        name: "progressive 64 MP YCCK",
        make: || {
            flat_jpeg(
                (8000, 8000),
                PixelFormat::CMYK,
                Some(Colorspace::YCCK),
                true,
                false,
            )
        },
        expect: Expect::Processed,
    },
    Case {
        name: "progressive arithmetic 16 MP",
        make: || flat_jpeg((4000, 4000), PixelFormat::RGB, None, true, true),
        expect: Expect::Rejected(RejectCode::TooManyPixels),
    },
    Case {
        name: "baseline arithmetic 16 MP",
        make: || flat_jpeg((4000, 4000), PixelFormat::RGB, None, false, true),
        expect: Expect::Processed,
    },
    Case {
        name: "3,000 repeated AC scans",
        make: || scan_flood(3000),
        expect: Expect::Rejected(RejectCode::TooComplex),
    },
    Case {
        name: "60 DC refinement scans at 64 MP",
        make: dc_refinement_flood,
        expect: Expect::Rejected(RejectCode::TooComplex),
    },
    Case {
        name: "lossless 64 MP header",
        make: || hand_made(0xC3, 8000, 8000, 3, &[], 0),
        expect: Expect::Rejected(RejectCode::TooManyPixels),
    },
    Case {
        name: "lossless 1200x1200 RGB",
        make: || lossless_gradient(1200),
        expect: Expect::Processed,
    },
    Case {
        name: "lossless 2000x2000 RGB",
        make: || lossless_gradient(2000),
        expect: Expect::Rejected(RejectCode::TooManyPixels),
    },
    Case {
        name: "64 MP header over 1 KB of data",
        make: || hand_made(0xC0, 8000, 8000, 1, &[], 1024),
        expect: Expect::Rejected(RejectCode::Corrupt),
    },
    Case {
        name: "restart marker after every MCU, 64 MP",
        make: restart_every_mcu,
        expect: Expect::Processed,
    },
    Case {
        name: "scan data that is all restart markers",
        make: restart_marker_flood,
        expect: Expect::Rejected(RejectCode::Corrupt),
    },
    Case {
        name: "150 EXIF segments of 64 KiB",
        make: || with_segments(0xE1, b"Exif\0\0", 150),
        expect: Expect::Processed,
    },
    Case {
        name: "9 MiB of ICC profile segments",
        make: || with_segments(0xE2, b"ICC_PROFILE\0", 145),
        expect: Expect::Processed,
    },
];

#[test]
fn hostile_jpegs_stay_within_budget() {
    if run_child_if_asked() {
        return;
    }
    check_cases("jpeg_budget::hostile_jpegs_stay_within_budget", CASES);
}

/// An 8-bit RGB lossless JPEG of a `side`² gradient.
fn lossless_gradient(side: usize) -> Vec<u8> {
    let samples: Vec<u16> = (0..side * side * 3)
        .map(|i| ((i / 3 % side + i / (3 * side)) / 16 % 256) as u16)
        .collect();
    let side = u16::try_from(side).unwrap();
    crate::imaging::lossless_jpeg(8, (side, side), 3, &samples)
}

/// SOI, a quantisation table, a frame of `components` (1:1 sampling) and a
/// one-code Huffman table for DC and AC, as headers for hand-made scans.
fn headers(sof: u8, width: u16, height: u16, components: u8) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    let mut dqt = vec![0];
    dqt.extend_from_slice(&[1; 64]);
    segment(&mut out, 0xDB, &dqt);
    let mut frame = vec![8];
    frame.extend_from_slice(&height.to_be_bytes());
    frame.extend_from_slice(&width.to_be_bytes());
    frame.push(components);
    for id in 1..=components {
        frame.extend_from_slice(&[id, 0x11, 0]);
    }
    segment(&mut out, sof, &frame);
    for class in [0x00, 0x10] {
        let mut dht = vec![class, 1];
        dht.extend_from_slice(&[0; 15]);
        dht.push(0);
        segment(&mut out, 0xC4, &dht);
    }
    out
}

fn scan_header(out: &mut Vec<u8>, components: &[u8], ss: u8, se: u8, ah_al: u8) {
    let mut sos = vec![u8::try_from(components.len()).unwrap()];
    for &id in components {
        sos.extend_from_slice(&[id, 0x00]);
    }
    sos.extend_from_slice(&[ss, se, ah_al]);
    segment(out, 0xDA, &sos);
}

/// A frame with one scan of every component and `data_len` zero bytes of data
/// (`extra` segments before it): the budget decides before any data is read.
fn hand_made(
    sof: u8,
    width: u16,
    height: u16,
    components: u8,
    extra: &[u8],
    data_len: usize,
) -> Vec<u8> {
    let mut out = headers(sof, width, height, components);
    out.extend_from_slice(extra);
    let ids: Vec<u8> = (1..=components).collect();
    let (ss, se) = if sof == 0xC3 { (1, 0) } else { (0, 63) };
    scan_header(&mut out, &ids, ss, se, 0);
    out.resize(out.len() + data_len, 0);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// A small progressive JPEG whose last AC scan is repeated `times` times: each
/// copy is a pass over the image for a full decoder.
fn scan_flood(times: usize) -> Vec<u8> {
    let jpeg = flat_jpeg((64, 64), PixelFormat::RGB, None, true, false);
    let sos: Vec<usize> = (0..jpeg.len() - 1)
        .filter(|&i| jpeg[i..i + 2] == [0xFF, 0xDA])
        .collect();
    let last = *sos.last().unwrap();
    let scan = &jpeg[last..jpeg.len() - 2];
    let mut out = jpeg[..jpeg.len() - 2].to_vec();
    for _ in 0..times {
        out.extend_from_slice(scan);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// 64 MP gray progressive: a DC first scan, then DC refinement scans (one bit a
/// block each, 125 KB apiece) up to the scan limit, then the AC band.
fn dc_refinement_flood() -> Vec<u8> {
    let mut out = headers(0xC2, 8000, 8000, 1);
    let blocks = 1000 * 1000;
    scan_header(&mut out, &[1], 0, 0, 0x0D);
    out.resize(out.len() + blocks / 8, 0);
    for al in (0..13).rev().cycle().take(60) {
        scan_header(&mut out, &[1], 0, 0, 0x10 | al);
        out.resize(out.len() + blocks / 8, 0);
    }
    scan_header(&mut out, &[1], 1, 63, 0);
    out.extend_from_slice(&[0; 64]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

/// 64 MP gray progressive whose DC scan's data is nothing but restart markers
/// (9 MiB of them), with a restart interval of one MCU.
fn restart_marker_flood() -> Vec<u8> {
    let mut dri = Vec::new();
    segment(&mut dri, 0xDD, &1_u16.to_be_bytes());
    let mut out = headers(0xC2, 8000, 8000, 1);
    out.extend_from_slice(&dri);
    scan_header(&mut out, &[1], 0, 0, 0);
    for i in 0..(9 * 1024 * 1024 / 2) {
        out.extend_from_slice(&[0xFF, 0xD0 + (i % 8) as u8]);
    }
    scan_header(&mut out, &[1], 1, 63, 0);
    out.extend_from_slice(&[0; 64]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
