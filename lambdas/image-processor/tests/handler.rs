//! The handler on real S3 event JSON, over the in-memory ports: every branch.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use std::sync::{Arc, Mutex};

use augment_pipeline::contract::SEQUENCER_METADATA;
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

#[tokio::test]
async fn a_late_older_event_of_a_key_writes_nothing_over_the_newer() {
    let store = MemoryStore::with("original-uploads/cat.jpg", photo());
    let queue = MemoryQueue::default();
    let got = handled("s3-put-twice-newer-first.json", &store, &queue)
        .await
        .unwrap();
    assert_eq!(got, summary(1, 0, 1), "the older record is skipped");
    let processed = store.object("processed/cat_256x256.jpg").unwrap();
    assert!(
        processed
            .metadata
            .contains(&(SEQUENCER_METADATA, "0055AED6DCD90281F0".to_owned())),
        "{:?}",
        processed.metadata
    );
    let batches = queue.batches();
    assert_eq!(batches.len(), 1);
    assert!(
        batches[0]
            .iter()
            .all(|task| task.sequencer.as_deref() == Some("0055AED6DCD90281F0"))
    );
}

/// `cat.png`, uploaded after `cat.jpg`, arrives first; `cat.jpg`'s event comes
/// late. Their sequencers are per key (here the newer upload's is the smaller):
/// the processor orders them by the events' `eventTime`, which it records.
#[tokio::test]
async fn uploads_of_two_extensions_are_ordered_by_event_time() {
    let store = MemoryStore::with("original-uploads/cat.jpg", photo());
    store.insert("original-uploads/cat.png", photo());
    let queue = MemoryQueue::default();
    let mut event = fixture("s3-put-twice-newer-first.json");
    let newer = &mut event.records[0];
    newer.s3.object.key = Some("original-uploads/cat.png".into());
    newer.s3.object.sequencer = Some("0055AED6DCD90281A0".into());
    newer.event_time = "2026-11-28T12:00:05.250Z".parse().unwrap();
    let older = &mut event.records[1];
    older.s3.object.sequencer = Some("0055AED6DCD90281F0".into());
    older.event_time = "2026-11-28T12:00:00.000Z".parse().unwrap();

    let got = handle(event, "req", |_| &store, &queue).await.unwrap();

    assert_eq!(got, summary(1, 0, 1), "the older cat.jpg is skipped");
    let processed = store.object("processed/cat_256x256.jpg").unwrap();
    for entry in [
        ("source-key", "original-uploads/cat.png"),
        ("source-event-time", "2026-11-28T12:00:05.250Z"),
    ] {
        assert!(
            processed.metadata.contains(&(entry.0, entry.1.to_owned())),
            "{entry:?} in {:?}",
            processed.metadata
        );
    }
    assert_eq!(queue.batches().len(), 1);
    assert!(
        queue.batches()[0]
            .iter()
            .all(|task| task.source_key == "original-uploads/cat.png")
    );
}

/// `s3-text-named-jpg.json` with its one record's key set to `key` (encoded).
fn event_for(key: &str) -> S3Event {
    let mut event = fixture("s3-text-named-jpg.json");
    event.records[0].s3.object.key = Some(key.to_owned());
    event
}

#[tokio::test]
async fn a_name_too_long_for_the_rotation_keys_gets_a_record_not_a_dead_letter() {
    // 1,000 bytes of name: the upload and processed keys fit S3, the rotations not.
    let name = format!("{}/{}", "a".repeat(200), "b".repeat(799));
    let key = format!("original-uploads/{name}.jpg");
    let store = MemoryStore::with(&key, photo());
    let queue = MemoryQueue::default();
    let got = handle(event_for(&key), "req", |_| &store, &queue)
        .await
        .unwrap();
    assert_eq!(got, summary(0, 1, 0));
    let upload = augment_pipeline::UploadKey::parse(&key).unwrap();
    let record = failed_record(&store, &upload.failed_key());
    assert_eq!(record.code, RejectCode::NameTooLong);
    assert!(queue.batches().is_empty());
    assert_eq!(store.get_count(), 0);
}

/// Everything the handler logs while `work` runs, as text.
async fn logged<T>(work: impl Future<Output = T>) -> (T, String) {
    #[derive(Clone, Default)]
    struct Log(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Log {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime is single-threaded: the handler logs on this thread.
    let _default = tracing::subscriber::set_default(subscriber);
    let result = work.await;
    let text = String::from_utf8_lossy(&log.0.lock().unwrap()).into_owned();
    (result, text)
}

#[tokio::test]
async fn a_garbage_png_gets_a_plain_message_and_the_decoder_detail_only_in_the_log() {
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(RgbImage::new(8, 8))
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let mut garbage = png.into_inner()[..33].to_vec();
    garbage.extend((0..200_u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    let key = "original-uploads/notes.jpg";
    let store = MemoryStore::with(key, garbage);

    let (got, log) = logged(handle(
        event_for(key),
        "req",
        |_| &store,
        &MemoryQueue::default(),
    ))
    .await;

    assert_eq!(got.unwrap(), summary(0, 1, 0));
    let record = failed_record(&store, "failed/notes.json");
    assert_eq!(record.code, RejectCode::Corrupt);
    assert_eq!(
        record.message,
        "This is not a valid PNG file: the data is damaged or cut short. Export or download the image again."
    );
    let raw = String::from_utf8(store.object("failed/notes.json").unwrap().body).unwrap();
    assert!(!raw.contains("detail"), "{raw}");
    assert!(
        log.contains("detail=") && log.contains("the PNG"),
        "the log keeps what the decoder said: {log}"
    );
}

/// The `s3_event` fuzz target's saved corpus (seeds and crashes), through the
/// real handler: every event it can parse is handled without a panic.
#[tokio::test]
async fn the_saved_fuzz_corpus_of_events_is_handled() {
    let folder = format!(
        "{}/../pipeline/fuzz/corpus/s3_event",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut handled_events = 0;
    for entry in std::fs::read_dir(folder).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let Ok(event) = serde_json::from_slice::<S3Event>(&bytes) else {
            continue;
        };
        let store = MemoryStore::default();
        // Nothing is in the store: every upload is gone, or refused by its name.
        let got = handle(event, "req", |_| &store, &MemoryQueue::default())
            .await
            .unwrap();
        assert_eq!(got.processed, 0);
        handled_events += 1;
    }
    assert!(handled_events >= 5, "{handled_events}");
}

/// A key S3 takes whose characters SQS refuses in a body as they are (U+FFFE,
/// U+FFFF): its tasks go out as JSON escapes, which SQS carries and the worker
/// reads back as the same key.
#[tokio::test]
async fn a_key_with_noncharacters_is_queued_as_json_sqs_carries() {
    let key = "original-uploads/odd\u{FFFE}\u{FFFF}.jpg";
    let store = MemoryStore::with(key, photo());
    let queue = MemoryQueue::default();
    let encoded = "original-uploads/odd%EF%BF%BE%EF%BF%BF.jpg";
    let got = handle(event_for(encoded), "req", |_| &store, &queue)
        .await
        .unwrap();
    assert_eq!(got, summary(1, 0, 0));
    let tasks = queue.batches().concat();
    assert_eq!(tasks.len(), 4);
    for task in tasks {
        let body = task.to_json();
        assert!(!body.contains(['\u{FFFE}', '\u{FFFF}']), "{body}");
        assert!(body.contains("odd\\ufffe\\uffff"), "{body}");
        assert_eq!(task.source_key, key);
        assert_eq!(
            augment_pipeline::RotationTask::from_json(&body).unwrap(),
            task
        );
    }
}
