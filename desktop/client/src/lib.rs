//! The client library the desktop app and the `augment` command line share:
//! settings, one [`Remote`] over either backend (a local folder with the pipeline
//! in-process, or an S3 bucket), uploads with real progress, the gallery listing,
//! watching an upload's outputs land, deleting an image; which files a person
//! named and their upload names ([`inputs`]); a batch through the local pipeline
//! ([`batch`]). No UI here; everything is async (Tokio) and the handles are
//! `Send + Sync`, cheap to clone.

mod adaptive;
mod advice;
pub mod batch;
mod connect;
pub mod dataset;
mod dedupe;
pub mod download;
mod error;
mod files;
pub mod inputs;
mod listing;
mod local;
mod lock;
mod names;
mod objects;
pub mod ops;
mod pages;
mod plan;
mod remote;
mod retry;
mod s3;
pub mod settings;
mod upload;
mod watch;
mod watch_all;
mod watched;

pub use adaptive::{Concurrency, Slot};
pub use advice::{Anywhere, Setting, Surface};
pub use dedupe::{SHA256_METADATA, sha256_hex};
pub use download::{Area, DownloadEvent, DownloadRequest, DownloadSummary};
pub use error::{ClientError, ErrorKind};
pub use listing::{ImageEntry, PAGE_SIZE, Page, RejectedEntry};
pub use pages::{LIST_PAGE_KEYS, NameFilter};
pub use plan::{LIST_PAGES_PER_FILE, UploadPlan};
pub use remote::Remote;
pub use retry::{RETRY_BUDGET, RETRY_FIRST_DELAY, RETRY_MAX_DELAY};
pub use settings::{AwsSettings, LocalSettings, Mode, OpsSettings, Settings, aws_profiles};
pub use upload::{CheckedFile, Progress, check_file, check_file_async, write_failed_record};
pub use watch::{OutputsState, WATCH_DEFAULT_TIMEOUT, WATCH_FIRST_DELAY, WATCH_MAX_DELAY};
pub use watch_all::WATCH_PAGES_PER_UPLOAD;
pub use watched::WatchEvent;

pub use augment_pipeline::limits::MAX_FAILED_RECORD_BYTES;
