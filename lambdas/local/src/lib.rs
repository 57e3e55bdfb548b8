//! Local mode: the pipeline's ports implemented by a folder laid out exactly like
//! the bucket ([`FolderStore`]) and an in-process channel ([`ChannelQueue`]), and a
//! [`LocalPipeline`] that reacts to each upload the way S3 events and SQS do in
//! AWS, running the same steps. The local counterpart of `augment-aws`.

mod key_path;
mod metadata;
mod pipeline;
mod queue;
mod store;

pub use key_path::key_path;
pub use pipeline::{
    LOCAL_BUCKET, LocalPipeline, MAX_QUEUED_ROTATIONS, PipelineEvent, STEP_ATTEMPTS,
    STEP_FIRST_DELAY, STEP_MAX_DELAY,
};
pub use queue::ChannelQueue;
pub use store::{FolderStore, TEMP_PREFIX, temp_file_beside};
