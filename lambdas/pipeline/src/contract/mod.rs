//! The bucket contract: which keys exist, how they derive from an upload's key, and
//! the two JSON documents the pipeline writes (the rotation task and the failed
//! record). Every output key is a pure function of the upload key, so re-running a
//! step overwrites the same objects.
//!
//! ```text
//! original-uploads/<name>.<ext>               .jpg .jpeg .png (any case)
//! processed/<name>_256x256.jpg
//! augmented-images/<angle>-degree/<name>_<angle>.jpg   angle = 90, 180, 270, 360
//! failed/<name>.json
//! ```
//!
//! Two rules keep the layout writable and in order:
//! - **Key length.** An upload whose longest output key would not fit the store
//!   ([`KeyRules`]: S3's 1,024 bytes; in a folder also 255 bytes a file name) is
//!   refused up front (`name_too_long`). Its failed record, and that of any name
//!   whose `failed/<name>.json` would not fit, is
//!   `failed/<first 100 bytes of name>~<FNV-1a 64 of name, 16 hex digits>.json`
//!   ([`UploadKey::failed_key`]), which always fits.
//! - **Order.** Outputs record the upload they came from: its key, S3 event
//!   `sequencer` and event time (user metadata `source-key`,
//!   [`SEQUENCER_METADATA`], [`EVENT_TIME_METADATA`]); a step for an older event
//!   than the one its outputs record writes nothing ([`UploadOrder`]: by sequencer
//!   within one key, by event time across keys).
//!
//! One room a document: [`key`] (an upload's key and every key derived from it),
//! [`order`] (where an event stands among those that write the same outputs),
//! [`task`] (the rotation task SQS carries), [`record`] (the failed record).

use crate::folder_names;
use crate::limits::{MAX_FILE_NAME_BYTES, MAX_KEY_BYTES};

mod key;
mod order;
mod record;
mod task;

pub use key::{Angle, KeyError, UploadKey, decode_event_key, encode_event_key};
pub use order::{EVENT_TIME_METADATA, EventTime, SEQUENCER_METADATA, Sequencer, UploadOrder};
pub use record::{FailedRecord, Verdict};
pub use task::{RotationTask, TaskError};

pub const UPLOAD_PREFIX: &str = "original-uploads/";
pub const PROCESSED_PREFIX: &str = "processed/";
pub const AUGMENTED_PREFIX: &str = "augmented-images/";
pub const FAILED_PREFIX: &str = "failed/";

/// Extensions an upload key may end in (compared case-insensitively).
pub const UPLOAD_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Which keys a store can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRules {
    /// Longest key, in bytes.
    pub max_key_bytes: usize,
    /// Longest part between two `/`, in bytes, where the store has such a limit:
    /// a folder's, measured as the folder names the part ([`folder_names::escape`]).
    pub max_file_name_bytes: Option<usize>,
}

impl KeyRules {
    /// S3 (and every S3-compatible store): 1,024 bytes a key.
    pub const S3: Self = Self {
        max_key_bytes: MAX_KEY_BYTES,
        max_file_name_bytes: None,
    };
    /// A folder laid out like the bucket: S3's rule, so that what works locally
    /// works in the bucket, and 255 bytes a file name.
    pub const FOLDER: Self = Self {
        max_key_bytes: MAX_KEY_BYTES,
        max_file_name_bytes: Some(MAX_FILE_NAME_BYTES),
    };

    /// Whether `key` fits.
    pub fn fits(self, key: &str) -> bool {
        key.len() <= self.max_key_bytes
            && self.max_file_name_bytes.is_none_or(|max| {
                key.split('/')
                    .all(|part| folder_names::escaped_len(part) <= max)
            })
    }
}

/// Whether `ext` (without the dot) is an extension an upload may end in, in any
/// case: the one extension rule, for keys, file names and folder walks alike.
pub fn is_upload_extension(ext: &str) -> bool {
    UPLOAD_EXTENSIONS
        .iter()
        .any(|ok| ext.eq_ignore_ascii_case(ok))
}
