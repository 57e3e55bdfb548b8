//! Any bytes as the image processor's event: parsed as the Lambda runtime parses it
//! (`aws_lambda_events`' `S3Event`), then each record's key and sequencer checked
//! as the processor reads them (`parsers::check_record`). Never panics.

#![no_main]

#[expect(dead_code, reason = "each target calls some of the shared checks")]
mod parsers;

use aws_lambda_events::event::s3::S3Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(event) = serde_json::from_slice::<S3Event>(data) else {
        return;
    };
    for record in &event.records {
        if let Some(key) = record.s3.object.key.as_deref() {
            parsers::check_record(key, record.s3.object.sequencer.as_deref());
        }
    }
});
