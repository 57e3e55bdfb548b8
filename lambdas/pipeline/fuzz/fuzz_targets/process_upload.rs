//! Any bytes as an upload: `process_upload_bytes` returns a JPEG or a rejection,
//! within the peak-allocation ceiling, and never panics.

#![no_main]

mod common;

use augment_pipeline::imaging::process_upload_bytes;
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: common::CountingAlloc = common::CountingAlloc;

fuzz_target!(|data: &[u8]| {
    common::check("process_upload_bytes", || process_upload_bytes(data));
});
