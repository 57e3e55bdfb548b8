//! Any text as an S3 event key: `decode_event_key` form-decodes it, never panics,
//! and gives back the key S3 encoded; the decoded key follows the contract
//! (`parsers::check_event_key`, `parsers::check_upload_key`).

#![no_main]

#[expect(dead_code, reason = "each target calls some of the shared checks")]
mod parsers;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let raw = String::from_utf8_lossy(data);
    parsers::check_record(&raw, None);
});
