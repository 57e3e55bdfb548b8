//! The rotation worker Lambda's handler: each SQS message is one rotation task;
//! the *make a rotation* step writes `augmented-images/<angle>-degree/`. The
//! response lists exactly the messages that failed (`ReportBatchItemFailures`),
//! so SQS redelivers those alone and, past `maxReceiveCount`, moves them to the
//! dead-letter queue. A malformed message fails alone, and so does a slow one:
//! the handler watches the invocation's deadline (see [`handle`]), so the
//! invocation always answers in time and never fails the batch as a whole.

use std::time::{Duration, Instant as StdInstant, SystemTime};

use augment_pipeline::error_chain;
use augment_pipeline::limits::{WORKER_MIN_MESSAGE_TIME, WORKER_REPLY_RESERVE};
use augment_pipeline::{ObjectStore, RotationOutcome, RotationTask, make_rotation};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tokio::time::Instant;

/// Deadlines before this (2000-01-01) are no wall-clock time Lambda would give.
const EARLIEST_DEADLINE: Duration = Duration::from_secs(946_684_800);

/// The invocation's deadline on this process's monotonic clock. Lambda states it
/// in milliseconds since the epoch (`Lambda-Runtime-Deadline-Ms`); the
/// cargo-lambda emulator (local runs, the end-to-end tests) sends the timeout
/// itself there (`600000`): a value before [`EARLIEST_DEADLINE`] is read that
/// way, as time from now, not as a deadline long past.
pub fn deadline_from(context_deadline: SystemTime) -> Instant {
    let since_epoch = context_deadline
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let left = if since_epoch < EARLIEST_DEADLINE {
        since_epoch
    } else {
        context_deadline
            .duration_since(SystemTime::now())
            .unwrap_or_default()
    };
    Instant::now() + left
}

/// Handles the batch's messages one after another; `store_for` gives a bucket's
/// object store. With `allowed_bucket` set, tasks naming another bucket are
/// refused.
///
/// `deadline` is the invocation's. Each message runs only until
/// [`WORKER_REPLY_RESERVE`] before it (then it is stopped and reported failed),
/// and none starts with less than [`WORKER_MIN_MESSAGE_TIME`] left: those not
/// reached are reported failed untouched. So one slow message costs the rest of
/// the batch a redelivery, never the loss of what was done.
pub async fn handle<S: ObjectStore>(
    event: SqsEvent,
    request_id: &str,
    deadline: Instant,
    store_for: impl Fn(&str) -> S,
    allowed_bucket: Option<&str>,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let stop_at = deadline
        .checked_sub(WORKER_REPLY_RESERVE)
        .unwrap_or(deadline);
    let mut unreached = 0;
    for message in &event.records {
        let message_id = message.message_id.as_deref().unwrap_or_default();
        if stop_at.saturating_duration_since(Instant::now()) < WORKER_MIN_MESSAGE_TIME {
            unreached += 1;
            fail(&mut response, message_id);
            continue;
        }
        let started = StdInstant::now();
        let result =
            tokio::time::timeout_at(stop_at, handle_message(message, &store_for, allowed_bucket))
                .await
                .unwrap_or_else(|_| {
                    Err(
                        "stopped: the invocation's deadline came first (SQS delivers it again)"
                            .into(),
                    )
                });
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        match result {
            Ok((task, done)) => log_done(request_id, message_id, ms, &task, done),
            Err(error) => {
                tracing::error!(request_id, message_id, ms, outcome = "failed", error);
                fail(&mut response, message_id);
            }
        }
    }
    if unreached > 0 {
        // Not started, so not logged one by one: redelivered by SQS.
        tracing::warn!(
            request_id,
            unreached,
            "messages left for redelivery: the invocation's deadline is near"
        );
    }
    tracing::info!(
        request_id,
        messages = event.records.len(),
        failed = response.batch_item_failures.len(),
        unreached,
        "batch done"
    );
    response
}

fn fail(response: &mut SqsBatchResponse, message_id: &str) {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = message_id.to_owned();
    response.batch_item_failures.push(failure);
}

fn log_done(
    request_id: &str,
    message_id: &str,
    ms: u64,
    task: &RotationTask,
    done: RotationOutcome,
) {
    let (outcome, reason) = match done {
        RotationOutcome::Written => ("rotated", None),
        // A newer upload of the name owns the output; its task writes it.
        RotationOutcome::Superseded => ("superseded", None),
        // The image was deleted: nothing to do, and nothing to retry.
        RotationOutcome::Gone => ("skipped", Some("gone")),
    };
    tracing::info!(
        request_id,
        message_id,
        key = task.source_key,
        angle = task.angle.degrees(),
        output_key = task.output_key,
        ms,
        outcome,
        reason
    );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_is_lambdas_epoch_time_or_the_emulators_timeout() {
        let now = Instant::now();
        let in_a_minute = deadline_from(SystemTime::now() + Duration::from_secs(60));
        assert!(in_a_minute > now + Duration::from_secs(50));
        assert!(in_a_minute <= Instant::now() + Duration::from_secs(60));
        let past = deadline_from(SystemTime::now() - Duration::from_secs(5));
        assert!(past <= Instant::now());
        let emulator = deadline_from(SystemTime::UNIX_EPOCH + Duration::from_millis(600_000));
        assert!(emulator > now + Duration::from_secs(590));
    }
}
