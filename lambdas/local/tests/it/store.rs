//! The folder store and the channel queue behave like a bucket and a queue, and
//! the local pipeline runs both steps for each upload.

use augment_local::{ChannelQueue, FolderStore, LOCAL_BUCKET, LocalPipeline, PipelineEvent};
use augment_pipeline::imaging;
use augment_pipeline::memory::{keys, keys_by_page};
use std::sync::{Arc, Mutex};

use augment_pipeline::ports::{
    ListRequest, ObjectStore, OnSent, PutObject, QueueError, StoreError, TaskQueue,
};
use augment_pipeline::steps::UploadOutcome;
use image::{Rgb, RgbImage};

const KEY: &str = "original-uploads/holiday/beach day.JPG";

fn photo(width: u32, height: u32) -> Vec<u8> {
    imaging::encode_jpeg(&RgbImage::from_pixel(width, height, Rgb([200, 120, 90])))
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
        "",
        "./a.jpg",
    ] {
        let put = PutObject::new(key, vec![1], "x");
        let err = store.put(put).await.unwrap_err();
        assert!(matches!(err, StoreError::InvalidKey { .. }), "{key}: {err}");
    }
    assert!(!dir.path().join("x.jpg").exists());
}

/// Windows-shaped keys are legal names on Linux: each is held below the root, one
/// file per key, named so that no OS reads a drive, a stream, a device or another
/// folder into it, and lists back as the same key.
#[tokio::test]
async fn keys_a_folder_cannot_hold_as_they_are_are_escaped_and_listed_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("bucket");
    let store = FolderStore::new(&root);
    let names = [
        "a\\b.jpg",
        "original-uploads/..\\..\\x.jpg",
        "C:\\Windows\\x.jpg",
        "C:x.jpg",
        "a/b.jpg:stream",
        "\\\\server\\share\\x.jpg",
        "a/CON",
        "processed/nul.jpg",
        "Com1.png",
        "COM¹.jpg",
        "lpt³/x.jpg",
        "CONIN$.jpg",
        "conout$",
        "aux .jpg",
        "a/b\u{0}.jpg",
        "a/b\n.jpg",
        "trip./x.jpg",
        "trip /x.jpg",
        "trip/x.",
        "10:30.jpg",
        "what?.jpg",
        "50%25.jpg",
        ".augment-meta-x.jpg",
        ".augment-tmp-x.jpg",
    ];
    for key in names {
        let path = store.path_of(key).unwrap();
        let relative = path.strip_prefix(&root).unwrap();
        assert_eq!(
            relative.components().count(),
            key.split('/').count(),
            "{key}"
        );
        for part in relative.components() {
            let part = part.as_os_str().to_str().unwrap();
            assert!(
                !part.contains(['\\', ':', '\0', '\n', '?'])
                    && !part.ends_with(['.', ' '])
                    && !augment_pipeline::folder_names::is_device_name(part),
                "{key}: {part}"
            );
        }
        let put = PutObject {
            key: key.into(),
            body: key.as_bytes().to_vec(),
            content_type: "x",
            metadata: vec![("sha256", "00".into())],
            tags: Vec::new(),
            on_sent: None,
        };
        store.put(put).await.unwrap();
    }
    let mut expected: Vec<&str> = names.to_vec();
    expected.sort_unstable();
    let listed: Vec<String> = keys(&store, "").await.unwrap();
    assert_eq!(listed, expected);
    for key in names {
        assert_eq!(store.get(key, 100).await.unwrap(), key.as_bytes(), "{key}");
    }
    // A prefix of an escaped folder lists it too.
    let trip: Vec<String> = keys(&store, "trip.").await.unwrap();
    assert_eq!(trip, ["trip./x.jpg"]);
    // Names that only look like the refused ones are as they are.
    for key in [
        "a/console.jpg",
        "a/CONx.jpg",
        "trip 2024/beach+sun ☀.JPG",
        "a/.hidden.jpg",
        "100%.jpg",
    ] {
        assert_eq!(
            augment_local::key_path(dir.path(), key).unwrap(),
            key.split('/')
                .fold(dir.path().to_owned(), |path, segment| path.join(segment)),
        );
    }
}

/// A file the store did not write under a name it never makes is no key (it
/// could not be read back by its name): not listed.
/// Pages of every size hand out each key once, in the order a whole listing
/// gives, wherever the cursor falls: between folders, inside a deep one, on
/// names that sort around `/` (`a-b` < `a/…` < `a0`) and escaped names.
#[tokio::test]
async fn pages_of_every_size_follow_the_cursor_through_folders() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let names = [
        "a-b.jpg",
        "a/b/c.jpg",
        "a/b/d.jpg",
        "a/b0.jpg",
        "a/c/d/e.jpg",
        "a.jpg",
        "a0.jpg",
        "trip./x.jpg",
        "trip/x.",
        "what?.jpg",
        "z/empty-after/q.jpg",
    ];
    for key in names {
        store.put(PutObject::new(key, vec![1], "x")).await.unwrap();
    }
    std::fs::create_dir_all(dir.path().join("a/empty")).unwrap();
    let mut expected = names.to_vec();
    expected.sort_unstable();
    assert_eq!(keys(&store, "").await.unwrap(), expected);
    for prefix in ["", "a", "a/", "a/b", "trip"] {
        let whole = keys(&store, prefix).await.unwrap();
        for max_keys in 1..=names.len() + 1 {
            let pages = keys_by_page(&store, prefix, max_keys).await.unwrap();
            assert!(pages.iter().all(|page| page.len() <= max_keys));
            assert_eq!(pages.concat(), whole, "{prefix:?} by {max_keys}");
        }
    }
}

#[tokio::test]
async fn files_under_names_the_store_never_makes_are_not_listed() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a%41.jpg", "x.", "ok.jpg"] {
        std::fs::write(dir.path().join(name), b"x").unwrap();
    }
    let store = FolderStore::new(dir.path());
    let listed: Vec<String> = keys(&store, "").await.unwrap();
    assert_eq!(listed, ["ok.jpg"]);
}

#[tokio::test]
async fn the_folder_store_behaves_like_a_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let store = FolderStore::new(dir.path());
    let put = |key: &str, body: &[u8]| PutObject::new(key, body.to_vec(), "x");
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
    let listed = keys(&store, "").await.unwrap();
    assert_eq!(listed, ["a.jpg", "b/c/d.png", "b/ünï côde+.jpg"]);
    let listed = keys(&store, "b/").await.unwrap();
    assert_eq!(listed, ["b/c/d.png", "b/ünï côde+.jpg"]);
    // Page by page: each object once, in order, with its time.
    assert_eq!(
        keys_by_page(&store, "", 2).await.unwrap(),
        [vec!["a.jpg", "b/c/d.png"], vec!["b/ünï côde+.jpg"]]
    );
    let first = store
        .list_page(ListRequest::new("", None, 2))
        .await
        .unwrap();
    assert!(first.objects.iter().all(|o| o.last_modified.is_some()));
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
        let listed = keys(&store, prefix).await.unwrap();
        assert_eq!(listed, expected, "{prefix}");
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
    assert_no_temporary_files(dir.path());
}

/// Sends when dropped: the callback that holds it is gone, so the write has ended.
struct Ended(std::sync::mpsc::Sender<()>);

impl Drop for Ended {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_reports_progress_and_a_dropped_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let size = 200 * 1024 + 17;
    let store = FolderStore::new(dir.path().join("bucket"));
    let put = |key: &str, on_sent: OnSent| PutObject {
        on_sent: Some(on_sent),
        ..PutObject::new(key, vec![7_u8; size], "x")
    };

    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let on_sent = OnSent::new(move |sent| record.lock().unwrap().push(sent));
    store.put(put("in/a.jpg", on_sent)).await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&0));
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last().copied(), Some(size as u64));
    assert_eq!(store.get("in/a.jpg", 1 << 20).await.unwrap().len(), size);

    // Dropped once its first chunk is written, as a cancelled upload is; the
    // write, held in the callback until then, goes on to its next chunk.
    let started = Arc::new(tokio::sync::Notify::new());
    let (go, wait_for_go) = std::sync::mpsc::channel::<()>();
    let wait_for_go = Mutex::new(wait_for_go);
    let (ended, write_ended) = std::sync::mpsc::channel();
    let ended = Ended(ended);
    let notify = started.clone();
    let on_sent = OnSent::new(move |sent| {
        let _held = &ended;
        if sent > 0 {
            notify.notify_one();
            let _ = wait_for_go.lock().unwrap().recv();
        }
    });
    tokio::select! {
        result = store.put(put("in/b.jpg", on_sent)) => panic!("the put finished first: {result:?}"),
        () = started.notified() => {}
    }
    drop(go);
    tokio::task::spawn_blocking(move || write_ended.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(store.head("in/b.jpg").await.unwrap(), None);
    assert_no_temporary_files(dir.path());
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
            .put(PutObject::new(*key, body.clone(), "x"))
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
    let listed = keys(pipeline.store(), "").await.unwrap();
    assert_eq!(
        listed,
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

/// No temporary file of an unfinished write is left anywhere under `root`.
fn assert_no_temporary_files(root: &std::path::Path) {
    let leftovers: Vec<_> = walk(root)
        .into_iter()
        .filter(|p| p.contains(augment_local::TEMP_PREFIX))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
