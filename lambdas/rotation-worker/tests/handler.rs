//! The handler on SQS event JSON, over the in-memory store: partial batch failures.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use augment_pipeline::contract::SEQUENCER_METADATA;
use augment_pipeline::memory::MemoryStore;
use augment_pipeline::{Angle, ObjectStore as _, PutObject, UploadKey, imaging};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use image::{Rgb, RgbImage};
use rotation_worker::handle;

const SOURCE: &str = "original-uploads/trip/beach day.jpg";

fn processed_store() -> MemoryStore {
    let image = RgbImage::from_fn(256, 256, |x, y| {
        if x < 128 && y < 128 {
            Rgb([255, 0, 0])
        } else {
            Rgb([255, 255, 255])
        }
    });
    let upload = UploadKey::parse(SOURCE).unwrap();
    MemoryStore::with(&upload.processed_key(), imaging::encode_jpeg(&image))
}

fn message(id: &str, body: &str) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(id.into());
    message.body = Some(body.into());
    message
}

fn event(messages: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages;
    event
}

fn failed_ids(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn a_real_sqs_event_is_parsed_and_each_task_rotated() {
    let store = processed_store();
    let path = format!(
        "{}/tests/fixtures/sqs-batch.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let event: SqsEvent = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let response = handle(event, "req", |_| &store, Some("augment-uploads")).await;
    assert!(failed_ids(&response).is_empty(), "{response:?}");
    for angle in Angle::ALL {
        let key = format!("augmented-images/{angle}-degree/trip/beach day_{angle}.jpg");
        let object = store.object(&key).unwrap_or_else(|| panic!("{key}"));
        let format = augment_pipeline::sniff::sniff(&object.body).unwrap();
        let image = imaging::decode(&object.body, format, 256).unwrap();
        assert_eq!(image.dimensions(), (256, 256));
        // The red quarter starts top-left; counter-clockwise turns move it.
        let red_corner = match angle {
            Angle::Deg90 => (20, 236),
            Angle::Deg180 => (236, 236),
            Angle::Deg270 => (236, 20),
            Angle::Deg360 => (20, 20),
        };
        let px = image.get_pixel(red_corner.0, red_corner.1).0;
        assert!(
            px[0] > 200 && px[1] < 60,
            "{angle}: {px:?} at {red_corner:?}"
        );
    }
}

#[tokio::test]
async fn only_the_bad_messages_are_reported() {
    let store = processed_store();
    let tasks = UploadKey::parse(SOURCE).unwrap().tasks("augment-uploads");
    let response = handle(
        event(vec![
            message("good-90", &tasks[0].to_json()),
            message("not-json", "{{{"),
            message("good-180", &tasks[1].to_json()),
            message(
                "forged",
                &tasks[2]
                    .to_json()
                    .replace("augmented-images/270-degree", "original-uploads"),
            ),
            message(
                "other-bucket",
                &UploadKey::parse(SOURCE).unwrap().tasks("elsewhere")[3].to_json(),
            ),
        ]),
        "req",
        |_| &store,
        Some("augment-uploads"),
    )
    .await;
    assert_eq!(
        failed_ids(&response),
        ["not-json", "forged", "other-bucket"]
    );
    assert!(store.object(&tasks[0].output_key).is_some());
    assert!(store.object(&tasks[1].output_key).is_some());
    assert!(
        store
            .keys()
            .iter()
            .all(|k| !k.starts_with("original-uploads/")),
        "a forged task writes nothing"
    );
}

#[tokio::test]
async fn a_missing_processed_image_or_store_fault_fails_that_message() {
    let store = processed_store();
    let missing = UploadKey::parse("original-uploads/never-processed.jpg")
        .unwrap()
        .tasks("b");
    let present = UploadKey::parse(SOURCE).unwrap().tasks("b");
    store.make_flaky(&present[3].output_key);
    let response = handle(
        event(vec![
            message("missing", &missing[0].to_json()),
            message("ok", &present[0].to_json()),
            message("flaky-put", &present[3].to_json()),
        ]),
        "req",
        |_| &store,
        None,
    )
    .await;
    assert_eq!(failed_ids(&response), ["missing", "flaky-put"]);
}

#[tokio::test]
async fn the_same_message_twice_leaves_the_same_object() {
    let store = processed_store();
    let task = UploadKey::parse(SOURCE).unwrap().tasks("b")[0].to_json();
    handle(event(vec![message("m", &task)]), "r1", |_| &store, None).await;
    let first = store
        .object("augmented-images/90-degree/trip/beach day_90.jpg")
        .unwrap();
    let response = handle(event(vec![message("m", &task)]), "r2", |_| &store, None).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        store
            .object("augmented-images/90-degree/trip/beach day_90.jpg")
            .unwrap(),
        first
    );
}

/// A task of an older upload than the processed image records (a late
/// redelivery) succeeds without writing: the newer upload's own task writes the
/// output, so SQS must not redeliver this one either.
#[tokio::test]
async fn a_task_of_an_older_upload_succeeds_and_writes_nothing() {
    let upload = UploadKey::parse(SOURCE).unwrap();
    let store = processed_store();
    let processed = store.object(&upload.processed_key()).unwrap();
    store
        .put(PutObject {
            metadata: vec![(SEQUENCER_METADATA, "0055AED6DCD90281F0".into())],
            ..processed
        })
        .await
        .unwrap();
    let mut older = upload.tasks("augment-uploads")[0].clone();
    older.sequencer = Some("0055AED6DCD90281E5".into());
    let mut newer = upload.tasks("augment-uploads")[1].clone();
    newer.sequencer = Some("0055AED6DCD90281F0".into());

    let response = handle(
        event(vec![
            message("old", &older.to_json()),
            message("new", &newer.to_json()),
        ]),
        "req",
        |_| &store,
        None,
    )
    .await;

    assert!(failed_ids(&response).is_empty(), "{response:?}");
    assert!(store.object(&older.output_key).is_none(), "nothing written");
    let written = store.object(&newer.output_key).unwrap();
    assert!(
        written
            .metadata
            .contains(&(SEQUENCER_METADATA, "0055AED6DCD90281F0".into()))
    );
}
