//! What the rooms ask the worker for ([`Command`]) and what it answers
//! ([`Event`]): the one protocol between the UI thread and the worker.

use std::path::PathBuf;

use augment_client::dataset::ExportSummary;
use augment_client::ops::{PipelineStatus, RedriveReport};
use augment_client::{
    AwsSettings, ClientError, DownloadSummary, ImageEntry, Page, RejectedEntry, Settings,
};
use augment_pipeline::Output;
use egui::ColorImage;

use crate::dataset_job::DatasetJob;
use crate::thumbs::NoImage;

/// One row of the transfer queue, numbered by the worker.
pub type TransferId = u64;

/// The files of one drop, dialog or command line: the duplicate question is
/// asked once per batch.
pub type BatchId = u64;

/// The answer to "already uploaded or queued": for the rest of the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateAnswer {
    Skip,
    KeepBoth,
}

/// What the UI asks for.
#[derive(Debug)]
pub enum Command {
    /// Connections and the settings' dialogs.
    Settings(SettingsCommand),
    /// Adding files (and their dialogs), cancelling, retrying, pausing rows.
    Transfer(TransferCommand),
    /// Listing, thumbnails, deleting and saving.
    Gallery(GalleryCommand),
    /// The desktop's parts: a report file, a notification, the file manager.
    Desktop(DesktopCommand),
    /// The pipeline's status and its re-drive.
    Status(StatusCommand),
    /// Downloading everything, exporting a dataset.
    Dataset(DatasetCommand),
}

/// Downloading everything, exporting a dataset: one job at a time.
#[derive(Debug)]
pub enum DatasetCommand {
    /// Show a folder dialog for the dialog's folder.
    PickFolder,
    /// Run this job (kept on disk until it ends: a quit resumes it).
    Start(DatasetJob),
    /// Stop the job running; what it wrote stays (an export continues when
    /// started again with the same choices).
    Cancel,
}

/// The pipeline's status and its re-drive, with the settings in use (the
/// queues and functions they name).
#[derive(Debug)]
pub enum StatusCommand {
    Refresh(Box<Settings>),
    Redrive(Box<Settings>),
}

/// What the status and the re-drive found.
#[derive(Debug)]
pub enum StatusEvent {
    Refreshed(Result<PipelineStatus, ClientError>),
    Redriven(Result<RedriveReport, ClientError>),
}

/// Connections and the settings' dialogs.
#[derive(Debug)]
pub enum SettingsCommand {
    /// Use these settings from now on (also at start-up).
    Connect(Settings),
    /// Try these settings without switching to them.
    TestConnection(Settings),
    /// Show a file dialog for the JSON that `terraform output -json` prints.
    ImportTerraform,
    /// Read the profile names from the AWS config files.
    LoadProfiles,
    /// Show a folder dialog for the local data folder.
    ChooseDataDir,
}

/// Adding files (and their dialogs), cancelling, retrying, pausing rows.
#[derive(Debug)]
pub enum TransferCommand {
    /// Files and folders (dropped, opened, or from the command line).
    Add(Vec<PathBuf>),
    /// Show the "Add images" file dialog (multi-select).
    PickFiles,
    /// Show a folder dialog; its images are added recursively.
    PickFolder,
    Cancel(TransferId),
    /// Again, the way that cannot duplicate: a row already uploaded keeps its
    /// key (watched again after a time-out, written again after a failure).
    Retry(TransferId),
    /// Hold (`true`) or release the uploads not started yet.
    Pause(bool),
    /// What to do with this batch's duplicates, the ones waiting and the rest.
    AnswerDuplicates {
        batch: BatchId,
        answer: DuplicateAnswer,
    },
}

/// Listing, thumbnails, deleting and saving.
#[derive(Debug)]
pub enum GalleryCommand {
    /// A page of one listing; `generation` ties the answer to one connection.
    List {
        listing: Listing,
        cursor: Option<String>,
        generation: u64,
    },
    Thumbnail {
        key: String,
        side: u32,
    },
    Delete {
        name: String,
    },
    /// Show a folder dialog, then download these keys into it.
    SaveRotations {
        keys: Vec<String>,
    },
}

/// A page of one of the gallery's listings.
#[derive(Debug)]
pub enum ListedPage {
    Images(Page<ImageEntry>),
    Rejected(Page<RejectedEntry>),
}

/// The gallery's two listings, each read page by page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// The processed images (`processed/`).
    Images,
    /// The uploads the pipeline rejected (`failed/`).
    Rejected,
}

impl Listing {
    pub const ALL: [Self; 2] = [Self::Images, Self::Rejected];

    /// What a failed page was doing, for the log.
    pub fn doing(self) -> &'static str {
        match self {
            Self::Images => "listing the gallery",
            Self::Rejected => "listing the rejected uploads",
        }
    }
}

/// The desktop's parts: a report file, a notification, the file manager.
#[derive(Debug)]
pub enum DesktopCommand {
    /// Show a save dialog and write this CSV report there.
    SaveReport(String),
    /// A desktop notification (the batch ended while the window was not focused).
    Notify { summary: String, body: String },
    /// Show this file in the file manager (local mode).
    Reveal(PathBuf),
}

/// What the worker reports.
#[derive(Debug)]
pub enum Event {
    /// The connection and the settings' dialogs.
    Settings(SettingsEvent),
    /// Pages, thumbnails, deletions and saves.
    Gallery(GalleryEvent),
    /// Rows arriving, checked before upload, restarted, cancelled.
    Row(RowEvent),
    /// The upload of a checked row: its name, progress, the end of it.
    Upload(UploadEvent),
    /// What the pipeline made of an upload.
    Pipeline(PipelineEvent),
    /// The desktop's parts: a report file.
    Desktop(DesktopEvent),
    /// The pipeline's status, a re-drive's counts.
    Status(StatusEvent),
    /// A download or an export: its folder, start, progress and end.
    Dataset(DatasetEvent),
}

/// A download or an export: its folder, start, progress and end.
#[derive(Debug)]
pub enum DatasetEvent {
    FolderChosen(PathBuf),
    /// No folder dialog can open here: why, and what to install.
    NoFolderDialog(String),
    /// A job started (asked for, or resumed at start-up).
    Started(DatasetJob),
    /// Images (export) or files (download) through, of `total` once listed.
    Progress {
        done: u64,
        total: Option<u64>,
        failed: u64,
    },
    Downloaded(Result<DownloadSummary, ClientError>),
    Exported(Result<ExportSummary, ClientError>),
    Cancelled,
}

/// The connection and the settings' dialogs.
#[derive(Debug)]
pub enum SettingsEvent {
    /// The connection for these settings: a short description ("Local · /path")
    /// or what is wrong.
    Connected(Result<String, ClientError>),
    Tested(Result<String, ClientError>),
    Imported(Result<AwsSettings, ClientError>),
    Profiles(Vec<String>),
    DataDirChosen(PathBuf),
    /// No file dialog can open here: why, and what to install.
    NoFileDialog(String),
}

/// Pages, thumbnails, deletions and saves.
#[derive(Debug)]
pub enum GalleryEvent {
    Page {
        listing: Listing,
        generation: u64,
        result: Result<ListedPage, ClientError>,
    },
    Thumbnail {
        key: String,
        image: Result<ColorImage, NoImage>,
    },
    Deleted {
        name: String,
        result: Result<(), ClientError>,
    },
    /// Rotations saved: where, or what went wrong. `None`: the dialog was closed.
    Saved(Option<Result<String, ClientError>>),
}

/// Rows arriving, checked before upload, restarted, cancelled.
#[derive(Debug)]
pub enum RowEvent {
    /// A new row in the queue.
    Added {
        id: TransferId,
        batch: BatchId,
        name: String,
        path: PathBuf,
        size_bytes: Option<u64>,
    },
    /// A named file or folder that could not be added at all.
    AddFailed(String),
    /// The file passed (or failed) the checks before upload.
    Checked {
        id: TransferId,
        thumb: Option<ColorImage>,
        result: Result<(), ClientError>,
    },
    /// A retried row starts again from the checks.
    Restarted(TransferId),
    /// The file is already uploaded or queued (`existing` says where); it waits
    /// for the batch's answer.
    Duplicate {
        id: TransferId,
        batch: BatchId,
        existing: String,
    },
    /// Not uploaded: the person said to skip duplicates.
    Skipped {
        id: TransferId,
        existing: String,
    },
    Cancelled {
        id: TransferId,
    },
}

/// The upload of a checked row: its name, progress, the end of it.
#[derive(Debug)]
pub enum UploadEvent {
    /// Uploading under this name (`cat-2.jpg` when `cat` was taken).
    Uploading {
        id: TransferId,
        name: String,
    },
    Progress {
        id: TransferId,
        sent_bytes: u64,
        total_bytes: u64,
    },
    /// The file is in the bucket; the pipeline takes over.
    Uploaded {
        id: TransferId,
        upload_key: String,
    },
    Failed {
        id: TransferId,
        error: ClientError,
    },
}

/// What the pipeline made of an upload.
#[derive(Debug)]
pub enum PipelineEvent {
    /// An output of the upload landed (the outputs model names it), with a
    /// rotation's thumbnail.
    Landed {
        id: TransferId,
        output: Output,
        key: String,
        image: Option<ColorImage>,
    },
    /// The pipeline wrote a failed record: its reason, for people.
    PipelineRejected {
        id: TransferId,
        /// `too_large`, `corrupt`…: the record's code.
        code: String,
        message: String,
    },
    /// No rotations in [`crate::worker::WATCH_TIMEOUT`].
    TimedOut { id: TransferId },
    /// All four rotations are there; the gallery gains this entry.
    Done { id: TransferId },
}

/// The desktop's parts: a report file.
#[derive(Debug)]
pub enum DesktopEvent {
    /// The report was written here, or not; `None`: the dialog was closed.
    ReportSaved(Option<Result<PathBuf, ClientError>>),
}

impl Event {
    /// The row this event ends, if it does (done, failed, rejected, timed out,
    /// skipped, cancelled, refused by the checks).
    pub fn finished_row(&self) -> Option<TransferId> {
        match self {
            Self::Pipeline(
                PipelineEvent::Done { id }
                | PipelineEvent::PipelineRejected { id, .. }
                | PipelineEvent::TimedOut { id },
            )
            | Self::Upload(UploadEvent::Failed { id, .. })
            | Self::Row(
                RowEvent::Skipped { id, .. }
                | RowEvent::Cancelled { id }
                | RowEvent::Checked {
                    id, result: Err(_), ..
                },
            ) => Some(*id),
            Self::Pipeline(PipelineEvent::Landed { .. })
            | Self::Upload(
                UploadEvent::Uploading { .. }
                | UploadEvent::Progress { .. }
                | UploadEvent::Uploaded { .. },
            )
            | Self::Row(
                RowEvent::Added { .. }
                | RowEvent::AddFailed(_)
                | RowEvent::Checked { result: Ok(()), .. }
                | RowEvent::Restarted(_)
                | RowEvent::Duplicate { .. },
            )
            | Self::Settings(_)
            | Self::Gallery(_)
            | Self::Desktop(_)
            | Self::Status(_)
            | Self::Dataset(_) => None,
        }
    }
}

/// `From` each area's own enum into [`Command`] or [`Event`], so a handler
/// sends `inner.into()` and a new area is one line here.
macro_rules! from_areas {
    ($outer:ident: $($area:ident($inner:ty)),+ $(,)?) => {
        $(
            impl From<$inner> for $outer {
                fn from(inner: $inner) -> Self {
                    Self::$area(inner)
                }
            }
        )+
    };
}

from_areas!(Command: Dataset(DatasetCommand), Status(StatusCommand), Settings(SettingsCommand),
    Transfer(TransferCommand), Gallery(GalleryCommand), Desktop(DesktopCommand));
from_areas!(Event: Status(StatusEvent), Dataset(DatasetEvent), Settings(SettingsEvent),
    Gallery(GalleryEvent), Row(RowEvent), Upload(UploadEvent), Pipeline(PipelineEvent),
    Desktop(DesktopEvent));
