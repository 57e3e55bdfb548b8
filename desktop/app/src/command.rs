//! What the rooms ask the worker for ([`Command`]) and what it answers
//! ([`Event`]): the one protocol between the UI thread and the worker.

use std::path::PathBuf;

use augment_client::{AwsSettings, ClientError, ImageEntry, RejectedEntry, Settings};
use augment_pipeline::Angle;
use egui::ColorImage;

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
    /// Show a save dialog and write this CSV report there.
    SaveReport(String),
    /// A desktop notification (the batch ended while the window was not focused).
    Notify {
        summary: String,
        body: String,
    },
    /// Show this file in the file manager (local mode).
    Reveal(PathBuf),
    /// A page of the gallery; `generation` ties the answer to one connection.
    ListImages {
        cursor: Option<String>,
        generation: u64,
    },
    /// A page of the rejected uploads (`failed/`), like [`Command::ListImages`].
    ListRejected {
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

/// What the worker reports.
#[derive(Debug)]
pub enum Event {
    /// The connection for these settings: a short description ("Local · /path")
    /// or what is wrong.
    Connected(Result<String, ClientError>),
    Tested(Result<String, ClientError>),
    Imported(Result<AwsSettings, ClientError>),
    Profiles(Vec<String>),
    DataDirChosen(PathBuf),
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
    /// The report was written here, or not; `None`: the dialog was closed.
    ReportSaved(Option<Result<PathBuf, ClientError>>),
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
    Rotation {
        id: TransferId,
        angle: Angle,
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
    TimedOut {
        id: TransferId,
    },
    /// All four rotations are there; the gallery gains this entry.
    Done {
        id: TransferId,
    },
    Failed {
        id: TransferId,
        error: ClientError,
    },
    Cancelled {
        id: TransferId,
    },
    Page {
        generation: u64,
        result: Result<(Vec<ImageEntry>, Option<String>), ClientError>,
    },
    RejectedPage {
        generation: u64,
        result: Result<(Vec<RejectedEntry>, Option<String>), ClientError>,
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

impl Event {
    /// The row this event ends, if it does (done, failed, rejected, timed out,
    /// skipped, cancelled, refused by the checks).
    pub fn finished_row(&self) -> Option<TransferId> {
        match self {
            Self::Done { id }
            | Self::Failed { id, .. }
            | Self::PipelineRejected { id, .. }
            | Self::TimedOut { id }
            | Self::Skipped { id, .. }
            | Self::Cancelled { id }
            | Self::Checked {
                id, result: Err(_), ..
            } => Some(*id),
            _ => None,
        }
    }
}
