//! The client library on a real S3 API (a moto server the tests start): upload
//! progress from the bytes sent, the pipeline steps run against the same bucket,
//! then the gallery listing, outputs, watch and delete see what they made; and
//! the errors a person meets (no bucket, refused or missing credentials, offline).

use std::time::{Duration, Instant};

use augment_aws::testing::{self, Moto};
use augment_aws::{S3Store, SqsQueue};
use augment_client::{
    AwsSettings, ErrorKind, Mode, PAGE_SIZE, Progress, Remote, Settings, WatchEvent,
};
use augment_pipeline::limits::MAX_UPLOAD_BYTES;
use augment_pipeline::steps::{UploadOutcome, make_rotation, process_upload};
use augment_pipeline::{Output, RejectCode, RotationTask};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use image::{Rgb, RgbImage};

use super::common::{Stack, cancel_after_first_bytes, jpeg, recorder, stack};

const BUCKET: &str = "augment-client-test";
const WATCH_TIMEOUT: Duration = Duration::from_secs(30);

async fn all_keys(stack: &Stack) -> Vec<String> {
    let listed = stack
        .clients
        .s3
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect()
}

/// What the Lambdas do for one upload, by their steps, on the same bucket and
/// queue: process, then every queued rotation.
async fn run_pipeline(stack: &Stack, key: &str) -> UploadOutcome {
    let store = S3Store::new(stack.clients.s3.clone(), BUCKET);
    let queue = SqsQueue::new(stack.clients.sqs.clone(), &stack.queue_url);
    let outcome = process_upload(&store, &queue, BUCKET, key).await.unwrap();
    for message in testing::receive_all(&stack.clients, &stack.queue_url)
        .await
        .unwrap()
    {
        let task = RotationTask::from_json(message.body().unwrap()).unwrap();
        make_rotation(&store, &task).await.unwrap();
        stack
            .clients
            .sqs
            .delete_message()
            .queue_url(&stack.queue_url)
            .receipt_handle(message.receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
    }
    outcome
}

/// The largest upload there is, `big.jpg` in `dir`: a JPEG header padded to
/// the limit with `fill`. Its path and bytes.
fn largest_upload(dir: &std::path::Path, fill: u8) -> (std::path::PathBuf, Vec<u8>) {
    let mut bytes = jpeg(64, 64);
    bytes.resize(usize::try_from(MAX_UPLOAD_BYTES).unwrap(), fill);
    let path = dir.join("big.jpg");
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn progress_rises_monotonically_to_exactly_the_file_size() {
    let stack = stack(BUCKET).await;
    stack.remote.check().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = largest_upload(dir.path(), 0x5A);

    let key = stack.remote.choose_upload_key("big.jpg").await.unwrap();
    let (seen, on_progress) = recorder::<Progress>();
    let started = Instant::now();
    stack.remote.upload(&path, &key, on_progress).await.unwrap();
    let elapsed = started.elapsed();
    let seen = seen.lock().unwrap().clone();
    println!(
        "uploaded {} bytes to moto in {elapsed:?}: {:.1} MiB/s, {} progress events",
        bytes.len(),
        bytes.len() as f64 / 1_048_576.0 / elapsed.as_secs_f64(),
        seen.len()
    );
    assert!(seen.len() > 10, "{} events", seen.len());
    assert_eq!(seen[0].sent_bytes, 0);
    assert!(
        seen.windows(2).all(|w| w[0].sent_bytes <= w[1].sent_bytes),
        "not monotonic: {seen:?}"
    );
    let size = bytes.len() as u64;
    assert!(seen.iter().all(|p| p.total_bytes == size));
    assert_eq!(seen.last().unwrap().sent_bytes, size);

    let stored = stack
        .clients
        .s3
        .get_object()
        .bucket(BUCKET)
        .key("original-uploads/big.jpg")
        .send()
        .await
        .unwrap();
    assert_eq!(stored.content_type(), Some("image/jpeg"));
    let body = stored.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.as_ref(), bytes.as_slice(), "the object is the file");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn what_the_pipeline_made_is_listed_watched_and_deleted() {
    let stack = stack(BUCKET).await;
    let remote = &stack.remote;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("beach day.png");
    let image = RgbImage::from_fn(300, 200, |x, _| Rgb([(x % 256) as u8, 90, 200]));
    image.save(&path).unwrap();

    let key = remote
        .choose_upload_key("trip/beach day.png")
        .await
        .unwrap();
    assert_eq!(key.as_str(), "original-uploads/trip/beach day.png");
    remote.upload(&path, &key, |_| {}).await.unwrap();

    // The watch runs while the "Lambdas" work, as in the app.
    let (events, on_event) = recorder::<WatchEvent>();
    let watcher = {
        let remote = remote.clone();
        let key = key.clone();
        tokio::spawn(async move { remote.watch(&key, on_event, WATCH_TIMEOUT).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let outcome = run_pipeline(&stack, key.as_str()).await;
    assert!(
        matches!(outcome, UploadOutcome::Processed { .. }),
        "{outcome:?}"
    );
    watcher.await.unwrap().unwrap();
    let events = events.lock().unwrap().clone();
    let mut landed: Vec<Output> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Landed { output, .. } => Some(*output),
            _ => None,
        })
        .collect();
    landed.sort();
    assert_eq!(landed, Output::ALL, "{events:?}");

    let state = remote.outputs(&key).await.unwrap();
    assert!(state.is_complete() && state.failed.is_none());
    assert!(
        stack
            .remote
            .get(
                "augmented-images/180-degree/trip/beach day_180.jpg",
                1 << 20
            )
            .await
            .is_ok()
    );
    let thumbnail = remote
        .get("processed/trip/beach day_256x256.jpg", 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        image::load_from_memory(&thumbnail).unwrap().width(),
        256,
        "the processed image"
    );
    let missing = remote
        .get("processed/nope_256x256.jpg", 1 << 20)
        .await
        .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);

    let page = remote.list_images(None).await.unwrap();
    assert_eq!(page.next, None);
    assert_eq!(page.items.len(), 1);
    let entry = &page.items[0];
    assert_eq!(entry.name, "trip/beach day");
    assert_eq!(entry.processed_key, "processed/trip/beach day_256x256.jpg");
    assert_eq!(entry.size_bytes, thumbnail.len() as u64);
    assert!(entry.last_modified.is_some());

    // The same name again, by another extension: not an overwrite.
    let again = remote.choose_upload_key("trip/beach day.jpg").await;
    assert_eq!(
        again.unwrap().as_str(),
        "original-uploads/trip/beach day-2.jpg"
    );

    // An unrelated object that only starts like the name stays.
    testing::put_object(
        &stack.clients,
        BUCKET,
        "original-uploads/trip/beach day.x.jpg",
        *b"x",
    )
    .await
    .unwrap();
    remote.delete_image("trip/beach day").await.unwrap();
    assert_eq!(
        all_keys(&stack).await,
        ["original-uploads/trip/beach day.x.jpg"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rejection_by_the_pipeline_is_watched_and_deleted_with_its_record() {
    let stack = stack(BUCKET).await;
    // A JPEG by its first bytes that is cut short: it passes the client's cheap
    // check and the processor rejects it.
    let whole = jpeg(400, 300);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.jpg");
    std::fs::write(&path, &whole[..whole.len() / 3]).unwrap();
    let key = stack.remote.choose_upload_key("cut.jpg").await.unwrap();
    stack.remote.upload(&path, &key, |_| {}).await.unwrap();
    run_pipeline(&stack, key.as_str()).await;

    let (events, on_event) = recorder::<WatchEvent>();
    stack
        .remote
        .watch(&key, on_event, WATCH_TIMEOUT)
        .await
        .unwrap();
    let events = events.lock().unwrap().clone();
    let [WatchEvent::Rejected(record)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(record.known_code(), Some(RejectCode::Corrupt));
    // The failed record holds the name too.
    assert_eq!(
        stack
            .remote
            .choose_upload_key("cut.png")
            .await
            .unwrap()
            .name(),
        "cut-2"
    );
    stack.remote.delete_image("cut").await.unwrap();
    assert!(all_keys(&stack).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gallery_is_paginated() {
    let stack = stack(BUCKET).await;
    let count = PAGE_SIZE + 3;
    for i in 0..count {
        let key = format!("processed/img{i:04}_256x256.jpg");
        testing::put_object(&stack.clients, BUCKET, &key, *b"x")
            .await
            .unwrap();
    }
    let first = stack.remote.list_images(None).await.unwrap();
    assert_eq!(first.items.len(), PAGE_SIZE);
    assert!(first.next.is_some());
    let second = stack.remote.list_images(first.next).await.unwrap();
    assert_eq!(second.items.len(), 3);
    assert_eq!(second.next, None);
    assert_eq!(second.items[2].name, format!("img{:04}", count - 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_says_so_and_what_to_do() {
    let stack = stack(BUCKET).await;
    let remote = Remote::with_sdk_config(&stack.moto.sdk_config(), "no-such-bucket").unwrap();
    let err = remote.check().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoSuchBucket, "{}", err.detail());
    assert!(
        err.message.starts_with("The bucket does not exist.")
            && err.message.contains("region in the settings")
            && err.message.ends_with("no-such-bucket"),
        "{}",
        err.message
    );
    assert!(!err.is_transient());
    let err = remote.list_images(None).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoSuchBucket, "{}", err.detail());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jpg");
    std::fs::write(&path, jpeg(32, 32)).unwrap();
    let key = augment_pipeline::UploadKey::parse("original-uploads/a.jpg").unwrap();
    let err = remote.upload(&path, &key, |_| {}).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoSuchBucket, "{}", err.detail());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_told_apart_from_a_denied_permission() {
    // moto checks keys against its IAM users once this many calls are done:
    // the first (creating the bucket) goes through.
    let moto = Moto::start_with_env(&[("INITIAL_NO_AUTH_ACTION_COUNT", "1")]).unwrap();
    testing::create_bucket(&moto.clients(), BUCKET)
        .await
        .unwrap();
    let remote = Remote::with_sdk_config(&moto.sdk_config(), BUCKET).unwrap();
    let err = remote.check().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::BadCredentials, "{}", err.detail());
    assert!(
        err.message.contains("refused the credentials") && err.message.contains("aws configure"),
        "{}",
        err.message
    );
    assert!(!err.is_transient());
}

/// What the default chain returns when no provider found anything.
#[derive(Debug)]
struct EmptyChain;

impl ProvideCredentials for EmptyChain {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no providers in chain provided credentials",
        )))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_say_how_to_get_some() {
    let stack = stack(BUCKET).await;
    let config = stack
        .moto
        .sdk_config()
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(EmptyChain))
        .build();
    let remote = Remote::with_sdk_config(&config, BUCKET).unwrap();
    let err = remote.check().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoCredentials, "{}", err.detail());
    assert_eq!(
        err.message,
        "No AWS credentials found. Run `aws configure` or `aws sso login`, or pick a profile in the settings."
    );
    assert_eq!(err.settings(), [augment_client::Setting::Profile]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_does_not_answer_is_offline_and_transient() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .credentials_provider(SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("A", "B", None, None, "test"),
        ))
        .build();
    let remote = Remote::with_sdk_config(&config, BUCKET).unwrap();
    let err = remote.check().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Offline, "{}", err.detail());
    assert!(err.is_transient());
    assert!(err.message.contains("network"), "{}", err.message);
    // The endpoint is the thing to check, not the bucket.
    assert!(
        err.message.ends_with(&format!("http://127.0.0.1:{port}")),
        "{}",
        err.message
    );
    assert!(!err.message.contains(BUCKET), "{}", err.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_that_cannot_work_are_refused_before_any_request() {
    let custom = |endpoint: Option<&str>, bucket: &str| Settings {
        mode: Mode::Custom,
        aws: AwsSettings {
            bucket: bucket.into(),
            endpoint_url: endpoint.map(str::to_owned),
            ..AwsSettings::default()
        },
        ..Settings::default()
    };
    for (settings, says) in [
        (custom(None, "b"), "needs its URL"),
        (custom(Some("localhost:9000"), "b"), "http://"),
        (custom(Some("http://localhost:9000"), " "), "No bucket"),
        (
            custom(Some("http://192.0.2.7:9000"), "b"),
            "allow plain HTTP",
        ),
    ] {
        let err = Remote::connect(&settings).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidSettings, "{}", err.message);
        assert!(err.message.contains(says), "{}", err.message);
    }
}

/// A one-connection-at-a-time HTTP server that answers the first `PutObject`
/// with a 500 (the SDK retries it) and the next with 200: what a flaky S3 does.
fn flaky_s3() -> (String, std::thread::JoinHandle<Vec<usize>>) {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let mut body_sizes = Vec::new();
        while body_sizes.len() < 2 {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            // Requests on this connection until it closes.
            loop {
                let mut content_length = 0;
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                loop {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    if line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(value) = lower.strip_prefix("content-length:") {
                        content_length = value.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; content_length];
                reader.read_exact(&mut body).unwrap();
                body_sizes.push(content_length);
                let response = if body_sizes.len() == 1 {
                    let xml =
                        "<Error><Code>InternalError</Code><Message>try again</Message></Error>";
                    format!(
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}",
                        xml.len()
                    )
                } else {
                    "HTTP/1.1 200 OK\r\nETag: \"1\"\r\nContent-Length: 0\r\n\r\n".to_owned()
                };
                writer.write_all(response.as_bytes()).unwrap();
                if body_sizes.len() == 2 {
                    break;
                }
            }
        }
        body_sizes
    });
    (endpoint, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sdk_retry_restarts_the_progress_from_zero() {
    let (endpoint, server) = flaky_s3();
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(
            aws_sdk_s3::config::Credentials::new("A", "B", None, None, "test"),
        ))
        .build();
    let remote = Remote::with_sdk_config(&config, BUCKET).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = jpeg(64, 64);
    bytes.resize(300 * 1024, 0);
    let path = dir.path().join("a.jpg");
    std::fs::write(&path, &bytes).unwrap();
    let key = augment_pipeline::UploadKey::parse("original-uploads/a.jpg").unwrap();

    let (seen, on_progress) = recorder::<Progress>();
    remote.upload(&path, &key, on_progress).await.unwrap();
    let sizes = server.join().unwrap();
    assert_eq!(sizes.len(), 2, "one retry: {sizes:?}");

    let sent: Vec<u64> = seen.lock().unwrap().iter().map(|p| p.sent_bytes).collect();
    let size = bytes.len() as u64;
    // Two attempts, each from 0 up to the whole file.
    let restarts: Vec<usize> = (0..sent.len()).filter(|&i| sent[i] == 0).collect();
    assert_eq!(restarts.len(), 2, "{sent:?}");
    let (first, second) = sent.split_at(restarts[1]);
    for attempt in [first, second] {
        assert!(attempt.windows(2).all(|w| w[0] <= w[1]), "{sent:?}");
        assert_eq!(attempt.last(), Some(&size), "{sent:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_upload_leaves_nothing_in_the_bucket() {
    let stack = stack(BUCKET).await;
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = largest_upload(dir.path(), 1);
    let key = stack.remote.choose_upload_key("big.jpg").await.unwrap();

    cancel_after_first_bytes(&stack.remote, &path, &key).await;
    // The upload future is dropped: give the connection time to finish, were
    // it still sending.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(all_keys(&stack).await.is_empty());
}
