//! The client library in local mode, as the app uses it: settings → connect →
//! name → upload with progress → watch the rotations land → list → delete.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use augment_client::{ErrorKind, Progress, WatchEvent};
use augment_pipeline::{Output, RejectCode};

use super::common::{cancel_after_first_bytes, jpeg, local, recorder};

const WATCH_TIMEOUT: Duration = Duration::from_secs(30);

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Every file left in the data folder, to show when there should be none.
fn files_under(data: &Path) -> Vec<String> {
    walkdir::WalkDir::new(data)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().display().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_upload_is_processed_and_its_four_rotations_land() {
    let dir = tempfile::tempdir().unwrap();
    let remote = local(&dir.path().join("data")).await;
    remote.check().await.unwrap();
    let photo = write(dir.path(), "Cat Photo.JPG", &jpeg(800, 600));
    let size = std::fs::metadata(&photo).unwrap().len();

    let key = remote.choose_upload_key("Cat Photo.JPG").await.unwrap();
    assert_eq!(key.as_str(), "original-uploads/Cat Photo.JPG");
    let (progress, on_progress) = recorder::<Progress>();
    remote.upload(&photo, &key, on_progress).await.unwrap();
    let progress = progress.lock().unwrap().clone();
    assert!(
        progress
            .windows(2)
            .all(|w| w[0].sent_bytes <= w[1].sent_bytes),
        "{progress:?}"
    );
    assert_eq!(progress.first().unwrap().sent_bytes, 0);
    assert_eq!(
        progress.last().unwrap(),
        &Progress {
            sent_bytes: size,
            total_bytes: size
        }
    );

    let events = Arc::new(Mutex::new(Vec::new()));
    let record = events.clone();
    remote
        .watch(&key, move |e| record.lock().unwrap().push(e), WATCH_TIMEOUT)
        .await
        .unwrap();
    let events = events.lock().unwrap().clone();
    let mut landed: Vec<Output> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::Landed {
                output,
                key: landed,
            } => {
                assert_eq!(landed, &output.key(&key));
                Some(*output)
            }
            _ => None,
        })
        .collect();
    assert_eq!(landed[0], Output::Processed, "the processed image first");
    landed.sort();
    assert_eq!(landed, Output::ALL, "{events:?}");
    assert!(events.contains(&WatchEvent::Landed {
        output: Output::Processed,
        key: "processed/Cat Photo_256x256.jpg".into()
    }));

    let state = remote.outputs(&key).await.unwrap();
    assert!(state.is_complete() && state.failed.is_none());
    let rotation = remote
        .get(&Output::ROTATIONS[0].key(&key), 1 << 20)
        .await
        .unwrap();
    assert!(rotation.starts_with(&[0xFF, 0xD8, 0xFF]));

    // A second file of the same name by another extension (it would share the
    // outputs) gets -2. (By case only it is another key in S3 and on Linux; on a
    // case-insensitive disk the file is found, and it gets -2 too.)
    let again = remote.choose_upload_key("Cat Photo.png").await.unwrap();
    assert_eq!(again.as_str(), "original-uploads/Cat Photo-2.png");

    let page = remote.list_images(None).await.unwrap();
    assert_eq!(page.next, None);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].name, "Cat Photo");
    assert!(page.items[0].size_bytes > 0 && page.items[0].last_modified.is_some());

    remote.delete_image("Cat Photo").await.unwrap();
    assert_eq!(
        remote.outputs(&key).await.unwrap(),
        augment_client::OutputsState::default()
    );
    assert!(remote.list_images(None).await.unwrap().items.is_empty());
    let left = files_under(&dir.path().join("data"));
    assert!(left.is_empty(), "{left:?}");
    // The name is free again.
    let reused = remote.choose_upload_key("Cat Photo.jpg").await.unwrap();
    assert_eq!(reused.name(), "Cat Photo");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_bad_file_is_refused_before_upload_and_a_corrupt_one_is_rejected_by_the_pipeline() {
    let dir = tempfile::tempdir().unwrap();
    let remote = local(&dir.path().join("data")).await;

    let text = write(dir.path(), "notes.jpg", b"not an image at all");
    let key = remote.choose_upload_key("notes.jpg").await.unwrap();
    let err = remote.upload(&text, &key, |_| {}).await.unwrap_err();
    assert!(
        matches!(&err.kind, ErrorKind::Rejected(r) if r.code == RejectCode::UnsupportedType),
        "{err:?}"
    );
    assert!(err.message.contains("text"), "{}", err.message);
    assert!(!err.is_transient());
    assert!(remote.list_images(None).await.unwrap().items.is_empty());

    let err = remote.choose_upload_key("notes.txt").await.unwrap_err();
    assert!(matches!(err.kind, ErrorKind::Rejected(_)), "{err:?}");

    let whole = jpeg(400, 300);
    let cut = write(dir.path(), "cut.jpg", &whole[..whole.len() / 3]);
    let key = remote.choose_upload_key("cut.jpg").await.unwrap();
    remote.upload(&cut, &key, |_| {}).await.unwrap();
    let (events, on_event) = recorder::<WatchEvent>();
    remote.watch(&key, on_event, WATCH_TIMEOUT).await.unwrap();
    let events = events.lock().unwrap().clone();
    let [WatchEvent::Rejected(record)] = events.as_slice() else {
        panic!("{events:?}")
    };
    assert_eq!(record.code, RejectCode::Corrupt);
    assert_eq!(record.source_key, "original-uploads/cut.jpg");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rejected_uploads_are_listed_with_their_reason_and_can_be_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let remote = local(&data).await;
    let whole = jpeg(400, 300);
    let cut = write(dir.path(), "cut.jpg", &whole[..whole.len() / 3]);
    let good = write(dir.path(), "good.jpg", &whole);
    for path in [&cut, &good] {
        let name = path.file_name().unwrap().to_str().unwrap();
        let key = remote.choose_upload_key(name).await.unwrap();
        remote.upload(path, &key, |_| {}).await.unwrap();
        remote.watch(&key, |_| {}, WATCH_TIMEOUT).await.unwrap();
    }
    // A record that names another upload than its key says (anyone who can
    // write the bucket can write one): not listed, so never deleted through it.
    std::fs::write(
        data.join("failed/forged.json"),
        br#"{"v":1,"source_key":"original-uploads/good.jpg","code":"corrupt","message":"x"}"#,
    )
    .unwrap();
    std::fs::write(data.join("failed/garbage.json"), b"{").unwrap();

    let page = remote.list_rejected(None).await.unwrap();
    assert_eq!(page.next, None);
    let [entry] = page.items.as_slice() else {
        panic!("{:?}", page.items)
    };
    assert_eq!(entry.name, "cut");
    assert_eq!(entry.failed_key, "failed/cut.json");
    assert_eq!(entry.code, "corrupt");
    assert!(!entry.message.is_empty());

    remote.delete_image(&entry.name).await.unwrap();
    assert!(!data.join("original-uploads/cut.jpg").exists());
    assert!(!data.join("failed/cut.json").exists());
    assert!(remote.list_rejected(None).await.unwrap().items.is_empty());
    // The good image was not touched.
    assert!(data.join("original-uploads/good.jpg").exists());
    assert_eq!(remote.list_images(None).await.unwrap().items.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_an_upload_that_never_came_times_out() {
    let dir = tempfile::tempdir().unwrap();
    let remote = local(&dir.path().join("data")).await;
    let key = remote.choose_upload_key("ghost.jpg").await.unwrap();
    let (events, on_event) = recorder::<WatchEvent>();
    let started = std::time::Instant::now();
    remote
        .watch(&key, on_event, Duration::from_millis(600))
        .await
        .unwrap();
    assert_eq!(*events.lock().unwrap(), [WatchEvent::TimedOut]);
    // It waited the whole timeout before giving up (a hang is nextest's to catch).
    assert!(started.elapsed() >= Duration::from_millis(600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_given_out_together_do_not_collide() {
    let dir = tempfile::tempdir().unwrap();
    let remote = local(&dir.path().join("data")).await;
    let a = remote.choose_upload_key("trip/cat.jpg").await.unwrap();
    let b = remote.choose_upload_key("trip\\Cat.jpeg").await.unwrap();
    assert_eq!(a.as_str(), "original-uploads/trip/cat.jpg");
    assert_eq!(b.as_str(), "original-uploads/trip/Cat-2.jpeg");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gallery_is_paginated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let count = augment_client::PAGE_SIZE + 5;
    for i in 0..count {
        let path = data.join(format!("processed/img{i:04}_256x256.jpg"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"x").unwrap();
    }
    // Not images of the gallery: skipped.
    std::fs::write(data.join("processed/readme.txt"), b"x").unwrap();
    let remote = local(&data).await;
    let first = remote.list_images(None).await.unwrap();
    assert_eq!(first.items.len(), augment_client::PAGE_SIZE);
    let second = remote.list_images(first.next.clone()).await.unwrap();
    assert_eq!(second.items.len(), 5);
    assert_eq!(second.next, None);
    assert_eq!(second.items[4].name, format!("img{:04}", count - 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cancelled_local_upload_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let remote = local(&data).await;
    let mut bytes = jpeg(64, 64);
    bytes.resize(10 * 1024 * 1024, 1);
    let path = write(dir.path(), "big.jpg", &bytes);
    let key = remote.choose_upload_key("big.jpg").await.unwrap();

    cancel_after_first_bytes(&remote, &path, &key).await;
    // The copy stops at its next chunk, on its own thread.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let left = files_under(&data);
    assert!(left.is_empty(), "{left:?}");
}
