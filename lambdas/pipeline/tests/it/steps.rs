//! The two steps over the in-memory fake of the ports (to steer every branch,
//! including faults); the real folder store and channel of local mode are tested
//! in `augment-local`.

use std::sync::atomic::Ordering;

use augment_pipeline::memory::{Hook, Hooked, MemoryQueue, MemoryStore};
use augment_pipeline::ports::{ObjectStore, StoreFuture};
use augment_pipeline::provenance;
use augment_pipeline::steps::{
    RotationOutcome, SkipReason, UploadOutcome, make_rotation, process_upload,
};
use augment_pipeline::{
    Angle, FailedRecord, RejectCode, Rejection, RotationTask, StepError, imaging,
};
use image::{Rgb, RgbImage};

fn photo(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    imaging::encode_jpeg(&image)
}

fn decoded(bytes: &[u8]) -> RgbImage {
    let format = augment_pipeline::sniff::sniff(bytes).expect("an image");
    imaging::decode(bytes, format, 256).expect("decodes")
}

const KEY: &str = "original-uploads/holiday/beach day.JPG";

/// Processes `key` from `store`, which must be rejected.
async fn rejection_of(store: &MemoryStore, key: &str) -> Rejection {
    let outcome = process_upload(store, &MemoryQueue::default(), "b", key)
        .await
        .unwrap();
    let UploadOutcome::Rejected { rejection, .. } = outcome else {
        panic!("{outcome:?}")
    };
    rejection
}

#[tokio::test]
async fn a_good_upload_is_processed_and_queues_four_tasks() {
    let store = MemoryStore::with(KEY, photo(800, 600));
    let queue = MemoryQueue::default();

    let outcome = process_upload(&store, &queue, "bucket", KEY).await.unwrap();

    let UploadOutcome::Processed { processed_key, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(processed_key, "processed/holiday/beach day_256x256.jpg");
    let processed = store.object(&processed_key).unwrap();
    assert_eq!(processed.content_type, "image/jpeg");
    // The source key and the provenance: the upload's SHA-256 (as `sha256sum`
    // prints it), this pipeline's version and its parameters.
    let source_sha256 = provenance::sha256_hex(&photo(800, 600));
    assert_eq!(
        processed.metadata,
        vec![
            ("source-key", KEY.to_owned()),
            ("source-sha256", source_sha256.clone()),
            ("pipeline-version", env!("CARGO_PKG_VERSION").to_owned()),
            (
                "pipeline-parameters",
                "canvas=256;fill=ffffff;filter=lanczos3;quality=90;subsampling=420".to_owned()
            ),
        ]
    );
    assert_eq!(decoded(&processed.body).dimensions(), (256, 256));

    let batches = queue.batches();
    assert_eq!(batches.len(), 1, "one SendMessageBatch per upload");
    let angles: Vec<u16> = batches[0].iter().map(|t| t.angle.degrees()).collect();
    assert_eq!(angles, [90, 180, 270, 360]);
    for task in &batches[0] {
        assert_eq!(task.bucket, "bucket");
        assert_eq!(task.source_key, KEY);
        assert_eq!(task.processed_key, processed_key);
        assert_eq!(RotationTask::from_json(&task.to_json()).unwrap(), *task);
    }
}

#[tokio::test]
async fn rotations_write_the_contract_keys() {
    let store = MemoryStore::with(KEY, photo(640, 480));
    let queue = MemoryQueue::default();
    process_upload(&store, &queue, "bucket", KEY).await.unwrap();
    let tasks = queue.batches()[0].clone();
    for task in &tasks {
        make_rotation(&store, task).await.unwrap();
    }
    let keys = store.keys();
    for angle in Angle::ALL {
        let key = format!("augmented-images/{angle}-degree/holiday/beach day_{angle}.jpg");
        assert!(keys.contains(&key), "{key} in {keys:?}");
        let object = store.object(&key).unwrap();
        assert_eq!(object.content_type, "image/jpeg");
        assert_eq!(decoded(&object.body).dimensions(), (256, 256));
        // Each rotation records what its processed image records.
        assert_eq!(
            object.metadata,
            store
                .object("processed/holiday/beach day_256x256.jpg")
                .unwrap()
                .metadata
        );
    }
}

#[tokio::test]
async fn bad_input_writes_a_failed_record_and_nothing_else() {
    let store = MemoryStore::with("original-uploads/notes.jpg", b"just some text".to_vec());
    let queue = MemoryQueue::default();

    let outcome = process_upload(&store, &queue, "b", "original-uploads/notes.jpg")
        .await
        .unwrap();

    let UploadOutcome::Rejected { rejection, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejection.code, RejectCode::UnsupportedType);
    let record = store.object("failed/notes.json").unwrap();
    assert_eq!(record.content_type, "application/json");
    let record: FailedRecord = serde_json::from_slice(&record.body).unwrap();
    assert_eq!(record.code, RejectCode::UnsupportedType);
    assert_eq!(record.source_key, "original-uploads/notes.jpg");
    assert_eq!(record.message, rejection.message);
    assert_eq!(
        store.keys(),
        ["failed/notes.json", "original-uploads/notes.jpg"]
    );
    assert!(queue.batches().is_empty());
}

#[tokio::test]
async fn oversized_uploads_are_rejected_before_download() {
    let big = vec![0_u8; 10 * 1024 * 1024 + 1];
    let store = MemoryStore::with("original-uploads/big.png", big);
    let rejection = rejection_of(&store, "original-uploads/big.png").await;
    assert_eq!(rejection.code, RejectCode::TooLarge);
    assert!(
        rejection.message.contains("10 MiB"),
        "{}",
        rejection.message
    );
    assert_eq!(store.get_count(), 0, "the object is never downloaded");
}

#[tokio::test]
async fn a_lying_size_is_caught_while_reading() {
    let store = MemoryStore::with("original-uploads/big.png", vec![0_u8; 10 * 1024 * 1024 + 1]);
    *store.head_size_override.lock().unwrap() = Some(1000);
    let rejection = rejection_of(&store, "original-uploads/big.png").await;
    assert_eq!(rejection.code, RejectCode::TooLarge);
}

#[tokio::test]
async fn other_prefixes_and_folders_are_skipped_untouched() {
    for (key, reason) in [
        ("processed/cat_256x256.jpg", SkipReason::NotAnUpload),
        (
            "augmented-images/90-degree/cat_90.jpg",
            SkipReason::NotAnUpload,
        ),
        ("original-uploads/holiday/", SkipReason::Folder),
        ("original-uploads/deleted.jpg", SkipReason::Gone),
    ] {
        let store = MemoryStore::with(key, photo(10, 10));
        if reason == SkipReason::Gone {
            store.delete(key).await.unwrap();
        }
        let before = store.keys();
        let outcome = process_upload(&store, &MemoryQueue::default(), "b", key)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            UploadOutcome::Skipped {
                key: key.into(),
                reason
            }
        );
        assert_eq!(store.keys(), before, "{key}: nothing written");
    }
}

#[tokio::test]
async fn transient_faults_are_errors_to_retry_not_rejections() {
    let store = MemoryStore::with(KEY, photo(64, 64));
    store.make_flaky(KEY);
    let err = process_upload(&store, &MemoryQueue::default(), "b", KEY)
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(
        store.keys(),
        [KEY],
        "no failed record for a fault that is not the input's"
    );

    let store = MemoryStore::with(KEY, photo(64, 64));
    let queue = MemoryQueue::failing();
    let err = process_upload(&store, &queue, "b", KEY).await.unwrap_err();
    assert!(
        matches!(err, StepError::Queue(_)) && err.is_transient(),
        "{err}"
    );
}

#[tokio::test]
async fn processing_twice_gives_the_same_objects() {
    let store = MemoryStore::with(KEY, photo(300, 200));
    let queue = MemoryQueue::default();
    process_upload(&store, &queue, "b", KEY).await.unwrap();
    let first = store
        .object("processed/holiday/beach day_256x256.jpg")
        .unwrap();
    process_upload(&store, &queue, "b", KEY).await.unwrap();
    assert_eq!(
        store
            .object("processed/holiday/beach day_256x256.jpg")
            .unwrap(),
        first
    );
    let batches = queue.batches();
    assert_eq!(
        batches[0], batches[1],
        "a redelivered event queues the same tasks"
    );

    let task = &batches[0][0];
    make_rotation(&store, task).await.unwrap();
    let rotated = store.object(&task.output_key).unwrap();
    make_rotation(&store, task).await.unwrap();
    assert_eq!(store.object(&task.output_key).unwrap(), rotated);
}

/// A task whose image was deleted before it ran (Delete… while rotations were
/// queued) is done, not failed: nothing is written and SQS does not try it again
/// into the dead-letter queue. Also where the store answers 403 for a missing key
/// (S3, to a caller without `s3:ListBucket`): a one-key listing tells them apart.
#[tokio::test]
async fn a_rotation_whose_processed_image_is_gone_ends_quietly() {
    let task = augment_pipeline::UploadKey::parse(KEY).unwrap().tasks("b")[1].clone();
    for forbidden in [false, true] {
        let store = MemoryStore::default();
        store
            .missing_is_forbidden
            .store(forbidden, Ordering::SeqCst);
        assert_eq!(
            make_rotation(&store, &task).await.unwrap(),
            RotationOutcome::Gone,
            "403 for a missing key: {forbidden}"
        );
        assert!(store.keys().is_empty(), "nothing written");
    }

    // A fault is not a vanished image: it is retried.
    let store = MemoryStore::with(&task.processed_key, photo(256, 256));
    store.make_flaky(&task.processed_key);
    let err = make_rotation(&store, &task).await.unwrap_err();
    assert!(err.is_transient(), "{err}");

    let store = MemoryStore::with(&task.processed_key, b"garbage".to_vec());
    let err = make_rotation(&store, &task).await.unwrap_err();
    assert!(
        matches!(err, StepError::BadProcessedImage { .. }) && !err.is_transient(),
        "{err}"
    );
}

/// A store where the image is deleted (processed image first, as the app's
/// Delete… does, then the rotations) while a rotation of it is being written:
/// the delete lands just before the rotation's `put`.
struct DeletedDuringWrite {
    task: RotationTask,
}

impl Hook for DeletedDuringWrite {
    fn before_put<'a>(&'a self, inner: &'a MemoryStore, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if key == self.task.output_key {
                inner.delete(&self.task.processed_key).await?;
                inner.delete(&self.task.output_key).await?;
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_rotation_never_leaves_an_output_after_its_image_was_deleted() {
    let store = MemoryStore::with(KEY, photo(300, 200));
    let queue = MemoryQueue::default();
    process_upload(&store, &queue, "b", KEY).await.unwrap();
    let task = queue.batches()[0][2].clone();
    let racing = Hooked {
        inner: store,
        hook: DeletedDuringWrite { task: task.clone() },
    };

    assert_eq!(
        make_rotation(&racing, &task).await.unwrap(),
        RotationOutcome::Gone
    );
    assert_eq!(
        racing.inner.keys(),
        [KEY],
        "no orphan rotation: {:?}",
        racing.inner.keys()
    );
}
