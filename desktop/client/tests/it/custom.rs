//! Custom mode against a second real S3 implementation besides moto: `s3s-fs`
//! (the s3s project's file-system server, crates.io, pinned 0.14.1: the newest
//! that builds on our Rust; it installs and runs here, where MinIO and
//! LocalStack cannot be had). The test starts it on a temporary folder; it is
//! found through the `S3S_FS` environment variable, else on `PATH`.

use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use augment_client::Remote;
use augment_pipeline::UploadKey;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;

use super::common::jpeg;

/// How to install the server when it is missing.
const INSTALL: &str =
    "cargo install s3s-fs --version 0.14.1 --features binary --locked (or set S3S_FS)";

struct S3sFs {
    child: Child,
    endpoint: String,
    _root: tempfile::TempDir,
}

impl Drop for S3sFs {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// s3s-fs on a free port, serving `bucket` (a folder of its root).
fn s3s_fs(bucket: &str) -> S3sFs {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join(bucket)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let program = std::env::var("S3S_FS").unwrap_or_else(|_| "s3s-fs".into());
    let child = Command::new(&program)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", "custom", "--secret-key", "custom-secret"])
        .arg(root.path())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {program}: {err}. Install it: {INSTALL}"));
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "s3s-fs did not answer"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    S3sFs {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
        _root: root,
    }
}

#[tokio::test]
async fn custom_mode_uploads_lists_and_reads_back_on_s3s_fs() {
    let server = s3s_fs("photos");
    let config = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            "custom",
            "custom-secret",
            None,
            None,
            "test",
        ))
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .load()
        .await;
    let remote = Remote::with_sdk_config(&config, "photos").unwrap();
    remote.check().await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cat.jpg");
    let photo = jpeg(40, 30);
    std::fs::write(&path, &photo).unwrap();
    let plan = remote.plan_uploads(["cat.jpg"]).await.unwrap();
    let key = plan.choose_upload_key("cat.jpg").await.unwrap();
    let stored = remote.upload(&path, &key, |_| {}).await.unwrap();
    assert_eq!(stored.as_str(), "original-uploads/cat.jpg");
    assert_eq!(remote.get(stored.as_str(), 1 << 20).await.unwrap(), photo);

    // The name is taken now: the next batch learns it from the listing.
    let plan = remote.plan_uploads(["cat.jpg"]).await.unwrap();
    let next = plan.choose_upload_key("cat.jpg").await.unwrap();
    assert_eq!(
        next,
        UploadKey::parse("original-uploads/cat-2.jpg").unwrap()
    );
}
