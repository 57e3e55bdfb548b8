//! The operator's calls beside the bucket: the queues' counts (SQS), the
//! functions' log groups (CloudWatch Logs) and the processor's Invoke API
//! (Lambda), on the same SDK config as the bucket (profile, region, endpoint).

use aws_config::SdkConfig;
use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sqs::types::QueueAttributeName;
use serde::Serialize;

use super::denied::Denied;
use crate::connect::custom_endpoint;
use crate::error::{ClientError, ErrorKind};
use crate::s3;
use crate::settings::{Mode, OpsSettings, Settings};

/// The HTTP response every SDK's errors carry (one smithy runtime for all).
type HttpResponse = aws_sdk_sqs::config::http::HttpResponse;

/// Which queue a count is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueRole {
    /// Rotation tasks for the worker.
    Rotations,
    /// Rotation tasks that failed every delivery.
    DeadLetters,
    /// S3 events the processor failed after Lambda's retries.
    ProcessorFailures,
}

impl QueueRole {
    pub fn label(self) -> &'static str {
        match self {
            Self::Rotations => "rotation tasks",
            Self::DeadLetters => "dead letters",
            Self::ProcessorFailures => "processor failures",
        }
    }
}

/// A queue's approximate counts, as SQS reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueDepth {
    pub role: QueueRole,
    pub url: String,
    /// Waiting to be received.
    pub waiting: u64,
    /// Received and not yet deleted.
    pub in_flight: u64,
}

/// The SQS, CloudWatch Logs and Lambda clients, and what the settings name.
#[derive(Debug, Clone)]
pub struct Operator {
    pub(super) sqs: aws_sdk_sqs::Client,
    pub(super) logs: aws_sdk_cloudwatchlogs::Client,
    pub(super) lambda: aws_sdk_lambda::Client,
    pub(super) ops: OpsSettings,
    pub(super) bucket: String,
    pub(super) region: String,
}

/// A call's failure: refused (a note) or anything else (an error).
pub(super) enum CallError {
    Denied,
    Failed(ClientError),
}

/// Classifies an SDK error once: a 403 or an `AccessDenied…` code is a denial.
pub(super) fn classify<E>(err: SdkError<E, HttpResponse>, what: &str) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().unwrap_or_default().to_owned();
    if status == Some(403) || code.contains("AccessDenied") {
        return CallError::Denied;
    }
    let kind = if matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        ErrorKind::Offline
    } else {
        ErrorKind::Other
    };
    let words = match (code.as_str(), err.message()) {
        (_, Some(message)) => format!("{code} {message}"),
        ("", None) => aws_sdk_sqs::error::DisplayErrorContext(&err).to_string(),
        (code, None) => code.to_owned(),
    };
    CallError::Failed(ClientError::new(kind, format!("{what} failed: {words}")).with_source(err))
}

/// `arn:aws:sqs:<region>:<account>:<name>` from a queue URL
/// (`https://sqs.<region>.amazonaws.com/<account>/<name>`), or the URL itself.
pub(super) fn queue_arn(region: &str, url: &str) -> String {
    let mut parts = url.rsplit('/');
    match (parts.next(), parts.next()) {
        (Some(name), Some(account)) if !name.is_empty() => {
            format!("arn:aws:sqs:{region}:{account}:{name}")
        }
        _ => url.to_owned(),
    }
}

impl Operator {
    /// The operator's clients for the settings: `None` in local mode (no queues,
    /// no functions). Nothing is sent yet.
    pub async fn connect(settings: &Settings) -> Result<Option<Self>, ClientError> {
        if settings.mode == Mode::Local {
            return Ok(None);
        }
        let config = s3::sdk_config(&settings.aws, custom_endpoint(settings)?).await?;
        Ok(Some(Self::from_config(
            &config,
            &settings.aws.bucket,
            (*settings.aws.ops).clone(),
        )))
    }

    /// On an SDK config built by the caller (an emulator's endpoint, test
    /// credentials).
    pub fn from_config(config: &SdkConfig, bucket: &str, ops: OpsSettings) -> Self {
        let lambda = match ops.lambda_endpoint_url.as_deref() {
            Some(url) => aws_sdk_lambda::Client::from_conf(
                aws_sdk_lambda::config::Builder::from(config)
                    .endpoint_url(url)
                    .build(),
            ),
            None => aws_sdk_lambda::Client::new(config),
        };
        Self {
            sqs: aws_sdk_sqs::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            lambda,
            region: config
                .region()
                .map_or_else(|| s3::CUSTOM_DEFAULT_REGION.to_owned(), ToString::to_string),
            bucket: bucket.trim().to_owned(),
            ops,
        }
    }

    /// The queues the settings name, with their role.
    pub(super) fn queues(&self) -> Vec<(QueueRole, &str)> {
        [
            (QueueRole::Rotations, &self.ops.queue_url),
            (QueueRole::DeadLetters, &self.ops.dlq_url),
            (
                QueueRole::ProcessorFailures,
                &self.ops.processor_failures_url,
            ),
        ]
        .into_iter()
        .filter_map(|(role, url)| Some((role, url.as_deref()?.trim())))
        .filter(|(_, url)| !url.is_empty())
        .collect()
    }

    pub(super) fn queue_url(&self, role: QueueRole) -> Option<&str> {
        self.queues()
            .into_iter()
            .find_map(|(r, url)| (r == role).then_some(url))
    }

    /// Each named queue's counts; a queue the credentials may not read is a note.
    pub async fn queue_depths(&self) -> Result<(Vec<QueueDepth>, Vec<Denied>), ClientError> {
        let mut depths = Vec::new();
        let mut denied = Vec::new();
        for (role, url) in self.queues() {
            match self.depth(url).await {
                Ok((waiting, in_flight)) => depths.push(QueueDepth {
                    role,
                    url: url.to_owned(),
                    waiting,
                    in_flight,
                }),
                Err(CallError::Denied) => denied.push(Denied::new(
                    format!("the {} queue's counts", role.label()),
                    &["sqs:GetQueueAttributes"],
                    &[queue_arn(&self.region, url)],
                )),
                Err(CallError::Failed(err)) => return Err(err),
            }
        }
        Ok((depths, denied))
    }

    /// (waiting, in flight) of one queue.
    pub(super) async fn depth(&self, url: &str) -> Result<(u64, u64), CallError> {
        let answer = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|err| classify(err, "Reading the queue's counts"))?;
        let count = |name: QueueAttributeName| {
            answer
                .attributes()
                .and_then(|a| a.get(&name))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        Ok((
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queue_url_gives_its_arn() {
        assert_eq!(
            queue_arn(
                "eu-west-1",
                "https://sqs.eu-west-1.amazonaws.com/123456789012/q-dlq"
            ),
            "arn:aws:sqs:eu-west-1:123456789012:q-dlq"
        );
        assert_eq!(queue_arn("us-east-1", "nonsense"), "nonsense");
    }
}
