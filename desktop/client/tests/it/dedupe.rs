//! Uploads carry their content hash, and a later file with the same bytes under
//! the same name is found, in local mode (the folder store's side file) and on a
//! real S3 API (moto: `x-amz-meta-sha256`).

use std::path::Path;

use augment_aws::testing::{self, Moto};
use augment_client::{LocalSettings, Mode, Remote, SHA256_METADATA, Settings, sha256_hex};

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
    let listed: Vec<String> = augment_pipeline::ObjectStore::list(&store, "original-uploads/")
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
async fn an_s3_upload_carries_its_hash_as_user_metadata() {
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
}
