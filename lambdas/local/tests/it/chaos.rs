//! Local mode under faults: 1,000 uploads while a tenth of the store's gets and
//! puts fail transiently (a seeded fault-injecting wrapper of the store), and the
//! pipeline is killed twice mid-run and started again on the same folder. Every
//! upload ends with its four rotations, nothing else is written, and every
//! injected fault was either tried again or reported with its cause.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use augment_local::{FolderStore, LocalPipeline, PipelineEvent};
use augment_pipeline::contract::UPLOAD_PREFIX;
use augment_pipeline::faults::{FaultPlan, FaultyStore};
use augment_pipeline::memory::keys;
use augment_pipeline::ports::{ObjectStore, PutObject};
use augment_pipeline::{Angle, UploadKey, imaging};
use image::{Rgb, RgbImage};

type Store = FaultyStore<FolderStore>;

const UPLOADS: usize = 1000;
/// Three runs of the pipeline: killed twice, then run to the end.
const RUNS: usize = 3;
const JOBS: usize = 2;

fn small_photo() -> Vec<u8> {
    imaging::encode_jpeg(&RgbImage::from_fn(64, 48, |x, y| {
        Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    }))
}

/// What the test saw: faults tried again (by the uploader and the pipeline) and
/// faults that reached a result, with their causes.
#[derive(Default)]
struct Tally {
    upload_retries: AtomicU64,
    surfaced: std::sync::Mutex<Vec<String>>,
}

/// Puts an original as an uploader does: a transient error is tried again.
async fn upload(store: &Store, key: &str, body: &[u8], tally: &Tally) {
    loop {
        let result = store
            .put(PutObject::new(key.to_owned(), body.to_vec(), "image/jpeg"))
            .await;
        match result {
            Ok(()) => return,
            Err(err) if err.is_transient() => {
                tally.upload_retries.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(err) => panic!("{err}"),
        }
    }
}

/// One run of the pipeline on its own runtime: resume what the last run left,
/// upload this run's share, then either stop after `kill_after` results (the
/// runtime is dropped with work in flight, as a killed process) or run until
/// everything in the folder is finished. Returns the pipeline's retry count.
fn run_once(
    store: &Arc<Store>,
    names: &[String],
    body: &[u8],
    tally: &Tally,
    kill_after: Option<usize>,
) -> u64 {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(JOBS + 1)
        .enable_all()
        .build()
        .unwrap();
    let pipeline = runtime.block_on(async {
        let (pipeline, mut events) = LocalPipeline::start_on(store.clone(), JOBS);
        let resumed = pipeline.resume().await.unwrap();
        eprintln!("run resumed {resumed} unfinished uploads");
        if kill_after.is_none() {
            // The last run starts after a kill: it has work left to find.
            assert!(resumed > 0);
        }
        let mut results = 0;
        let mut uploads = std::pin::pin!(async {
            for name in names {
                let key = format!("{UPLOAD_PREFIX}{name}");
                upload(store, &key, body, tally).await;
                pipeline.notify_upload(key).await;
            }
        });
        let mut uploaded = false;
        loop {
            tokio::select! {
                () = &mut uploads, if !uploaded => uploaded = true,
                event = events.recv() => {
                    let Some(event) = event else { break };
                    results += 1;
                    let failed = match event {
                        PipelineEvent::Upload { result: Err(err), key } => Some(format!("{key}: {err}")),
                        PipelineEvent::Rotation { result: Err(err), task } => Some(format!("{}: {err}", task.output_key)),
                        _ => None,
                    };
                    if let Some(failed) = failed {
                        tally.surfaced.lock().unwrap().push(failed);
                    }
                    if uploaded && kill_after.is_some_and(|n| results >= n) {
                        break;
                    }
                }
                () = tokio::time::sleep(Duration::from_millis(200)), if uploaded && kill_after.is_none() => {
                    if unfinished(store.inner()).await.is_empty() {
                        break;
                    }
                }
            }
        }
        pipeline.clone()
    });
    // Kill: whatever is queued or running is dropped at its next await; the
    // count is read once nothing runs.
    runtime.shutdown_timeout(Duration::from_secs(10));
    pipeline.retried()
}

/// Uploads in the folder without all four rotations.
async fn unfinished(folder: &FolderStore) -> Vec<String> {
    let rotations: BTreeSet<String> = keys(folder, "augmented-images/")
        .await
        .unwrap()
        .into_iter()
        .collect();
    folder
        .list(UPLOAD_PREFIX)
        .await
        .unwrap()
        .into_iter()
        .filter(|info| {
            let upload = UploadKey::parse(&info.key).unwrap();
            !Angle::ALL
                .iter()
                .all(|angle| rotations.contains(&upload.rotation_key(*angle)))
        })
        .map(|info| info.key)
        .collect()
}

#[test]
fn a_thousand_uploads_survive_faults_and_two_kills() {
    let dir = tempfile::tempdir().unwrap();
    let plan = FaultPlan {
        seed: 2026,
        per_mille: 100,
        gets: true,
        puts: true,
        ..FaultPlan::default()
    };
    let store = Arc::new(FaultyStore::new(FolderStore::new(dir.path()), plan));
    let body = small_photo();
    let names: Vec<String> = (0..UPLOADS).map(|i| format!("img_{i:04}.jpg")).collect();
    let tally = Tally::default();

    let share = UPLOADS / RUNS + 1;
    let mut pipeline_retries = 0;
    for (run, chunk) in names.chunks(share).enumerate() {
        // Killed after about half of this run's results (each upload makes 5).
        let kill_after = (run + 1 < RUNS).then_some(chunk.len() * 5 / 2);
        pipeline_retries += run_once(&store, chunk, &body, &tally, kill_after);
    }

    let folder = store.inner();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let all: Vec<String> = runtime.block_on(async {
        let mut all = keys(folder, "").await.unwrap();
        all.sort();
        all
    });
    let mut expected = BTreeSet::new();
    for name in &names {
        let upload = UploadKey::parse(&format!("{UPLOAD_PREFIX}{name}")).unwrap();
        expected.insert(upload.as_str().to_owned());
        expected.insert(upload.processed_key());
        expected.extend(Angle::ALL.map(|angle| upload.rotation_key(angle)));
    }
    let found: BTreeSet<String> = all.iter().cloned().collect();
    assert_eq!(found.len(), all.len(), "a key twice");
    let rotations = found
        .iter()
        .filter(|key| key.starts_with("augmented-images/"))
        .count();
    assert_eq!(rotations, 4 * UPLOADS);
    // Nothing lost, nothing extra (no `failed/` record, no second name).
    assert_eq!(found, expected);

    let injected = store.injected();
    let upload_retries = tally.upload_retries.load(Ordering::SeqCst);
    let surfaced = tally.surfaced.lock().unwrap().clone();
    for cause in &surfaced {
        assert!(
            cause.contains("injected"),
            "a fault surfaced without its cause: {cause}"
        );
    }
    eprintln!(
        "faults injected {injected}, retried {} (uploads {upload_retries}, pipeline {pipeline_retries}), surfaced {}",
        upload_retries + pipeline_retries,
        surfaced.len()
    );
    assert!(injected > 500, "only {injected} faults");
    assert_eq!(
        injected,
        upload_retries + pipeline_retries + surfaced.len() as u64
    );
}
