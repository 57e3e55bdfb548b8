//! The steps' rules on names and order, over the in-memory ports: names too long
//! for the outputs are refused up front, a success clears the name's stale
//! `failed/` record, and a late older event never writes over what a newer upload
//! made: of the same key by its S3 sequencer, of another key sharing the name
//! (`cat.jpg`, `cat.png`) by its event time.

use augment_pipeline::contract::{EventTime, KeyRules, SEQUENCER_METADATA, Sequencer};
use augment_pipeline::memory::{MemoryQueue, MemoryStore};
use augment_pipeline::ports::{ObjectStore, PutObject};
use augment_pipeline::steps::{
    RotationOutcome, SkipReason, UploadEvent, UploadOutcome, make_rotation, process_upload,
    process_upload_event,
};
use augment_pipeline::{FailedRecord, RejectCode, UploadKey, imaging};
use image::{Rgb, RgbImage};

fn photo(colour: [u8; 3]) -> Vec<u8> {
    imaging::encode_jpeg(&RgbImage::from_pixel(64, 48, Rgb(colour)))
}

const KEY: &str = "original-uploads/trip/cat.jpg";
const PROCESSED: &str = "processed/trip/cat_256x256.jpg";
const FAILED: &str = "failed/trip/cat.json";
const OLDER: &str = "0055AED6DCD90281E5";
const NEWER: &str = "0055AED6DCD90281F0";

async fn process(store: &MemoryStore, queue: &MemoryQueue, sequencer: &str) -> UploadOutcome {
    let sequencer = Sequencer::parse(sequencer).unwrap();
    let event = UploadEvent {
        sequencer: Some(&sequencer),
        ..UploadEvent::key("b", KEY)
    };
    process_upload_event(store, queue, event).await.unwrap()
}

fn assert_processed(outcome: &UploadOutcome) {
    assert!(
        matches!(outcome, UploadOutcome::Processed { .. }),
        "{outcome:?}"
    );
}

/// What an event of `key` older than the outputs' upload ends as.
fn superseded(key: &str) -> UploadOutcome {
    UploadOutcome::Skipped {
        key: key.into(),
        reason: SkipReason::Superseded,
    }
}

fn failed_record(store: &MemoryStore, key: &str) -> FailedRecord {
    serde_json::from_slice(&store.object(key).expect("a failed record").body).unwrap()
}

#[tokio::test]
async fn a_name_too_long_for_its_rotations_is_refused_before_any_work() {
    // 995 bytes: the upload key (1,016) and `processed/` (1,017) fit S3's 1,024,
    // the rotation keys (1,031) do not.
    let name = format!("{}/{}", "d".repeat(200), "n".repeat(794));
    let key = format!("original-uploads/{name}.jpg");
    let store = MemoryStore::with(&key, photo([200, 10, 10]));
    let queue = MemoryQueue::default();

    let outcome = process_upload(&store, &queue, "b", &key).await.unwrap();

    let UploadOutcome::Rejected { rejection, upload } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejection.code, RejectCode::NameTooLong);
    assert!(
        rejection.message.contains("at most 988 bytes"),
        "{rejection}"
    );
    let record = failed_record(&store, &upload.failed_key());
    assert_eq!(record.code, RejectCode::NameTooLong);
    assert_eq!(record.source_key, key);
    assert_eq!(store.get_count(), 0, "refused before the download");
    assert!(
        queue.batches().is_empty(),
        "no task that could never be written"
    );
    assert_eq!(store.keys(), [upload.failed_key(), key]);
}

#[tokio::test]
async fn in_a_store_of_255_byte_file_names_a_250_byte_name_is_refused_with_a_short_record() {
    let name = "é".repeat(125); // 250 bytes
    let key = format!("original-uploads/{name}.png");
    let store = MemoryStore::with(&key, photo([1, 2, 3]));
    *store.key_rules.lock().unwrap() = KeyRules::FOLDER;

    let outcome = process_upload(&store, &MemoryQueue::default(), "b", &key)
        .await
        .unwrap();

    let UploadOutcome::Rejected { rejection, upload } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rejection.code, RejectCode::NameTooLong);
    assert!(rejection.message.contains("243 bytes"), "{rejection}");
    // `failed/<name>.json` would be 255 bytes of file name: it fits, just.
    assert_eq!(upload.failed_key(), format!("failed/{name}.json"));
    assert_eq!(
        failed_record(&store, &upload.failed_key()).code,
        RejectCode::NameTooLong
    );

    // One byte longer and the record's own key is the short form.
    let longer = UploadKey::from_name(&format!("{name}x"), "png").unwrap();
    let failed = longer.failed_key();
    assert!(
        KeyRules::FOLDER.fits(&failed) && failed.len() < 140,
        "{failed}"
    );
}

#[tokio::test]
async fn a_later_success_deletes_the_stale_failed_record() {
    let store = MemoryStore::with(KEY, b"not an image".to_vec());
    let queue = MemoryQueue::default();
    let outcome = process_upload(&store, &queue, "b", KEY).await.unwrap();
    assert!(
        matches!(outcome, UploadOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    assert!(store.object(FAILED).is_some());

    store.insert(KEY, photo([10, 200, 10]));
    let outcome = process_upload(&store, &queue, "b", KEY).await.unwrap();

    assert_processed(&outcome);
    assert_eq!(store.keys(), [KEY, PROCESSED], "the failed record is gone");
}

#[tokio::test]
async fn a_late_older_event_never_overwrites_a_newer_upload() {
    let store = MemoryStore::with(KEY, photo([200, 10, 10]));
    let queue = MemoryQueue::default();
    let outcome = process(&store, &queue, NEWER).await;
    assert_processed(&outcome);
    let newer_output = store.object(PROCESSED).unwrap().body;
    assert_eq!(
        store.metadata(PROCESSED, SEQUENCER_METADATA).as_deref(),
        Some(NEWER)
    );
    let tasks = queue.batches()[0].clone();
    assert!(tasks.iter().all(|t| t.sequencer.as_deref() == Some(NEWER)));

    // The older event of the key arrives late, while the object is another one.
    store.insert(KEY, photo([10, 10, 200]));
    let outcome = process(&store, &queue, OLDER).await;

    assert_eq!(outcome, superseded(KEY));
    assert_eq!(store.object(PROCESSED).unwrap().body, newer_output);
    assert_eq!(queue.batches().len(), 1, "no tasks for the older event");

    // The same event again (at-least-once delivery) is not older: it runs again.
    let outcome = process(&store, &queue, NEWER).await;
    assert_processed(&outcome);
}

#[tokio::test]
async fn a_late_older_event_neither_hides_nor_writes_a_newer_verdict() {
    // Newer upload bad, older good but late: the newer failed record stands.
    let store = MemoryStore::with(KEY, b"text".to_vec());
    let queue = MemoryQueue::default();
    let outcome = process(&store, &queue, NEWER).await;
    assert!(
        matches!(outcome, UploadOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    store.insert(KEY, photo([9, 9, 9]));
    let outcome = process(&store, &queue, OLDER).await;
    assert_eq!(
        outcome.skip_reason(),
        Some(SkipReason::Superseded),
        "{outcome:?}"
    );
    assert_eq!(
        store.keys(),
        [FAILED, KEY],
        "no processed image, the record kept"
    );
    assert_eq!(
        store.metadata(FAILED, SEQUENCER_METADATA).as_deref(),
        Some(NEWER)
    );

    // Newer upload good, older bad but late: no failed record appears.
    let store = MemoryStore::with(KEY, photo([9, 9, 9]));
    process(&store, &queue, NEWER).await;
    store.insert(KEY, b"text".to_vec());
    let outcome = process(&store, &queue, OLDER).await;
    assert_eq!(
        outcome.skip_reason(),
        Some(SkipReason::Superseded),
        "{outcome:?}"
    );
    assert_eq!(store.keys(), [KEY, PROCESSED]);
}

#[tokio::test]
async fn a_rotation_task_of_an_older_upload_writes_nothing() {
    let store = MemoryStore::with(KEY, photo([200, 10, 10]));
    let queue = MemoryQueue::default();
    process(&store, &queue, OLDER).await;
    let old_task = queue.batches()[0][0].clone();
    process(&store, &queue, NEWER).await;
    let new_task = queue.batches()[1][0].clone();

    // The newer task runs first; the older one, redelivered late, then writes nothing.
    assert_eq!(
        make_rotation(&store, &new_task).await.unwrap(),
        RotationOutcome::Written
    );
    let written = store.object(&new_task.output_key).unwrap();
    assert_eq!(
        store
            .metadata(&new_task.output_key, SEQUENCER_METADATA)
            .as_deref(),
        Some(NEWER)
    );
    assert_eq!(
        make_rotation(&store, &old_task).await.unwrap(),
        RotationOutcome::Superseded
    );
    assert_eq!(store.object(&new_task.output_key).unwrap(), written);

    // A task without a sequencer (local mode, an earlier processor) is written.
    let mut plain = old_task.clone();
    plain.sequencer = None;
    assert_eq!(
        make_rotation(&store, &plain).await.unwrap(),
        RotationOutcome::Written
    );
}

#[tokio::test]
async fn outputs_without_a_recorded_order_are_written_over() {
    // Written by an earlier processor, before outputs recorded their sequencer.
    let store = MemoryStore::with(KEY, photo([1, 100, 1]));
    store
        .put(PutObject::new(PROCESSED, photo([0, 0, 0]), "image/jpeg"))
        .await
        .unwrap();
    let outcome = process(&store, &MemoryQueue::default(), OLDER).await;
    assert_processed(&outcome);
    assert_eq!(
        store.metadata(PROCESSED, SEQUENCER_METADATA).as_deref(),
        Some(OLDER)
    );
}

/// An upload of `key` with this sequencer (S3's, per key) at this event time.
async fn process_at(
    store: &MemoryStore,
    queue: &MemoryQueue,
    key: &str,
    sequencer: &str,
    time: &str,
) -> UploadOutcome {
    let sequencer = Sequencer::parse(sequencer).unwrap();
    let time = EventTime::parse(time).unwrap();
    let event = UploadEvent {
        sequencer: Some(&sequencer),
        event_time: Some(&time),
        ..UploadEvent::key("b", key)
    };
    process_upload_event(store, queue, event).await.unwrap()
}

/// `cat.jpg` and `cat.png` share `processed/cat…`. Their sequencers are S3's per
/// key and say nothing about each other (here the newer upload's is the smaller):
/// the event time orders them.
#[tokio::test]
async fn uploads_of_two_extensions_are_ordered_by_event_time_not_by_sequencer() {
    const JPG: &str = "original-uploads/trip/cat.jpg";
    const PNG: &str = "original-uploads/trip/cat.png";
    const EARLIER: &str = "2026-11-28T12:00:00.000Z";
    const LATER: &str = "2026-11-28T12:00:05.250Z";
    let store = MemoryStore::with(JPG, photo([200, 10, 10]));
    store.insert(PNG, photo([10, 10, 200]));
    let queue = MemoryQueue::default();

    let outcome = process_at(&store, &queue, JPG, NEWER, EARLIER).await;
    assert_processed(&outcome);
    let jpg_tasks = queue.batches()[0].clone();
    // The newer cat.png, whose sequencer is smaller than cat.jpg's: processed.
    let outcome = process_at(&store, &queue, PNG, OLDER, LATER).await;
    assert_processed(&outcome);
    assert_eq!(
        store.metadata(PROCESSED, "source-key").as_deref(),
        Some(PNG)
    );
    let png_output = store.object(PROCESSED).unwrap().body;
    let png_tasks = queue.batches()[1].clone();

    // A late, older event of cat.jpg (redelivered) does not overwrite it.
    let outcome = process_at(&store, &queue, JPG, NEWER, EARLIER).await;
    assert_eq!(outcome, superseded(JPG));
    assert_eq!(store.object(PROCESSED).unwrap().body, png_output);
    assert_eq!(queue.batches().len(), 2, "no tasks for the older upload");

    // cat.jpg's queued tasks write nothing; cat.png's write the rotations.
    assert_eq!(
        make_rotation(&store, &jpg_tasks[0]).await.unwrap(),
        RotationOutcome::Superseded
    );
    assert!(store.object(&jpg_tasks[0].output_key).is_none());
    assert_eq!(
        make_rotation(&store, &png_tasks[0]).await.unwrap(),
        RotationOutcome::Written
    );
    assert_eq!(
        store
            .metadata(&png_tasks[0].output_key, "source-key")
            .as_deref(),
        Some(PNG)
    );

    // A bad cat.jpg uploaded later still gets its failed record over cat.png's
    // success, and cat.png's late event does not clear it.
    store.insert(JPG, b"text".to_vec());
    const LATEST: &str = "2026-11-28T12:01:00.000Z";
    let outcome = process_at(&store, &queue, JPG, "0055AED6DCD90281F9", LATEST).await;
    assert!(
        matches!(outcome, UploadOutcome::Rejected { .. }),
        "{outcome:?}"
    );
    let outcome = process_at(&store, &queue, PNG, OLDER, LATER).await;
    assert_eq!(
        outcome.skip_reason(),
        Some(SkipReason::Superseded),
        "{outcome:?}"
    );
    assert_eq!(store.metadata(FAILED, "source-key").as_deref(), Some(JPG));
}

/// Two keys at the same millisecond: the key decides, the same way every time.
#[tokio::test]
async fn uploads_at_the_same_millisecond_are_ordered_by_key() {
    const JPG: &str = "original-uploads/trip/cat.jpg";
    const PNG: &str = "original-uploads/trip/cat.png";
    const AT: &str = "2026-11-28T12:00:00.000Z";
    for first in [JPG, PNG] {
        let second = if first == JPG { PNG } else { JPG };
        let store = MemoryStore::with(JPG, photo([200, 10, 10]));
        store.insert(PNG, photo([10, 10, 200]));
        let queue = MemoryQueue::default();
        process_at(&store, &queue, first, OLDER, AT).await;
        process_at(&store, &queue, second, OLDER, AT).await;
        assert_eq!(
            store.metadata(PROCESSED, "source-key").as_deref(),
            Some(PNG),
            "{first} first"
        );
    }
}
