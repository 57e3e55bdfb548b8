//! The two steps over both kinds of port: an in-memory fake (to steer every
//! branch, including faults) and the real folder store and channel of local mode.

use augment_pipeline::local::{
    ChannelQueue, FolderStore, LOCAL_BUCKET, LocalPipeline, PipelineEvent,
};
use augment_pipeline::memory::{MemoryQueue, MemoryStore};
use augment_pipeline::ports::{ObjectStore, PutObject, QueueError, StoreError, TaskQueue};
use augment_pipeline::steps::{SkipReason, UploadOutcome, make_rotation, process_upload};
use augment_pipeline::{Angle, FailedRecord, RejectCode, RotationTask, StepError, imaging};
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
    assert_eq!(processed.metadata, vec![("source-key", KEY.to_owned())]);
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
    let outcome = process_upload(
        &store,
        &MemoryQueue::default(),
        "b",
        "original-uploads/big.png",
    )
    .await
    .unwrap();
    let UploadOutcome::Rejected { rejection, .. } = outcome else {
        panic!("{outcome:?}")
    };
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
    let outcome = process_upload(
        &store,
        &MemoryQueue::default(),
        "b",
        "original-uploads/big.png",
    )
    .await
    .unwrap();
    let UploadOutcome::Rejected { rejection, .. } = outcome else {
        panic!("{outcome:?}")
    };
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

#[tokio::test]
async fn a_rotation_without_its_processed_image_fails_for_retry() {
    let store = MemoryStore::default();
    let task = augment_pipeline::UploadKey::parse(KEY).unwrap().tasks("b")[1].clone();
    let err = make_rotation(&store, &task).await.unwrap_err();
    assert!(
        matches!(err, StepError::Store(StoreError::NotFound { .. })),
        "{err}"
    );

    store.insert(&task.processed_key, b"garbage".to_vec());
    let err = make_rotation(&store, &task).await.unwrap_err();
    assert!(
        matches!(err, StepError::BadProcessedImage { .. }) && !err.is_transient(),
        "{err}"
    );
}

#[tokio::test]
async fn the_folder_store_refuses_keys_that_escape_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path().join("bucket"));
    for key in [
        "../x.jpg",
        "a/../../x.jpg",
        "/etc/passwd",
        "a//b.jpg",
        "a\\b.jpg",
        "",
        "./a.jpg",
    ] {
        let put = PutObject {
            key: key.into(),
            body: vec![1],
            content_type: "x",
            metadata: vec![],
        };
        let err = store.put(put).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidKey { .. }), "{key}: {err}");
    }
    assert!(!dir.path().join("x.jpg").exists());
}

#[tokio::test]
async fn the_folder_store_behaves_like_a_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let put = |key: &str, body: &[u8]| PutObject {
        key: key.into(),
        body: body.to_vec(),
        content_type: "x",
        metadata: vec![],
    };
    store.put(put("b/ünï côde+.jpg", b"12345")).await.unwrap();
    store.put(put("a.jpg", b"1")).await.unwrap();
    store.put(put("b/c/d.png", b"12")).await.unwrap();

    assert_eq!(
        store
            .head("b/ünï côde+.jpg")
            .await
            .unwrap()
            .unwrap()
            .size_bytes,
        5
    );
    assert_eq!(store.head("missing").await.unwrap(), None);
    assert_eq!(
        store.head("b").await.unwrap(),
        None,
        "a folder is not an object"
    );
    let keys: Vec<String> = store
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["a.jpg", "b/c/d.png", "b/ünï côde+.jpg"]);
    let keys: Vec<String> = store
        .list("b/")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["b/c/d.png", "b/ünï côde+.jpg"]);
    // A prefix ending inside a name, a folder that is not there, an escape.
    for (prefix, expected) in [
        ("b/ü", &["b/ünï côde+.jpg"][..]),
        ("b/c", &["b/c/d.png"]),
        ("b/c/", &["b/c/d.png"]),
        ("a", &["a.jpg"]),
        ("zz/", &[]),
        ("../", &[]),
        ("b/../", &[]),
    ] {
        let keys: Vec<String> = store
            .list(prefix)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert_eq!(keys, expected, "{prefix}");
    }

    assert_eq!(store.get("b/ünï côde+.jpg", 5).await.unwrap(), b"12345");
    assert!(matches!(
        store.get("b/ünï côde+.jpg", 4).await,
        Err(StoreError::TooLarge { limit_bytes: 4, .. })
    ));
    assert!(matches!(
        store.get("nope", 4).await,
        Err(StoreError::NotFound { .. })
    ));

    store.put(put("a.jpg", b"overwritten")).await.unwrap();
    assert_eq!(store.get("a.jpg", 100).await.unwrap(), b"overwritten");
    store.delete("a.jpg").await.unwrap();
    store.delete("a.jpg").await.unwrap();
    assert_eq!(store.head("a.jpg").await.unwrap(), None);
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains(".augment-tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test]
async fn an_import_reports_progress_and_a_refused_chunk_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.bin");
    let size = 200 * 1024 + 17;
    std::fs::write(&source, vec![7_u8; size]).unwrap();
    let store = FolderStore::new(dir.path().join("bucket"));

    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    store
        .import_file_with_progress("in/a.jpg", &source, move |copied| {
            record.lock().unwrap().push(copied);
            Ok(())
        })
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last().copied(), Some(size as u64));
    assert_eq!(store.get("in/a.jpg", 1 << 20).await.unwrap().len(), size);

    let err = store
        .import_file_with_progress("in/b.jpg", &source, |copied| {
            if copied > 64 * 1024 {
                Err(std::io::Error::new(
                    std::io::ErrorKind::Interrupted,
                    "cancelled",
                ))
            } else {
                Ok(())
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Backend { .. }), "{err}");
    assert_eq!(store.head("in/b.jpg").await.unwrap(), None);
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.contains(".augment-tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[tokio::test]
async fn the_channel_queue_delivers_in_order_and_reports_a_closed_queue() {
    let (queue, mut receiver) = ChannelQueue::new();
    let tasks = augment_pipeline::UploadKey::parse(KEY)
        .unwrap()
        .tasks(LOCAL_BUCKET);
    queue.send_batch(&tasks).await.unwrap();
    for task in &tasks {
        assert_eq!(receiver.recv().await.as_ref(), Some(task));
    }
    drop(receiver);
    assert!(matches!(
        queue.send_batch(&tasks).await,
        Err(QueueError::Closed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_mode_runs_both_steps_for_each_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (pipeline, mut events) = LocalPipeline::start(dir.path(), 2);
    let uploads = [
        ("original-uploads/one.jpg", photo(500, 300)),
        ("original-uploads/two.jpg", b"nope".to_vec()),
    ];
    for (key, body) in &uploads {
        pipeline
            .store()
            .put(PutObject {
                key: (*key).into(),
                body: body.clone(),
                content_type: "x",
                metadata: vec![],
            })
            .await
            .unwrap();
        pipeline.notify_upload((*key).into()).await;
    }

    let (mut processed, mut rejected, mut rotations) = (0, 0, 0);
    while processed + rejected < 2 || rotations < 4 * processed {
        match events.recv().await.unwrap() {
            PipelineEvent::Upload { result, .. } => match result.unwrap() {
                UploadOutcome::Processed { .. } => processed += 1,
                UploadOutcome::Rejected { .. } => rejected += 1,
                other @ UploadOutcome::Skipped { .. } => panic!("{other:?}"),
            },
            PipelineEvent::Rotation { result, .. } => {
                result.unwrap();
                rotations += 1;
            }
        }
    }
    assert_eq!((processed, rejected, rotations), (1, 1, 4));
    let keys: Vec<String> = pipeline
        .store()
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(
        keys,
        [
            "augmented-images/180-degree/one_180.jpg",
            "augmented-images/270-degree/one_270.jpg",
            "augmented-images/360-degree/one_360.jpg",
            "augmented-images/90-degree/one_90.jpg",
            "failed/two.json",
            "original-uploads/one.jpg",
            "original-uploads/two.jpg",
            "processed/one_256x256.jpg",
        ]
    );
}
