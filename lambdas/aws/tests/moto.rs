//! The adapters and both steps against a real S3/SQS API (moto): S3's and SQS's
//! actual semantics, not our fakes' idea of them.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use augment_aws::testing::{self, Moto};
use augment_aws::{Clients, S3Store, SqsQueue};
use augment_pipeline::makers::{assert_red_corner_turned, red_corner_photo};
use augment_pipeline::memory::{keys, keys_by_page};
use augment_pipeline::ports::{ObjectStore, PutObject, StoreError, TaskQueue};
use augment_pipeline::steps::{UploadOutcome, make_rotation, process_upload};
use augment_pipeline::{Angle, FailedRecord, RejectCode, RotationTask, UploadKey};

const BUCKET: &str = "augment-test";

struct Stack {
    _moto: Moto,
    clients: Clients,
    store: S3Store,
    queue: SqsQueue,
    queue_url: String,
}

async fn stack() -> Stack {
    let (moto, clients, queue_url) = testing::moto_with_bucket_and_queue(BUCKET, "rotations")
        .await
        .unwrap();
    Stack {
        store: S3Store::new(clients.s3.clone(), BUCKET),
        queue: SqsQueue::new(clients.sqs.clone(), &queue_url),
        clients,
        queue_url,
        _moto: moto,
    }
}

impl Stack {
    /// The processor's step on `key`, as the upload's S3 event starts it.
    async fn process(&self, key: &str) -> UploadOutcome {
        process_upload(&self.store, &self.queue, BUCKET, key)
            .await
            .unwrap()
    }

    /// Writes `object` through the S3 store.
    async fn put(&self, object: PutObject) {
        self.store.put(object).await.unwrap();
    }

    /// The rotation tasks on the queue (received, not deleted).
    async fn tasks(&self) -> Vec<RotationTask> {
        testing::receive_all(&self.clients, &self.queue_url)
            .await
            .unwrap()
            .iter()
            .map(|message| RotationTask::from_json(message.body().unwrap()).unwrap())
            .collect()
    }
}

async fn upload(stack: &Stack, key: &str, body: Vec<u8>) {
    testing::put_object(&stack.clients, BUCKET, key, body)
        .await
        .unwrap();
}

#[tokio::test]
async fn the_s3_store_keeps_awkward_keys_metadata_and_limits() {
    let stack = stack().await;
    let key = "dir/sub folder/ünï côde+100%.jpg";
    stack
        .put(PutObject {
            metadata: vec![("source-key", "original-uploads/x y.jpg".into())],
            ..PutObject::new(key, b"12345", "image/jpeg")
        })
        .await;

    let head = stack
        .clients
        .s3
        .head_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("image/jpeg"));
    assert_eq!(
        head.metadata().unwrap()["source-key"],
        "original-uploads/x y.jpg"
    );
    assert_eq!(stack.store.head(key).await.unwrap().unwrap().size_bytes, 5);
    assert_eq!(stack.store.head("nope").await.unwrap(), None);
    assert_eq!(stack.store.get(key, 5).await.unwrap(), b"12345");
    assert!(matches!(
        stack.store.get(key, 4).await,
        Err(StoreError::TooLarge { .. })
    ));
    assert!(matches!(
        stack.store.get("nope", 4).await,
        Err(StoreError::NotFound { .. })
    ));
    let listed = keys(&stack.store, "dir/").await.unwrap();
    assert_eq!(listed, [key]);
    assert!(
        stack
            .store
            .head(key)
            .await
            .unwrap()
            .unwrap()
            .last_modified
            .is_some()
    );
    // Page by page, each object once (S3's continuation token as the cursor).
    for n in 0..3 {
        stack
            .store
            .put(PutObject::new(format!("paged/{n}"), vec![], "x"))
            .await
            .unwrap();
    }
    assert_eq!(
        keys_by_page(&stack.store, "paged/", 2).await.unwrap(),
        [vec!["paged/0", "paged/1"], vec!["paged/2"]]
    );
    stack.store.delete(key).await.unwrap();
    stack.store.delete(key).await.unwrap();
    assert_eq!(stack.store.head(key).await.unwrap(), None);
}

#[tokio::test]
async fn a_missing_bucket_is_a_fault_not_a_missing_object() {
    let stack = stack().await;
    let store = S3Store::new(stack.clients.s3.clone(), "no-such-bucket");
    let err = store.get("a.jpg", 10).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Backend {
                transient: false,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_sqs_queue_sends_one_batch_of_four() {
    let stack = stack().await;
    let tasks = UploadKey::parse("original-uploads/a b+c.jpg")
        .unwrap()
        .tasks(BUCKET);
    stack.queue.send_batch(&tasks).await.unwrap();
    let mut received = stack.tasks().await;
    received.sort_by_key(|t| t.angle);
    assert_eq!(received, tasks);
}

#[tokio::test]
async fn a_queue_that_does_not_exist_fails_without_retry() {
    let stack = stack().await;
    let queue = SqsQueue::new(
        stack.clients.sqs.clone(),
        format!("{}-missing", stack.queue_url),
    );
    let tasks = UploadKey::parse("original-uploads/a.jpg")
        .unwrap()
        .tasks(BUCKET);
    let err = queue.send_batch(&tasks).await.unwrap_err();
    assert!(!err.is_transient(), "{err}");
}

#[tokio::test]
async fn both_steps_run_end_to_end_on_s3_and_sqs() {
    let stack = stack().await;
    let key = "original-uploads/trip 2024/beach+sun ☀.JPG";
    upload(&stack, key, red_corner_photo()).await;

    let outcome = stack.process(key).await;
    assert!(
        matches!(outcome, UploadOutcome::Processed { .. }),
        "{outcome:?}"
    );
    let tasks = stack.tasks().await;
    assert_eq!(tasks.len(), 4);
    for task in &tasks {
        make_rotation(&stack.store, task).await.unwrap();
    }

    for angle in Angle::ALL {
        let key = format!("augmented-images/{angle}-degree/trip 2024/beach+sun ☀_{angle}.jpg");
        let bytes = stack.store.get(&key, 1 << 20).await.unwrap();
        assert_red_corner_turned(&bytes, angle, &format!("{angle}°"));
    }
}

#[tokio::test]
async fn bad_uploads_leave_failed_records_in_the_bucket() {
    let stack = stack().await;
    upload(
        &stack,
        "original-uploads/notes.jpg",
        b"not an image at all".to_vec(),
    )
    .await;
    let mut huge = red_corner_photo();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    upload(&stack, "original-uploads/huge.png", huge).await;

    for (key, name, code) in [
        (
            "original-uploads/notes.jpg",
            "notes",
            RejectCode::UnsupportedType,
        ),
        ("original-uploads/huge.png", "huge", RejectCode::TooLarge),
    ] {
        let outcome = stack.process(key).await;
        assert!(
            matches!(outcome, UploadOutcome::Rejected { .. }),
            "{outcome:?}"
        );
        let record = stack
            .store
            .get(&format!("failed/{name}.json"), 1 << 16)
            .await
            .unwrap();
        let record: FailedRecord = serde_json::from_slice(&record).unwrap();
        assert_eq!(record.code, code);
    }
    let tasks = stack.tasks().await;
    assert!(tasks.is_empty(), "no tasks for rejected uploads: {tasks:?}");
}

/// The order rule on S3 itself: outputs record the event's sequencer in their
/// metadata (read back by `head_metadata`), a late older event writes nothing,
/// and a later success deletes the stale failed record.
#[tokio::test]
async fn on_s3_outputs_record_their_order_and_a_success_clears_the_failed_record() {
    use augment_pipeline::contract::Sequencer;
    use augment_pipeline::steps::{SkipReason, UploadEvent, process_upload_event};

    let stack = stack().await;
    let key = "original-uploads/order/cat.jpg";
    let event = |sequencer| UploadEvent {
        sequencer: Some(sequencer),
        ..UploadEvent::key(BUCKET, key)
    };
    let (older, newer) = (
        Sequencer::parse("0055AED6DCD90281E5").unwrap(),
        Sequencer::parse("0055AED6DCD90281F0").unwrap(),
    );
    assert_eq!(stack.store.head_metadata(key).await.unwrap(), None);
    let run = async |sequencer| {
        process_upload_event(&stack.store, &stack.queue, event(sequencer))
            .await
            .unwrap()
    };

    upload(&stack, key, b"not an image".to_vec()).await;
    let outcome = run(&older).await;
    assert!(
        matches!(outcome, UploadOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    let failed = stack
        .store
        .head_metadata("failed/order/cat.json")
        .await
        .unwrap();
    assert!(
        failed
            .unwrap()
            .contains(&("source-sequencer".into(), older.as_str().into())),
    );

    upload(&stack, key, red_corner_photo()).await;
    let outcome = run(&newer).await;
    assert!(
        matches!(outcome, UploadOutcome::Processed { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        stack.store.head("failed/order/cat.json").await.unwrap(),
        None
    );
    let processed = stack
        .store
        .head_metadata("processed/order/cat_256x256.jpg")
        .await
        .unwrap()
        .unwrap();
    assert!(processed.contains(&("source-sequencer".into(), newer.as_str().into())));
    assert!(processed.contains(&("source-key".into(), key.into())));

    // The older event again, late: nothing is written.
    let outcome = run(&older).await;
    assert_eq!(
        outcome.skip_reason(),
        Some(SkipReason::Superseded),
        "{outcome:?}"
    );
    let tasks = stack.tasks().await;
    assert_eq!(tasks.len(), 4, "the newer upload's tasks only: {tasks:?}");
}

/// Tags ride on the upload's own `PutObject` (the app's hash for the duplicate
/// question) and come back by `GetObjectTagging`, awkward keys and values
/// included; a missing key has none.
#[tokio::test]
async fn the_s3_store_writes_tags_with_the_object_and_reads_them_back() {
    let stack = stack().await;
    let key = "original-uploads/dir/ünï côde+100%.jpg";
    let tagged = PutObject {
        tags: vec![("sha256", "ab12".into()), ("note", "a b+c=d/x:y@z".into())],
        ..PutObject::new(key, b"12345", "image/jpeg")
    };
    stack.put(tagged).await;

    let mut tags = stack.store.object_tags(key).await.unwrap().unwrap();
    tags.sort();
    assert_eq!(
        tags,
        [
            ("note".to_owned(), "a b+c=d/x:y@z".to_owned()),
            ("sha256".to_owned(), "ab12".to_owned())
        ]
    );
    assert_eq!(
        stack
            .store
            .object_tags("original-uploads/nope.jpg")
            .await
            .unwrap(),
        None
    );
}

/// A task whose processed image was deleted before it ran ends as gone on S3
/// itself, and writes nothing.
#[tokio::test]
async fn on_s3_a_task_of_a_deleted_image_is_gone_not_failed() {
    use augment_pipeline::steps::RotationOutcome;

    let stack = stack().await;
    let key = "original-uploads/deleted/cat.jpg";
    upload(&stack, key, red_corner_photo()).await;
    stack.process(key).await;
    let tasks = stack.tasks().await;
    stack.store.delete(&tasks[0].processed_key).await.unwrap();

    for task in &tasks {
        assert_eq!(
            make_rotation(&stack.store, task).await.unwrap(),
            RotationOutcome::Gone
        );
    }
    assert!(
        stack
            .store
            .list("augmented-images/")
            .await
            .unwrap()
            .is_empty(),
        "nothing written"
    );
}
