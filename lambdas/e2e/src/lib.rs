//! Tests only: shared by `tests/it/runtime_api.rs` (both bootstraps against a moto
//! server), `tests/it/terraform_stack.rs` (the same, on the stack Terraform applied
//! to moto) and `tests/it/chaos.rs` (through [`proxy::FaultProxy`]). Starts
//! processes, serves the Lambda Runtime API, makes events the way S3 and the SQS
//! event source mapping make them.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed setup step fails the test that called it"
)]

use std::io::{BufRead as _, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use augment_aws::testing::Moto;
pub use augment_pipeline::makers::{assert_red_corner_turned, red_corner_photo};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

pub mod proxy;

/// How long a started server may take to open its port.
const PORT_TIMEOUT: Duration = Duration::from_secs(60);

/// What S3 leaves unencoded in event keys; a space becomes `+`.
const S3_EVENT_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Kills the process when the test ends, however it ends.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_for_port(port: u16, process: &mut Running, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = process.0.try_wait().unwrap() {
            panic!("{what} exited ({status}) before opening port {port}");
        }
        assert!(
            started.elapsed() < PORT_TIMEOUT,
            "{what} did not open port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `cargo` (the one running the tests), in the workspace root.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// The binaries `names` as built next to the test's own directory when the
/// workspace's tests are built together (nextest, `cargo test --workspace`, with
/// the same features); otherwise built with `cargo build --bin … -p …`.
fn built_binaries(names: &[(&str, &str)]) -> Vec<PathBuf> {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let beside: Vec<PathBuf> = names
        .iter()
        .map(|(bin, _)| profile_dir.join(format!("{bin}{}", std::env::consts::EXE_SUFFIX)))
        .collect();
    if beside.iter().all(|path| path.exists()) {
        return beside;
    }
    let mut build = cargo();
    build.arg("build").arg("--message-format=json");
    for (bin, package) in names {
        build.args(["--bin", bin, "-p", package]);
    }
    let output = build.stderr(Stdio::inherit()).output().unwrap();
    assert!(output.status.success(), "building {names:?} failed");
    let messages: Vec<Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    names
        .iter()
        .map(|(bin, _)| {
            let message = messages
                .iter()
                .find(|m| m["target"]["name"] == *bin && m["executable"].is_string())
                .unwrap_or_else(|| panic!("cargo built no {bin}"));
            PathBuf::from(message["executable"].as_str().unwrap())
        })
        .collect()
}

/// The two bootstraps, `(image-processor, rotation-worker)`.
pub fn build_lambdas() -> (PathBuf, PathBuf) {
    let mut built = built_binaries(&[
        ("image-processor", "image-processor"),
        ("rotation-worker", "rotation-worker"),
    ])
    .into_iter();
    (built.next().unwrap(), built.next().unwrap())
}

/// The `augment` CLI.
pub fn build_cli() -> PathBuf {
    built_binaries(&[("augment", "augment-cli")]).remove(0)
}

/// `cargo lambda watch --only-lambda-apis`: the Lambda Runtime API on a free port.
pub struct RuntimeApi {
    port: u16,
    _server: Running,
}

impl RuntimeApi {
    pub fn start() -> Self {
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

    /// The Lambda Invoke API's endpoint (the emulator serves it beside the Runtime
    /// API), for an SDK or the AWS CLI.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One invocation through the Invoke API: `Ok(response)`, or `Err(error JSON)`
    /// when the function failed (the emulator answers 500 with Lambda's
    /// `errorType`/`errorMessage`). The emulator runs even `Event` invocations
    /// synchronously, so async retries are the caller's to emulate.
    pub async fn call(&self, name: &str, event: &Value) -> Result<Value, Value> {
        use http_body_util::BodyExt as _;
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(connection);
        let request = hyper::Request::post(format!("/2015-03-31/functions/{name}/invocations"))
            .header("host", format!("127.0.0.1:{}", self.port))
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(
                event.to_string(),
            )))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let ok = response.status().is_success()
            && !response.headers().contains_key("x-amz-function-error");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let value = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned()));
        if ok { Ok(value) } else { Err(value) }
    }

    /// Starts a bootstrap as Lambda does, its JSON log lines captured in `log`.
    pub fn start_function(
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
    pub fn invoke(&self, name: &str, event: &Value) -> Value {
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

/// An `ObjectCreated:Put` notification record as S3 sends it (event version 2.1).
pub fn s3_record(bucket: &str, region: &str, key: &str, size: usize) -> Value {
    let encoded = utf8_percent_encode(key, S3_EVENT_KEY)
        .to_string()
        .replace("%20", "+");
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region,
        "eventTime": "2026-11-28T12:00:00.000Z", "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": "E2E", "x-amz-id-2": "E2E"},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": "original-uploads",
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "E2E"}, "arn": format!("arn:aws:s3:::{bucket}")},
            "object": {"key": encoded, "size": size, "eTag": "0", "sequencer": "0"}
        }
    })
}

/// An SQS record as Lambda's event source mapping hands it over.
pub fn sqs_record(queue_arn: &str, message_id: &str, receipt: &str, body: &str) -> Value {
    let region = queue_arn.split(':').nth(3).unwrap_or("us-east-1");
    json!({
        "messageId": message_id, "receiptHandle": receipt, "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0", "SenderId": "E2E", "ApproximateFirstReceiveTimestamp": "0"},
        "messageAttributes": {}, "md5OfBody": "0", "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn, "awsRegion": region
    })
}

/// A function's JSON log lines.
pub fn log_lines(log: &Path) -> Vec<Value> {
    let file = std::fs::File::open(log).unwrap();
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}
