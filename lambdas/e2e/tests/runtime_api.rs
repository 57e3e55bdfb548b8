//! The real Lambda binaries, built as for deployment, served by the Lambda Runtime
//! API emulator (`cargo lambda watch --only-lambda-apis`), invoked with event JSON
//! made the way S3 and SQS make it, against a moto server:
//! upload → S3 event → image-processor → four SQS messages per image →
//! SQS event → rotation-worker → four rotations in S3, each checked.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use augment_aws::testing::{self, Moto};
use augment_pipeline::{Angle, FailedRecord, RejectCode, imaging};
use aws_sdk_s3::primitives::ByteStream;
use image::{Rgb, RgbImage};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

const BUCKET: &str = "augment-e2e";

/// What S3 leaves unencoded in event keys; a space becomes `+`.
const S3_EVENT_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Kills the process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, process: &mut Running, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = process.0.try_wait().unwrap() {
            panic!("{what} exited ({status}) before opening port {port}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not open port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// The two bootstraps. `cargo test --workspace` (and nextest) builds them next to
/// this test's own directory, with the same features; otherwise they are built.
fn build_lambdas() -> (PathBuf, PathBuf) {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let built = |name: &str| profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let (processor, worker) = (built("image-processor"), built("rotation-worker"));
    if processor.exists() && worker.exists() {
        return (processor, worker);
    }
    let output = cargo()
        .args([
            "build",
            "--bins",
            "-p",
            "image-processor",
            "-p",
            "rotation-worker",
            "--message-format=json",
        ])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(output.status.success(), "building the Lambdas failed");
    let mut found = (None, None);
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(exe) = message["executable"].as_str() else {
            continue;
        };
        match message["target"]["name"].as_str() {
            Some("image-processor") => found.0 = Some(PathBuf::from(exe)),
            Some("rotation-worker") => found.1 = Some(PathBuf::from(exe)),
            _ => {}
        }
    }
    (found.0.unwrap(), found.1.unwrap())
}

struct RuntimeApi {
    port: u16,
    _server: Running,
}

impl RuntimeApi {
    fn start() -> Self {
        let port = free_port();
        let server = cargo()
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Running(server);
        wait_for_port(
            port,
            &mut server,
            "`cargo lambda watch` (install cargo-lambda from PyPI, or run `cargo xtask ci`)",
        );
        Self {
            port,
            _server: server,
        }
    }

    /// Starts a bootstrap as Lambda does, its JSON log lines captured in `log`.
    fn start_function(
        &self,
        exe: &Path,
        name: &str,
        moto: &Moto,
        env: &[(&str, &str)],
        log: &Path,
    ) -> Running {
        let mut command = Command::new(exe);
        command
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt/{name}", self.port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("RUST_LOG", "info")
            .envs(moto.env())
            .envs(env.iter().copied())
            .stdout(std::fs::File::create(log).unwrap())
            .stderr(Stdio::inherit());
        Running(command.spawn().unwrap())
    }

    /// `cargo lambda invoke NAME --data-file`: the function's response as JSON.
    fn invoke(&self, name: &str, event: &Value) -> Value {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), event.to_string()).unwrap();
        let output = cargo()
            .args([
                "lambda",
                "invoke",
                name,
                "-A",
                "127.0.0.1",
                "-P",
                &self.port.to_string(),
                "--data-file",
            ])
            .arg(file.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "invoking {name} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

/// An `ObjectCreated:Put` notification as S3 sends it (event version 2.1).
fn s3_record(key: &str, size: usize) -> Value {
    let encoded = utf8_percent_encode(key, S3_EVENT_KEY)
        .to_string()
        .replace("%20", "+");
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
        "eventTime": "2026-11-28T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "E2E", "x-amz-id-2": "E2E"},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "original-uploads",
            "bucket": {"name": BUCKET, "ownerIdentity": {"principalId": "E2E"}, "arn": format!("arn:aws:s3:::{BUCKET}")},
            "object": {"key": encoded, "size": size, "eTag": "0", "sequencer": "0"}
        }
    })
}

/// An SQS record as Lambda's event source mapping hands it over.
fn sqs_record(message_id: &str, receipt: &str, body: &str) -> Value {
    json!({
        "messageId": message_id, "receiptHandle": receipt, "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "E2E", "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:rotations", "awsRegion": "us-east-1"
    })
}

fn photo() -> Vec<u8> {
    // Red top-left quarter: where it ends up shows the rotation direction.
    let image = RgbImage::from_fn(600, 600, |x, y| {
        if x < 300 && y < 300 {
            Rgb([230, 20, 20])
        } else {
            Rgb([245, 245, 245])
        }
    });
    imaging::encode_jpeg(&image)
}

fn log_lines(log: &Path) -> Vec<Value> {
    let file = std::fs::File::open(log).unwrap();
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_to_rotations_through_both_real_lambdas() {
    let (processor_exe, worker_exe) = build_lambdas();
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    let queue_url = testing::create_bucket_and_queue(&clients, BUCKET, "rotations")
        .await
        .unwrap();

    let good = [
        "original-uploads/holiday 2024/beach day.JPG",
        "original-uploads/a+b=c ☀.jpeg",
        "original-uploads/100%.png",
    ];
    let mut huge = photo();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let uploads: Vec<(&str, Vec<u8>)> = good
        .iter()
        .map(|k| (*k, photo()))
        .chain([
            ("original-uploads/notes.jpg", b"this is text".to_vec()),
            ("original-uploads/huge.jpg", huge),
        ])
        .collect();
    for (key, body) in &uploads {
        clients
            .s3
            .put_object()
            .bucket(BUCKET)
            .key(*key)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
    }

    let api = RuntimeApi::start();
    let logs = tempfile::tempdir().unwrap();
    let processor_log = logs.path().join("processor.log");
    let worker_log = logs.path().join("worker.log");
    let _processor = api.start_function(
        &processor_exe,
        "image-processor",
        &moto,
        &[("QUEUE_URL", &queue_url)],
        &processor_log,
    );
    let _worker = api.start_function(
        &worker_exe,
        "rotation-worker",
        &moto,
        &[("BUCKET", BUCKET)],
        &worker_log,
    );

    // S3 → processor.
    let records: Vec<Value> = uploads
        .iter()
        .map(|(key, body)| s3_record(key, body.len()))
        .collect();
    let response = api.invoke("image-processor", &json!({ "Records": records }));
    assert_eq!(
        response,
        json!({"processed": 3, "rejected": 2, "skipped": 0})
    );
    for (name, code) in [
        ("notes", RejectCode::UnsupportedType),
        ("huge", RejectCode::TooLarge),
    ] {
        let object = clients
            .s3
            .get_object()
            .bucket(BUCKET)
            .key(format!("failed/{name}.json"))
            .send()
            .await
            .unwrap();
        let record: FailedRecord =
            serde_json::from_slice(&object.body.collect().await.unwrap().into_bytes()).unwrap();
        assert_eq!(record.code, code);
    }

    // SQS: one batch of four per good upload.
    let messages: Vec<Value> = testing::receive_all(&clients, &queue_url)
        .await
        .unwrap()
        .iter()
        .map(|m| {
            sqs_record(
                m.message_id().unwrap(),
                m.receipt_handle().unwrap(),
                m.body().unwrap(),
            )
        })
        .collect();
    assert_eq!(messages.len(), 4 * good.len());

    // SQS → worker, in batches of five (the event source mapping's size), one
    // poisoned message among them.
    let mut batches: Vec<Vec<Value>> = messages.chunks(5).map(<[Value]>::to_vec).collect();
    batches[0].insert(2, sqs_record("poison-1", "r", "{\"v\": 1, \"angle\": 45}"));
    for (i, batch) in batches.iter().enumerate() {
        let response = api.invoke("rotation-worker", &json!({ "Records": batch }));
        let expected: Vec<Value> = if i == 0 {
            vec![json!({"itemIdentifier": "poison-1"})]
        } else {
            vec![]
        };
        assert_eq!(
            response["batchItemFailures"],
            Value::Array(expected),
            "batch {i}"
        );
    }

    let read = |key: String| {
        let s3 = clients.s3.clone();
        async move {
            s3.get_object()
                .bucket(BUCKET)
                .key(key)
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .into_bytes()
                .to_vec()
        }
    };
    let first_output =
        read("augmented-images/90-degree/holiday 2024/beach day_90.jpg".into()).await;
    // The same message delivered again leaves the same object.
    let response = api.invoke(
        "rotation-worker",
        &json!({ "Records": [messages[0].clone()] }),
    );
    assert_eq!(response["batchItemFailures"], json!([]));

    for key in good {
        let name = key
            .trim_start_matches("original-uploads/")
            .rsplit_once('.')
            .unwrap()
            .0;
        let processed = read(format!("processed/{name}_256x256.jpg")).await;
        assert_eq!(
            imaging::decode(&processed, augment_pipeline::sniff::ImageFormat::Jpeg, 256)
                .unwrap()
                .dimensions(),
            (256, 256)
        );
        for angle in Angle::ALL {
            let bytes = read(format!(
                "augmented-images/{angle}-degree/{name}_{angle}.jpg"
            ))
            .await;
            let image =
                imaging::decode(&bytes, augment_pipeline::sniff::ImageFormat::Jpeg, 256).unwrap();
            assert_eq!(image.dimensions(), (256, 256), "{name} {angle}");
            let (x, y) = match angle {
                Angle::Deg90 => (30, 226),
                Angle::Deg180 => (226, 226),
                Angle::Deg270 => (226, 30),
                Angle::Deg360 => (30, 30),
            };
            let px = image.get_pixel(x, y).0;
            assert!(
                px[0] > 180 && px[1] < 80,
                "{name} {angle}°: red corner at ({x},{y}) is {px:?}"
            );
        }
    }
    let message_body: Value = serde_json::from_str(messages[0]["body"].as_str().unwrap()).unwrap();
    let redelivered_key = message_body["output_key"].as_str().unwrap().to_owned();
    if redelivered_key == "augmented-images/90-degree/holiday 2024/beach day_90.jpg" {
        assert_eq!(read(redelivered_key).await, first_output);
    }

    // One JSON log line per record, with its outcome and duration.
    let lines = log_lines(&processor_log);
    let outcomes: Vec<&str> = lines.iter().filter_map(|l| l["outcome"].as_str()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "processed").count(),
        3,
        "{lines:?}"
    );
    assert_eq!(
        outcomes.iter().filter(|o| **o == "rejected").count(),
        2,
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .filter(|l| l["outcome"].is_string())
            .all(|l| l["request_id"].is_string() && l["ms"].is_u64() && l["key"].is_string())
    );
    let worker_lines = log_lines(&worker_log);
    assert_eq!(
        worker_lines
            .iter()
            .filter(|l| l["outcome"] == "rotated")
            .count(),
        4 * good.len() + 1
    );
    assert_eq!(
        worker_lines
            .iter()
            .filter(|l| l["outcome"] == "failed")
            .count(),
        1
    );
}
