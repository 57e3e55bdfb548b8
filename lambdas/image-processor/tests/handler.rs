//! The handler on real S3 event JSON, over the in-memory ports: every branch.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use augment_pipeline::memory::{MemoryQueue, MemoryStore};
use augment_pipeline::{FailedRecord, RejectCode, imaging};
use aws_lambda_events::event::s3::S3Event;
use image::{Rgb, RgbImage};
use image_processor::{Summary, handle};

fn fixture(name: &str) -> S3Event {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn photo() -> Vec<u8> {
    imaging::encode_jpeg(&RgbImage::from_fn(300, 200, |x, _| {
        Rgb([(x % 256) as u8, 80, 160])
    }))
}

#[tokio::test]
async fn awkward_keys_are_decoded_and_processed() {
    let store = MemoryStore::default();
    let decoded = [
        "original-uploads/holiday 2024/beach day.JPG",
        "original-uploads/a+b=c.jpeg",
        "original-uploads/100% café ☀.png",
        "original-uploads/deep/sub/folder/x.jpg",
    ];
    for key in decoded {
        store.insert(key, photo());
    }
    let queue = MemoryQueue::default();

    let summary = handle(
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

    assert_eq!(
        summary,
        Summary {
            processed: 4,
            rejected: 0,
            skipped: 0
        }
    );
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
    let summary = handle(fixture("s3-ignored.json"), "req", |_| &store, &queue)
        .await
        .unwrap();
    assert_eq!(
        summary,
        Summary {
            processed: 0,
            rejected: 0,
            skipped: 2
        }
    );
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
    let summary = handle(
        fixture("s3-too-large.json"),
        "req",
        |_| &store,
        &MemoryQueue::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.rejected, 1);
    assert_eq!(store.get_count(), 0);
    let record: FailedRecord =
        serde_json::from_slice(&store.object("failed/huge.json").unwrap().body).unwrap();
    assert_eq!(record.code, RejectCode::TooLarge);
    assert!(record.message.contains("12 MiB"), "{}", record.message);
}

#[tokio::test]
async fn bad_input_is_final_and_the_invocation_succeeds() {
    let store = MemoryStore::with(
        "original-uploads/notes.jpg",
        b"plain text, not a jpeg".to_vec(),
    );
    let summary = handle(
        fixture("s3-text-named-jpg.json"),
        "req",
        |_| &store,
        &MemoryQueue::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        summary,
        Summary {
            processed: 0,
            rejected: 1,
            skipped: 0
        }
    );
    let record: FailedRecord =
        serde_json::from_slice(&store.object("failed/notes.json").unwrap().body).unwrap();
    assert_eq!(record.code, RejectCode::UnsupportedType);
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
async fn a_fault_fails_the_invocation_after_the_other_records_are_done() {
    let store = awkward_uploads();
    store.make_flaky("original-uploads/a+b=c.jpeg");
    let err = handle(
        fixture("s3-put-awkward-keys.json"),
        "req",
        |_| &store,
        &MemoryQueue::default(),
    )
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
    let err = handle(
        fixture("s3-put-awkward-keys.json"),
        "req",
        |_| &store,
        &MemoryQueue::failing(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.failed, 4);
}
