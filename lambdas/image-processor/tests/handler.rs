//! The handler on real S3 event JSON, over the in-memory ports: every branch.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use augment_pipeline::memory::{MemoryQueue, MemoryStore};
use augment_pipeline::{FailedRecord, RejectCode, imaging};
use aws_lambda_events::event::s3::S3Event;
use image::{Rgb, RgbImage};
use image_processor::{InvocationError, Summary, handle};

fn fixture(name: &str) -> S3Event {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn photo() -> Vec<u8> {
    imaging::encode_jpeg(&RgbImage::from_fn(300, 200, |x, _| {
        Rgb([(x % 256) as u8, 80, 160])
    }))
}

/// The event of fixture `event` handled over `store` (whatever bucket it names)
/// and `queue`.
async fn handled(
    event: &str,
    store: &MemoryStore,
    queue: &MemoryQueue,
) -> Result<Summary, InvocationError> {
    handle(fixture(event), "req", |_| store, queue).await
}

fn summary(processed: usize, rejected: usize, skipped: usize) -> Summary {
    Summary {
        processed,
        rejected,
        skipped,
    }
}

/// The failed record the processor wrote at `key`.
fn failed_record(store: &MemoryStore, key: &str) -> FailedRecord {
    serde_json::from_slice(&store.object(key).unwrap().body).unwrap()
}

/// The objects named by `s3-put-awkward-keys.json`, decoded.
fn awkward_uploads() -> MemoryStore {
    let store = MemoryStore::default();
    for key in [
        "original-uploads/holiday 2024/beach day.JPG",
        "original-uploads/a+b=c.jpeg",
        "original-uploads/100% café ☀.png",
        "original-uploads/deep/sub/folder/x.jpg",
    ] {
        store.insert(key, photo());
    }
    store
}

#[tokio::test]
async fn awkward_keys_are_decoded_and_processed() {
    let store = awkward_uploads();
    let queue = MemoryQueue::default();

    let got = handle(
        fixture("s3-put-awkward-keys.json"),
        "req-1",
        |bucket| {
            assert_eq!(bucket, "augment-uploads");
            &store
        },
        &queue,
    )
    .await
    .unwrap();

    assert_eq!(got, summary(4, 0, 0));
    for name in [
        "holiday 2024/beach day",
        "a+b=c",
        "100% café ☀",
        "deep/sub/folder/x",
    ] {
        assert!(
            store
                .object(&format!("processed/{name}_256x256.jpg"))
                .is_some(),
            "{name}"
        );
    }
    let batches = queue.batches();
    assert_eq!(batches.len(), 4, "one batch per upload");
    assert!(
        batches
            .iter()
            .all(|b| b.len() == 4 && b.iter().all(|t| t.bucket == "augment-uploads"))
    );
}

#[tokio::test]
async fn removals_and_keys_outside_the_prefix_are_left_alone() {
    let store = MemoryStore::with("processed/cat_256x256.jpg", photo());
    let queue = MemoryQueue::default();
    let got = handled("s3-ignored.json", &store, &queue).await.unwrap();
    assert_eq!(got, summary(0, 0, 2));
    assert_eq!(
        store.keys(),
        ["processed/cat_256x256.jpg"],
        "the pipeline never feeds itself"
    );
    assert!(queue.batches().is_empty());
}

#[tokio::test]
async fn an_oversized_upload_is_rejected_from_the_event_without_a_download() {
    let store = MemoryStore::with("original-uploads/huge.jpg", vec![0; 64]);
    let got = handled("s3-too-large.json", &store, &MemoryQueue::default())
        .await
        .unwrap();
    assert_eq!(got.rejected, 1);
    assert_eq!(store.get_count(), 0);
    let record = failed_record(&store, "failed/huge.json");
    assert_eq!(record.code, RejectCode::TooLarge);
    assert!(record.message.contains("12 MiB"), "{}", record.message);
}

#[tokio::test]
async fn bad_input_is_final_and_the_invocation_succeeds() {
    let store = MemoryStore::with(
        "original-uploads/notes.jpg",
        b"plain text, not a jpeg".to_vec(),
    );
    let got = handled("s3-text-named-jpg.json", &store, &MemoryQueue::default())
        .await
        .unwrap();
    assert_eq!(got, summary(0, 1, 0));
    let record = failed_record(&store, "failed/notes.json");
    assert_eq!(record.code, RejectCode::UnsupportedType);
}

#[tokio::test]
async fn a_fault_fails_the_invocation_after_the_other_records_are_done() {
    let store = awkward_uploads();
    store.make_flaky("original-uploads/a+b=c.jpeg");
    let err = handled("s3-put-awkward-keys.json", &store, &MemoryQueue::default())
        .await
        .unwrap_err();
    assert_eq!((err.failed, err.total), (1, 4));
    assert!(err.first.contains("503"), "{}", err.first);
    assert!(
        store
            .object("processed/deep/sub/folder/x_256x256.jpg")
            .is_some(),
        "later records still run"
    );
    assert!(
        store.object("failed/a+b=c.json").is_none(),
        "a fault is not a rejection"
    );
}

#[tokio::test]
async fn a_queue_failure_fails_the_invocation() {
    let store = awkward_uploads();
    let err = handled("s3-put-awkward-keys.json", &store, &MemoryQueue::failing())
        .await
        .unwrap_err();
    assert_eq!(err.failed, 4);
}
