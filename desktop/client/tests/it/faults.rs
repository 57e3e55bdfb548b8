//! Uploads and downloads through a store that fails a share of its calls the way
//! S3 does under load (503 `SlowDown`, a connection cut after the object was
//! stored, a body cut mid-download): transient faults never fail a file, and a
//! fault that outlasts the budget fails it with its cause.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use augment_client::{ErrorKind, Remote};
use augment_pipeline::faults::{FaultPlan, FaultyStore};
use augment_pipeline::limits::MAX_UPLOAD_BYTES;
use augment_pipeline::memory::MemoryStore;
use tokio::task::JoinSet;

use super::common::jpeg;

const FILES: usize = 200;

fn plan(per_mille: u32) -> FaultPlan {
    FaultPlan {
        seed: 14,
        per_mille,
        heads: true,
        gets: true,
        puts: true,
        lists: true,
    }
}

/// `FILES` small JPEGs in a temporary folder.
fn files(dir: &std::path::Path) -> Vec<PathBuf> {
    let body = jpeg(64, 48);
    (0..FILES)
        .map(|i| {
            let path = dir.join(format!("img_{i:03}.jpg"));
            std::fs::write(&path, &body).unwrap();
            path
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn at_a_20_percent_fault_rate_every_file_arrives_once() {
    let dir = tempfile::tempdir().unwrap();
    let paths = files(dir.path());
    let store = Arc::new(FaultyStore::new(MemoryStore::default(), plan(200)));
    let remote = Remote::over_store(store.clone(), "bucket");

    let mut running = JoinSet::new();
    for path in paths.clone() {
        let remote = remote.clone();
        running.spawn(async move {
            let name = path.file_name().unwrap().to_str().unwrap().to_owned();
            let key = remote.choose_upload_key(&name).await?;
            remote.upload(&path, &key, |_| {}).await?;
            // The download retries cut bodies too.
            let back = remote.get(key.as_str(), MAX_UPLOAD_BYTES).await?;
            Ok::<_, augment_client::ClientError>((name, key, back))
        });
    }
    let mut arrived = BTreeSet::new();
    while let Some(joined) = running.join_next().await {
        let (name, key, back) = joined.unwrap().unwrap();
        assert_eq!(key.as_str(), format!("original-uploads/{name}"), "renamed");
        assert_eq!(back, std::fs::read(dir.path().join(&name)).unwrap());
        arrived.insert(key.as_str().to_owned());
    }
    // In the store, exactly one original per file: no `-2` from a PUT whose
    // reply was lost and a name check that then saw it.
    let stored: BTreeSet<String> = store.inner().keys().into_iter().collect();
    assert_eq!(arrived.len(), FILES);
    assert_eq!(stored, arrived);
    let injected = store.injected();
    assert!(injected > 100, "only {injected} faults injected");
    assert_eq!(remote.retried(), injected, "every fault was retried");
}

#[tokio::test(start_paused = true)]
async fn a_fault_that_outlasts_the_budget_fails_the_file_with_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let path = files(dir.path()).remove(0);
    let store = Arc::new(FaultyStore::new(MemoryStore::default(), plan(1000)));
    let remote = Remote::over_store(store.clone(), "bucket");
    let started = tokio::time::Instant::now();

    let err = remote.choose_upload_key("img_000.jpg").await.unwrap_err();
    let spent = started.elapsed();
    assert!(err.is_transient());
    assert_eq!(err.kind, ErrorKind::Other);
    assert!(
        err.message.starts_with("Still failing after"),
        "{}",
        err.message
    );
    assert!(err.message.contains("SlowDown"), "{}", err.message);
    assert!(
        spent <= augment_client::RETRY_BUDGET && spent * 2 > augment_client::RETRY_BUDGET,
        "{spent:?}"
    );
    assert_eq!(remote.retried() + 1, store.injected());

    // A name chosen on a good day, then a store that stays down: the PUT gives
    // up within the same budget, naming the last fault and the key.
    let healthy = Remote::over_store(Arc::new(MemoryStore::default()), "bucket");
    let key = healthy.choose_upload_key("img_000.jpg").await.unwrap();
    let started = tokio::time::Instant::now();
    let err = remote.upload(&path, &key, |_| {}).await.unwrap_err();
    assert!(started.elapsed() <= augment_client::RETRY_BUDGET);
    assert!(
        err.message.starts_with("Still failing after"),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("write failed (SlowDown)") || err.message.contains("No answer"),
        "{}",
        err.message
    );
    assert!(err.message.ends_with(key.as_str()), "{}", err.message);
}
