//! The worker: every disk and network job the app starts runs here, on a tokio
//! runtime off the UI thread. The UI sends [`Command`]s; the worker sends
//! [`Event`]s back and asks for a repaint, so the UI never waits on anything.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use augment_pipeline::contract::{UPLOAD_EXTENSIONS, UPLOAD_PREFIX};
use augment_pipeline::limits::MAX_OUTPUT_BYTES;
use augment_pipeline::{Angle, UploadKey};
use egui::ColorImage;
use tokio::sync::{Semaphore, watch};
use tokio::task::AbortHandle;

use super::thumbs::{self, QUEUE_THUMB_PX};
use augment_client::inputs::{self, Input};
use augment_client::{
    AwsSettings, ClientError, ErrorKind, ImageEntry, Mode, Progress, Remote, Settings,
    WATCH_DEFAULT_TIMEOUT, WatchEvent,
};

/// Uploads that run at the same time; the rest wait in the queue. A few keep a
/// link busy without one large file starving the others.
pub const MAX_PARALLEL_UPLOADS: usize = 3;
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
    Retry(TransferId),
    /// A page of the gallery; `generation` ties the answer to one connection.
    ListImages {
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
        let worker = Worker::new(Sender { tx: event_tx, ctx });
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
    thumbnails: Arc<Semaphore>,
    next_id: Arc<Mutex<TransferId>>,
    /// What each row uploads (for retry) and the task doing it (for cancel).
    transfers: Arc<Mutex<HashMap<TransferId, Transfer>>>,
}

struct Transfer {
    input: Input,
    task: Option<AbortHandle>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicked task leaves plain data behind, still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    fn new(events: Sender) -> Self {
        Self {
            events,
            remote: watch::Sender::new(None),
            uploads: Arc::new(Semaphore::new(MAX_PARALLEL_UPLOADS)),
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
            | Command::Thumbnail { .. }
            | Command::Delete { .. }
            | Command::SaveRotations { .. } => self.handle_gallery(command),
            Command::PickFiles
            | Command::PickFolder
            | Command::Add(_)
            | Command::Cancel(_)
            | Command::Retry(_) => self.handle_transfer(command),
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
            Command::Retry(id) => {
                let input = lock(&self.transfers)
                    .get(&id)
                    .map(|transfer| transfer.input.clone());
                if let Some(input) = input {
                    self.events.send(Event::Restarted(id));
                    self.start(id, input);
                }
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
                    name,
                    path: input.path.clone(),
                    size_bytes,
                });
                self.start(id, input);
            }
        }
    }

    /// Check, upload, watch: one task per row, cancellable.
    fn start(&self, id: TransferId, input: Input) {
        let this = self.clone();
        let task_input = input.clone();
        let task = tokio::spawn(async move { this.run(id, task_input).await });
        lock(&self.transfers).insert(
            id,
            Transfer {
                input,
                task: Some(task.abort_handle()),
            },
        );
    }

    async fn run(&self, id: TransferId, input: Input) {
        let path = input.path.clone();
        let upload = input.upload.clone();
        let checked = tokio::task::spawn_blocking(move || check_file(&path, &upload)).await;
        let (result, thumb) = match checked {
            Ok(Ok(thumb)) => (Ok(()), thumb),
            Ok(Err(message)) => (Err(message), None),
            Err(join) => (
                Err(
                    ClientError::new(ErrorKind::Other, "The file could not be checked.")
                        .with_source(join),
                ),
                None,
            ),
        };
        let passed = result.is_ok();
        self.events.send(Event::Checked { id, thumb, result });
        if !passed {
            return;
        }

        let remote = self.connected().await;
        let upload_key = {
            let Ok(_permit) = self.uploads.acquire().await else {
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
        self.events.send(Event::Uploaded {
            id,
            upload_key: upload_key.as_str().to_owned(),
        });
        self.watch(id, &remote, &upload_key).await;
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
            .upload(&input.path, &key, move |progress: Progress| {
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
            .await?;
        Ok(key)
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
            WATCH_TIMEOUT,
        );
        let mut landed = 0;
        let forward = async {
            while let Some(event) = rx.recv().await {
                match event {
                    WatchEvent::RotationLanded { angle, key } => {
                        let image = fetch_thumbnail(remote, &key, thumbs::GALLERY_THUMB_PX)
                            .await
                            .ok();
                        self.events.send(Event::Rotation {
                            id,
                            angle,
                            key,
                            image,
                        });
                        landed += 1;
                        if landed == Angle::ALL.len() {
                            self.events.send(Event::Done { id });
                        }
                    }
                    WatchEvent::Rejected(record) => {
                        self.events.send(Event::PipelineRejected {
                            id,
                            message: record.message,
                        });
                    }
                    WatchEvent::Failed(message) => self.events.send(Event::Failed {
                        id,
                        error: ClientError::new(ErrorKind::Other, message),
                    }),
                    WatchEvent::TimedOut => self.events.send(Event::TimedOut { id }),
                    // The rotations follow within moments; the row already says
                    // "Processing".
                    WatchEvent::Processed { .. } => {}
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
/// name. `Ok` carries the queue thumbnail.
fn check_file(path: &Path, upload: &UploadKey) -> Result<Option<ColorImage>, ClientError> {
    let checked = augment_client::check_file(path)?;
    upload.check_extension().map_err(ClientError::rejected)?;
    Ok(thumbs::decode_thumbnail(&checked.bytes, QUEUE_THUMB_PX))
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
