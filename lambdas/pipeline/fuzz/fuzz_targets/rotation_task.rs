//! Any bytes as an SQS message body for the rotation worker:
//! `RotationTask::from_json` accepts only tasks on the contract's own keys, which
//! read back the same (`parsers::check_task_json`). Never panics.

#![no_main]

#[expect(dead_code, reason = "each target calls some of the shared checks")]
mod parsers;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // SQS bodies are text; a body that is not UTF-8 never reaches the parser.
    if let Ok(body) = std::str::from_utf8(data) {
        parsers::check_task_json(body);
    }
});
