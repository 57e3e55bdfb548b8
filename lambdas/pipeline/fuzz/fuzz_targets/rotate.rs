//! The first byte picks the angle, the rest is what lies under `processed/`:
//! `rotate_jpeg_bytes` (the check that it is exactly what the processor writes,
//! from its headers, then libjpeg-turbo's transform) returns a JPEG or a
//! rejection, within the peak-allocation ceiling, and never panics.

#![no_main]

mod common;

use augment_pipeline::Angle;
use augment_pipeline::imaging::rotate_jpeg_bytes;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: common::CountingAlloc = common::CountingAlloc;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, jpeg)) = data.split_first() else {
        return;
    };
    let angle = Angle::ALL[usize::from(selector) % Angle::ALL.len()];
    common::check("rotate_jpeg_bytes", || rotate_jpeg_bytes(jpeg, angle));
});
