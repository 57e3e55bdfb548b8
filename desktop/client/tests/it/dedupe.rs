//! Uploads carry their content hash as a tag, and a later file with the same
//! bytes under the same name is found, in local mode (the folder store's side
//! file), on a real S3 API (moto: `x-amz-tagging`), and by a user who may not
//! read originals at all.

use std::path::Path;
use std::sync::Arc;

use augment_aws::testing::{self, Moto};
use augment_client::{LocalSettings, Mode, Remote, SHA256_METADATA, Settings, sha256_hex};
use augment_pipeline::contract::UPLOAD_PREFIX;
use augment_pipeline::memory::MemoryStore;
use augment_pipeline::ports::{
    BoxError, Failure, ListPage, ListRequest, ObjectInfo, ObjectStore, PutObject, StoreError,
    StoreFuture,
};

use super::common::jpeg;

/// Uploads `bytes` as `cat.jpg`, then asks for copies: the same bytes under the
/// same name (found, in either case of extension), other bytes, another name.
async fn same_bytes_are_found_under_the_name(remote: &Remote, dir: &Path) {
    let bytes = jpeg(64, 48);
    let path = dir.join("cat.jpg");
    std::fs::write(&path, &bytes).unwrap();
    let key = remote.choose_upload_key("cat.jpg").await.unwrap();
    remote.upload(&path, &key, |_| {}).await.unwrap();

    let hash = sha256_hex(&bytes);
    assert_eq!(
        remote.uploaded_copy("cat.jpg", &hash).await.unwrap(),
        Some("original-uploads/cat.jpg".to_owned())
    );
    assert_eq!(
        remote.uploaded_copy("cat.JPEG", &hash).await.unwrap(),
        Some("original-uploads/cat.jpg".to_owned())
    );
    let other = sha256_hex(&jpeg(64, 49));
    assert_eq!(remote.uploaded_copy("cat.jpg", &other).await.unwrap(), None);
    assert_eq!(remote.uploaded_copy("dog.jpg", &hash).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_upload_keeps_its_hash_beside_it_unlisted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let settings = Settings {
        mode: Mode::Local,
        local: LocalSettings {
            data_dir: Some(data.clone()),
        },
        ..Settings::default()
    };
    let remote = Remote::connect(&settings).await.unwrap();
    same_bytes_are_found_under_the_name(&remote, dir.path()).await;
    // The hash is not an object: the folder lists the upload alone.
    let store = augment_local::FolderStore::new(&data);
    let listed: Vec<String> = ObjectStore::list(&store, "original-uploads/")
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.key)
        .collect();
    assert_eq!(listed, vec!["original-uploads/cat.jpg"]);
    // Deleting the image deletes its metadata too.
    remote.delete_image("cat").await.unwrap();
    let left: Vec<_> = std::fs::read_dir(data.join("original-uploads"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_upload_carries_its_hash_as_a_tag() {
    const BUCKET: &str = "augment-dedupe-test";
    let moto = Moto::start().unwrap();
    let clients = moto.clients();
    testing::create_bucket_and_queue(&clients, BUCKET, "rotations")
        .await
        .unwrap();
    let remote = Remote::with_sdk_config(&moto.sdk_config(), BUCKET).unwrap();
    let dir = tempfile::tempdir().unwrap();
    same_bytes_are_found_under_the_name(&remote, dir.path()).await;
    let head = clients
        .s3
        .head_object()
        .bucket(BUCKET)
        .key("original-uploads/cat.jpg")
        .send()
        .await
        .unwrap();
    let stored = head
        .metadata()
        .and_then(|m| m.get(SHA256_METADATA))
        .cloned();
    let bytes = std::fs::read(dir.path().join("cat.jpg")).unwrap();
    assert_eq!(stored, Some(sha256_hex(&bytes)));
    let tagging = clients
        .s3
        .get_object_tagging()
        .bucket(BUCKET)
        .key("original-uploads/cat.jpg")
        .send()
        .await
        .unwrap();
    let tags: Vec<(&str, &str)> = tagging
        .tag_set()
        .iter()
        .map(|tag| (tag.key(), tag.value()))
        .collect();
    assert_eq!(tags, [(SHA256_METADATA, sha256_hex(&bytes).as_str())]);
}

/// A store that refuses every read of an original (`GetObject`, `HeadObject`), as
/// S3 does to the app's user under the shipped policy: 403 `AccessDenied`.
struct OriginalsPrivate(MemoryStore);

fn denied(op: &'static str, key: &str) -> StoreError {
    StoreError::Backend {
        op,
        key: key.to_owned(),
        failure: Failure::Service {
            code: Some("AccessDenied".into()),
            status: Some(403),
        },
        transient: false,
        source: BoxError::from("403 Access Denied"),
    }
}

impl ObjectStore for OriginalsPrivate {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        if key.starts_with(UPLOAD_PREFIX) {
            return Box::pin(async move { Err(denied("head", key)) });
        }
        self.0.head(key)
    }
    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        if key.starts_with(UPLOAD_PREFIX) {
            return Box::pin(async move { Err(denied("get", key)) });
        }
        self.0.get(key, max_bytes)
    }
    fn put(&self, object: PutObject) -> StoreFuture<'_, ()> {
        self.0.put(object)
    }
    // S3's conditional write needs `s3:PutObject` alone, as a plain one does.
    fn put_if_absent(&self, object: PutObject) -> StoreFuture<'_, bool> {
        self.0.put_if_absent(object)
    }
    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        self.0.list_page(request)
    }
    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.0.delete(key)
    }
    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        if key.starts_with(UPLOAD_PREFIX) {
            return Box::pin(async move { Err(denied("head", key)) });
        }
        self.0.head_metadata(key)
    }
    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        self.0.object_tags(key)
    }
}

/// The duplicate question is answered without reading any original: the
/// listing and the tag are all it asks for.
#[tokio::test]
async fn a_copy_is_found_by_a_user_who_may_not_read_originals() {
    let remote = Remote::over_store(Arc::new(OriginalsPrivate(MemoryStore::default())), "b");
    let dir = tempfile::tempdir().unwrap();
    same_bytes_are_found_under_the_name(&remote, dir.path()).await;
}
