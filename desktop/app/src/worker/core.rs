//! The worker's shared state: the connection, the limits on work at once,
//! every row's input and task, the duplicate answers, the saved queue.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::time::Duration;

use augment_client::inputs::Input;
use augment_client::{Concurrency, Remote, WATCH_DEFAULT_TIMEOUT};
use augment_pipeline::UploadKey;
use augment_pipeline::contract::UPLOAD_PREFIX;
use tokio::sync::{Semaphore, watch};
use tokio::task::AbortHandle;

use crate::command::{BatchId, DuplicateAnswer, Event, RowEvent, TransferId};
use crate::journal::{Journal, SavedRow};

/// Uploads that run at the same time when the settings name none: adaptive
/// (`augment_client::Concurrency`: 16 to start, more while no retry is needed,
/// half on a throttle), so a link 50–150 ms away stays busy.
pub const MAX_PARALLEL_UPLOADS: Option<usize> = None;

/// Uploads between their start and the end of their watch at the same time: a
/// batch of a thousand does not pile up in the pipeline, where the last would
/// wait out their watch's time-out behind the others (and a thousand watches
/// would poll the bucket at once). The rest wait as "Queued".
pub const MAX_AWAITING_PIPELINE: usize = 24;

/// Thumbnails fetched and decoded at the same time (gallery scrolling asks for
/// many at once).
pub(super) const MAX_PARALLEL_THUMBNAILS: usize = 4;

/// Files read, hashed and given a queue thumbnail at the same time: a drop of a
/// thousand 10 MiB photos reads four at once, in queue order, instead of one
/// per blocking thread (512: gigabytes held at once, the disk thrashed).
pub(super) const MAX_PARALLEL_CHECKS: usize = 4;

/// The worker's events repaint the window at most this often (input still
/// repaints at once): 30 frames a second for progress bars and new rows.
pub(super) const EVENT_FRAME_INTERVAL: Duration = Duration::from_millis(33);

/// How long to wait for the pipeline's four rotations after an upload (local
/// mode takes well under a second; a cold Lambda a few seconds).
pub const WATCH_TIMEOUT: Duration = WATCH_DEFAULT_TIMEOUT;

/// Progress events at most this often per upload: enough for a smooth bar,
/// without flooding the UI with one event per network write.
pub(super) const PROGRESS_EVENT_INTERVAL: Duration = Duration::from_millis(50);

/// Sends events to the UI and wakes it up.
#[derive(Clone)]
pub(super) struct Sender {
    pub(super) tx: mpsc::Sender<Event>,
    pub(super) ctx: egui::Context,
    /// The queue on disk: a row that finishes leaves it as its event goes out.
    pub(super) journal: Option<Arc<Journal>>,
}

impl Sender {
    pub(super) fn send(&self, event: impl Into<Event>) {
        let event = event.into();
        if let Some(journal) = &self.journal
            && let Some(id) = event.finished_row()
        {
            journal.end(id);
        }
        // Fails only when the UI is gone; nothing is waiting for the news then.
        let _ = self.tx.send(event);
        // News from the work comes in floods (a thousand rows' progress): it
        // shares frames, at most one per EVENT_FRAME_INTERVAL, so the UI
        // thread is free for the person's input between them.
        self.ctx.request_repaint_after(EVENT_FRAME_INTERVAL);
    }
}

/// The worker's state, shared by the tasks it spawns.
#[derive(Clone)]
pub(super) struct Worker {
    pub(super) events: Sender,
    /// The current connection; upload tasks wait here until there is one.
    pub(super) remote: watch::Sender<Option<Arc<Remote>>>,
    /// Replaced when the settings change; uploads running keep their slots.
    pub(super) uploads: Arc<Mutex<Concurrency>>,
    /// [`MAX_AWAITING_PIPELINE`]: held from the upload to the watch's end.
    pub(super) pipeline: Arc<Semaphore>,
    pub(super) thumbnails: Arc<Semaphore>,
    /// [`MAX_PARALLEL_CHECKS`]: held while a row's file is read and checked.
    pub(super) checks: Arc<Semaphore>,
    /// The recent batches' upload plans (one listing a batch, not a name).
    pub(super) plans: Arc<super::plans::BatchPlans>,
    pub(super) next_id: Arc<Mutex<TransferId>>,
    /// What each row uploads (for retry) and the task doing it (for cancel).
    pub(super) transfers: Arc<Mutex<HashMap<TransferId, Transfer>>>,
    pub(super) next_batch: Arc<Mutex<BatchId>>,
    /// Each batch's answer to the duplicate question, once given.
    pub(super) answers: Arc<Mutex<HashMap<BatchId, watch::Sender<Option<DuplicateAnswer>>>>>,
    /// Content hash → the first row that had it: later rows with the same
    /// bytes are duplicates in the queue.
    pub(super) claims: Arc<Mutex<HashMap<String, TransferId>>>,
    /// Uploads not started yet wait while this is `true`.
    pub(super) paused: watch::Sender<bool>,
    /// How long a watch waits for the rotations ([`WATCH_TIMEOUT`]).
    pub(super) watch_timeout: Duration,
    /// The rows read back from the saved queue, each with where its upload
    /// had got to; taken by the first connection.
    pub(super) resumed: Arc<Mutex<Vec<Resumed>>>,
    /// The download or export running, and where it is kept.
    pub(super) dataset: Arc<super::dataset_jobs::DatasetJobs>,
}

pub(super) struct Transfer {
    pub(super) input: Input,
    pub(super) batch: BatchId,
    pub(super) task: Option<AbortHandle>,
    /// Where it was uploaded, once it was: a retry never chooses a new name.
    pub(super) uploaded: Option<UploadKey>,
    /// The local pipeline failed on it (not the file's fault): a retry writes
    /// it again over itself, so the pipeline starts again. Otherwise (a
    /// time-out, a cancelled watch) a retry only watches again.
    pub(super) pipeline_failed: bool,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicked task leaves plain data behind, still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Worker {
    pub(super) fn new(events: Sender, watch_timeout: Duration) -> Self {
        Self {
            next_batch: Arc::new(Mutex::new(0)),
            answers: Arc::new(Mutex::new(HashMap::new())),
            claims: Arc::new(Mutex::new(HashMap::new())),
            paused: watch::Sender::new(false),
            watch_timeout,
            events,
            remote: watch::Sender::new(None),
            uploads: Arc::new(Mutex::new(Concurrency::new(MAX_PARALLEL_UPLOADS))),
            pipeline: Arc::new(Semaphore::new(MAX_AWAITING_PIPELINE)),
            thumbnails: Arc::new(Semaphore::new(MAX_PARALLEL_THUMBNAILS)),
            checks: Arc::new(Semaphore::new(MAX_PARALLEL_CHECKS)),
            plans: Arc::default(),
            next_id: Arc::new(Mutex::new(0)),
            transfers: Arc::new(Mutex::new(HashMap::new())),
            resumed: Arc::new(Mutex::new(Vec::new())),
            dataset: Arc::default(),
        }
    }

    /// Keeps the queue in a journal at `path`, starting with `rows` (what the
    /// last run left), which are queued again once the UI is listening.
    pub(super) fn resume(&mut self, rows: Vec<SavedRow>, path: PathBuf) {
        let mut kept = std::collections::BTreeMap::new();
        let mut resumed = Vec::new();
        for row in rows {
            let Ok(upload) = UploadKey::parse(&row.upload) else {
                continue;
            };
            let key = row
                .key
                .as_deref()
                .and_then(|key| UploadKey::parse(key).ok());
            let id = self.next_id();
            let input = Input {
                path: row.path.clone(),
                upload,
            };
            resumed.push((id, input, key, row.uploaded));
            kept.insert(id, row);
        }
        self.events.journal = Some(Arc::new(Journal::start(path, kept)));
        *lock(&self.resumed) = resumed;
    }

    /// The saved rows, as one batch: rows again, each picking up where it was.
    pub(super) fn start_resumed(&self) {
        let resumed = std::mem::take(&mut *lock(&self.resumed));
        if resumed.is_empty() {
            return;
        }
        let batch = self.next_batch();
        for (id, input, key, uploaded) in resumed {
            self.announce(id, batch, &input);
            self.start_from(id, batch, input, key.map(|key| (key, uploaded)));
        }
    }

    pub(super) fn next_id(&self) -> TransferId {
        let mut next = lock(&self.next_id);
        *next += 1;
        *next
    }

    pub(super) fn next_batch(&self) -> BatchId {
        let mut next = lock(&self.next_batch);
        *next += 1;
        *next
    }

    /// The row's news for the UI, and its place in the saved queue.
    pub(super) fn announce(&self, id: TransferId, batch: BatchId, input: &Input) {
        let size_bytes = std::fs::metadata(&input.path).ok().map(|meta| meta.len());
        self.events.send(RowEvent::Added {
            id,
            batch,
            name: file_name(&input.upload).to_owned(),
            path: input.path.clone(),
            size_bytes,
        });
    }

    pub(super) fn journal(&self) -> Option<&Journal> {
        self.events.journal.as_deref()
    }

    /// The current connection, once there is one.
    pub(super) async fn connected(&self) -> Arc<Remote> {
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
}

/// A row read back from the saved queue: its new id, its file, and the key
/// chosen for it with whether its upload completed.
pub(super) type Resumed = (TransferId, Input, Option<UploadKey>, bool);

/// The upload's file name (`trip/cat.jpg`): its key below `original-uploads/`.
pub(super) fn file_name(key: &UploadKey) -> &str {
    key.as_str()
        .strip_prefix(UPLOAD_PREFIX)
        .unwrap_or(key.as_str())
}
