//! Where the dataset job is kept: the job running (to cancel it) and its file
//! beside the saved queue, so a quit or a crash resumes it at the next start.
//! The worker's state holds it; `dataset.rs` runs the jobs.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::task::AbortHandle;

use crate::dataset_job::DatasetJob;

/// The saved job's file name, beside the saved queue.
pub const DATASET_JOB_FILE: &str = "dataset-job.json";

/// The job running and where it is kept.
#[derive(Default)]
pub(super) struct DatasetJobs {
    pub(super) running: Mutex<Option<AbortHandle>>,
    /// `None`: not kept (tests without a state folder).
    saved: Option<PathBuf>,
}

impl DatasetJobs {
    /// Kept in `queue_file`'s folder.
    pub(super) fn beside(queue_file: Option<&Path>) -> Self {
        Self {
            running: Mutex::new(None),
            saved: queue_file.map(|path| path.with_file_name(DATASET_JOB_FILE)),
        }
    }

    /// The job a quit left, if any (an unreadable file is logged and dropped).
    pub(super) fn left_over(&self) -> Option<DatasetJob> {
        let path = self.saved.as_ref()?;
        let bytes = std::fs::read(path).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(job) => Some(job),
            Err(err) => {
                tracing::warn!(
                    "the saved dataset job {} is not resumed: {err}",
                    path.display()
                );
                let _ = std::fs::remove_file(path);
                None
            }
        }
    }

    pub(super) fn keep(&self, job: &DatasetJob) {
        let Some(path) = &self.saved else { return };
        let written = serde_json::to_vec_pretty(job)
            .map_err(std::io::Error::other)
            .and_then(|json| {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let temporary = path.with_extension("json.tmp");
                std::fs::write(&temporary, json)?;
                std::fs::rename(&temporary, path)
            });
        if let Err(err) = written {
            tracing::warn!("cannot keep the dataset job in {}: {err}", path.display());
        }
    }

    pub(super) fn forget(&self) {
        if let Some(path) = &self.saved
            && let Err(err) = std::fs::remove_file(path)
            && err.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {err}", path.display());
        }
    }
}
