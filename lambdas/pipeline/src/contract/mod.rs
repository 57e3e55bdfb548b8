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
//! One room a document: [`layout`] (the prefixes, the upload extensions, which keys a
//! store can hold), [`key`] (an upload's key; the output keys derived from it are
//! [`crate::outputs`]'s), [`order`] (where an event stands among those that write
//! the same outputs), [`task`] (the rotation task SQS carries), [`record`] (the
//! failed record).

mod key;
mod layout;
mod order;
mod record;
mod task;

pub use key::{Angle, KeyError, UploadKey, decode_event_key, encode_event_key};
pub use layout::{
    AUGMENTED_PREFIX, FAILED_PREFIX, KeyRules, PROCESSED_PREFIX, UPLOAD_EXTENSIONS, UPLOAD_PREFIX,
    is_upload_extension,
};
pub use order::{
    EVENT_TIME_METADATA, EventTime, SEQUENCER_METADATA, SOURCE_KEY_METADATA, Sequencer, UploadOrder,
};
pub use record::{FailedRecord, Verdict};
pub use task::{RotationTask, TaskError};
