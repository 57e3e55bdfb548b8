//! An upload's rotation tasks made together (`make_rotations`, as local mode runs
//! them): the same objects as one task at a time, from one read of the image.

use augment_pipeline::makers::photo_jpeg;
use augment_pipeline::memory::{MemoryQueue, MemoryStore};
use augment_pipeline::steps::{RotationOutcome, make_rotation, make_rotations, process_upload};
use augment_pipeline::{ObjectStore, RotationTask};

const KEYS: [&str; 2] = ["original-uploads/a.jpg", "original-uploads/b/c.jpg"];

/// A store holding both uploads processed, and their tasks, image by image.
async fn processed() -> (MemoryStore, Vec<RotationTask>) {
    let store = MemoryStore::default();
    let queue = MemoryQueue::default();
    for (key, (w, h)) in KEYS.into_iter().zip([(640, 480), (300, 500)]) {
        store.insert(key, photo_jpeg(w, h, false));
        process_upload(&store, &queue, "bucket", key).await.unwrap();
    }
    (store, queue.batches().concat())
}

/// An output: its key, body and metadata.
type Written = (String, Vec<u8>, Vec<(&'static str, String)>);

/// Each output key with its body and metadata.
fn outputs(store: &MemoryStore) -> Vec<Written> {
    store
        .keys()
        .into_iter()
        .filter(|key| key.starts_with("augmented-images/"))
        .map(|key| {
            let object = store.object(&key).unwrap();
            (key, object.body, object.metadata)
        })
        .collect()
}

#[tokio::test]
async fn tasks_made_together_write_what_one_at_a_time_writes_from_one_read() {
    let (alone, tasks) = processed().await;
    for task in &tasks {
        assert_eq!(
            make_rotation(&alone, task).await.unwrap(),
            RotationOutcome::Written
        );
    }
    let (together, tasks) = processed().await;
    let reads = together.get_count();
    let outcomes = make_rotations(&together, &tasks).await.unwrap();
    assert_eq!(outcomes, vec![RotationOutcome::Written; 8]);
    assert_eq!(together.get_count() - reads, 2, "one read of each image");
    assert_eq!(outputs(&together).len(), 8);
    assert_eq!(outputs(&together), outputs(&alone));
}

#[tokio::test]
async fn tasks_of_a_deleted_image_write_nothing() {
    let (store, tasks) = processed().await;
    store.delete(&tasks[0].processed_key).await.unwrap();
    let outcomes = make_rotations(&store, &tasks).await.unwrap();
    assert_eq!(
        outcomes[..4],
        [RotationOutcome::Gone; 4],
        "the deleted image's"
    );
    assert_eq!(outcomes[4..], [RotationOutcome::Written; 4], "the other's");
    assert!(
        outputs(&store)
            .iter()
            .all(|(key, _, _)| key.contains("/b/c_")),
        "{:?}",
        store.keys()
    );
}
