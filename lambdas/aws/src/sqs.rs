//! The task queue on SQS.

use std::time::Duration;

use augment_pipeline::RotationTask;
use augment_pipeline::ports::{QueueError, TaskQueue};
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::transient::sdk_error_is_transient;

/// How often entries that SQS failed for its own reasons are sent again
/// (the SDK retries whole requests, not single entries of a batch).
const ENTRY_ATTEMPTS: u32 = 3;
const ENTRY_RETRY_DELAY: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

impl TaskQueue for SqsQueue {
    /// One `SendMessageBatch`; entries that fail on SQS's side are sent again,
    /// entries refused as the sender's fault are reported at once.
    async fn send_batch(&self, tasks: &[RotationTask]) -> Result<(), QueueError> {
        let mut pending: Vec<(String, &RotationTask)> = tasks
            .iter()
            .enumerate()
            .map(|(i, task)| (format!("t{i}-{}", task.angle), task))
            .collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let entries = pending
                .iter()
                .map(|(id, task)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(id)
                        .message_body(task.to_json())
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| QueueError::Backend {
                    transient: false,
                    source: err.into(),
                })?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|err| QueueError::Backend {
                    transient: sdk_error_is_transient(&err),
                    source: DisplayErrorContext(err).to_string().into(),
                })?;
            let failed = output.failed();
            if failed.is_empty() {
                return Ok(());
            }
            let sender_fault = failed
                .iter()
                .any(aws_sdk_sqs::types::BatchResultErrorEntry::sender_fault);
            if sender_fault || attempt >= ENTRY_ATTEMPTS {
                let detail = failed
                    .iter()
                    .map(|f| format!("{}: {}", f.code(), f.message().unwrap_or("no message")))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(QueueError::Partial {
                    sent: tasks.len(),
                    failed: failed.len(),
                    detail,
                    transient: !sender_fault,
                });
            }
            pending.retain(|(id, _)| failed.iter().any(|f| f.id() == id));
            tokio::time::sleep(ENTRY_RETRY_DELAY * attempt).await;
        }
    }
}
