//! `cargo xtask redrive`: failed work back into the pipeline once its fault is
//! fixed. Rotation tasks that failed `max_receive_count` times wait in the rotation
//! dead-letter queue: they are sent to the rotation queue again (then deleted from
//! the DLQ). S3 events the processor still failed after Lambda's retries wait in the
//! processor-failures queue as Lambda's destination records: each record's
//! `requestPayload` (the S3 event itself) is invoked asynchronously on the processor
//! again (then the record is deleted), so a re-sent event that fails again gets
//! Lambda's retries and lands in the same queue, never lost. With the AWS CLI (as
//! `deploy` uses it), so its credentials chain applies (profiles, SSO); an emulator
//! is named with `--endpoint-url` (the CLI v1 ignores `AWS_ENDPOINT_URL*`).

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use xshell::{Shell, cmd};

use crate::{flags, target_dir};

/// Most messages one `ReceiveMessage` returns (SQS's ceiling).
const RECEIVE_BATCH: &str = "10";
/// How long a received message stays hidden while it is re-driven: if this command
/// stops half-way, the message shows again after this and nothing is lost.
const RECEIVE_VISIBILITY_SECS: &str = "120";
/// Long polling for each receive: an empty answer means an empty queue (short
/// polling can answer empty while a few messages wait).
const RECEIVE_WAIT_SECS: &str = "2";

struct Queues {
    region: String,
    /// `--endpoint-url URL` for the SQS calls, or nothing.
    sqs_endpoint: Vec<String>,
    /// `--endpoint-url URL` for the Lambda call, or nothing.
    lambda_endpoint: Vec<String>,
    rotations: String,
    dlq: String,
    failures: String,
    processor: String,
}

pub fn run(flags: &flags::Redrive) -> Result<()> {
    let file = flags.outputs.clone().unwrap_or_else(|| {
        target_dir()
            .join("deploy")
            .join(&flags.environment)
            .join("terraform-outputs.json")
    });
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!(
            "cannot read the stack's outputs: deploy it first (`cargo xtask deploy --environment {}`), \
             or save `terraform output -json` and pass --outputs FILE: {}",
            flags.environment,
            file.display()
        )
    })?;
    let outputs: Value = serde_json::from_str(&text)
        .with_context(|| format!("not `terraform output -json`: {}", file.display()))?;
    let output = |name: &str| -> Result<String> {
        outputs[name]["value"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("the outputs have no {name}: {}", file.display()))
    };
    let endpoint = |url: Option<&String>| {
        url.map(|url| vec!["--endpoint-url".to_owned(), url.clone()])
            .unwrap_or_default()
    };
    let queues = Queues {
        region: output("region")?,
        sqs_endpoint: endpoint(flags.endpoint_url.as_ref()),
        lambda_endpoint: endpoint(
            flags
                .lambda_endpoint_url
                .as_ref()
                .or(flags.endpoint_url.as_ref()),
        ),
        rotations: output("queue_url")?,
        dlq: output("dlq_url")?,
        failures: output("processor_failures_url")?,
        processor: output("processor_function_name")?,
    };
    let sh = Shell::new()?;
    cmd!(sh, "aws --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .context("the AWS CLI is not on PATH: install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html)")?;

    if flags.dry_run {
        let tasks = depth(&sh, &queues, &queues.dlq)?;
        let events = depth(&sh, &queues, &queues.failures)?;
        println!(
            "redrive --dry-run: would move {tasks} rotation tasks from the dead-letter queue \
             and re-send {events} S3 events to {} (counts are SQS's approximate ones)",
            queues.processor
        );
        return Ok(());
    }
    let moved = move_dead_letters(&sh, &queues)?;
    let resent = resend_failed_events(&sh, &queues)?;
    println!(
        "redrive: moved {moved} rotation tasks from the dead-letter queue; re-sent {resent} S3 events to {}",
        queues.processor
    );
    Ok(())
}

/// `ApproximateNumberOfMessages` of a queue.
fn depth(sh: &Shell, queues: &Queues, queue: &str) -> Result<u64> {
    let (region, endpoint) = (&queues.region, &queues.sqs_endpoint);
    let answer = cmd!(
        sh,
        "aws sqs get-queue-attributes {endpoint...} --region {region} --output json --queue-url {queue} --attribute-names ApproximateNumberOfMessages"
    )
    .quiet()
    .read()
    .with_context(|| format!("cannot read the queue's attributes: {queue}"))?;
    let answer: Value = serde_json::from_str(&answer)?;
    answer["Attributes"]["ApproximateNumberOfMessages"]
        .as_str()
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("no message count in the answer for {queue}: {answer}"))
}

/// Up to [`RECEIVE_BATCH`] messages, hidden for [`RECEIVE_VISIBILITY_SECS`].
fn receive(sh: &Shell, queues: &Queues, queue: &str) -> Result<Vec<Value>> {
    let (region, endpoint) = (&queues.region, &queues.sqs_endpoint);
    let answer = cmd!(
        sh,
        "aws sqs receive-message {endpoint...} --region {region} --output json --queue-url {queue} --max-number-of-messages {RECEIVE_BATCH} --visibility-timeout {RECEIVE_VISIBILITY_SECS} --wait-time-seconds {RECEIVE_WAIT_SECS}"
    )
    .quiet()
    .read()
    .with_context(|| format!("cannot receive from {queue}"))?;
    // The CLI prints nothing for an empty answer.
    if answer.trim().is_empty() {
        return Ok(Vec::new());
    }
    let answer: Value = serde_json::from_str(&answer)?;
    Ok(answer["Messages"].as_array().cloned().unwrap_or_default())
}

fn field<'a>(message: &'a Value, name: &str) -> Result<&'a str> {
    message[name]
        .as_str()
        .with_context(|| format!("a received message has no {name}"))
}

/// Deletes received messages by their receipt handles.
fn delete(sh: &Shell, queues: &Queues, queue: &str, messages: &[&Value]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let entries = messages
        .iter()
        .enumerate()
        .map(|(i, m)| Ok(json!({"Id": i.to_string(), "ReceiptHandle": field(m, "ReceiptHandle")?})))
        .collect::<Result<Vec<_>>>()?;
    let entries = Value::Array(entries).to_string();
    let (region, endpoint) = (&queues.region, &queues.sqs_endpoint);
    let answer = cmd!(
        sh,
        "aws sqs delete-message-batch {endpoint...} --region {region} --output json --queue-url {queue} --entries {entries}"
    )
    .quiet()
    .read()
    .with_context(|| format!("cannot delete re-driven messages from {queue}"))?;
    failed_entries(&answer, "delete", queue)
}

/// A batch call's `Failed` list as an error (SQS answers 200 with it).
fn failed_entries(answer: &str, what: &str, queue: &str) -> Result<()> {
    if answer.trim().is_empty() {
        return Ok(());
    }
    let answer: Value = serde_json::from_str(answer)?;
    match answer["Failed"].as_array() {
        Some(failed) if !failed.is_empty() => bail!(
            "{} messages could not {what} ({failed:?}); run redrive again: {queue}",
            failed.len()
        ),
        _ => Ok(()),
    }
}

/// Dead-letter queue → rotation queue, a batch at a time: sent, then deleted.
fn move_dead_letters(sh: &Shell, queues: &Queues) -> Result<usize> {
    let (region, rotations, endpoint) = (&queues.region, &queues.rotations, &queues.sqs_endpoint);
    let mut moved = 0;
    loop {
        let messages = receive(sh, queues, &queues.dlq)?;
        if messages.is_empty() {
            return Ok(moved);
        }
        let entries = messages
            .iter()
            .enumerate()
            .map(|(i, m)| Ok(json!({"Id": i.to_string(), "MessageBody": field(m, "Body")?})))
            .collect::<Result<Vec<_>>>()?;
        let entries = Value::Array(entries).to_string();
        let answer = cmd!(
            sh,
            "aws sqs send-message-batch {endpoint...} --region {region} --output json --queue-url {rotations} --entries {entries}"
        )
        .quiet()
        .read()
        .with_context(|| format!("cannot send to the rotation queue {rotations}"))?;
        failed_entries(&answer, "be sent", rotations)?;
        delete(
            sh,
            queues,
            &queues.dlq,
            &messages.iter().collect::<Vec<_>>(),
        )?;
        moved += messages.len();
    }
}

/// Each destination record's S3 event, invoked asynchronously on the processor,
/// then the record deleted. A record without a `requestPayload` is left where it is.
fn resend_failed_events(sh: &Shell, queues: &Queues) -> Result<usize> {
    let (region, processor, endpoint) =
        (&queues.region, &queues.processor, &queues.lambda_endpoint);
    let dir = tempdir()?;
    let mut resent = 0;
    let mut left = 0;
    loop {
        let messages = receive(sh, queues, &queues.failures)?;
        if messages.is_empty() {
            break;
        }
        let mut done = Vec::new();
        for message in &messages {
            let record: Value = serde_json::from_str(field(message, "Body")?).unwrap_or_default();
            let payload = &record["requestPayload"];
            if !payload.is_object() {
                left += 1;
                continue;
            }
            let file = dir.join(format!("event-{resent}.json"));
            std::fs::write(&file, payload.to_string())?;
            let payload_arg = format!("fileb://{}", file.display());
            let response = dir.join("response.json");
            cmd!(
                sh,
                "aws lambda invoke {endpoint...} --region {region} --output json --function-name {processor} --invocation-type Event --payload {payload_arg} {response}"
            )
            .quiet()
            .ignore_stdout()
            .run()
            .with_context(|| format!("cannot invoke {processor}; the event stays in the queue"))?;
            done.push(message);
            resent += 1;
        }
        // The records left hidden stay so until this loop has seen the rest.
        delete(sh, queues, &queues.failures, &done)?;
    }
    if left > 0 {
        println!(
            "redrive: {left} messages in {} hold no S3 event (no requestPayload); left there",
            queues.failures
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(resent)
}

/// A fresh folder for the payload files under the target dir.
fn tempdir() -> Result<PathBuf> {
    let dir = target_dir()
        .join("redrive")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
