//! The worker: every disk and network job the app starts runs here, on a tokio
//! runtime off the UI thread. The UI sends [`Command`]s; the worker sends
//! [`Event`]s back and asks for a repaint, so the UI never waits on anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use augment_pipeline::contract::{UPLOAD_EXTENSIONS, UPLOAD_PREFIX};
use augment_pipeline::limits::MAX_OUTPUT_BYTES;
use augment_pipeline::{Angle, Landed, UploadKey};
use egui::ColorImage;
use tokio::sync::{Semaphore, watch};
use tokio::task::AbortHandle;

use super::thumbs::{self, QUEUE_THUMB_PX};
use augment_client::inputs::{self, Input};
use augment_client::{
    AwsSettings, ClientError, ErrorKind, ImageEntry, Mode, Progress, RejectedEntry, Remote,
    Settings, WATCH_DEFAULT_TIMEOUT, WatchEvent,
};

/// Uploads that run at the same time; the rest wait in the queue. A few keep a
/// link busy without one large file starving the others.
pub const MAX_PARALLEL_UPLOADS: usize = 3;
/// Uploads between their start and the end of their watch at the same time: a
/// batch of a thousand does not pile up in the pipeline, where the last would
/// wait out their watch's time-out behind the others (and a thousand watches
/// would poll the bucket at once). The rest wait as "Queued".
pub const MAX_AWAITING_PIPELINE: usize = 24;
/// Thumbnails fetched and decoded at the same time (gallery scrolling asks for
/// many at once).
const MAX_PARALLEL_THUMBNAILS: usize = 4;
/// How long to wait for the pipeline's four rotations after an upload (local
/// mode takes well under a second; a cold Lambda a few seconds).
pub const WATCH_TIMEOUT: Duration = WATCH_DEFAULT_TIMEOUT;
/// Progress events at most this often per upload: enough for a smooth bar,
/// without flooding the UI with one event per network write.
const PROGRESS_EVENT_INTERVAL: Duration = Duration::from_millis(50);

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
    /// No rotations in [`WATCH_TIMEOUT`].
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
        image: Result<ColorImage, thumbs::NoImage>,
    },
    Deleted {
        name: String,
        result: Result<(), ClientError>,
    },
    /// Rotations saved: where, or what went wrong. `None`: the dialog was closed.
    Saved(Option<Result<String, ClientError>>),
}

/// The UI's end: send commands, drain events.
pub struct WorkerHandle {
    commands: tokio::sync::mpsc::UnboundedSender<Command>,
    events: mpsc::Receiver<Event>,
    /// Keeps the runtime alive as long as the app.
    _runtime: tokio::runtime::Runtime,
}

impl WorkerHandle {
    /// Starts the runtime and the command loop. `ctx` is asked to repaint
    /// whenever an event is sent.
    pub fn spawn(ctx: egui::Context) -> std::io::Result<Self> {
        Self::spawn_with(ctx, WATCH_TIMEOUT)
    }

    /// [`WorkerHandle::spawn`] with another watch time-out (tests).
    pub fn spawn_with(ctx: egui::Context, watch_timeout: Duration) -> std::io::Result<Self> {
        // One thread per core, at least two: in local mode the pipeline processes
        // images on all of the runtime's threads but one (the other keeps uploads,
        // polls and thumbnails moving), so a fixed 2 would process one at a time.
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("augment-worker")
            .enable_all()
            .build()?;
        let (commands, mut command_rx) = tokio::sync::mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::channel();
        let worker = Worker::new(Sender { tx: event_tx, ctx }, watch_timeout);
        runtime.spawn(async move {
            while let Some(command) = command_rx.recv().await {
                worker.handle(command);
            }
        });
        Ok(Self {
            commands,
            events,
            _runtime: runtime,
        })
    }

    pub fn send(&self, command: Command) {
        // Only fails when the runtime is gone, i.e. the app is closing.
        let _ = self.commands.send(command);
    }

    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

/// Sends events to the UI and wakes it up.
#[derive(Clone)]
struct Sender {
    tx: mpsc::Sender<Event>,
    ctx: egui::Context,
}

impl Sender {
    fn send(&self, event: Event) {
        // Fails only when the UI is gone; nothing is waiting for the news then.
        let _ = self.tx.send(event);
        self.ctx.request_repaint();
    }
}

/// The worker's state, shared by the tasks it spawns.
#[derive(Clone)]
struct Worker {
    events: Sender,
    /// The current connection; upload tasks wait here until there is one.
    remote: watch::Sender<Option<Arc<Remote>>>,
    uploads: Arc<Semaphore>,
    /// [`MAX_AWAITING_PIPELINE`]: held from the upload to the watch's end.
    pipeline: Arc<Semaphore>,
    thumbnails: Arc<Semaphore>,
    next_id: Arc<Mutex<TransferId>>,
    /// What each row uploads (for retry) and the task doing it (for cancel).
    transfers: Arc<Mutex<HashMap<TransferId, Transfer>>>,
    next_batch: Arc<Mutex<BatchId>>,
    /// Each batch's answer to the duplicate question, once given.
    answers: Arc<Mutex<HashMap<BatchId, watch::Sender<Option<DuplicateAnswer>>>>>,
    /// Content hash → the first row that had it: later rows with the same
    /// bytes are duplicates in the queue.
    claims: Arc<Mutex<HashMap<String, TransferId>>>,
    /// Uploads not started yet wait while this is `true`.
    paused: watch::Sender<bool>,
    /// How long a watch waits for the rotations ([`WATCH_TIMEOUT`]).
    watch_timeout: Duration,
}

struct Transfer {
    input: Input,
    batch: BatchId,
    task: Option<AbortHandle>,
    /// Where it was uploaded, once it was: a retry never chooses a new name.
    uploaded: Option<UploadKey>,
    /// The local pipeline failed on it (not the file's fault): a retry writes
    /// it again over itself, so the pipeline starts again. Otherwise (a
    /// time-out, a cancelled watch) a retry only watches again.
    pipeline_failed: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicked task leaves plain data behind, still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    fn new(events: Sender, watch_timeout: Duration) -> Self {
        Self {
            next_batch: Arc::new(Mutex::new(0)),
            answers: Arc::new(Mutex::new(HashMap::new())),
            claims: Arc::new(Mutex::new(HashMap::new())),
            paused: watch::Sender::new(false),
            watch_timeout,
            events,
            remote: watch::Sender::new(None),
            uploads: Arc::new(Semaphore::new(MAX_PARALLEL_UPLOADS)),
            pipeline: Arc::new(Semaphore::new(MAX_AWAITING_PIPELINE)),
            thumbnails: Arc::new(Semaphore::new(MAX_PARALLEL_THUMBNAILS)),
            next_id: Arc::new(Mutex::new(0)),
            transfers: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Starts the work for one command; never waits for it. Each area has its
    /// handler.
    fn handle(&self, command: Command) {
        match command {
            Command::Connect(_)
            | Command::TestConnection(_)
            | Command::ImportTerraform
            | Command::LoadProfiles
            | Command::ChooseDataDir => self.handle_settings(command),
            Command::ListImages { .. }
            | Command::ListRejected { .. }
            | Command::Thumbnail { .. }
            | Command::Delete { .. }
            | Command::SaveRotations { .. } => self.handle_gallery(command),
            Command::PickFiles
            | Command::PickFolder
            | Command::Add(_)
            | Command::Cancel(_)
            | Command::Retry(_)
            | Command::Pause(_)
            | Command::AnswerDuplicates { .. } => self.handle_transfer(command),
            Command::SaveReport(_) | Command::Notify { .. } | Command::Reveal(_) => {
                self.handle_desktop(command);
            }
        }
    }

    /// Connections, settings and their dialogs.
    fn handle_settings(&self, command: Command) {
        let this = self.clone();
        match command {
            Command::Connect(settings) => {
                // Uploads wait for the new connection rather than use the old one.
                self.remote.send_replace(None);
                tokio::spawn(async move {
                    match Remote::connect(&settings).await {
                        Ok(remote) => {
                            let description = describe(settings.mode, &remote);
                            this.remote.send_replace(Some(Arc::new(remote)));
                            this.events.send(Event::Connected(Ok(description)));
                        }
                        Err(err) => this.events.send(Event::Connected(Err(err))),
                    }
                });
            }
            Command::TestConnection(settings) => {
                tokio::spawn(async move {
                    let result = async {
                        let remote = Remote::connect(&settings).await?;
                        remote.check().await?;
                        Ok::<_, ClientError>(describe(settings.mode, &remote))
                    }
                    .await;
                    this.events.send(Event::Tested(result));
                });
            }
            Command::ImportTerraform => {
                tokio::task::spawn_blocking(move || {
                    let Some(path) = rfd::FileDialog::new()
                        .set_title("Import Terraform outputs")
                        .add_filter("terraform output -json", &["json"])
                        .pick_file()
                    else {
                        return;
                    };
                    let result = std::fs::read_to_string(&path)
                        .map_err(|err| ClientError::io("Cannot read the file", &path, err))
                        .and_then(|json| AwsSettings::from_terraform_outputs(&json));
                    this.events.send(Event::Imported(result));
                });
            }
            Command::LoadProfiles => {
                tokio::spawn(async move {
                    let profiles = augment_client::aws_profiles().await;
                    this.events.send(Event::Profiles(profiles));
                });
            }
            Command::ChooseDataDir => {
                tokio::task::spawn_blocking(move || {
                    if let Some(dir) = rfd::FileDialog::new()
                        .set_title("Local data folder")
                        .pick_folder()
                    {
                        this.events.send(Event::DataDirChosen(dir));
                    }
                });
            }
            _ => {}
        }
    }

    /// Adding files (and their dialogs), cancelling and retrying rows.
    fn handle_transfer(&self, command: Command) {
        let this = self.clone();
        match command {
            Command::PickFiles => {
                tokio::task::spawn_blocking(move || {
                    if let Some(files) = rfd::FileDialog::new()
                        .set_title("Add images")
                        .add_filter("JPEG or PNG images", &dialog_extensions())
                        .pick_files()
                    {
                        this.add(files);
                    } else if let Some(why) = crate::file_dialog::unavailable() {
                        this.events.send(Event::AddFailed(why));
                    }
                });
            }
            Command::PickFolder => {
                tokio::task::spawn_blocking(move || {
                    if let Some(folders) = rfd::FileDialog::new()
                        .set_title("Add a folder of images")
                        .pick_folders()
                    {
                        this.add(folders);
                    } else if let Some(why) = crate::file_dialog::unavailable() {
                        this.events.send(Event::AddFailed(why));
                    }
                });
            }
            Command::Add(paths) => {
                tokio::task::spawn_blocking(move || this.add(paths));
            }
            Command::Cancel(id) => {
                if let Some(task) = lock(&self.transfers)
                    .get_mut(&id)
                    .and_then(|transfer| transfer.task.take())
                {
                    // Dropping the upload future aborts the upload (and its
                    // multipart upload) in the client.
                    task.abort();
                }
                self.events.send(Event::Cancelled { id });
            }
            Command::Retry(id) => self.retry(id),
            Command::Pause(paused) => {
                self.paused.send_replace(paused);
            }
            Command::AnswerDuplicates { batch, answer } => {
                lock(&self.answers)
                    .entry(batch)
                    .or_insert_with(|| watch::Sender::new(None))
                    .send_replace(Some(answer));
            }
            _ => {}
        }
    }

    /// Retries a row: from the checks if it never reached the bucket; else under
    /// the key it has (so never a `-2` copy): watched again after a time-out,
    /// written again over itself after a failure.
    fn retry(&self, id: TransferId) {
        let found = lock(&self.transfers).get(&id).map(|transfer| {
            (
                transfer.input.clone(),
                transfer.batch,
                transfer.uploaded.clone(),
                transfer.pipeline_failed,
            )
        });
        let Some((input, batch, uploaded, pipeline_failed)) = found else {
            return;
        };
        self.events.send(Event::Restarted(id));
        let Some(key) = uploaded else {
            self.start(id, batch, input);
            return;
        };
        let this = self.clone();
        let task_key = key.clone();
        let task = tokio::spawn(async move {
            let remote = this.connected().await;
            let Ok(_in_pipeline) = this.pipeline.acquire().await else {
                return;
            };
            if pipeline_failed
                && let Err(error) = this.upload_as(id, &remote, &input.path, &task_key).await
            {
                this.events.send(Event::Failed { id, error });
                return;
            }
            this.events.send(Event::Uploaded {
                id,
                upload_key: task_key.as_str().to_owned(),
            });
            this.watch(id, &remote, &task_key).await;
        });
        if let Some(transfer) = lock(&self.transfers).get_mut(&id) {
            transfer.task = Some(task.abort_handle());
            transfer.pipeline_failed = false;
        }
    }

    /// Saving a report, a notification, revealing a file: the desktop's parts.
    fn handle_desktop(&self, command: Command) {
        let this = self.clone();
        match command {
            Command::SaveReport(csv) => {
                tokio::task::spawn_blocking(move || {
                    let picked = rfd::FileDialog::new()
                        .set_title("Save the transfer report")
                        .set_file_name("augment-report.csv")
                        .add_filter("CSV", &["csv"])
                        .save_file();
                    let result = picked.map(|path| {
                        std::fs::write(&path, csv)
                            .map(|()| path.clone())
                            .map_err(|err| ClientError::io("Cannot write the report", &path, err))
                    });
                    this.events.send(Event::ReportSaved(result));
                });
            }
            Command::Notify { summary, body } => {
                tokio::task::spawn_blocking(move || {
                    let shown = notify_rust::Notification::new()
                        .appname(super::APP_NAME)
                        .summary(&summary)
                        .body(&body)
                        .show();
                    // No notification service (no desktop session): the window
                    // title and the summary say the same.
                    if let Err(err) = shown {
                        tracing::debug!("no desktop notification: {err}");
                    }
                });
            }
            Command::Reveal(path) => {
                tokio::task::spawn_blocking(move || {
                    if let Err(err) = super::reveal::reveal(&path) {
                        tracing::warn!("cannot show {} in the file manager: {err}", path.display());
                    }
                });
            }
            _ => {}
        }
    }

    /// Listing pages, thumbnails, deleting and saving.
    fn handle_gallery(&self, command: Command) {
        let this = self.clone();
        match command {
            Command::ListImages { cursor, generation } => {
                tokio::spawn(async move {
                    let remote = this.connected().await;
                    let result = remote
                        .list_images(cursor)
                        .await
                        .map(|page| (page.items, page.next));
                    this.events.send(Event::Page { generation, result });
                });
            }
            Command::ListRejected { cursor, generation } => {
                tokio::spawn(async move {
                    let remote = this.connected().await;
                    let result = remote
                        .list_rejected(cursor)
                        .await
                        .map(|page| (page.items, page.next));
                    this.events.send(Event::RejectedPage { generation, result });
                });
            }
            Command::Thumbnail { key, side } => {
                tokio::spawn(async move {
                    let Ok(_permit) = this.thumbnails.acquire().await else {
                        return;
                    };
                    let remote = this.connected().await;
                    let image = fetch_thumbnail(&remote, &key, side).await;
                    this.events.send(Event::Thumbnail { key, image });
                });
            }
            Command::Delete { name } => {
                tokio::spawn(async move {
                    let remote = this.connected().await;
                    let result = remote.delete_image(&name).await;
                    this.events.send(Event::Deleted { name, result });
                });
            }
            Command::SaveRotations { keys } => {
                tokio::spawn(async move {
                    let folder = tokio::task::spawn_blocking(|| {
                        rfd::FileDialog::new()
                            .set_title("Save the rotations to a folder")
                            .pick_folder()
                    })
                    .await
                    .ok()
                    .flatten();
                    let Some(folder) = folder else {
                        this.events.send(Event::Saved(None));
                        return;
                    };
                    let remote = this.connected().await;
                    let result = save_keys(&remote, &keys, &folder).await;
                    this.events.send(Event::Saved(Some(result)));
                });
            }
            _ => {}
        }
    }

    /// The current connection, once there is one.
    async fn connected(&self) -> Arc<Remote> {
        let mut rx = self.remote.subscribe();
        loop {
            if let Some(remote) = rx.borrow_and_update().clone() {
                return remote;
            }
            if rx.changed().await.is_err() {
                // The worker is shutting down; this task is dropped with it.
                std::future::pending::<()>().await;
            }
        }
    }

    /// Expands folders, adds a row for each file and starts it. The final upload
    /// name is the client's choice (it never overwrites). Blocking: runs on the blocking pool.
    fn add(&self, paths: Vec<PathBuf>) {
        let batch = {
            let mut next = lock(&self.next_batch);
            *next += 1;
            *next
        };
        for path in paths {
            let found = match inputs::collect(std::slice::from_ref(&path), None) {
                Ok(found) => found,
                Err(err) => {
                    self.events
                        .send(Event::AddFailed(format!("Not added: {err}")));
                    continue;
                }
            };
            for input in found {
                let id = {
                    let mut next = lock(&self.next_id);
                    *next += 1;
                    *next
                };
                let size_bytes = std::fs::metadata(&input.path).ok().map(|meta| meta.len());
                let name = input
                    .upload
                    .as_str()
                    .strip_prefix(UPLOAD_PREFIX)
                    .unwrap_or(input.upload.as_str())
                    .to_owned();
                self.events.send(Event::Added {
                    id,
                    batch,
                    name,
                    path: input.path.clone(),
                    size_bytes,
                });
                self.start(id, batch, input);
            }
        }
    }

    /// Check, upload, watch: one task per row, cancellable.
    fn start(&self, id: TransferId, batch: BatchId, input: Input) {
        let this = self.clone();
        let task_input = input.clone();
        let task = tokio::spawn(async move { this.run(id, batch, task_input).await });
        lock(&self.transfers).insert(
            id,
            Transfer {
                input,
                batch,
                task: Some(task.abort_handle()),
                uploaded: None,
                pipeline_failed: false,
            },
        );
    }

    async fn run(&self, id: TransferId, batch: BatchId, input: Input) {
        let path = input.path.clone();
        let upload = input.upload.clone();
        let checked = tokio::task::spawn_blocking(move || check_file(&path, &upload)).await;
        let (result, thumb, sha256) = match checked {
            Ok(Ok((thumb, sha256))) => (Ok(()), thumb, Some(sha256)),
            Ok(Err(message)) => (Err(message), None, None),
            Err(join) => (
                Err(
                    ClientError::new(ErrorKind::Other, "The file could not be checked.")
                        .with_source(join),
                ),
                None,
                None,
            ),
        };
        let passed = result.is_ok();
        self.events.send(Event::Checked { id, thumb, result });
        if !passed {
            return;
        }

        let remote = self.connected().await;
        if let Some(sha256) = sha256
            && let Some(existing) = self.duplicate_of(id, &remote, &input, &sha256).await
            && self.answer(id, batch, &existing).await == DuplicateAnswer::Skip
        {
            self.events.send(Event::Skipped { id, existing });
            return;
        }
        let Ok(_in_pipeline) = self.pipeline.acquire().await else {
            return;
        };
        let upload_key = {
            let Some(_permit) = self.upload_slot().await else {
                return;
            };
            match self.upload(id, &remote, &input).await {
                Ok(key) => key,
                Err(err) => {
                    self.events.send(Event::Failed { id, error: err });
                    return;
                }
            }
        };
        if let Some(transfer) = lock(&self.transfers).get_mut(&id) {
            transfer.uploaded = Some(upload_key.clone());
        }
        self.events.send(Event::Uploaded {
            id,
            upload_key: upload_key.as_str().to_owned(),
        });
        self.watch(id, &remote, &upload_key).await;
    }

    /// An upload slot, once the queue is not paused.
    async fn upload_slot(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        let mut paused = self.paused.subscribe();
        loop {
            paused.wait_for(|paused| !*paused).await.ok()?;
            let permit = self.uploads.acquire().await.ok()?;
            if !*self.paused.borrow() {
                return Some(permit);
            }
        }
    }

    /// Where the same bytes already are: an earlier row of the queue, or an
    /// upload under the same name in the bucket. A failed look is no duplicate.
    async fn duplicate_of(
        &self,
        id: TransferId,
        remote: &Remote,
        input: &Input,
        sha256: &str,
    ) -> Option<String> {
        let first = *lock(&self.claims).entry(sha256.to_owned()).or_insert(id);
        if first != id {
            let transfers = lock(&self.transfers);
            let earlier = transfers.get(&first);
            return Some(match earlier {
                Some(Transfer {
                    uploaded: Some(key),
                    ..
                }) => format!("already uploaded as {}", key.as_str()),
                Some(earlier) => format!("already in the queue ({})", earlier.input.path.display()),
                None => "already in the queue".to_owned(),
            });
        }
        let file_name = input
            .upload
            .as_str()
            .strip_prefix(UPLOAD_PREFIX)
            .unwrap_or(input.upload.as_str());
        match remote.uploaded_copy(file_name, sha256).await {
            Ok(Some(key)) => Some(format!("already uploaded as {key}")),
            Ok(None) => None,
            Err(err) => {
                tracing::warn!("cannot look for a copy of {file_name}: {}", err.detail());
                None
            }
        }
    }

    /// The batch's answer to the duplicate question: given already, or asked
    /// (the UI shows the question once per batch) and waited for.
    async fn answer(&self, id: TransferId, batch: BatchId, existing: &str) -> DuplicateAnswer {
        let mut answer = lock(&self.answers)
            .entry(batch)
            .or_insert_with(|| watch::Sender::new(None))
            .subscribe();
        if let Some(given) = *answer.borrow() {
            return given;
        }
        self.events.send(Event::Duplicate {
            id,
            batch,
            existing: existing.to_owned(),
        });
        match answer.wait_for(Option::is_some).await {
            Ok(given) => given.unwrap_or(DuplicateAnswer::KeepBoth),
            // The worker is shutting down.
            Err(_) => DuplicateAnswer::Skip,
        }
    }

    async fn upload(
        &self,
        id: TransferId,
        remote: &Remote,
        input: &Input,
    ) -> Result<UploadKey, ClientError> {
        let file_name = input
            .upload
            .as_str()
            .strip_prefix(UPLOAD_PREFIX)
            .unwrap_or(input.upload.as_str());
        let key = remote.choose_upload_key(file_name).await?;
        self.upload_as(id, remote, &input.path, &key).await?;
        Ok(key)
    }

    /// Uploads the file at `path` as `key`, reporting its name and progress.
    async fn upload_as(
        &self,
        id: TransferId,
        remote: &Remote,
        path: &Path,
        key: &UploadKey,
    ) -> Result<(), ClientError> {
        self.events.send(Event::Uploading {
            id,
            name: key
                .as_str()
                .strip_prefix(UPLOAD_PREFIX)
                .unwrap_or(key.as_str())
                .to_owned(),
        });
        let events = self.events.clone();
        let last = Mutex::new(None::<Instant>);
        remote
            .upload(path, key, move |progress: Progress| {
                let mut last = lock(&last);
                let done = progress.sent_bytes >= progress.total_bytes;
                if done || last.is_none_or(|at| at.elapsed() >= PROGRESS_EVENT_INTERVAL) {
                    *last = Some(Instant::now());
                    events.send(Event::Progress {
                        id,
                        sent_bytes: progress.sent_bytes,
                        total_bytes: progress.total_bytes,
                    });
                }
            })
            .await
    }

    /// Reports each rotation as it lands (with its thumbnail), a rejection, or
    /// the time-out.
    async fn watch(&self, id: TransferId, remote: &Arc<Remote>, upload_key: &UploadKey) {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let watching = remote.watch(
            upload_key,
            move |event| {
                let _ = tx.send(event);
            },
            self.watch_timeout,
        );
        let mut landed = Landed::default();
        let forward = async {
            while let Some(event) = rx.recv().await {
                match event {
                    WatchEvent::Landed { output, key } => {
                        landed.insert(output);
                        // The row already says "Processing" until the rotations land.
                        if let Some(angle) = output.angle() {
                            let image = fetch_thumbnail(remote, &key, thumbs::GALLERY_THUMB_PX)
                                .await
                                .ok();
                            self.events.send(Event::Rotation {
                                id,
                                angle,
                                key,
                                image,
                            });
                        }
                        if landed.is_complete() {
                            self.events.send(Event::Done { id });
                        }
                    }
                    WatchEvent::Rejected(record) => {
                        self.events.send(Event::PipelineRejected {
                            id,
                            code: record.code.as_str().to_owned(),
                            message: record.message,
                        });
                    }
                    WatchEvent::Failed(message) => {
                        if let Some(transfer) = lock(&self.transfers).get_mut(&id) {
                            transfer.pipeline_failed = true;
                        }
                        self.events.send(Event::Failed {
                            id,
                            error: ClientError::new(ErrorKind::Other, message),
                        });
                    }
                    WatchEvent::TimedOut => self.events.send(Event::TimedOut { id }),
                }
            }
        };
        let (result, ()) = tokio::join!(watching, forward);
        if let Err(err) = result {
            self.events.send(Event::Failed { id, error: err });
        }
    }
}

/// The client's check before upload (size, then type by content), then the
/// name. `Ok` carries the queue thumbnail and the content hash.
fn check_file(
    path: &Path,
    upload: &UploadKey,
) -> Result<(Option<ColorImage>, String), ClientError> {
    let checked = augment_client::check_file(path)?;
    upload.check_extension().map_err(ClientError::rejected)?;
    let sha256 = augment_client::sha256_hex(&checked.bytes);
    Ok((
        thumbs::decode_thumbnail(&checked.bytes, QUEUE_THUMB_PX),
        sha256,
    ))
}

/// The contract's upload extensions, in both cases (some file dialogs match
/// case-sensitively).
fn dialog_extensions() -> Vec<String> {
    UPLOAD_EXTENSIONS
        .iter()
        .flat_map(|ext| [(*ext).to_owned(), ext.to_uppercase()])
        .collect()
}

/// "Local · /data/folder" or "AWS · `s3://bucket`".
fn describe(mode: Mode, remote: &Remote) -> String {
    let what = match mode {
        Mode::Local => "Local",
        Mode::Aws => "AWS",
        Mode::Custom => "S3",
    };
    let mut place = remote.describe();
    // `~/…` reads shorter in the title bar than the full home path.
    if let Some(home) =
        directories::BaseDirs::new().map(|dirs| dirs.home_dir().display().to_string())
        && let Some(rest) = place.strip_prefix(&home)
        && rest.starts_with(std::path::MAIN_SEPARATOR)
    {
        place = format!("~{rest}");
    }
    format!("{what} · {place}")
}

/// A pipeline output from the bucket as a thumbnail: untrusted bytes, decoded
/// only if they are what the pipeline writes ([`thumbs::decode_processed`]).
async fn fetch_thumbnail(
    remote: &Remote,
    key: &str,
    side: u32,
) -> Result<ColorImage, thumbs::NoImage> {
    let bytes = match remote.get(key, MAX_OUTPUT_BYTES).await {
        Ok(bytes) => bytes,
        // Over the output limit: the client refused to read it (its words name
        // the limit), so it was not written by the pipeline.
        Err(err)
            if err
                .message
                .contains(&format!("{MAX_OUTPUT_BYTES}-byte limit")) =>
        {
            tracing::info!("not shown, larger than a processed image: {key}");
            return Err(thumbs::NoImage::NotProcessed);
        }
        Err(err) => {
            tracing::info!("no thumbnail for {key}: {}", err.detail());
            return Err(thumbs::NoImage::Unavailable);
        }
    };
    tokio::task::spawn_blocking(move || thumbs::decode_processed(&bytes, side))
        .await
        .unwrap_or(Err(thumbs::NoImage::Unavailable))
}

/// Each key's object into `folder` under its file name (`landscape_90.jpg`), by
/// the client's one key → path rule (nothing lands outside `folder`).
async fn save_keys(remote: &Remote, keys: &[String], folder: &Path) -> Result<String, ClientError> {
    let objects: Vec<(String, String)> = keys
        .iter()
        .map(|key| {
            let file_name = key.rsplit('/').next().unwrap_or(key);
            (key.clone(), file_name.to_owned())
        })
        .collect();
    remote.save_to_folder(&objects, folder).await?;
    Ok(format!(
        "Saved {} images to {}",
        keys.len(),
        folder.display()
    ))
}
