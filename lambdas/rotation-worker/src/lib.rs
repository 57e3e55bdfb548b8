//! The rotation worker Lambda's handler: each SQS message is one rotation task;
//! the *make a rotation* step writes `augmented-images/<angle>-degree/`. The
//! response lists exactly the messages that failed (`ReportBatchItemFailures`),
//! so SQS redelivers those alone and, past `maxReceiveCount`, moves them to the
//! dead-letter queue. A malformed message fails alone.

use augment_pipeline::error_chain;
use std::time::Instant;

use augment_pipeline::{ObjectStore, RotationOutcome, RotationTask, make_rotation};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};

/// Handles every message of the batch; `store_for` gives a bucket's object
/// store. With `allowed_bucket` set, tasks naming another bucket are refused.
pub async fn handle<S: ObjectStore>(
    event: SqsEvent,
    request_id: &str,
    store_for: impl Fn(&str) -> S,
    allowed_bucket: Option<&str>,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in &event.records {
        let started = Instant::now();
        let message_id = message.message_id.as_deref().unwrap_or_default();
        let result = handle_message(message, &store_for, allowed_bucket).await;
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok((task, done)) => tracing::info!(
                request_id,
                message_id,
                key = task.source_key,
                angle = task.angle.degrees(),
                output_key = task.output_key,
                ms,
                outcome = match done {
                    RotationOutcome::Written => "rotated",
                    // A newer upload of the key owns the output; its task writes it.
                    RotationOutcome::Superseded => "superseded",
                }
            ),
            Err(error) => {
                tracing::error!(request_id, message_id, ms, outcome = "failed", error);
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id.to_owned();
                response.batch_item_failures.push(failure);
            }
        }
    }
    tracing::info!(
        request_id,
        messages = event.records.len(),
        failed = response.batch_item_failures.len(),
        "batch done"
    );
    response
}

async fn handle_message<S: ObjectStore>(
    message: &SqsMessage,
    store_for: &impl Fn(&str) -> S,
    allowed_bucket: Option<&str>,
) -> Result<(RotationTask, RotationOutcome), String> {
    let body = message.body.as_deref().ok_or("the message has no body")?;
    let task = RotationTask::from_json(body).map_err(|err| err.to_string())?;
    if let Some(allowed) = allowed_bucket
        && task.bucket != allowed
    {
        return Err(format!(
            "the task names bucket {:?}, this worker serves {allowed:?}",
            task.bucket
        ));
    }
    let store = store_for(&task.bucket);
    let done = make_rotation(&store, &task)
        .await
        .map_err(|err| error_chain(&err))?;
    Ok((task, done))
}
