//! Local mode: the data folder laid out like the bucket, and the pipeline running
//! in this process on each upload.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use augment_local::{FolderStore, LocalPipeline, PipelineEvent};
use augment_pipeline::contract::PROCESSED_PREFIX;
use augment_pipeline::error_chain;
use augment_pipeline::steps::UploadOutcome;
use augment_pipeline::{ObjectStore, PutObject, UploadKey};

use super::{ClientError, ImageEntry, PAGE_SIZE, Page, Progress, name_of_processed};

/// Step failures not caused by the file, by upload key, for `watch` to report.
type Faults = Arc<Mutex<HashMap<String, String>>>;

#[derive(Debug)]
pub(super) struct LocalBackend {
    pipeline: LocalPipeline,
    faults: Faults,
}

impl LocalBackend {
    /// Starts the pipeline on the current Tokio runtime. The steps do their image
    /// work on the runtime's worker threads, so they get all but one of them: the
    /// last keeps uploads, polls and thumbnails moving. A bigger runtime makes a
    /// faster local pipeline.
    pub(super) fn start(root: &Path) -> Result<Self, ClientError> {
        std::fs::create_dir_all(root).map_err(|err| {
            ClientError::io(
                "Cannot create the data folder; choose another in Settings",
                root,
                err,
            )
        })?;
        let workers = tokio::runtime::Handle::current().metrics().num_workers();
        let jobs = workers.saturating_sub(1).max(1);
        let (pipeline, mut events) = LocalPipeline::start(root, jobs);
        let faults = Faults::default();
        let recorded = faults.clone();
        // Results are read off the folder by `watch`; only failures that leave no
        // trace there (a full disk) are kept, and the channel is drained so it
        // does not grow.
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let (key, message) = match event {
                    PipelineEvent::Upload {
                        key,
                        result: Ok(UploadOutcome::Skipped { reason, .. }),
                    } => (key, format!("The upload was skipped ({reason:?}).")),
                    PipelineEvent::Upload {
                        key,
                        result: Err(err),
                    } => (key, format!("Processing failed: {}", error_chain(&err))),
                    PipelineEvent::Rotation {
                        task,
                        result: Err(err),
                    } => (
                        task.source_key,
                        format!("The {}° rotation failed: {}", task.angle, error_chain(&err)),
                    ),
                    PipelineEvent::Upload { .. } | PipelineEvent::Rotation { .. } => continue,
                };
                tracing::warn!(%key, %message, "local pipeline step failed");
                recorded
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(key, message);
            }
        });
        Ok(Self { pipeline, faults })
    }

    pub(super) fn root(&self) -> &Path {
        self.pipeline.store().root()
    }

    pub(super) fn store(&self) -> &FolderStore {
        self.pipeline.store()
    }

    pub(super) fn fault(&self, upload_key: &UploadKey) -> Option<String> {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(upload_key.as_str())
            .cloned()
    }

    /// Writes and removes a probe object: the folder exists and is writable.
    pub(super) async fn check(&self) -> Result<(), ClientError> {
        let probe = ".augment-probe";
        let store = self.store();
        let failed = |err| {
            ClientError::new(
                super::ErrorKind::Io,
                format!(
                    "The data folder is not writable. Choose another in Settings: {}",
                    self.root().display()
                ),
            )
            .with_source(err)
        };
        store
            .put(PutObject {
                key: probe.to_owned(),
                body: Vec::new(),
                content_type: "application/octet-stream",
                metadata: Vec::new(),
            })
            .await
            .map_err(failed)?;
        store.delete(probe).await.map_err(failed)
    }

    pub(super) async fn upload(
        &self,
        path: &Path,
        upload_key: &UploadKey,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<(), ClientError> {
        // Checked as in S3 mode, so a bad file fails the same way before any copy.
        let total_bytes = super::check_file_async(path).await?.bytes.len() as u64;
        progress(Progress {
            sent_bytes: 0,
            total_bytes,
        });

        // The copy runs on a blocking thread that outlives a dropped future; this
        // flag stops it at the next chunk (and the half-written file is removed).
        let cancelled = Arc::new(AtomicBool::new(false));
        // Dropped at the end either way; once the copy is done the flag is unread.
        let _guard = CancelOnDrop(cancelled.clone());
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(upload_key.as_str());
        self.store()
            .import_file_with_progress(upload_key.as_str(), path, move |copied| {
                if cancelled.load(Ordering::Relaxed) {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::Interrupted,
                        "upload cancelled",
                    ));
                }
                progress(Progress {
                    sent_bytes: copied,
                    total_bytes,
                });
                Ok(())
            })
            .await
            .map_err(ClientError::from_store)?;
        self.pipeline
            .notify_upload(upload_key.as_str().to_owned())
            .await;
        Ok(())
    }

    pub(super) async fn list_images(&self, cursor: Option<String>) -> Result<Page, ClientError> {
        let all = self
            .store()
            .list(PROCESSED_PREFIX)
            .await
            .map_err(ClientError::from_store)?;
        let mut entries = all
            .into_iter()
            .filter(|info| {
                cursor
                    .as_deref()
                    .is_none_or(|after| info.key.as_str() > after)
            })
            .filter_map(|info| {
                let name = name_of_processed(&info.key)?;
                Some((name, info))
            });
        let page: Vec<_> = entries.by_ref().take(PAGE_SIZE).collect();
        let more = entries.next().is_some();
        // A page of file times is a page of `stat`s: off the async threads.
        let store = self.store().clone();
        let items = tokio::task::spawn_blocking(move || {
            page.into_iter()
                .map(|(name, info)| ImageEntry {
                    last_modified: store
                        .path_of(&info.key)
                        .ok()
                        .and_then(|path| std::fs::metadata(path).ok())
                        .and_then(|meta| meta.modified().ok()),
                    name,
                    processed_key: info.key,
                    size_bytes: info.size_bytes,
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|err| {
            ClientError::new(
                super::ErrorKind::Other,
                "Listing the data folder stopped unexpectedly. Try again.",
            )
            .with_source(err)
        })?;
        let next = more
            .then(|| items.last().map(|item| item.processed_key.clone()))
            .flatten();
        Ok(Page { items, next })
    }
}

impl super::Store for LocalBackend {
    async fn exists(&self, key: &str) -> Result<bool, ClientError> {
        self.store()
            .head(key)
            .await
            .map(|info| info.is_some())
            .map_err(ClientError::from_store)
    }

    async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, ClientError> {
        self.store()
            .get(key, max_bytes)
            .await
            .map_err(ClientError::from_store)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, ClientError> {
        self.store()
            .list(prefix)
            .await
            .map(|found| found.into_iter().map(|info| info.key).collect())
            .map_err(ClientError::from_store)
    }

    async fn delete(&self, key: &str) -> Result<(), ClientError> {
        self.store()
            .delete(key)
            .await
            .map_err(ClientError::from_store)
    }
}

/// Sets the flag when the upload future is dropped before the copy finished.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}
