//! Any bytes as an upload: `process_upload_bytes` returns a JPEG or a rejection,
//! within the peak-allocation ceiling, and never panics. A JPEG is also decoded at
//! 1/8 whatever its size, so the DC-only decoder (which the pipeline gives only
//! photos of about 2,048 pixels a side and more) sees every input.

#![no_main]

mod common;

use augment_pipeline::imaging::{decode, process_upload_bytes};
use augment_pipeline::sniff::{ImageFormat, sniff};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: common::CountingAlloc = common::CountingAlloc;

fuzz_target!(|data: &[u8]| {
    drop(common::check("process_upload_bytes", || {
        process_upload_bytes(data)
    }));
    if sniff(data) == Some(ImageFormat::Jpeg) {
        // A target side of 1 pixel: the 1/8 scale for any size.
        let _ = common::within_ceiling("decode at 1/8", || decode(data, ImageFormat::Jpeg, 1));
    }
});
