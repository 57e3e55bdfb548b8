//! A moto server (the S3/SQS emulator from `PyPI` package `moto[server]`) for tests: started
//! on a free loopback port, stopped on drop. `cargo xtask ci` installs moto into a
//! venv and puts it on `PATH`; `MOTO_SERVER` may name the executable instead.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};

use crate::clients::Clients;

const START_TIMEOUT: Duration = Duration::from_secs(30);
// moto accepts any credentials; these only have to look like keys.
const ACCESS_KEY_ID: &str = "ANOTREAL";
const SECRET_ACCESS_KEY: &str = "notreal";

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

/// Why moto could not be started.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error(
        "cannot run `{0}`: install moto (`pip install 'moto[server]'`) or run the tests with `cargo xtask ci`, which sets it up"
    )]
    NotInstalled(String, #[source] std::io::Error),
    #[error("moto did not answer on {0} within {START_TIMEOUT:?}")]
    NoAnswer(String),
    #[error("no free loopback port")]
    NoPort(#[source] std::io::Error),
}

impl Moto {
    pub fn start() -> Result<Self, MotoError> {
        Self::start_with_env(&[])
    }

    /// With extra environment for the server, e.g. `INITIAL_NO_AUTH_ACTION_COUNT`
    /// to make moto check credentials (it accepts any by default).
    pub fn start_with_env(env: &[(&str, &str)]) -> Result<Self, MotoError> {
        let program = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(MotoError::NoPort)?
            .port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| MotoError::NotInstalled(program, err))?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let moto = Self { child, endpoint };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > START_TIMEOUT {
                return Err(MotoError::NoAnswer(moto.endpoint.clone()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(moto)
    }

    /// Region `us-east-1`, fixed test credentials, this server as the endpoint.
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                ACCESS_KEY_ID,
                SECRET_ACCESS_KEY,
                None,
                None,
                "moto",
            )))
            .endpoint_url(&self.endpoint)
            .build()
    }

    pub fn clients(&self) -> Clients {
        Clients::new(&self.sdk_config())
    }

    /// Environment for a process (a Lambda binary) to reach this server.
    pub fn env(&self) -> [(&'static str, String); 4] {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `command` (the `augment` CLI, a Lambda binary) sees none of this machine's
/// AWS configuration: no `AWS_*` variable, no config or credentials file, no
/// instance metadata; its settings and data folder live under `home`.
pub fn isolated_from_machine<'a>(
    command: &'a mut Command,
    home: &std::path::Path,
) -> &'a mut Command {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("AWS_") {
            command.env_remove(name);
        }
    }
    command
        .env("AUGMENT_CONFIG_DIR", home.join("config"))
        .env("AUGMENT_DATA_DIR", home.join("data"))
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            home.join("no-aws-credentials"),
        )
        // No instance metadata service to wait for on a developer machine.
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

/// Test setup failures, with the SDK's context.
pub type SetupError = Box<dyn std::error::Error + Send + Sync>;

/// One object written straight through the SDK (a test's own setup, not the
/// store under test).
pub async fn put_object(
    clients: &Clients,
    bucket: &str,
    key: &str,
    body: impl Into<Vec<u8>>,
) -> Result<(), SetupError> {
    let body = aws_sdk_s3::primitives::ByteStream::from(body.into());
    let request = clients.s3.put_object().bucket(bucket).key(key).body(body);
    request.send().await?;
    Ok(())
}

/// A bucket on an emulator.
pub async fn create_bucket(clients: &Clients, bucket: &str) -> Result<(), SetupError> {
    clients.s3.create_bucket().bucket(bucket).send().await?;
    Ok(())
}

/// A bucket and a queue on an emulator; returns the queue URL.
pub async fn create_bucket_and_queue(
    clients: &Clients,
    bucket: &str,
    queue: &str,
) -> Result<String, SetupError> {
    create_bucket(clients, bucket).await?;
    let created = clients.sqs.create_queue().queue_name(queue).send().await?;
    Ok(created
        .queue_url()
        .ok_or("CreateQueue returned no URL")?
        .to_owned())
}

/// A fresh emulator holding `bucket` and a queue named `queue`: what most tests
/// start from. Returns the emulator, its clients and the queue URL.
pub async fn moto_with_bucket_and_queue(
    bucket: &str,
    queue: &str,
) -> Result<(Moto, Clients, String), SetupError> {
    let moto = Moto::start()?;
    let clients = moto.clients();
    let queue_url = create_bucket_and_queue(&clients, bucket, queue).await?;
    Ok((moto, clients, queue_url))
}

/// Every message now on the queue (received, not deleted).
pub async fn receive_all(
    clients: &Clients,
    queue_url: &str,
) -> Result<Vec<aws_sdk_sqs::types::Message>, SetupError> {
    let mut messages = Vec::new();
    loop {
        let out = clients
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await?;
        if out.messages().is_empty() {
            return Ok(messages);
        }
        messages.extend_from_slice(out.messages());
    }
}
