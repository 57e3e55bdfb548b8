//! What a batch costs on the wire, counted at a proxy between the client and a
//! real S3 API (moto): one request per new upload after a batch's few listing
//! pages, and a watch poll whose cost does not grow with the batch; and the
//! safety that comes with it: a name taken by another extension, by an output,
//! a duplicate, a writer racing the `PutObject`.

use std::path::{Path, PathBuf};

use augment_aws::testing;
use augment_aws::{S3Store, SqsQueue};
use augment_client::{Remote, WatchEvent};
use augment_pipeline::steps::{make_rotation, process_upload};
use augment_pipeline::{ObjectStore, PutObject, RotationTask, UploadKey};
use lambda_e2e::proxy::FaultProxy;
use tokio::task::JoinSet;

use super::common::{Stack, jpeg, stack};

const BUCKET: &str = "augment-transfers-test";

/// A [`Stack`] whose client goes through a proxy that counts its requests.
struct Counted {
    stack: Stack,
    proxy: FaultProxy,
    /// Through the proxy.
    remote: Remote,
    /// Straight to moto, for the test's own reads and writes.
    store: S3Store,
}

async fn counted() -> Counted {
    let stack = stack(BUCKET).await;
    let proxy = FaultProxy::start(&stack.moto.endpoint, 0, 0);
    let config = stack
        .moto
        .sdk_config()
        .to_builder()
        .endpoint_url(&proxy.endpoint)
        .build();
    let remote = Remote::with_sdk_config(&config, BUCKET).unwrap();
    let store = S3Store::new(stack.clients.s3.clone(), BUCKET);
    Counted {
        stack,
        proxy,
        remote,
        store,
    }
}

fn write_files(dir: &Path, names: &[String], bytes: &[u8]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|name| {
            let path = dir.join(name.replace('/', "_"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

/// Another writer's object, straight on moto.
async fn put(store: &S3Store, key: &str, body: &[u8]) {
    let written = store.put_if_absent(PutObject::new(key, body.to_vec(), "image/jpeg"));
    assert!(written.await.unwrap(), "{key} was there already");
}

/// Each file the way `augment upload` sends it: the duplicate question, the
/// name, the conditional PUT. Returns the keys it went under.
async fn upload_batch(remote: &Remote, names: &[String], paths: &[PathBuf]) -> Vec<UploadKey> {
    let plan = remote
        .plan_uploads(names.iter().map(String::as_str))
        .await
        .unwrap();
    let mut keys = Vec::new();
    for (name, path) in names.iter().zip(paths) {
        let bytes = std::fs::read(path).unwrap();
        let sha256 = augment_client::sha256_hex(&bytes);
        let copy = plan
            .uploaded_copy(name, &sha256, bytes.len() as u64)
            .await
            .unwrap();
        assert_eq!(copy, None, "{name}");
        let key = plan.choose_upload_key(name).await.unwrap();
        keys.push(remote.upload(path, &key, |_| {}).await.unwrap());
    }
    keys
}

/// Watches every key at once until each is complete; the requests it took.
async fn watch_all(counted: &Counted, keys: &[UploadKey]) -> u64 {
    let before = counted.proxy.requests();
    let mut watching = JoinSet::new();
    for key in keys {
        let (remote, key) = (counted.remote.clone(), key.clone());
        watching.spawn(async move {
            let mut landed = 0;
            let timeout = std::time::Duration::from_secs(30);
            remote
                .watch(
                    &key,
                    |event| match event {
                        WatchEvent::Landed { .. } => landed += 1,
                        other => panic!("{other:?}"),
                    },
                    timeout,
                )
                .await
                .unwrap();
            landed
        });
    }
    while let Some(landed) = watching.join_next().await {
        assert_eq!(landed.unwrap(), 5);
    }
    counted.proxy.requests() - before
}

/// The pipeline's two steps on every key, straight on moto.
async fn run_pipeline(counted: &Counted, keys: &[UploadKey]) {
    let Stack {
        clients, queue_url, ..
    } = &counted.stack;
    let queue = SqsQueue::new(clients.sqs.clone(), queue_url);
    for key in keys {
        process_upload(&counted.store, &queue, BUCKET, key.as_str())
            .await
            .unwrap();
    }
    for message in testing::receive_all(clients, queue_url).await.unwrap() {
        let task = RotationTask::from_json(message.body().unwrap()).unwrap();
        make_rotation(&counted.store, &task).await.unwrap();
    }
}

// One thread: the watches all register before the shared poll's first round.
#[tokio::test(flavor = "current_thread")]
async fn a_new_upload_is_one_request_and_a_poll_costs_the_same_for_any_batch() {
    let counted = counted().await;
    // What is there already under the batch's prefix is learned, not asked.
    put(&counted.store, "original-uploads/trip/old.jpg", b"old").await;
    put(&counted.store, "processed/trip/older_256x256.jpg", b"p").await;
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..40).map(|i| format!("trip/img_{i:03}.jpg")).collect();
    let paths = write_files(dir.path(), &names, &jpeg(24, 16));

    let before = counted.proxy.requests();
    let keys = upload_batch(&counted.remote, &names, &paths).await;
    let requests = counted.proxy.requests() - before;
    // Three listing pages (originals, processed, failed) and one PUT a file.
    assert_eq!(requests, 3 + 40, "{requests} requests for 40 new files");
    assert!(requests as f64 / 40.0 <= 1.1);

    run_pipeline(&counted, &keys).await;
    // Two rounds: processed/ and failed/ (everything is processed), then the
    // four rotation folders: 6 requests, for one upload or for forty.
    assert_eq!(watch_all(&counted, &keys[..1]).await, 6);
    assert_eq!(watch_all(&counted, &keys).await, 6);
}

#[tokio::test]
async fn names_taken_in_any_way_are_never_overwritten_and_copies_are_found() {
    let counted = counted().await;
    let (store, remote) = (&counted.store, &counted.remote);
    let dir = tempfile::tempdir().unwrap();
    let photo = jpeg(20, 20);
    // Taken by another extension, by an output only, and the same bytes.
    put(store, "original-uploads/cat.PNG", b"a png").await;
    put(store, "processed/dog_256x256.jpg", b"out").await;
    let eel = dir.path().join("eel.jpg");
    std::fs::write(&eel, &photo).unwrap();
    let first = remote
        .upload(&eel, &UploadKey::from_name("eel", "jpg").unwrap(), |_| {})
        .await
        .unwrap();
    // Another file of the same size under the name: its hash tells it apart.
    put(store, "original-uploads/eel.JPEG", &vec![0_u8; photo.len()]).await;

    let names = ["cat.jpg", "dog.jpg", "eel.jpg", "fox.jpg"].map(String::from);
    let plan = remote
        .plan_uploads(names.iter().map(String::as_str))
        .await
        .unwrap();
    assert!(plan.listed());
    let sha256 = augment_client::sha256_hex(&photo);
    let before = counted.proxy.requests();
    let copy = plan.uploaded_copy("eel.jpg", &sha256, photo.len() as u64);
    assert_eq!(copy.await.unwrap(), Some(first.as_str().to_owned()));
    // One tag read for each same-size original, none for a new name.
    assert_eq!(counted.proxy.requests() - before, 2);
    let copy = plan.uploaded_copy("fox.jpg", &sha256, photo.len() as u64);
    assert_eq!(copy.await.unwrap(), None);
    assert_eq!(counted.proxy.requests() - before, 2);

    let chosen = |name: &'static str| async { plan.choose_upload_key(name).await.unwrap() };
    assert_eq!(
        chosen("cat.jpg").await.as_str(),
        "original-uploads/cat-2.jpg"
    );
    assert_eq!(
        chosen("dog.jpg").await.as_str(),
        "original-uploads/dog-2.jpg"
    );

    // A writer takes `fox.jpg` after the listing: the PUT is refused (412)
    // and the file goes under the next name; the other writer's stays.
    let fox = chosen("fox.jpg").await;
    assert_eq!(fox.as_str(), "original-uploads/fox.jpg");
    put(store, "original-uploads/fox.jpg", b"someone else's").await;
    let path = dir.path().join("fox.jpg");
    std::fs::write(&path, &photo).unwrap();
    let stored = remote.upload(&path, &fox, |_| {}).await.unwrap();
    assert_eq!(stored.as_str(), "original-uploads/fox-2.jpg");
    let theirs = store
        .get("original-uploads/fox.jpg", 1 << 20)
        .await
        .unwrap();
    assert_eq!(theirs, b"someone else's");
    assert_eq!(store.get(stored.as_str(), 1 << 20).await.unwrap(), photo);
}

#[tokio::test]
async fn a_download_is_one_get_per_new_object_and_an_unchanged_run_only_lists() {
    let counted = counted().await;
    let photo = jpeg(24, 16);
    for i in 0..70 {
        put(
            &counted.store,
            &format!("original-uploads/trip/img_{i:03}.jpg"),
            &photo,
        )
        .await;
    }
    let dest = tempfile::tempdir().unwrap();
    let request = augment_client::DownloadRequest {
        dest: dest.path().to_owned(),
        areas: vec![augment_client::Area::Originals],
        name_prefix: String::new(),
        name_filter: augment_client::NameFilter::default(),
        jobs: None,
    };
    let download = || async {
        let before = counted.proxy.requests();
        let summary = counted.remote.download(&request, |_| {}).await.unwrap();
        (
            summary.fetched,
            summary.up_to_date,
            counted.proxy.requests() - before,
        )
    };
    // Two listing pages (a short first one), then one GET an object: no HEAD.
    assert_eq!(download().await, (70, 0, 2 + 70));
    let on_disk = dest.path().join("original-uploads/trip/img_007.jpg");
    assert_eq!(std::fs::read(on_disk).unwrap(), photo);
    // Nothing new: the listing alone.
    assert_eq!(download().await, (0, 70, 2));
    put(&counted.store, "original-uploads/trip/new.jpg", &photo).await;
    assert_eq!(download().await, (1, 70, 2 + 1));
}
