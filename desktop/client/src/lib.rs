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
mod names;
mod objects;
pub mod ops;
mod pages;
mod plan;
mod retry;
mod s3;
pub mod settings;
mod upload;
mod watch;
mod watch_all;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use augment_pipeline::{Landed, ObjectStore, Output, Verdict};

pub use adaptive::{Concurrency, Slot};
pub use advice::{Anywhere, Setting, Surface};
pub use dedupe::{SHA256_METADATA, sha256_hex};
pub use download::{Area, DownloadEvent, DownloadRequest, DownloadSummary};
pub use error::{ClientError, ErrorKind};
pub use pages::{LIST_PAGE_KEYS, NameFilter};
pub use plan::{LIST_PAGES_PER_FILE, UploadPlan};
pub use retry::{RETRY_BUDGET, RETRY_FIRST_DELAY, RETRY_MAX_DELAY};
pub use settings::{AwsSettings, LocalSettings, Mode, OpsSettings, Settings, aws_profiles};
pub use watch_all::WATCH_PAGES_PER_UPLOAD;

/// Images per page of [`Remote::list_images`] (S3's `ListObjectsV2` returns at
/// most 1,000; a gallery screen shows far fewer).
pub const PAGE_SIZE: usize = 200;
pub use augment_pipeline::limits::MAX_FAILED_RECORD_BYTES;
/// Failed records [`Remote::list_rejected`] reads at once (each is its own GET).
const PARALLEL_RECORD_READS: usize = 16;
/// First pause of [`Remote::watch`]: the processor usually answers within a second.
pub const WATCH_FIRST_DELAY: Duration = Duration::from_millis(250);
/// Longest pause of [`Remote::watch`]: fast enough to feel live, slow enough that
/// a gallery of pending uploads does not hammer the bucket.
pub const WATCH_MAX_DELAY: Duration = Duration::from_secs(2);
/// What [`Remote::watch`] waits by default before saying the pipeline has not
/// answered (a cold Lambda start plus four rotations is a few seconds).
pub const WATCH_DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Most `-2`, `-3`… suffixes [`Remote::choose_upload_key`] tries before giving up.
const MAX_NAME_SUFFIX: u32 = 1000;

/// Bytes of one upload actually handed to the network (or copied, in local mode).
/// On an SDK retry the count starts again from 0: `sent_bytes` can go down once,
/// to 0, and then rises again to `total_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub sent_bytes: u64,
    pub total_bytes: u64,
}

/// One processed image in the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry {
    /// `<name>` of the bucket contract (may hold `/`).
    pub name: String,
    /// `processed/<name>_256x256.jpg`
    pub processed_key: String,
    pub size_bytes: u64,
    pub last_modified: Option<SystemTime>,
}

/// One page of a listing ([`Remote::list_images`], [`Remote::list_rejected`]);
/// pass `next` back for the following page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// One upload the pipeline rejected, read from its `failed/` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEntry {
    /// `<name>` of the bucket contract, as for [`ImageEntry::name`]:
    /// [`Remote::delete_image`] of it removes the original and the record.
    pub name: String,
    /// `failed/<name>.json` (or its short form for a long name).
    pub failed_key: String,
    /// `too_large`, `corrupt`…: the record's code.
    pub code: String,
    /// Why, for people.
    pub message: String,
    pub last_modified: Option<SystemTime>,
}

/// Which outputs of an upload exist now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputsState {
    pub landed: Landed,
    pub failed: Option<Verdict>,
}

impl OutputsState {
    /// Every output is there ([`Landed::is_complete`]).
    pub fn is_complete(&self) -> bool {
        self.landed.is_complete()
    }
}

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

/// The backend: built once from the settings, cheap to clone (an `Arc`), `Send +
/// Sync`. Every method is async and meant to run on a Tokio runtime off the UI
/// thread.
#[derive(Debug, Clone)]
pub struct Remote {
    inner: Arc<Inner>,
}

struct Inner {
    /// The bucket (S3) or the data folder (local): one store, through the port.
    store: Arc<dyn ObjectStore>,
    /// Named in messages where the bucket is the thing to fix; empty in local mode.
    bucket: String,
    /// What [`Remote::describe`] says.
    place: String,
    /// Local mode: the pipeline runs in this process.
    local: Option<local::LocalMode>,
    /// Names chosen by this process and not yet uploaded, lowercased, so two files
    /// called `cat.jpg` dropped together do not both get `cat`.
    reserved: Mutex<HashSet<String>>,
    /// When each reserved name's upload must stop retrying: its name check's
    /// start plus [`RETRY_BUDGET`], one budget for the whole file.
    deadlines: Mutex<HashMap<String, tokio::time::Instant>>,
    /// The uploads [`Remote::watch`] is watching, served by one poll.
    watching: Mutex<watch_all::Watching>,
    /// Transient errors tried again, for a summary and for tests.
    retried: AtomicU64,
    /// S3: the same bucket through a one-attempt client, for [`Remote::check`],
    /// and the endpoint an "unreachable" message names.
    probe: Option<(Arc<dyn ObjectStore>, String)>,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner")
            .field("place", &self.place)
            .finish_non_exhaustive()
    }
}

pub use upload::{CheckedFile, check_file, check_file_async, write_failed_record};

/// A mutex's guard, poisoned or not: every value behind these locks stays valid
/// whatever a panicking holder left undone.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
