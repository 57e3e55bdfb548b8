//! The image processor Lambda's handler: for each S3 `ObjectCreated` record under
//! `original-uploads/`, the *process an upload* step (fit onto the white 256×256
//! canvas, write `processed/`, queue four rotation tasks). Bad input is final: it
//! is recorded in `failed/` and the invocation succeeds. Faults fail the
//! invocation, so Lambda retries the event (every step is idempotent) and, past
//! its retries, hands it to the on-failure destination: nothing is lost.

use augment_pipeline::error_chain;
use std::time::Instant;

use augment_pipeline::contract::{EventTime, Sequencer, decode_event_key};
use augment_pipeline::steps::{self, StepError, UploadEvent, UploadOutcome};
use augment_pipeline::{ObjectStore, TaskQueue};
use aws_lambda_events::event::s3::{S3Event, S3EventRecord};
use serde::Serialize;

/// What an invocation did, returned as its response (and logged).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub processed: usize,
    pub rejected: usize,
    pub skipped: usize,
}

/// Some records failed for reasons that are not the input's; the invocation
/// fails so that Lambda retries it.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} records failed; first: {first}")]
pub struct InvocationError {
    pub failed: usize,
    pub total: usize,
    pub first: String,
}

impl From<InvocationError> for lambda_runtime::Diagnostic {
    fn from(err: InvocationError) -> Self {
        Self {
            error_type: "InvocationError".into(),
            error_message: err.to_string(),
        }
    }
}

enum Record {
    Done(UploadOutcome),
    /// Not for this function: another event type, a malformed record.
    Ignored(&'static str),
}

/// Handles every record, then fails if any record hit a fault. `store_for` gives
/// the object store of a bucket (records name their bucket).
pub async fn handle<S, Q>(
    event: S3Event,
    request_id: &str,
    store_for: impl Fn(&str) -> S,
    queue: &Q,
) -> Result<Summary, InvocationError>
where
    S: ObjectStore,
    Q: TaskQueue,
{
    let mut summary = Summary::default();
    let mut errors = Vec::new();
    let total = event.records.len();
    for record in &event.records {
        let started = Instant::now();
        let result = handle_record(record, &store_for, queue).await;
        let seen = Seen {
            request_id,
            raw_key: record.s3.object.key.as_deref().unwrap_or_default(),
            bytes: record.s3.object.size.unwrap_or_default(),
            ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        };
        if let Some(error) = summary.count(&seen, result) {
            errors.push(error);
        }
    }
    tracing::info!(
        request_id,
        records = total,
        processed = summary.processed,
        rejected = summary.rejected,
        skipped = summary.skipped,
        errors = errors.len(),
        "invocation done"
    );
    match errors.first() {
        None => Ok(summary),
        Some(first) => Err(InvocationError {
            failed: errors.len(),
            total,
            first: first.clone(),
        }),
    }
}

/// What the log line of a record says besides its outcome.
struct Seen<'a> {
    request_id: &'a str,
    /// The key as the event spelled it.
    raw_key: &'a str,
    bytes: i64,
    ms: u64,
}

impl Summary {
    /// Counts a record's outcome and logs its one line; the error's words
    /// when it hit a fault.
    fn count(&mut self, seen: &Seen<'_>, result: Result<Record, StepError>) -> Option<String> {
        let Seen {
            request_id,
            raw_key,
            bytes,
            ms,
        } = *seen;
        match result {
            Ok(Record::Done(UploadOutcome::Processed {
                upload,
                processed_key,
            })) => {
                self.processed += 1;
                tracing::info!(request_id, key = %upload, bytes, ms, outcome = "processed", processed_key);
            }
            Ok(Record::Done(UploadOutcome::Rejected { upload, rejection })) => {
                self.rejected += 1;
                // The message is what a person reads; the detail (the decoder's
                // own words) is for this log only.
                tracing::info!(request_id, key = %upload, bytes, ms, outcome = "rejected", code = %rejection.code, message = rejection.message, detail = rejection.detail.as_deref());
            }
            Ok(Record::Done(UploadOutcome::Skipped { key, reason })) => {
                self.skipped += 1;
                tracing::info!(request_id, key, bytes, ms, outcome = "skipped", reason = ?reason);
            }
            Ok(Record::Ignored(reason)) => {
                self.skipped += 1;
                tracing::warn!(request_id, key = raw_key, ms, outcome = "ignored", reason);
            }
            Err(err) => {
                let transient = err.is_transient();
                let message = error_chain(&err);
                tracing::error!(
                    request_id,
                    key = raw_key,
                    bytes,
                    ms,
                    outcome = "error",
                    transient,
                    error = message
                );
                return Some(message);
            }
        }
        None
    }
}

async fn handle_record<S, Q>(
    record: &S3EventRecord,
    store_for: &impl Fn(&str) -> S,
    queue: &Q,
) -> Result<Record, StepError>
where
    S: ObjectStore,
    Q: TaskQueue,
{
    let event_name = record.event_name.as_deref().unwrap_or_default();
    if !event_name.starts_with("ObjectCreated:") {
        return Ok(Record::Ignored("not an ObjectCreated event"));
    }
    let (Some(bucket), Some(raw_key)) = (
        record.s3.bucket.name.as_deref(),
        record.s3.object.key.as_deref(),
    ) else {
        return Ok(Record::Ignored("record without bucket name or object key"));
    };
    let Ok(key) = decode_event_key(raw_key) else {
        return Ok(Record::Ignored("object key is not valid URL-encoded UTF-8"));
    };
    let store = store_for(bucket);
    let sequencer = record
        .s3
        .object
        .sequencer
        .as_deref()
        .and_then(Sequencer::parse);
    // The order among uploads of different keys that share outputs; a record
    // without `eventTime` is read as the epoch, which orders nothing.
    let event_time = (record.event_time.timestamp_millis() != 0)
        .then(|| {
            EventTime::parse(
                &record
                    .event_time
                    .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                    .to_string(),
            )
        })
        .flatten();
    let event = UploadEvent {
        bucket,
        key: &key,
        // The event states the size: an oversized upload is rejected without a
        // download.
        size_bytes: record.s3.object.size.and_then(|n| u64::try_from(n).ok()),
        sequencer: sequencer.as_ref(),
        event_time: event_time.as_ref(),
    };
    Ok(Record::Done(
        steps::process_upload_event(&store, queue, event).await?,
    ))
}
