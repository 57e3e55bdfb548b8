//! A batch uploaded the way the desktop app's worker uploads one, headless, for
//! the transfer bench (`cargo xtask bench --transfer`): `app_batch
//! --endpoint-url URL --bucket NAME DIR`, credentials from the environment.
//!
//! Per file, as `desktop/app/src/worker` does it with the app's defaults
//! (`Settings::default().transfer_jobs`: adaptive): the client's check and the
//! content hash off the async threads ([`MAX_PARALLEL_CHECKS`] at once), the
//! batch's plan made once when the first row needs it (`Remote::plan_uploads`),
//! the same bytes earlier in the queue or already uploaded under the name
//! (`UploadPlan::uploaded_copy`), at most [`MAX_AWAITING_PIPELINE`] rows past
//! that point, an upload slot ([`Concurrency`]), the name
//! (`UploadPlan::choose_upload_key`), the upload. Left
//! out: the queue thumbnail's decode (the app's own code, a GUI crate) and the
//! watch for the rotations (the bench's store runs no pipeline), so a row's
//! place among the awaiting ones is given back as its upload ends.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use augment_client::inputs::{self, Input};
use augment_client::{AwsSettings, ClientError, Concurrency, Mode, Remote, Settings, UploadPlan};
use augment_pipeline::contract::UPLOAD_PREFIX;
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinSet;

/// The app's `worker::core::MAX_AWAITING_PIPELINE`.
const MAX_AWAITING_PIPELINE: usize = 24;
/// The app's `worker::core::MAX_PARALLEL_CHECKS`.
const MAX_PARALLEL_CHECKS: usize = 4;

/// What every row shares, as the worker's state does.
struct Shared {
    remote: Remote,
    uploads: Concurrency,
    pipeline: Semaphore,
    checks: Semaphore,
    /// The batch's file names and its plan, made when the first row asks.
    names: Vec<String>,
    plan: OnceCell<Result<UploadPlan, ClientError>>,
    /// Content hash → the first row that had it.
    claims: Mutex<HashMap<String, usize>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut endpoint, mut bucket, mut dirs) = (None, None, Vec::new());
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--endpoint-url" => endpoint = args.next(),
            "--bucket" => bucket = args.next(),
            _ => dirs.push(PathBuf::from(arg)),
        }
    }
    let (Some(endpoint), Some(bucket)) = (endpoint, bucket) else {
        return Err("usage: app_batch --endpoint-url URL --bucket NAME DIR...".into());
    };
    let settings = Settings {
        mode: Mode::Custom,
        aws: AwsSettings {
            bucket,
            endpoint_url: Some(endpoint),
            ..AwsSettings::default()
        },
        ..Settings::default()
    };
    let inputs = inputs::collect(&dirs, None)?;
    let shared = Arc::new(Shared {
        remote: Remote::connect(&settings).await?,
        uploads: Concurrency::new(settings.transfer_jobs.map(usize::from)),
        pipeline: Semaphore::new(MAX_AWAITING_PIPELINE),
        checks: Semaphore::new(MAX_PARALLEL_CHECKS),
        names: inputs
            .iter()
            .map(|input| file_name(input).to_owned())
            .collect(),
        plan: OnceCell::new(),
        claims: Mutex::default(),
    });
    let mut rows = JoinSet::new();
    for (id, input) in inputs.into_iter().enumerate() {
        let shared = Arc::clone(&shared);
        rows.spawn(async move { shared.row(id, input).await });
    }
    let mut failed = 0;
    while let Some(row) = rows.join_next().await {
        if let Err(err) = row? {
            eprintln!("failed: {}", err.detail());
            failed += 1;
        }
    }
    if failed > 0 {
        return Err(format!("{failed} uploads failed").into());
    }
    Ok(())
}

impl Shared {
    /// One row's way, as `Worker::run` takes it (a duplicate is uploaded too:
    /// the answer "Keep both").
    async fn row(&self, id: usize, input: Input) -> Result<(), ClientError> {
        let path = input.path.clone();
        let checking = self.checks.acquire().await;
        let (sha256, size) = tokio::task::spawn_blocking(move || {
            augment_client::check_file(&path).map(|checked| {
                (
                    augment_client::sha256_hex(&checked.bytes),
                    checked.bytes.len() as u64,
                )
            })
        })
        .await
        .map_err(|err| ClientError::new(augment_client::ErrorKind::Other, err.to_string()))??;
        drop(checking);
        let plan = self
            .plan
            .get_or_init(|| {
                self.remote
                    .plan_uploads(self.names.iter().map(String::as_str))
            })
            .await
            .as_ref()
            .map_err(Clone::clone)?;
        let file_name = file_name(&input);
        let first = *self
            .claims
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(sha256.clone())
            .or_insert(id);
        if first == id {
            // A failed look is no duplicate, as in the app.
            let _copy = plan.uploaded_copy(file_name, &sha256, size).await;
        }
        let Ok(_awaiting) = self.pipeline.acquire().await else {
            return Ok(());
        };
        let Some(slot) = self.uploads.acquire().await else {
            return Ok(());
        };
        let retried = self.remote.retried();
        let uploaded = async {
            let key = plan.choose_upload_key(file_name).await?;
            self.remote.upload(&input.path, &key, |_| {}).await
        }
        .await;
        slot.finish(self.remote.retried() > retried);
        uploaded.map(drop)
    }
}

/// The row's upload name without the prefix, as the app's worker takes it.
fn file_name(input: &Input) -> &str {
    input
        .upload
        .as_str()
        .strip_prefix(UPLOAD_PREFIX)
        .unwrap_or(input.upload.as_str())
}
