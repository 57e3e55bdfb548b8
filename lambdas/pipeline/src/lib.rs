//! The image augmentation pipeline: everything but the transport.
//!
//! - [`imaging`]: validate, decode, fit onto the white 256×256 canvas, rotate, encode.
//! - [`contract`]: the bucket layout, the rotation task and the failed record;
//!   [`folder_names`]: how a key's parts are named in a folder.
//! - [`outputs`]: what an upload becomes: its outputs, their keys, when it is complete.
//! - [`provenance`]: what every output records about how it was made.
//! - [`steps`]: *process an upload* and *make a rotation*, generic over the
//!   [`ports`] (an object store and a task queue).
//! - `memory` (feature `testing`): the ports in memory, with fault switches, for
//!   tests. The real adapters are crates of their own: `augment-aws` (S3, SQS)
//!   and `augment-local` (a folder, a channel).
//! - `faults` (feature `testing`): a seeded fault-injecting wrapper of any store,
//!   for chaos tests.
//! - `makers` (feature `testing`): test inputs made in code (photo-like and
//!   hostile JPEGs and PNGs), for the tests and the `hostile_inputs` example.
//!
//! Limits are in [`limits`]; every rejection carries a [`RejectCode`].

pub mod contract;
#[cfg(feature = "testing")]
pub mod faults;
pub mod folder_names;
pub mod imaging;
pub mod limits;
#[cfg(feature = "testing")]
pub mod makers;
#[cfg(feature = "testing")]
pub mod memory;
pub mod outputs;
pub mod ports;
pub mod provenance;
pub mod reject;
pub mod sniff;
pub mod steps;

pub use contract::{Angle, FailedRecord, RotationTask, UploadKey, Verdict};
pub use outputs::{BucketKey, Landed, Output};
pub use ports::{
    ListPage, ListRequest, ObjectInfo, ObjectStore, OnSent, PutObject, QueueError, StoreError,
    StoreFuture, TaskQueue,
};
pub use provenance::Provenance;
pub use reject::{RejectCode, Rejection};
pub use steps::{
    RotationOutcome, StepError, UploadEvent, UploadOutcome, make_rotation, make_rotations,
    process_upload, process_upload_event,
};

/// An error and its causes on one line: "a: b: c".
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
