//! What a watch hears ([`WatchEvent`]) and the uploads being watched: the
//! state the one poll (`watch_all.rs`) serves, held by the remote.

use std::collections::HashMap;

use augment_pipeline::{Landed, Output, UploadKey, Verdict};
use tokio::sync::mpsc;

use crate::error::ClientError;

/// What [`Remote::watch`] reports, each at most once per watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// One of the upload's outputs exists now (the processed image first, then
    /// the rotations as they land).
    Landed { output: Output, key: String },
    /// The pipeline rejected the upload: the record says why. Final.
    Rejected(Verdict),
    /// Local mode only: a step failed for a reason that is not the file's (disk
    /// full, permissions). The message says what. Final.
    Failed(String),
    /// Nothing more arrived within the timeout. Final.
    TimedOut,
}

/// What one watched upload hears from the poll: an event, or `None` after each
/// round that looked at it (a watch times out only after one look).
pub(crate) type Heard = Result<Option<WatchEvent>, ClientError>;

/// The uploads being watched, and whether a poll task is running for them.
#[derive(Debug, Default)]
pub(crate) struct Watching {
    pub(crate) entries: HashMap<u64, Entry>,
    pub(crate) next_id: u64,
    pub(crate) polling: bool,
}

/// One watched upload: what it has heard of so far, and where to tell it more.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) key: UploadKey,
    pub(crate) seen: Landed,
    pub(crate) heard: mpsc::UnboundedSender<Heard>,
}
