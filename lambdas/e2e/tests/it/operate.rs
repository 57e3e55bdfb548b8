//! `augment status`, `augment logs` and `augment redrive` on the Terraform stack
//! applied to moto, with both real Lambda binaries under the Runtime API emulator
//! (configured from the applied functions' environment, as `terraform_stack.rs`
//! does). Status after normal uploads, after a planted stuck upload, after a
//! dead-lettered message; redrive empties the dead-letter queue into outputs;
//! logs shows the lines the functions wrote. moto's CloudWatch Logs never sees
//! the functions' output (the emulator runs them here, not in moto), so the test
//! writes each line the functions printed into their log group, as Lambda would.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use augment_aws::testing::{self, Moto};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use lambda_e2e::{
    Running, RuntimeApi, build_cli, build_lambdas, log_lines, red_corner_photo, s3_record,
    sqs_record,
};
use serde_json::{Value, json};

use crate::terraform_stack::{
    BATCH_SIZE, PROCESSOR_BIN, REGION, Terraform, WORKER_BIN, plugin_dir, resource, str_of,
};

/// `augment` in custom mode on moto with the operator's settings: the stack's
/// queues and log groups, the Invoke API at the Runtime API emulator (which
/// routes by binary name).
pub(crate) struct Augment {
    cli: PathBuf,
    home: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

impl Augment {
    pub(crate) fn new(moto: &Moto, bucket: &str, ops: &Value) -> Self {
        let home = tempfile::tempdir().unwrap();
        let settings = json!({
            "mode": "custom",
            "aws": {"bucket": bucket, "region": REGION, "endpoint_url": moto.endpoint, "ops": ops},
        });
        std::fs::create_dir_all(home.path().join("config")).unwrap();
        std::fs::write(
            home.path().join("config/settings.json"),
            settings.to_string(),
        )
        .unwrap();
        Self {
            cli: build_cli(),
            home,
            env: moto.env().into_iter().collect(),
        }
    }

    /// `augment ARGS`: (exit code, stdout); stderr is shown.
    pub(crate) fn run(&self, args: &[&str]) -> (i32, String) {
        let home = self.home.path();
        let mut command = Command::new(&self.cli);
        let output = testing::isolated_from_machine(&mut command, home)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        (output.status.code().unwrap_or(-1), stdout)
    }

    /// `augment status --json` with the stuck threshold at 0 s.
    fn status(&self) -> (i32, Value) {
        let (code, stdout) = self.run(&["status", "--json", "--stuck-after", "0s"]);
        (code, serde_json::from_str(&stdout).unwrap())
    }

    /// The same, as a person reads it (printed for the report).
    fn show_status(&self, case: &str) {
        let (_, text) = self.run(&["status", "--stuck-after", "0s"]);
        println!("--- augment status: {case}\n{text}");
    }
}

/// Both bootstraps with the environment Terraform gave the functions, their log
/// lines captured in `logs`.
pub(crate) fn start_functions(
    api: &RuntimeApi,
    moto: &Moto,
    state: &Value,
    logs: &Path,
) -> [(Running, PathBuf); 2] {
    let (processor_exe, worker_exe) = build_lambdas();
    let start = |exe: &Path, bin: &str, function: &str| {
        let address = format!(r#"aws_lambda_function.functions["{function}"]"#);
        let variables = &resource(state, &address)["environment"][0]["variables"];
        let env: Vec<(String, String)> = variables
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), str_of(v)))
            .collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let log = logs.join(format!("{function}.log"));
        (api.start_function(exe, bin, moto, &env, &log), log)
    };
    [
        start(&processor_exe, PROCESSOR_BIN, "processor"),
        start(&worker_exe, WORKER_BIN, "worker"),
    ]
}

/// The worker invoked on `messages` received from the queue `queue_arn`, as
/// the event source mapping does; every message must succeed.
pub(crate) fn invoke_worker(api: &RuntimeApi, queue_arn: &str, messages: &[Message]) {
    let records: Vec<Value> = messages
        .iter()
        .map(|m| {
            sqs_record(
                queue_arn,
                m.message_id().unwrap(),
                m.receipt_handle().unwrap(),
                m.body().unwrap(),
            )
        })
        .collect();
    let response = api.invoke(WORKER_BIN, &json!({ "Records": records }));
    assert_eq!(response["batchItemFailures"], json!([]), "{response}");
}

/// One batch as the SQS event source mapping receives it: at most [`BATCH_SIZE`]
/// messages with their receive counts, after waiting up to `wait_secs` for one.
pub(crate) async fn receive_batch(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    wait_secs: i32,
) -> Vec<Message> {
    sqs.receive_message()
        .queue_url(queue_url)
        .max_number_of_messages(i32::try_from(BATCH_SIZE).unwrap())
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .wait_time_seconds(wait_secs)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default()
}

/// The event source mapping, emulated: the queue's messages to the worker in
/// batches, what succeeded deleted. How many messages it handed over.
pub(crate) async fn run_worker(
    api: &RuntimeApi,
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    queue_arn: &str,
) -> usize {
    let mut handed = 0;
    loop {
        let batch = receive_batch(sqs, queue_url, 0).await;
        if batch.is_empty() {
            return handed;
        }
        invoke_worker(api, queue_arn, &batch);
        let entries: Vec<DeleteMessageBatchRequestEntry> = batch
            .iter()
            .enumerate()
            .map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle().unwrap())
                    .build()
                    .unwrap()
            })
            .collect();
        let deleted = sqs
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .unwrap();
        assert!(deleted.failed().is_empty(), "{deleted:?}");
        handed += batch.len();
    }
}

/// Each JSON line a function printed, into its log group as Lambda would write it.
async fn ship_logs(logs: &aws_sdk_cloudwatchlogs::Client, group: &str, file: &Path) {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;
    let stream = "2026/12/06/[1]e2e";
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let events: Vec<InputLogEvent> = log_lines(file)
        .iter()
        .enumerate()
        .map(|(i, line)| {
            InputLogEvent::builder()
                .timestamp(now - 60_000 + i as i64)
                .message(line.to_string())
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

fn counts(status: &Value) -> [u64; 5] {
    let stages = &status["stages"];
    ["uploads", "processed", "complete", "rejected", "stuck"].map(|stage| {
        stages[stage]
            .as_u64()
            .unwrap_or_else(|| panic!("{stage}: {status}"))
    })
}

fn queue(status: &Value, role: &str) -> (u64, u64) {
    let queues = status["queues"].as_array().unwrap();
    let q = queues.iter().find(|q| q["role"] == role).unwrap();
    (
        q["waiting"].as_u64().unwrap(),
        q["in_flight"].as_u64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_logs_and_redrive_on_the_emulated_stack() {
    let plugin_dir = plugin_dir();
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    let sqs = &clients.sqs;
    let tf = Terraform::prepare(&moto.endpoint);
    tf.ok(&[
        "init",
        "-no-color",
        &format!("-plugin-dir={}", plugin_dir.display()),
    ]);
    tf.ok(&["apply", "-auto-approve", "-no-color"]);
    let outputs: Value = serde_json::from_str(&tf.ok(&["output", "-json"])).unwrap();
    let config = outputs["desktop_config"]["value"].clone();
    let state: Value = serde_json::from_str(&tf.ok(&["show", "-json"])).unwrap();
    let bucket = str_of(&config["bucket"]);
    let (queue_url, dlq_url) = (str_of(&config["queue_url"]), str_of(&config["dlq_url"]));
    let queue_arn = str_of(&resource(&state, "aws_sqs_queue.rotations")["arn"]);

    let api = RuntimeApi::start();
    let logs_dir = tempfile::tempdir().unwrap();
    let [(_processor, processor_log), (_worker, worker_log)] =
        start_functions(&api, &moto, &state, logs_dir.path());
    // desktop_config as Import Terraform outputs saves it; the Invoke API at the
    // emulator, which knows the processor by its binary's name.
    let mut ops = config.clone();
    ops["processor_function_name"] = json!(PROCESSOR_BIN);
    ops["lambda_endpoint_url"] = json!(api.endpoint());
    let augment = Augment::new(&moto, &bucket, &ops);

    let upload = async |key: &str, body: Vec<u8>| {
        testing::put_object(&clients, &bucket, key, body)
            .await
            .unwrap();
    };
    let process = |key: &str, size: usize| {
        let event = json!({ "Records": [s3_record(&bucket, REGION, key, size)] });
        api.invoke(PROCESSOR_BIN, &event)
    };

    // 1. Normal uploads: three photos, one text file named .jpg.
    let photo = red_corner_photo();
    let good = [
        "original-uploads/a.jpg",
        "original-uploads/b c.jpg",
        "original-uploads/d.jpg",
    ];
    for key in good {
        upload(key, photo.clone()).await;
        process(key, photo.len());
    }
    upload("original-uploads/notes.jpg", b"not a photo".to_vec()).await;
    process("original-uploads/notes.jpg", 11);
    assert_eq!(run_worker(&api, sqs, &queue_url, &queue_arn).await, 12);
    let (code, status) = augment.status();
    augment.show_status("after normal uploads");
    assert_eq!(counts(&status), [4, 3, 3, 1, 0], "{status}");
    assert_eq!(code, 0);
    for role in ["rotations", "dead_letters", "processor_failures"] {
        assert_eq!(queue(&status, role), (0, 0), "{role}");
    }
    assert_eq!(status["timing"]["uploads"], 3, "{status}");
    assert_eq!(status["denied"], json!([]));

    // 2. A planted stuck upload: in the bucket, never processed.
    upload("original-uploads/stuck.jpg", photo.clone()).await;
    let (code, status) = augment.status();
    augment.show_status("after a planted stuck upload");
    assert_eq!(code, 1);
    assert_eq!(counts(&status), [5, 3, 3, 1, 1], "{status}");
    assert_eq!(status["stuck"][0]["key"], "original-uploads/stuck.jpg");
    assert_eq!(
        status["stuck"][0]["missing"],
        json!(["processed", "90", "180", "270", "360"])
    );

    // 3. A dead-lettered message: one of an upload's four tasks moved to the DLQ
    // (as the redrive policy does after the last receive), the others rotated.
    upload("original-uploads/late.jpg", photo.clone()).await;
    process("original-uploads/late.jpg", photo.len());
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(1)
        .send()
        .await
        .unwrap();
    let [task] = received.messages() else {
        panic!("no task: {received:?}")
    };
    let body = task.body().unwrap();
    sqs.send_message()
        .queue_url(&dlq_url)
        .message_body(body)
        .send()
        .await
        .unwrap();
    sqs.delete_message()
        .queue_url(&queue_url)
        .receipt_handle(task.receipt_handle().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(run_worker(&api, sqs, &queue_url, &queue_arn).await, 3);
    let (_, status) = augment.status();
    augment.show_status("after a dead-lettered message");
    assert_eq!(counts(&status), [6, 4, 3, 1, 2], "{status}");
    assert_eq!(queue(&status, "dead_letters"), (1, 0));
    let late = status["stuck"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "original-uploads/late.jpg")
        .unwrap();
    let angle = serde_json::from_str::<Value>(body).unwrap()["angle"].clone();
    assert_eq!(late["missing"], json!([angle.to_string()]), "{late}");

    // 4. Logs: the lines both functions wrote, in their groups.
    let groups = config["log_groups"].as_array().unwrap();
    for (group, file) in groups.iter().zip([&processor_log, &worker_log]) {
        ship_logs(&clients_logs(&moto), &str_of(group), file).await;
    }
    let (code, text) = augment.run(&["logs", "--since", "1h"]);
    assert_eq!(code, 0, "{text}");
    println!(
        "--- augment logs --since 1h (first lines)\n{}",
        text.lines().take(8).collect::<Vec<_>>().join("\n")
    );
    assert!(
        text.contains("processor  processed") && text.contains("original-uploads/b c.jpg"),
        "{text}"
    );
    assert!(text.contains("worker     rotated"), "{text}");
    let (_, rejected) = augment.run(&["logs", "--outcome", "rejected"]);
    assert_eq!(rejected.lines().count(), 1, "{rejected}");
    assert!(
        rejected.contains("original-uploads/notes.jpg"),
        "{rejected}"
    );

    // 5. Redrive: counts first, then the DLQ and the stuck uploads into outputs.
    let (code, dry) = augment.run(&["redrive", "--dry-run", "--stuck-after", "0s"]);
    println!("--- augment redrive --dry-run\n{dry}");
    assert_eq!(code, 0);
    assert!(
        dry.contains(
            "would re-drive 1 dead-lettered rotation tasks, 0 failed S3 events, 2 stuck uploads"
        ),
        "{dry}"
    );
    let (code, done) = augment.run(&["redrive", "--stuck-after", "0s"]);
    println!("--- augment redrive\n{done}");
    assert_eq!(code, 0);
    assert!(
        done.contains(
            "re-drove 1 dead-lettered rotation tasks, 0 failed S3 events, 2 stuck uploads"
        ),
        "{done}"
    );
    // The moved task, and the four of each stuck upload the processor sent again.
    assert_eq!(run_worker(&api, sqs, &queue_url, &queue_arn).await, 9);
    let (code, status) = augment.status();
    augment.show_status("after redrive");
    assert_eq!(code, 0, "{status}");
    assert_eq!(counts(&status), [6, 5, 5, 1, 0], "{status}");
    assert_eq!(queue(&status, "dead_letters"), (0, 0));
    println!(
        "upload to fourth rotation on the emulated path: {}",
        status["timing"]
    );
}

fn clients_logs(moto: &Moto) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config())
}
