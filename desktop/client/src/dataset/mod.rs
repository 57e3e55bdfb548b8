//! A training-ready dataset straight from the bucket or the data folder, and the
//! check of one: `augment export` and `augment verify`.
//!
//! - [`split`]: which split a group of uploads lands in (seeded, by the source's
//!   SHA-256, so nothing leaks between splits);
//! - [`label`]: an upload's class from its folders;
//! - `source`: one upload's facts and outputs, read from the bucket;
//! - `imagefolder`, `webdataset`, [`manifest`]: the layouts written;
//! - `request`: what an export is asked ([`ExportRequest`]) and what it reports;
//! - `export`: the driver; `resume`: an interrupted export continued; `verify`: the check of an export, a download or the
//!   bucket itself.

mod export;
mod imagefolder;
pub mod label;
pub mod manifest;
mod request;
mod resume;
mod source;
pub mod split;
mod verify;
mod webdataset;

pub use imagefolder::{METADATA_JSONL, UNLABELED};
pub use manifest::{MANIFEST_CSV, MANIFEST_JSONL, ManifestRow};
pub use request::{
    CLASSES_TXT, DEFAULT_SHARD_BYTES, ExportEvent, ExportRequest, ExportSummary, Format,
};
pub use resume::EXPORT_MARKER;
pub use split::SplitSpec;
pub use verify::{Problem, ProblemKind, VerifyReport, verify_folder};
