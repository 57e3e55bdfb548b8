//! Chaos on the AWS path: every S3 and SQS call of the real `augment upload` and of
//! the real Lambda binaries (under the Runtime API emulator) goes through a
//! fault-injecting proxy in front of moto, 20 % of requests answered with S3's
//! `503 SlowDown`, SQS's `500 InternalError` or a connection cut mid-reply.
//! Lambda's part is emulated as AWS documents it: asynchronous invocations retried
//! twice, then the on-failure destination (the processor-failures queue, in
//! Lambda's destination record); the SQS event source mapping in batches of five,
//! only what `batchItemFailures` names coming back after the visibility timeout,
//! and after `maxReceiveCount` deliveries moto's redrive policy moves it to the
//! dead-letter queue. A few keys also meet an outage no retry outlasts, so the
//! failure queues are exercised; `augment redrive` then turns them into outputs.
//! Expected: 200 processed images and 800 rotations, nothing lost, no `failed/`.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup step fails the test"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use augment_aws::Clients;
use augment_aws::testing::{self, Moto};
use augment_pipeline::RotationTask;
use aws_sdk_sqs::error::ProvideErrorMetadata as _;
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use lambda_e2e::proxy::FaultProxy;
use lambda_e2e::{RuntimeApi, build_cli, build_lambdas};

use crate::operate::{Augment, receive_batch};
use crate::terraform_stack::MAX_RECEIVE_COUNT;
use serde_json::{Value, json};

const BUCKET: &str = "augment-chaos";
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const UPLOADS: usize = 200;
const FAULT_PERCENT: u32 = 20;
const SEED: u64 = 14;
/// terraform/variables.tf's default `processor_retry_attempts` (its
/// `max_receive_count` and `worker_batch_size`: `terraform_stack`'s).
const ASYNC_RETRIES: usize = 2;
/// Short, so a failed task comes back in seconds (AWS's is 6 x the worker timeout),
/// and longer than a batch usually takes with the SDK's backoff.
const VISIBILITY_TIMEOUT_SECS: i32 = 5;
/// Copies of each function running at once (Lambda's concurrency).
const INSTANCES: usize = 4;
/// Uploads whose download (the processor's GET) meets an outage, and rotation
/// outputs whose PUT does: each must end in a failure queue, then be re-driven.
const PROCESSOR_OUTAGES: [usize; 2] = [7, 123];
const WORKER_OUTAGES: [(usize, u32); 2] = [(42, 90), (150, 270)];

fn name(i: usize) -> String {
    format!("photo-{i:03}")
}

fn upload_key(i: usize) -> String {
    format!("original-uploads/{}.jpg", name(i))
}

fn rotation_key(name: &str, angle: u32) -> String {
    format!("augmented-images/{angle}-degree/{name}_{angle}.jpg")
}

fn expected_outputs() -> BTreeSet<String> {
    (0..UPLOADS)
        .flat_map(|i| {
            let name = name(i);
            let mut keys = vec![format!("processed/{name}_256x256.jpg")];
            keys.extend([90, 180, 270, 360].map(|a| rotation_key(&name, a)));
            keys
        })
        .collect()
}

struct Queues {
    rotations: String,
    rotations_arn: String,
    dlq: String,
    failures: String,
}

async fn create_queues(clients: &Clients) -> Queues {
    let create = |name: &'static str, attributes: Vec<(QueueAttributeName, String)>| {
        let sqs = clients.sqs.clone();
        async move {
            let mut request = sqs.create_queue().queue_name(name);
            for (key, value) in attributes {
                request = request.attributes(key, value);
            }
            request
                .send()
                .await
                .unwrap()
                .queue_url()
                .unwrap()
                .to_owned()
        }
    };
    let dlq = create("chaos-rotations-dlq", vec![]).await;
    let failures = create("chaos-processor-failures", vec![]).await;
    let dlq_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:chaos-rotations-dlq");
    let rotations = create(
        "chaos-rotations",
        vec![
            (
                QueueAttributeName::VisibilityTimeout,
                VISIBILITY_TIMEOUT_SECS.to_string(),
            ),
            (
                QueueAttributeName::RedrivePolicy,
                json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT})
                    .to_string(),
            ),
        ],
    )
    .await;
    Queues {
        rotations,
        rotations_arn: format!("arn:aws:sqs:{REGION}:{ACCOUNT}:chaos-rotations"),
        dlq,
        failures,
    }
}

/// Every key under `prefix`, from moto itself (not through the proxy).
async fn keys(clients: &Clients, prefix: &str) -> BTreeMap<String, i64> {
    let mut keys = BTreeMap::new();
    let mut pages = clients
        .s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for object in page.unwrap().contents() {
            keys.insert(object.key().unwrap().to_owned(), object.size().unwrap());
        }
    }
    keys
}

async fn outputs(clients: &Clients) -> BTreeSet<String> {
    let mut found: BTreeSet<String> = keys(clients, "processed/").await.into_keys().collect();
    found.extend(keys(clients, "augmented-images/").await.into_keys());
    found
}

async fn queue_depth(clients: &Clients, queue_url: &str) -> (usize, usize) {
    let attributes = clients
        .sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap();
    let read = |name: QueueAttributeName| -> usize {
        attributes
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (
        read(QueueAttributeName::ApproximateNumberOfMessages),
        read(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
    )
}

/// The bodies (by message id) of a queue no one else reads, left on it: each is
/// received with visibility timeout 0 until every one has been seen.
async fn peek(clients: &Clients, queue_url: &str) -> BTreeMap<String, String> {
    let (depth, _) = queue_depth(clients, queue_url).await;
    let mut seen = BTreeMap::new();
    for _ in 0..50 {
        if seen.len() >= depth {
            break;
        }
        let received = clients
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        for message in received.messages() {
            seen.insert(
                message.message_id().unwrap().to_owned(),
                message.body().unwrap().to_owned(),
            );
        }
    }
    assert_eq!(seen.len(), depth, "could not read every message");
    seen
}

/// Lambda's asynchronous invocation of the processor for one S3 event: the first
/// attempt and [`ASYNC_RETRIES`] retries (AWS waits a minute, then two, between
/// them; here none), then the on-failure destination's record. Returns the
/// attempts made and whether it succeeded.
async fn invoke_async(
    api: &RuntimeApi,
    clients: &Clients,
    failures_url: &str,
    event: &Value,
) -> (usize, bool) {
    let mut last_error = Value::Null;
    for attempt in 1..=1 + ASYNC_RETRIES {
        match api.call("image-processor", event).await {
            Ok(_) => return (attempt, true),
            Err(error) => last_error = error,
        }
    }
    // The record Lambda sends to an SQS destination (AWS Lambda developer guide,
    // "Capturing records of Lambda asynchronous invocations").
    let record = json!({
        "version": "1.0",
        "timestamp": "2026-12-02T00:00:00.000Z",
        "requestContext": {
            "requestId": format!("chaos-{}", event["Records"][0]["s3"]["object"]["key"]),
            "functionArn": format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:image-processor:$LATEST"),
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 1 + ASYNC_RETRIES,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": last_error,
    });
    clients
        .sqs
        .send_message()
        .queue_url(failures_url)
        .message_body(record.to_string())
        .send()
        .await
        .unwrap();
    (1 + ASYNC_RETRIES, false)
}

/// What the event source mapping saw of each message: deliveries and failures.
#[derive(Debug, Default)]
struct Deliveries {
    delivered: HashMap<String, usize>,
    failed: HashMap<String, usize>,
    batches: usize,
}

/// The SQS event source mapping until the queue is empty: [`INSTANCES`] pollers,
/// batches as [`receive_batch`] takes them (with the real receive count), the
/// messages the worker did not name in `batchItemFailures` deleted, the rest left
/// to come back.
async fn event_source_mapping(
    api: &Arc<RuntimeApi>,
    clients: &Clients,
    queues: &Queues,
    deliveries: &Arc<Mutex<Deliveries>>,
) {
    let pollers: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let (api, clients, deliveries) =
                (Arc::clone(api), clients.clone(), Arc::clone(deliveries));
            let (queue_url, queue_arn) = (queues.rotations.clone(), queues.rotations_arn.clone());
            tokio::spawn(async move {
                loop {
                    let messages = receive_batch(&clients.sqs, &queue_url, 1).await;
                    if messages.is_empty() {
                        if queue_depth(&clients, &queue_url).await == (0, 0) {
                            return;
                        }
                        continue;
                    }
                    let records: Vec<Value> = messages
                        .iter()
                        .map(|m| {
                            let mut record = lambda_e2e::sqs_record(
                                &queue_arn,
                                m.message_id().unwrap(),
                                m.receipt_handle().unwrap(),
                                m.body().unwrap(),
                            );
                            if let Some(count) = m.attributes().and_then(|a| {
                                a.get(&MessageSystemAttributeName::ApproximateReceiveCount)
                            }) {
                                record["attributes"]["ApproximateReceiveCount"] = json!(count);
                            }
                            record
                        })
                        .collect();
                    let failed: BTreeSet<String> = match api
                        .call("rotation-worker", &json!({ "Records": records }))
                        .await
                    {
                        Ok(response) => response["batchItemFailures"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
                            .collect(),
                        // A failed invocation: the whole batch comes back.
                        Err(_) => messages
                            .iter()
                            .map(|m| m.message_id().unwrap().to_owned())
                            .collect(),
                    };
                    {
                        let mut d = deliveries.lock().unwrap();
                        d.batches += 1;
                        for m in &messages {
                            let id = m.message_id().unwrap().to_owned();
                            *d.delivered.entry(id.clone()).or_default() += 1;
                            if failed.contains(&id) {
                                *d.failed.entry(id).or_default() += 1;
                            }
                        }
                    }
                    for m in &messages {
                        if !failed.contains(m.message_id().unwrap()) {
                            let deleted = clients
                                .sqs
                                .delete_message()
                                .queue_url(&queue_url)
                                .receipt_handle(m.receipt_handle().unwrap())
                                .send()
                                .await;
                            // A batch that outlasted the visibility timeout: the
                            // message was received again (moto then refuses the
                            // old handle), and that delivery ends it.
                            if let Err(err) = deleted {
                                assert_eq!(
                                    err.as_service_error().and_then(|e| e.code()),
                                    Some("ReceiptHandleIsInvalid"),
                                    "{err:?}"
                                );
                            }
                        }
                    }
                }
            })
        })
        .collect();
    for poller in pollers {
        poller.await.unwrap();
    }
}

/// `augment upload` as a person runs it, aimed at the proxy, with moto's test
/// credentials and nothing from the machine's AWS configuration.
fn augment_upload(cli: &Path, home: &Path, moto: &Moto, endpoint: &str, photos: &Path) -> Command {
    let mut command = Command::new(cli);
    testing::isolated_from_machine(&mut command, home)
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL", endpoint)
        .args([
            "upload", "--jobs", "8", "--bucket", BUCKET, "--region", REGION,
        ])
        .args(["--endpoint-url", endpoint])
        .arg(photos)
        .stdin(Stdio::null());
    command
}

/// `augment redrive` on the emulated stack: the queues and the bucket on moto,
/// the Lambda Invoke API on the Runtime API emulator.
fn redrive(augment: &Augment, dry_run: bool) -> String {
    let mut args = vec!["redrive"];
    if dry_run {
        args.push("--dry-run");
    }
    let (code, stdout) = augment.run(&args);
    assert_eq!(code, 0, "augment redrive failed:\n{stdout}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_every_call_lose_nothing_and_failed_work_is_re_driven() {
    let started = Instant::now();
    let (processor_exe, worker_exe) = build_lambdas();
    let cli = build_cli();
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    testing::create_bucket(&clients, BUCKET).await.unwrap();
    let queues = create_queues(&clients).await;
    let proxy = FaultProxy::start(&moto.endpoint, SEED, FAULT_PERCENT);

    // 1. `augment upload` of 200 small photos through the faults.
    let home = tempfile::tempdir().unwrap();
    let photos = home.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let gradient = |x: u32, y: u32| image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 90]);
    let photo = augment_pipeline::imaging::encode_jpeg(&image::RgbImage::from_fn(48, 32, gradient));
    for i in 0..UPLOADS {
        std::fs::write(photos.join(format!("{}.jpg", name(i))), &photo).unwrap();
    }
    let upload = augment_upload(&cli, home.path(), &moto, &proxy.endpoint, &photos)
        .output()
        .unwrap();
    let uploaded = keys(&clients, "original-uploads/").await;
    let at_upload = proxy.injected();
    let stderr = String::from_utf8_lossy(&upload.stderr);
    assert_eq!(
        uploaded.len(),
        UPLOADS,
        "every file arrives despite {at_upload:?}\n{stderr}"
    );
    assert_eq!(upload.status.code(), Some(0), "{stderr}");

    // 2. S3 → the processor, asynchronously, with Lambda's retries.
    for i in PROCESSOR_OUTAGES {
        proxy.add_outage("GET", &format!("/original-uploads/{}.", name(i)));
    }
    for (i, angle) in WORKER_OUTAGES {
        proxy.add_outage("PUT", &format!("/{}", rotation_key(&name(i), angle)));
    }
    let api = Arc::new(RuntimeApi::start());
    let logs = tempfile::tempdir().unwrap();
    let env = |extra: (&'static str, String)| [("AWS_ENDPOINT_URL", proxy.endpoint.clone()), extra];
    let processor_env = env(("QUEUE_URL", queues.rotations.clone()));
    let worker_env = env(("BUCKET", BUCKET.to_owned()));
    let as_pairs = |env: &[(&'static str, String)]| -> Vec<(&str, String)> {
        env.iter().map(|(k, v)| (*k, v.clone())).collect()
    };
    let mut functions = Vec::new();
    for n in 0..INSTANCES {
        for (exe, function, env) in [
            (&processor_exe, "image-processor", as_pairs(&processor_env)),
            (&worker_exe, "rotation-worker", as_pairs(&worker_env)),
        ] {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let log = logs.path().join(format!("{function}-{n}.log"));
            functions.push(api.start_function(exe, function, &moto, &env, &log));
        }
    }
    let invoke_started = Instant::now();
    let attempts = Arc::new(Mutex::new(Vec::new()));
    let uploads: Vec<(String, i64)> = uploaded.into_iter().collect();
    let lanes: Vec<_> = (0..INSTANCES)
        .map(|lane| {
            let (api, clients, attempts) =
                (Arc::clone(&api), clients.clone(), Arc::clone(&attempts));
            let failures_url = queues.failures.clone();
            let mine: Vec<(String, i64)> = uploads
                .iter()
                .skip(lane)
                .step_by(INSTANCES)
                .cloned()
                .collect();
            tokio::spawn(async move {
                for (key, size) in mine {
                    let size = usize::try_from(size).unwrap();
                    let event =
                        json!({"Records": [lambda_e2e::s3_record(BUCKET, REGION, &key, size)]});
                    let outcome = invoke_async(&api, &clients, &failures_url, &event).await;
                    attempts.lock().unwrap().push((key, outcome));
                }
            })
        })
        .collect();
    for lane in lanes {
        lane.await.unwrap();
    }
    let processor_secs = invoke_started.elapsed().as_secs_f64();

    // 3. SQS → the worker, through the event source mapping, until the queue is empty.
    let deliveries = Arc::new(Mutex::new(Deliveries::default()));
    event_source_mapping(&api, &clients, &queues, &deliveries).await;
    let injected = proxy.injected();

    // What failed after every retry is in a failure queue, and nothing else is.
    let expected = expected_outputs();
    let present = outputs(&clients).await;
    let missing: BTreeSet<String> = expected.difference(&present).cloned().collect();
    let failed_events: BTreeSet<String> = peek(&clients, &queues.failures)
        .await
        .values()
        .map(|body| {
            let record: Value = serde_json::from_str(body).unwrap();
            assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
            let key = record["requestPayload"]["Records"][0]["s3"]["object"]["key"]
                .as_str()
                .unwrap();
            key.to_owned()
        })
        .collect();
    let dlq = peek(&clients, &queues.dlq).await;
    let dead_outputs: BTreeSet<String> = dlq
        .values()
        .map(|body| {
            serde_json::from_str::<RotationTask>(body)
                .unwrap()
                .output_key
        })
        .collect();
    let attempts = attempts.lock().unwrap().clone();
    let retried_events = attempts.iter().filter(|(_, (n, ok))| *ok && *n > 1).count();
    let unfinished: BTreeSet<String> = attempts
        .iter()
        .filter(|(_, (_, ok))| !ok)
        .map(|(key, _)| key.clone())
        .collect();
    assert_eq!(
        failed_events, unfinished,
        "every exhausted event is in the failure queue"
    );
    for i in PROCESSOR_OUTAGES {
        assert!(failed_events.contains(&upload_key(i)), "{failed_events:?}");
    }
    for (i, angle) in WORKER_OUTAGES {
        assert!(
            dead_outputs.contains(&rotation_key(&name(i), angle)),
            "{dead_outputs:?}"
        );
    }
    {
        let d = deliveries.lock().unwrap();
        for id in dlq.keys() {
            assert_eq!(
                d.delivered.get(id),
                Some(&MAX_RECEIVE_COUNT),
                "{id}: delivered"
            );
            assert_eq!(
                d.failed.get(id),
                Some(&MAX_RECEIVE_COUNT),
                "{id}: failed every time"
            );
        }
    }
    // Nothing lost: every missing output is accounted for by a failure queue.
    let accounted: BTreeSet<String> = failed_events
        .iter()
        .flat_map(|key| {
            let name = key
                .trim_start_matches("original-uploads/")
                .trim_end_matches(".jpg");
            let mut keys = vec![format!("processed/{name}_256x256.jpg")];
            keys.extend([90, 180, 270, 360].map(|a| rotation_key(name, a)));
            keys
        })
        .chain(dead_outputs.iter().cloned())
        .collect();
    assert!(
        missing.is_subset(&accounted),
        "lost: {:?}",
        missing.difference(&accounted).collect::<Vec<_>>()
    );
    assert!(
        keys(&clients, "failed/").await.is_empty(),
        "a good file was rejected"
    );

    // 4. The fault is over: `augment redrive` turns both queues into outputs.
    proxy.end_outages();
    proxy.set_rate_percent(0);
    let augment = Augment::new(
        &moto,
        BUCKET,
        &json!({
            "queue_url": queues.rotations,
            "dlq_url": queues.dlq,
            "processor_failures_url": queues.failures,
            "processor_function_name": "image-processor",
            "lambda_endpoint_url": api.endpoint(),
        }),
    );
    // What a re-drive says it moves: every dead letter and failed event.
    let counts = format!(
        "{} dead-lettered rotation tasks, {} failed S3 events, 0 stuck uploads",
        dlq.len(),
        failed_events.len()
    );
    let dry = redrive(&augment, true);
    assert!(dry.contains(&format!("would re-drive {counts}")), "{dry}");
    assert_eq!(
        queue_depth(&clients, &queues.dlq).await.0,
        dlq.len(),
        "--dry-run changed nothing"
    );
    assert_eq!(outputs(&clients).await, present);
    let redrive_started = Instant::now();
    let done = redrive(&augment, false);
    assert!(done.contains(&format!("re-drove {counts}")), "{done}");
    event_source_mapping(&api, &clients, &queues, &deliveries).await;
    let redrive_secs = redrive_started.elapsed().as_secs_f64();

    let after = outputs(&clients).await;
    assert_eq!(
        expected.difference(&after).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "every output after the re-drive"
    );
    assert_eq!(after.len(), UPLOADS * 5);
    assert_eq!(queue_depth(&clients, &queues.dlq).await, (0, 0));
    assert_eq!(queue_depth(&clients, &queues.failures).await, (0, 0));
    assert!(keys(&clients, "failed/").await.is_empty());

    let d = deliveries.lock().unwrap();
    let redelivered = d.delivered.values().filter(|n| **n > 1).count();
    eprintln!(
        "chaos: upload {at_upload:?}; total {injected:?}; processor: {} of {UPLOADS} events retried and succeeded, {} to the failure queue ({processor_secs:.1} s); worker: {} batches, {} messages, {redelivered} redelivered, {} to the DLQ; missing before the re-drive {}, after 0; re-drive {redrive_secs:.1} s; whole test {:.1} s",
        retried_events,
        failed_events.len(),
        d.batches,
        d.delivered.len(),
        dlq.len(),
        missing.len(),
        started.elapsed().as_secs_f64(),
    );
}

/// The proxy's faults are the retryable kind to the SDK: at a 100 % rate every
/// attempt of an S3 and an SQS call is faulted, and the SDK makes all its attempts
/// before it gives up (a fault it took for final would end the call at once).
#[tokio::test]
async fn the_sdk_retries_every_injected_fault() {
    use aws_sdk_s3::config::retry::RetryConfig;
    const ATTEMPTS: u32 = 3;
    let moto = Moto::start().unwrap();
    let proxy = FaultProxy::start(&moto.endpoint, SEED, 100);
    let config = moto
        .sdk_config()
        .into_builder()
        .endpoint_url(&proxy.endpoint)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(ATTEMPTS)
                .with_initial_backoff(std::time::Duration::from_millis(1)),
        )
        .build();
    let clients = Clients::new(&config);
    let s3 = clients.s3.get_object().bucket(BUCKET).key("k").send().await;
    assert!(s3.is_err());
    assert_eq!(proxy.injected().requests, u64::from(ATTEMPTS), "S3: {s3:?}");
    let sqs = clients.sqs.list_queues().send().await;
    let injected = proxy.injected();
    assert_eq!(injected.requests, 2 * u64::from(ATTEMPTS), "SQS: {sqs:?}");
    assert_eq!(injected.random(), 2 * u64::from(ATTEMPTS));
    assert!(
        injected.s3_slow_down + injected.sqs_internal_error > 0,
        "{injected:?}"
    );
}
