//! Operating a deployment: what `augment status`, `augment logs` and `augment
//! redrive` (and the app's pipeline line) ask of it. The bucket's stages come
//! through the store port (every mode); the queues, the functions' logs and the
//! processor's Invoke API through [`Operator`] (AWS and custom mode only). A call
//! the credentials may not make is a [`Denied`] with the policy statement that
//! would allow it, never a failure of the whole command.

mod aws;
mod census;
mod logs;
mod redrive;
mod status;

use std::time::Duration;

use serde::Serialize;

pub use aws::{Operator, QueueDepth, QueueRole};
pub use census::{Stages, StuckUpload, Timing};
pub use logs::{LogFilter, LogLine, number_and_unit, parse_since};
pub use redrive::RedriveReport;
pub use status::{PipelineStatus, thousands};

/// Uploads older than this with neither all their outputs nor a record are stuck.
pub const DEFAULT_STUCK_AFTER: Duration = Duration::from_secs(15 * 60);
/// The last uploads whose time to the fourth rotation is measured.
pub const DEFAULT_TIMING_UPLOADS: usize = 100;
/// Stuck uploads `status` names one by one (all are counted).
pub const STATUS_STUCK_NAMED: usize = 50;
/// Stuck uploads one `redrive` re-triggers (run it again for more).
pub const REDRIVE_STUCK_MAX: usize = 10_000;
/// What the original design expects from upload to the rotations for a small
/// image, in seconds.
pub const DESIGN_EXPECTED_SECS: (u64, u64) = (5, 10);

/// What `status` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusOptions {
    /// [`DEFAULT_STUCK_AFTER`] unless the person says otherwise.
    pub stuck_after: Duration,
    /// [`DEFAULT_TIMING_UPLOADS`].
    pub timing_uploads: usize,
    /// How many stuck uploads are named (all are counted).
    pub stuck_named: usize,
}

impl Default for StatusOptions {
    fn default() -> Self {
        Self {
            stuck_after: DEFAULT_STUCK_AFTER,
            timing_uploads: DEFAULT_TIMING_UPLOADS,
            stuck_named: STATUS_STUCK_NAMED,
        }
    }
}

/// Something the credentials in use may not see or do, and the IAM policy
/// statement that would allow it (the operator policy's, narrowed to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Denied {
    /// What could not be seen or done, for a person.
    pub what: String,
    /// The statement, as JSON (`{"Effect": "Allow", "Action": …, "Resource": …}`).
    pub statement: String,
}

impl Denied {
    pub(crate) fn new(what: impl Into<String>, actions: &[&str], resources: &[String]) -> Self {
        let statement = serde_json::json!({
            "Effect": "Allow",
            "Action": actions,
            "Resource": resources,
        });
        Self {
            what: what.into(),
            statement: statement.to_string(),
        }
    }
}

impl crate::Remote {
    /// The backend for looking only: as [`crate::Remote::connect`], except that
    /// local mode opens the data folder without starting the pipeline (which
    /// would resume unfinished uploads while they are being counted).
    pub async fn connect_to_look(settings: &crate::Settings) -> Result<Self, crate::ClientError> {
        if settings.mode != crate::Mode::Local {
            return Self::connect(settings).await;
        }
        let root = settings.data_dir()?;
        let store = std::sync::Arc::new(augment_local::FolderStore::new(&root));
        Ok(Self::new(
            store,
            String::new(),
            root.display().to_string(),
            None,
        ))
    }

    /// The bucket's name (empty in local mode).
    pub(crate) fn bucket_name(&self) -> &str {
        &self.inner.bucket
    }

    /// `arn:aws:s3:::<bucket>`, for a policy statement.
    pub(crate) fn bucket_arn(&self) -> String {
        format!("arn:aws:s3:::{}", self.inner.bucket)
    }
}
