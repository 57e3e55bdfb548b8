//! Hostile and extreme JPEGs, each with the outcome a user should see, processed
//! in a child process whose CPU time and peak RSS must stay within the budget (see
//! `budget`); and processed images planted under `processed/`, turned four ways
//! in a child as the worker does a batch. The inputs come from the library's
//! `makers` (shared with the `hostile_inputs` example), the hostile ones built
//! segment by segment.

use augment_pipeline::RejectCode;
use augment_pipeline::imaging::process_upload_bytes;
use augment_pipeline::makers::{
    Coding, Colours, arithmetic_bomb, arithmetic_without_data, flat_jpeg, hand_made_jpeg,
    huffman_table_flood, jpeg_headers, jpeg_scan_header, lossless_scan_flood, photo_jpeg,
    refinement_flood, restart_every_block, restart_every_mcu, segment, with_segments,
};

use crate::budget::{Case, Expect, check_cases, check_rotations, run_child_if_asked};

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
        make: || flat_jpeg((8000, 8000), Colours::Ycc420, Coding::Progressive),
        expect: Expect::Processed,
    },
    Case {
        name: "progressive 64 MP CMYK",
        make: || flat_jpeg((8000, 8000), Colours::Cmyk, Coding::Progressive),
        expect: Expect::Processed,
    },
    Case {
        name: "progressive 64 MP YCCK",
        make: || flat_jpeg((8000, 8000), Colours::Ycck, Coding::Progressive),
        expect: Expect::Processed,
    },
    Case {
        name: "progressive arithmetic 16 MP",
        make: || flat_jpeg((4000, 4000), Colours::Ycc420, Coding::ProgressiveArithmetic),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "baseline arithmetic 16 MP",
        make: || flat_jpeg((4000, 4000), Colours::Ycc420, Coding::Arithmetic),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "arithmetic 4160x4160, 100 scans, coefficient 63",
        make: || arithmetic_bomb(4160, 100),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "arithmetic CMYK 64 MP without data",
        make: || arithmetic_without_data((8000, 8000), 4),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "3,000 repeated AC scans",
        make: || scan_flood(3000),
        expect: Expect::Rejected(RejectCode::TooComplex),
    },
    Case {
        name: "progressive AC scan repeated 90 times",
        make: || scan_flood(90),
        expect: Expect::Rejected(RejectCode::Corrupt),
    },
    Case {
        name: "DC refined to the last bit, 64 MP CMYK",
        make: || refinement_flood(8000, 4, false),
        expect: Expect::Rejected(RejectCode::TooComplex),
    },
    Case {
        name: "every band refined to the last bit, 2040 CMYK",
        make: || refinement_flood(2040, 4, true),
        expect: Expect::Processed,
    },
    Case {
        name: "lossless 64 MP grey",
        make: || hand_made_jpeg(0xC3, (8000, 8000), 1, &[], 8_000_000),
        expect: Expect::Rejected(RejectCode::TooManyPixels),
    },
    Case {
        name: "lossless 1800x1800 grey",
        make: || lossless_scan_flood(1800, 1),
        expect: Expect::Processed,
    },
    Case {
        name: "lossless 1000x1000 grey, 42 scans",
        make: || lossless_scan_flood(1000, 42),
        expect: Expect::Rejected(RejectCode::Corrupt),
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
        make: || hand_made_jpeg(0xC0, (8000, 8000), 1, &[], 1024),
        expect: Expect::Rejected(RejectCode::Corrupt),
    },
    Case {
        name: "restart marker after every MCU, 64 MP",
        make: restart_every_mcu,
        expect: Expect::Processed,
    },
    Case {
        name: "1x1 MCUs 16384 wide, 64 MP grey",
        make: || hand_made_jpeg(0xC0, (16384, 3906), 1, &[], 2048 * 489 / 4),
        expect: Expect::Processed,
    },
    Case {
        name: "1x1 MCUs, 64 MP CMYK",
        make: || hand_made_jpeg(0xC0, (8000, 8000), 4, &[], 1000 * 1000),
        expect: Expect::Processed,
    },
    Case {
        name: "restart marker after every block, 16384 wide",
        make: || restart_every_block((16384, 3906)),
        expect: Expect::Processed,
    },
    Case {
        name: "9 MiB of Huffman table definitions",
        make: || huffman_table_flood(9 * 1024 * 1024),
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

/// What may lie under `processed/`: the processor's own output, and what an
/// attacker with write access to the bucket plants there.
const PLANTED: &[Case] = &[
    Case {
        name: "the processor's own output",
        make: || process_upload_bytes(&photo_jpeg(1024, 768, false)).unwrap(),
        expect: Expect::Processed,
    },
    Case {
        name: "arithmetic 4160x4160, 100 scans, coefficient 63",
        make: || arithmetic_bomb(4160, 100),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "baseline 3712x3712",
        make: || flat_jpeg((3712, 3712), Colours::Ycc420, Coding::Baseline),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "256x256 arithmetic",
        make: || flat_jpeg((256, 256), Colours::Ycc420, Coding::Arithmetic),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "256x256 progressive",
        make: || flat_jpeg((256, 256), Colours::Ycc420, Coding::Progressive),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "256x256 4:4:4",
        make: || flat_jpeg((256, 256), Colours::Ycc444, Coding::Baseline),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "256x256 CMYK",
        make: || flat_jpeg((256, 256), Colours::Cmyk, Coding::Baseline),
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
    Case {
        name: "processed image with 2 MiB of EXIF",
        make: || {
            let processed = process_upload_bytes(&photo_jpeg(1024, 768, false)).unwrap();
            let mut out = processed[..2].to_vec();
            let mut body = b"Exif\0\0".to_vec();
            body.resize(65_533, 0);
            for _ in 0..32 {
                segment(&mut out, 0xE1, &body);
            }
            out.extend_from_slice(&processed[2..]);
            out
        },
        expect: Expect::Rejected(RejectCode::UnsupportedType),
    },
];

#[test]
fn planted_processed_images_are_turned_only_if_the_processor_wrote_them() {
    if run_child_if_asked() {
        return;
    }
    check_rotations(
        "jpeg_budget::planted_processed_images_are_turned_only_if_the_processor_wrote_them",
        PLANTED,
    );
}

/// An 8-bit RGB lossless JPEG of a `side`² gradient.
fn lossless_gradient(side: usize) -> Vec<u8> {
    let samples: Vec<u16> = (0..side * side * 3)
        .map(|i| ((i / 3 % side + i / (3 * side)) / 16 % 256) as u16)
        .collect();
    let side = u16::try_from(side).unwrap();
    crate::imaging::lossless_jpeg(8, (side, side), 3, &samples)
}

/// A small progressive JPEG whose last AC scan is repeated `times` times: each
/// copy is a pass over the image for a full decoder.
fn scan_flood(times: usize) -> Vec<u8> {
    let jpeg = flat_jpeg((64, 64), Colours::Ycc420, Coding::Progressive);
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

/// 64 MP gray progressive whose DC scan's data is nothing but restart markers
/// (9 MiB of them), with a restart interval of one MCU.
fn restart_marker_flood() -> Vec<u8> {
    let mut dri = Vec::new();
    segment(&mut dri, 0xDD, &1_u16.to_be_bytes());
    let mut out = jpeg_headers(0xC2, (8000, 8000), &[0x11]);
    out.extend_from_slice(&dri);
    jpeg_scan_header(&mut out, &[1], (0, 0), 0);
    for i in 0..(9 * 1024 * 1024 / 2) {
        out.extend_from_slice(&[0xFF, 0xD0 + (i % 8) as u8]);
    }
    jpeg_scan_header(&mut out, &[1], (1, 63), 0);
    out.extend_from_slice(&[0; 64]);
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}
