//! Local mode: the pipeline in this process, over a folder laid out like the
//! bucket. One driver, [`Driver`], for `augment process` ([`crate::batch`]) and
//! for [`Remote`](crate::Remote) in local mode (the app, `augment upload
//! --local`): it starts [`LocalPipeline`] and follows each upload's events to how
//! it ended.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use augment_local::{FolderStore, LocalPipeline, PipelineEvent};
use augment_pipeline::steps::UploadOutcome;
use augment_pipeline::{ObjectStore as _, Output, PutObject, Rejection, UploadKey, error_chain};

use crate::advice::{PLACE, Setting};
use crate::error::{ClientError, ErrorKind};
use crate::lock::lock;

/// How one upload ended in the local pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileResult {
    /// Processed and all four rotations written.
    Done,
    /// Bad input: `failed/<name>.json` says why.
    Rejected(Rejection),
    /// Not the file's fault (disk full, permissions…): the message says what.
    Failed(String),
}

/// The local pipeline and who hears how each upload ended. Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Driver {
    pipeline: LocalPipeline,
}

impl Driver {
    /// Starts the pipeline in `root` on the current Tokio runtime, at most `jobs`
    /// steps at once (the runtime needs that many worker threads: image work runs
    /// on them). `on_end` hears once how each announced upload ended, on a task
    /// of the runtime; it is dropped when the pipeline has stopped (every clone of
    /// the driver dropped and its work done).
    pub(crate) fn start(
        root: &Path,
        jobs: usize,
        mut on_end: impl FnMut(String, FileResult) + Send + 'static,
    ) -> Self {
        let (pipeline, mut events) = LocalPipeline::start(root, jobs);
        tokio::spawn(async move {
            let mut rotating = Rotating::default();
            while let Some(event) = events.recv().await {
                if let Some((key, result)) = rotating.ended(event) {
                    on_end(key, result);
                }
            }
        });
        Self { pipeline }
    }

    pub(crate) fn store(&self) -> &FolderStore {
        self.pipeline.store()
    }

    /// Starts work on an object now in the store, as S3's event does.
    pub(crate) async fn notify_upload(&self, key: String) {
        self.pipeline.notify_upload(key).await;
    }

    /// Finishes, in the background, the uploads an earlier run left unfinished
    /// in the folder (the app or `augment` killed mid-batch).
    pub(crate) fn resume_in_background(&self) {
        let pipeline = self.pipeline.clone();
        tokio::spawn(async move {
            match pipeline.resume().await {
                Ok(0) => {}
                Ok(count) => tracing::info!(count, "local pipeline: finishing earlier uploads"),
                // A short command's runtime ended first: nothing failed, and the
                // next start looks again.
                Err(err) if was_cancelled(&err) => {
                    tracing::debug!(
                        "local pipeline: the look for unfinished uploads was cut short"
                    );
                }
                Err(err) => tracing::warn!(
                    error = %error_chain(&err),
                    "local pipeline: could not look for unfinished uploads"
                ),
            }
        });
    }
}

/// Whether `err` comes from a task the runtime cancelled as it shut down.
fn was_cancelled(err: &(dyn std::error::Error + 'static)) -> bool {
    std::iter::successors(Some(err), |err| err.source()).any(|cause| {
        cause
            .downcast_ref::<tokio::task::JoinError>()
            .is_some_and(tokio::task::JoinError::is_cancelled)
    })
}

/// Uploads whose rotations are not all in, by key: how many are left and the
/// first rotation's error. A rotation can report before its upload does.
#[derive(Debug, Default)]
struct Rotating(HashMap<String, (usize, Option<String>)>);

impl Rotating {
    /// The upload this event ends, and how.
    fn ended(&mut self, event: PipelineEvent) -> Option<(String, FileResult)> {
        match event {
            PipelineEvent::Upload { key, result } => {
                let result = match result {
                    Ok(UploadOutcome::Processed { .. }) => return None,
                    Ok(UploadOutcome::Rejected { rejection, .. }) => {
                        FileResult::Rejected(rejection)
                    }
                    Ok(UploadOutcome::Skipped { reason, .. }) => {
                        FileResult::Failed(format!("The upload was skipped ({reason:?})."))
                    }
                    Err(err) => {
                        FileResult::Failed(format!("Processing failed: {}", error_chain(&err)))
                    }
                };
                Some((key, result))
            }
            PipelineEvent::Rotation { task, result } => {
                let (left, error) = self
                    .0
                    .entry(task.source_key.clone())
                    .or_insert((Output::ROTATIONS.len(), None));
                *left = left.saturating_sub(1);
                if let Err(err) = result {
                    error.get_or_insert_with(|| {
                        format!("The {}° rotation failed: {}", task.angle, error_chain(&err))
                    });
                }
                if *left > 0 {
                    return None;
                }
                let (_, error) = self.0.remove(&task.source_key)?;
                Some((
                    task.source_key,
                    error.map_or(FileResult::Done, FileResult::Failed),
                ))
            }
        }
    }
}

/// Step failures not caused by the file, by upload key, for `watch` to report.
type Faults = Arc<Mutex<HashMap<String, String>>>;

/// What [`Remote`](crate::Remote) adds in local mode: the pipeline, and the
/// failures that leave no trace in the folder (a full disk).
#[derive(Debug)]
pub(super) struct LocalMode {
    driver: Driver,
    faults: Faults,
}

impl LocalMode {
    /// Starts the pipeline on the current Tokio runtime. The steps do their image
    /// work on the runtime's worker threads, so they get all but one of them: the
    /// last keeps uploads, polls and thumbnails moving. A bigger runtime makes a
    /// faster local pipeline.
    pub(super) fn start(root: &Path) -> Result<Self, ClientError> {
        std::fs::create_dir_all(root).map_err(|err| {
            ClientError::io(
                &format!("Cannot create the data folder; choose another{PLACE}"),
                root,
                err,
            )
            .advised(&[Setting::DataFolder])
        })?;
        let workers = tokio::runtime::Handle::current().metrics().num_workers();
        let jobs = workers.saturating_sub(1).max(1);
        let faults = Faults::default();
        let recorded = faults.clone();
        // Results are read off the folder by `watch`; only failures are kept.
        let driver = Driver::start(root, jobs, move |key, result| {
            if let FileResult::Failed(message) = result {
                tracing::warn!(%key, %message, "local pipeline step failed");
                lock(&recorded).insert(key, message);
            }
        });
        driver.resume_in_background();
        Ok(Self { driver, faults })
    }

    pub(super) fn store(&self) -> &FolderStore {
        self.driver.store()
    }

    pub(super) fn root(&self) -> &Path {
        self.store().root()
    }

    pub(super) fn fault(&self, upload_key: &UploadKey) -> Option<String> {
        lock(&self.faults).get(upload_key.as_str()).cloned()
    }

    /// Before an upload to this key: an earlier failure is not this one's.
    pub(super) fn forget_fault(&self, upload_key: &UploadKey) {
        lock(&self.faults).remove(upload_key.as_str());
    }

    pub(super) async fn notify_upload(&self, upload_key: &UploadKey) {
        self.driver
            .notify_upload(upload_key.as_str().to_owned())
            .await;
    }

    /// Writes and removes a probe object: the folder exists and is writable.
    pub(super) async fn check_writable(&self) -> Result<(), ClientError> {
        let probe = ".augment-probe";
        let failed = |err| {
            ClientError::new(
                ErrorKind::Io,
                format!(
                    "The data folder is not writable. Choose another{PLACE}: {}",
                    self.root().display()
                ),
            )
            .advised(&[Setting::DataFolder])
            .with_source(err)
        };
        self.store()
            .put(PutObject {
                key: probe.to_owned(),
                body: Vec::new(),
                content_type: "application/octet-stream",
                metadata: Vec::new(),
                tags: Vec::new(),
                on_sent: None,
            })
            .await
            .map_err(failed)?;
        self.store().delete(probe).await.map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use augment_pipeline::StoreError;
    use augment_pipeline::ports::Failure;

    use super::was_cancelled;

    fn store_error(source: Box<dyn std::error::Error + Send + Sync>) -> StoreError {
        StoreError::Backend {
            op: "head",
            key: "k".into(),
            failure: Failure::Other,
            transient: false,
            source,
        }
    }

    #[tokio::test]
    async fn a_cancelled_task_is_told_apart_from_a_failure() {
        let task = tokio::spawn(std::future::pending::<()>());
        task.abort();
        let cancelled = task.await.unwrap_err();
        assert!(was_cancelled(&store_error(cancelled.into())));
        let io = std::io::Error::other("disk full");
        assert!(!was_cancelled(&store_error(io.into())));
    }
}
