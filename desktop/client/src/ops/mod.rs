//! Operating a deployment: what `augment status`, `augment logs` and `augment
//! redrive` (and the app's pipeline line) ask of it. The bucket's stages come
//! through the store port (every mode); the queues, the functions' logs and the
//! processor's Invoke API through [`Operator`] (AWS and custom mode only). A call
//! the credentials may not make is a [`Denied`] with the policy statement that
//! would allow it, never a failure of the whole command.

mod aws;
mod census;
mod denied;
mod logs;
mod options;
mod redrive;
mod status;

pub use aws::{Operator, QueueDepth, QueueRole};
pub use census::{Stages, StuckUpload, Timing};
pub use denied::Denied;
pub use logs::{LogFilter, LogLine, number_and_unit, parse_since};
pub use options::{
    DEFAULT_STUCK_AFTER, DEFAULT_TIMING_UPLOADS, DESIGN_EXPECTED_SECS, REDRIVE_STUCK_MAX,
    STATUS_STUCK_NAMED, StatusOptions,
};
pub use redrive::RedriveReport;
pub use status::{PipelineStatus, thousands};

use crate::error::ClientError;
use crate::remote::Remote;
use crate::settings::{Mode, Settings};

impl Remote {
    /// The backend for looking only: as [`crate::Remote::connect`], except that
    /// local mode opens the data folder without starting the pipeline (which
    /// would resume unfinished uploads while they are being counted).
    pub async fn connect_to_look(settings: &Settings) -> Result<Self, ClientError> {
        if settings.mode != Mode::Local {
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
