//! `augment redrive`: failed work back into the pipeline once its fault is fixed.
//! The rotation dead letters go back onto the rotation queue (SQS's own message
//! move task where the endpoint has it; else received, sent and deleted, a batch
//! at a time); each of the processor's failure records' S3 event is invoked again
//! asynchronously (so a second failure gets Lambda's retries and lands in the same
//! queue); each stuck upload is handed to the processor as the S3 event its
//! upload would have sent. A message is deleted only after it was re-sent.

use std::time::SystemTime;

use augment_pipeline::Output;
use augment_pipeline::contract::{SEQUENCER_METADATA, UploadKey, encode_event_key};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use aws_sdk_sqs::primitives::{DateTime, DateTimeFormat};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, SendMessageBatchRequestEntry};
use serde::Serialize;
use serde_json::{Value, json};

use super::aws::Operator;
use super::aws::{CallError, QueueRole, classify, queue_arn};
use super::census::Census;
use super::census::StuckUpload;
use super::denied::Denied;
use super::options::{REDRIVE_STUCK_MAX, StatusOptions};
use crate::error::ClientError;
use crate::remote::Remote;

/// Most messages one `ReceiveMessage` returns (SQS's ceiling).
const RECEIVE_BATCH: i32 = 10;
/// How long a received message stays hidden while it is re-driven: if the
/// command stops half-way, the message shows again after this and nothing is lost.
const RECEIVE_VISIBILITY_SECS: i32 = 120;
/// Long polling for each receive: an empty answer means an empty queue.
const RECEIVE_WAIT_SECS: i32 = 1;

/// What a re-drive did (or, with `dry_run`, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RedriveReport {
    pub dry_run: bool,
    /// Rotation tasks moved from the dead-letter queue (with SQS's move task:
    /// those it was started for).
    pub dead_letters: u64,
    /// Whether SQS's own message move task moves them (it runs on after this).
    pub move_task: bool,
    /// The processor's failed S3 events invoked again.
    pub failed_events: u64,
    /// Failure records that hold no S3 event: left in their queue.
    pub left_without_event: u64,
    /// Stuck uploads handed to the processor again.
    pub stuck: u64,
    /// What the credentials in use may not do.
    pub denied: Vec<Denied>,
}

impl Remote {
    /// Re-drives everything failed or stuck (older than `options.stuck_after`).
    pub async fn redrive(
        &self,
        operator: &Operator,
        options: StatusOptions,
        dry_run: bool,
    ) -> Result<RedriveReport, ClientError> {
        let options = StatusOptions {
            stuck_named: REDRIVE_STUCK_MAX,
            ..options
        };
        let census = Census::take(self, options, SystemTime::now()).await?;
        let mut report = RedriveReport {
            dry_run,
            denied: census.denied,
            ..RedriveReport::default()
        };
        if dry_run {
            report.stuck = census.stuck.len() as u64;
            for (role, count) in [
                (QueueRole::DeadLetters, &mut report.dead_letters),
                (QueueRole::ProcessorFailures, &mut report.failed_events),
            ] {
                if let Some(url) = operator.queue_url(role) {
                    *count = noted(operator.depth(url).await, &mut report.denied, || {
                        depth_denied(operator, url)
                    })?
                    .map_or(0, |(waiting, _)| waiting);
                }
            }
            return Ok(report);
        }
        if let Some(moved) = operator.move_dead_letters(&mut report).await? {
            report.dead_letters = moved;
        }
        operator.resend_failed_events(&mut report).await?;
        for stuck in &census.stuck {
            let event = self.stuck_event(operator, stuck).await?;
            match operator.invoke_processor(&event).await {
                Ok(()) => report.stuck += 1,
                Err(CallError::Denied) => {
                    report.denied.push(invoke_denied(operator));
                    break;
                }
                Err(CallError::Failed(err)) => return Err(err),
            }
        }
        Ok(report)
    }

    /// The S3 event the stuck upload's own upload would have sent, with the
    /// sequencer its processed image records (so it runs again), if any.
    async fn stuck_event(
        &self,
        operator: &Operator,
        stuck: &StuckUpload,
    ) -> Result<Value, ClientError> {
        let mut sequencer = "0".to_owned();
        if let Ok(upload) = UploadKey::parse(&stuck.key) {
            let processed = Output::Processed.key(&upload);
            let metadata = self.ask(self.store().head_metadata(&processed)).await?;
            if let Some(recorded) = metadata
                .into_iter()
                .flatten()
                .find_map(|(name, value)| (name == SEQUENCER_METADATA).then_some(value))
            {
                sequencer = recorded;
            }
        }
        let event_time = stuck
            .uploaded
            .map(DateTime::from)
            .and_then(|t| t.fmt(DateTimeFormat::DateTime).ok());
        Ok(s3_event(operator, stuck, &sequencer, event_time.as_deref()))
    }
}

/// An `ObjectCreated:Put` notification as S3 sends it (event version 2.1).
fn s3_event(operator: &Operator, stuck: &StuckUpload, sequencer: &str, at: Option<&str>) -> Value {
    let bucket = &operator.bucket;
    // Every field S3 sends: the processor's event type requires them all.
    let by = json!({"principalId": "augment-redrive"});
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": operator.region,
        "eventTime": at.unwrap_or("1970-01-01T00:00:00.000Z"), "eventName": "ObjectCreated:Put",
        "userIdentity": by, "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "augment-redrive", "x-amz-id-2": "augment-redrive"},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "augment-redrive",
            "bucket": {"name": bucket, "ownerIdentity": by, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encode_event_key(&stuck.key), "size": stuck.size_bytes, "eTag": "", "sequencer": sequencer}
        }
    }]})
}

/// A call's answer, a denial noted (`None`), or the error.
fn noted<T>(
    result: Result<T, CallError>,
    denied: &mut Vec<Denied>,
    note: impl FnOnce() -> Denied,
) -> Result<Option<T>, ClientError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(CallError::Denied) => {
            denied.push(note());
            Ok(None)
        }
        Err(CallError::Failed(err)) => Err(err),
    }
}

fn depth_denied(operator: &Operator, url: &str) -> Denied {
    Denied::new(
        "the queue's counts",
        &["sqs:GetQueueAttributes"],
        &[queue_arn(&operator.region, url)],
    )
}

fn processor_arn(operator: &Operator) -> String {
    let name = operator
        .ops
        .processor_function_name
        .as_deref()
        .unwrap_or("*");
    format!("arn:aws:lambda:{}:*:function:{name}", operator.region)
}

fn invoke_denied(operator: &Operator) -> Denied {
    Denied::new(
        "invoking the processor again",
        &["lambda:InvokeFunction"],
        &[processor_arn(operator)],
    )
}

impl Operator {
    /// Invokes the processor asynchronously with an S3 event.
    async fn invoke_processor(&self, event: &Value) -> Result<(), CallError> {
        let Some(name) = self.ops.processor_function_name.as_deref() else {
            return Err(CallError::Failed(ClientError::new(
                crate::error::ErrorKind::InvalidSettings,
                "The settings name no processor function: import the Terraform outputs again (Settings → Import Terraform outputs…).",
            )));
        };
        self.lambda
            .invoke()
            .function_name(name)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(event.to_string()))
            .send()
            .await
            .map_err(|err| classify(err, "Invoking the processor"))?;
        Ok(())
    }

    /// Up to [`RECEIVE_BATCH`] messages, hidden for [`RECEIVE_VISIBILITY_SECS`].
    async fn receive(&self, url: &str) -> Result<Vec<Message>, CallError> {
        let answer = self
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(RECEIVE_BATCH)
            .visibility_timeout(RECEIVE_VISIBILITY_SECS)
            .wait_time_seconds(RECEIVE_WAIT_SECS)
            .send()
            .await
            .map_err(|err| classify(err, "Receiving from a failure queue"))?;
        Ok(answer.messages.unwrap_or_default())
    }

    /// Deletes re-driven messages by their receipt handles.
    async fn delete(&self, url: &str, messages: &[&Message]) -> Result<(), CallError> {
        if messages.is_empty() {
            return Ok(());
        }
        let entries = numbered(messages.iter().copied(), |id, m| {
            DeleteMessageBatchRequestEntry::builder()
                .id(id)
                .receipt_handle(m.receipt_handle()?)
                .build()
                .ok()
        });
        let answer = self
            .sqs
            .delete_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|err| classify(err, "Deleting re-driven messages"))?;
        batch_failed(answer.failed().len(), "deleted", url)
    }
}

/// A batch call's entries, each numbered by its place (its `Id`).
fn numbered<'a, T>(
    messages: impl Iterator<Item = &'a Message>,
    entry: impl Fn(String, &'a Message) -> Option<T>,
) -> Vec<T> {
    messages
        .enumerate()
        .filter_map(|(i, m)| entry(i.to_string(), m))
        .collect()
}

/// A batch call's `Failed` list as an error (SQS answers 200 with it).
fn batch_failed(failed: usize, what: &str, url: &str) -> Result<(), CallError> {
    if failed == 0 {
        return Ok(());
    }
    Err(CallError::Failed(ClientError::new(
        crate::error::ErrorKind::Other,
        format!("{failed} messages could not be {what}; run redrive again: {url}"),
    )))
}

impl Operator {
    /// Dead letters back onto the rotation queue; `None` without both queues.
    async fn move_dead_letters(
        &self,
        report: &mut RedriveReport,
    ) -> Result<Option<u64>, ClientError> {
        let (Some(dlq), Some(rotations)) = (
            self.queue_url(QueueRole::DeadLetters),
            self.queue_url(QueueRole::Rotations),
        ) else {
            return Ok(None);
        };
        let (dlq, rotations) = (dlq.to_owned(), rotations.to_owned());
        let waiting = self.depth(&dlq).await.map_or(0, |(waiting, _)| waiting);
        let started = self
            .sqs
            .start_message_move_task()
            .source_arn(queue_arn(&self.region, &dlq))
            .destination_arn(queue_arn(&self.region, &rotations))
            .send()
            .await;
        if started.is_ok() {
            report.move_task = true;
            return Ok(Some(waiting));
        }
        // No move task here (an emulator) or not allowed: by hand.
        let moved = self.move_by_hand(&dlq, &rotations).await;
        noted(moved, &mut report.denied, || {
            Denied::new(
                "moving the dead letters back",
                &[
                    "sqs:StartMessageMoveTask",
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:SendMessage",
                ],
                &[
                    queue_arn(&self.region, &dlq),
                    queue_arn(&self.region, &rotations),
                ],
            )
        })
    }

    async fn move_by_hand(&self, dlq: &str, rotations: &str) -> Result<u64, CallError> {
        let mut moved = 0;
        loop {
            let messages = self.receive(dlq).await?;
            if messages.is_empty() {
                return Ok(moved);
            }
            let entries = numbered(messages.iter(), |id, m| {
                SendMessageBatchRequestEntry::builder()
                    .id(id)
                    .message_body(m.body()?)
                    .build()
                    .ok()
            });
            let sent = self
                .sqs
                .send_message_batch()
                .queue_url(rotations)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| classify(err, "Sending to the rotation queue"))?;
            batch_failed(sent.failed().len(), "sent", rotations)?;
            self.delete(dlq, &messages.iter().collect::<Vec<_>>())
                .await?;
            moved += messages.len() as u64;
        }
    }

    /// Each failure record's S3 event invoked again, then the record deleted.
    async fn resend_failed_events(&self, report: &mut RedriveReport) -> Result<(), ClientError> {
        let Some(url) = self
            .queue_url(QueueRole::ProcessorFailures)
            .map(str::to_owned)
        else {
            return Ok(());
        };
        let resent = self.resend_by_hand(&url, report).await;
        let note = || {
            Denied::new(
                "re-sending the processor's failed events",
                &[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "lambda:InvokeFunction",
                ],
                &[queue_arn(&self.region, &url), processor_arn(self)],
            )
        };
        noted(resent, &mut report.denied, note).map(|_| ())
    }

    async fn resend_by_hand(&self, url: &str, report: &mut RedriveReport) -> Result<(), CallError> {
        loop {
            let messages = self.receive(url).await?;
            if messages.is_empty() {
                return Ok(());
            }
            let mut done = Vec::new();
            for message in &messages {
                let record: Value =
                    serde_json::from_str(message.body().unwrap_or_default()).unwrap_or_default();
                let payload = &record["requestPayload"];
                if !payload.is_object() {
                    report.left_without_event += 1;
                    continue;
                }
                self.invoke_processor(payload).await?;
                done.push(message);
                report.failed_events += 1;
            }
            // The records left stay hidden until this loop has seen the rest.
            self.delete(url, &done).await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_key_is_encoded_as_s3_does_and_decodes_back() {
        let key = "original-uploads/holiday 2024/a+b=c ☀.JPG";
        let encoded = encode_event_key(key);
        assert_eq!(
            encoded,
            "original-uploads/holiday+2024/a%2Bb%3Dc+%E2%98%80.JPG"
        );
        assert_eq!(
            augment_pipeline::contract::decode_event_key(&encoded).unwrap(),
            key
        );
    }
}
