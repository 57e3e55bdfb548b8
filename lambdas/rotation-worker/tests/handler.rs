//! The handler on SQS event JSON, over the in-memory store: partial batch failures.

#![expect(clippy::unwrap_used, reason = "test setup fails the test")]

use augment_pipeline::contract::SEQUENCER_METADATA;
use std::time::Duration;

use augment_pipeline::limits::{WORKER_MIN_MESSAGE_TIME, WORKER_REPLY_RESERVE};
use augment_pipeline::memory::{Hook, Hooked, MemoryStore};
use augment_pipeline::ports::StoreFuture;
use augment_pipeline::{Angle, ObjectStore, PutObject, UploadKey, imaging};
use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use image::{Rgb, RgbImage};
use rotation_worker::handle;
use tokio::time::Instant;

/// A deadline no test reaches.
fn far() -> Instant {
    Instant::now() + Duration::from_secs(900)
}

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
    let response = handle(event, "req", far(), |_| &store, Some("augment-uploads")).await;
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
        far(),
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

/// A deleted image's task is done (logged as skipped), not failed: it never
/// goes to the dead-letter queue. A store fault fails its message alone.
#[tokio::test]
async fn a_missing_processed_image_is_done_and_a_store_fault_fails_that_message() {
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
        far(),
        |_| &store,
        None,
    )
    .await;
    assert_eq!(failed_ids(&response), ["flaky-put"]);
    assert!(store.object(&missing[0].output_key).is_none());
}

#[tokio::test]
async fn the_same_message_twice_leaves_the_same_object() {
    let store = processed_store();
    let task = UploadKey::parse(SOURCE).unwrap().tasks("b")[0].to_json();
    let mut written = Vec::new();
    for request in ["r1", "r2"] {
        let response = handle(
            event(vec![message("m", &task)]),
            request,
            far(),
            |_| &store,
            None,
        )
        .await;
        assert!(response.batch_item_failures.is_empty());
        written.push(
            store
                .object("augmented-images/90-degree/trip/beach day_90.jpg")
                .unwrap(),
        );
    }
    assert_eq!(written[0], written[1]);
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
            metadata: vec![
                ("source-key", SOURCE.into()),
                (SEQUENCER_METADATA, "0055AED6DCD90281F0".into()),
            ],
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
        far(),
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

/// Reads of the processed image (the only object) take `read` each (on tokio's
/// clock: the tests below pause it, so time passes only as tasks wait), or never
/// end when `None`.
struct Slow {
    read: Option<Duration>,
}

fn slow_store(read: Option<Duration>) -> Hooked<Slow> {
    Hooked {
        inner: processed_store(),
        hook: Slow { read },
    }
}

impl Hook for Slow {
    fn before_get<'a>(&'a self, _inner: &'a MemoryStore, _key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            match self.read {
                Some(read) => tokio::time::sleep(read).await,
                None => std::future::pending().await,
            }
            Ok(())
        })
    }
}

fn four_tasks() -> SqsEvent {
    let tasks = UploadKey::parse(SOURCE).unwrap().tasks("b");
    event(
        tasks
            .iter()
            .map(|task| message(&format!("m{}", task.angle), &task.to_json()))
            .collect(),
    )
}

/// The deadline leaves room for one message: it is done, and the three the
/// invocation will not reach are reported at once for redelivery, untouched,
/// instead of the invocation timing out and failing all four.
#[tokio::test(start_paused = true)]
async fn messages_past_the_deadline_are_reported_not_started() {
    let store = slow_store(Some(Duration::from_secs(1)));
    let started = Instant::now();
    let deadline =
        started + WORKER_REPLY_RESERVE + WORKER_MIN_MESSAGE_TIME + Duration::from_millis(500);

    let response = handle(four_tasks(), "req", deadline, |_| &store, None).await;

    assert_eq!(failed_ids(&response), ["m180", "m270", "m360"]);
    let tasks = UploadKey::parse(SOURCE).unwrap().tasks("b");
    assert!(
        store.inner.object(&tasks[0].output_key).is_some(),
        "the first is done"
    );
    for task in &tasks[1..] {
        assert!(
            store.inner.object(&task.output_key).is_none(),
            "{}",
            task.output_key
        );
    }
    assert!(Instant::now() < deadline, "answered before the deadline");
}

/// A message that never ends is stopped before the deadline, and reported with
/// the ones after it; the invocation still answers in time.
#[tokio::test(start_paused = true)]
async fn a_hung_message_is_stopped_in_time_and_fails_alone_with_the_unreached() {
    let store = slow_store(None);
    let deadline = Instant::now() + Duration::from_secs(30);

    let response = handle(four_tasks(), "req", deadline, |_| &store, None).await;

    assert_eq!(failed_ids(&response), ["m90", "m180", "m270", "m360"]);
    assert_eq!(Instant::now(), deadline - WORKER_REPLY_RESERVE);
}
