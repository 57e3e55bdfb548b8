//! Local mode: the pipeline's ports implemented by a folder laid out exactly like
//! the bucket ([`FolderStore`]) and an in-process channel ([`ChannelQueue`]), and a
//! [`LocalPipeline`] that reacts to each upload the way S3 events and SQS do in
//! AWS, running the same steps. The local counterpart of `augment-aws`.

use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};

use augment_pipeline::contract::{Angle, KeyRules, RotationTask, UPLOAD_PREFIX, UploadKey};
use augment_pipeline::folder_names;
use augment_pipeline::ports::{
    Failure, ListPage, ListRequest, ObjectInfo, ObjectStore, PutObject, QueueError, StoreError,
    StoreFuture, TaskQueue,
};
use augment_pipeline::steps::{self, StepError, UploadOutcome};

mod metadata;

/// The bucket name local tasks carry.
pub const LOCAL_BUCKET: &str = "local";

/// Temporary files of in-flight writes start with this; `list` never shows them
/// (it starts with [`folder_names::STORE_FILE_PREFIX`], which no key names).
const TEMP_PREFIX: &str = ".augment-tmp-";

/// Chunk of a write between two progress reports and cancellation checks: small
/// enough for a smooth progress bar, large enough that a 10 MiB write is ~160.
const WRITE_CHUNK_BYTES: usize = 64 * 1024;

/// An object store in a folder: key `a/b.jpg` is the file `<root>/a/b.jpg`.
/// Writes go to a temporary file that is renamed into place, so a reader (the
/// desktop gallery, a second process) never sees half an image.
#[derive(Debug, Clone)]
pub struct FolderStore {
    root: PathBuf,
}

impl FolderStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file that holds `key`: [`key_path`] below the root.
    pub fn path_of(&self, key: &str) -> Result<PathBuf, StoreError> {
        key_path(&self.root, key)
    }

    /// Copies a file from disk into the store at `key` (an "upload" in local
    /// mode), streaming, whatever its size: judging it is the processor's job.
    pub async fn import_file(&self, key: &str, source: &Path) -> Result<(), StoreError> {
        let target = self.path_of(key)?;
        let source = source.to_owned();
        blocking("import", key, move || {
            write_atomically(&target, |file| {
                io::copy(&mut std::fs::File::open(&source)?, file).map(drop)
            })
        })
        .await
    }

    /// Every object under `prefix`, sorted: the walk behind `list` and `list_page`.
    async fn find(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StoreError> {
        let root = self.root.clone();
        let prefix_owned = prefix.to_owned();
        blocking("list", prefix, move || {
            // Walk only the deepest folder the prefix names (`processed/` of
            // `processed/ca`): listing one prefix must not read the whole bucket.
            let folder = prefix_owned
                .rfind('/')
                .map_or("", |slash| &prefix_owned[..=slash]);
            let segments = folder.split('/').filter(|segment| !segment.is_empty());
            // No key has such a segment (`path_of` refuses them), and they could
            // leave the root.
            let escapes = segments
                .clone()
                .any(|segment| segment == "." || segment == "..");
            let start = segments.fold(root, |path, segment| {
                path.join(folder_names::escape(segment).as_ref())
            });
            let mut found = Vec::new();
            if !escapes && start.is_dir() {
                walk(&start, folder, &mut found)?;
            }
            found.retain(|info| info.key.starts_with(&prefix_owned));
            found.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(found)
        })
        .await
    }
}

impl ObjectStore for FolderStore {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let owned = key.to_owned();
            blocking("head", key, move || match std::fs::metadata(&path) {
                Ok(meta) if meta.is_file() => Ok(Some(ObjectInfo {
                    key: owned,
                    size_bytes: meta.len(),
                    last_modified: meta.modified().ok(),
                })),
                Ok(_) => Ok(None),
                Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(err) => Err(err),
            })
            .await
        })
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            let read = blocking("get", key, move || {
                let file = match std::fs::File::open(&path) {
                    Ok(file) => file,
                    Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Read::Missing),
                    Err(err) => return Err(err),
                };
                // Sized from the file: an oversized one is refused before anything
                // is allocated, the rest read in one go. Still one byte past the
                // limit, as the file may grow in between.
                let len = file.metadata()?.len();
                if len > max_bytes {
                    return Ok(Read::TooLarge);
                }
                let mut bytes = Vec::with_capacity(usize::try_from(len + 1).unwrap_or(0));
                file.take(max_bytes.saturating_add(1))
                    .read_to_end(&mut bytes)?;
                Ok(if bytes.len() as u64 > max_bytes {
                    Read::TooLarge
                } else {
                    Read::Bytes(bytes)
                })
            })
            .await?;
            match read {
                Read::Bytes(bytes) => Ok(bytes),
                Read::Missing => Err(StoreError::NotFound {
                    key: key.to_owned(),
                }),
                Read::TooLarge => Err(StoreError::TooLarge {
                    key: key.to_owned(),
                    limit_bytes: max_bytes,
                }),
            }
        })
    }

    /// Written in chunks on a blocking thread, which a dropped future cannot stop:
    /// a flag set on drop stops it at the next chunk, and the temporary file goes.
    fn put(&self, object: PutObject) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let path = self.path_of(&object.key)?;
            let PutObject {
                key,
                body,
                on_sent,
                metadata,
                ..
            } = object;
            // Only uploads keep their metadata (the content hash the app compares).
            // The folder is what people open, so the pipeline's outputs stay the
            // bucket's layout alone: their metadata (source key, S3 sequencer) has
            // no reader in local mode.
            let keeps_metadata = key.starts_with(UPLOAD_PREFIX);
            let cancelled = Arc::new(AtomicBool::new(false));
            let _cancel_on_drop = CancelOnDrop(cancelled.clone());
            blocking("put", &key, move || {
                // The metadata follows the whole object: a cancelled or failed
                // write leaves neither behind.
                let written = write_atomically(&path, |file| {
                    let report = |sent: usize| {
                        if let Some(on_sent) = &on_sent {
                            on_sent.report(sent as u64);
                        }
                    };
                    report(0);
                    let mut sent = 0;
                    for chunk in body.chunks(WRITE_CHUNK_BYTES) {
                        if cancelled.load(Ordering::Relaxed) {
                            return Err(io::Error::new(
                                io::ErrorKind::Interrupted,
                                "the write was cancelled",
                            ));
                        }
                        file.write_all(chunk)?;
                        sent += chunk.len();
                        report(sent);
                    }
                    Ok(())
                });
                written.and_then(|()| {
                    if keeps_metadata {
                        metadata::write(&path, &metadata)
                    } else {
                        Ok(())
                    }
                })
            })
            .await
        })
    }

    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        Box::pin(async move { Ok(request.page_of(self.find(request.prefix).await?)) })
    }

    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<ObjectInfo>> {
        Box::pin(self.find(prefix))
    }

    /// File-name components of at most 255 bytes; local mode keeps no order
    /// between uploads of one key (see `LocalPipeline`).
    fn key_rules(&self) -> KeyRules {
        KeyRules::FOLDER
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            blocking("delete", key, move || {
                metadata::remove(&path)?;
                match std::fs::remove_file(&path) {
                    Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
                    _ => Ok(()),
                }
            })
            .await
        })
    }

    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move {
            let path = self.path_of(key)?;
            blocking("head", key, move || metadata::read(&path)).await
        })
    }
}

/// Sets the flag when a write's future is dropped (the write then stops).
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The one way a bucket key becomes a file below `root` (the folder store, "Save
/// to folder…", `augment upload --out`). The same rules on every OS, so a key a
/// Linux folder accepts cannot escape or alias on a Windows one: segments are
/// split on `/` only, and each is named by [`folder_names::escape`] (reversible
/// percent-escapes of what some OS's folder cannot hold: `\`, `:` and the rest
/// of Windows' reserved characters, control characters, device names such as
/// `CON.jpg`, trailing dots and spaces, the store's own file prefixes), so
/// `10:30.jpg` is the file `10%3A30.jpg` and lists back as `10:30.jpg`. Refused
/// are only empty, `.` and `..` segments (so absolute keys too): no file has
/// such a name, and they would leave the root.
pub fn key_path(root: &Path, key: &str) -> Result<PathBuf, StoreError> {
    let mut path = root.to_owned();
    for segment in key.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(StoreError::InvalidKey {
                key: key.to_owned(),
                reason: "empty, '.' or '..' path segment",
            });
        }
        path.push(folder_names::escape(segment).as_ref());
    }
    Ok(path)
}

/// Runs file work off the async threads; maps I/O failures to store errors.
async fn blocking<T: Send + 'static>(
    op: &'static str,
    key: &str,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, StoreError> {
    let backend = |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Backend {
        op,
        key: key.to_owned(),
        failure: Failure::Other,
        transient: false,
        source,
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(backend(err.into())),
        Err(join) => Err(backend(join.into())),
    }
}

/// What a bounded read of one object found.
enum Read {
    Bytes(Vec<u8>),
    Missing,
    TooLarge,
}

fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "a key names a file below the root",
        )
    })?;
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    write(temp.as_file_mut())?;
    temp.persist(path).map_err(|err| err.error)?;
    Ok(())
}

fn walk(dir: &Path, key_prefix: &str, found: &mut Vec<ObjectInfo>) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        // Only names the store makes are keys: not the store's own temporary
        // and metadata files (`.augment-…`, which a key's part never names
        // unescaped), nor a file `key_path` would not find again.
        let Some(name) = entry.file_name().to_str().and_then(folder_names::unescape) else {
            continue;
        };
        let key = format!("{key_prefix}{name}");
        let file_type = entry.file_type()?;
        if file_type.is_dir() {
            walk(&entry.path(), &format!("{key}/"), found)?;
        } else if file_type.is_file() {
            let meta = entry.metadata()?;
            found.push(ObjectInfo {
                key,
                size_bytes: meta.len(),
                last_modified: meta.modified().ok(),
            });
        }
    }
    Ok(())
}

/// The in-process stand-in for SQS: tasks go down a channel to [`LocalPipeline`]'s
/// worker loop.
#[derive(Debug, Clone)]
pub struct ChannelQueue {
    sender: mpsc::UnboundedSender<RotationTask>,
}

impl ChannelQueue {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<RotationTask>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self { sender }, receiver)
    }
}

impl TaskQueue for ChannelQueue {
    async fn send_batch(&self, tasks: &[RotationTask]) -> Result<(), QueueError> {
        for task in tasks {
            self.sender
                .send(task.clone())
                .map_err(|_| QueueError::Closed)?;
        }
        Ok(())
    }
}

/// What local mode reports as work finishes, in completion order.
#[derive(Debug)]
pub enum PipelineEvent {
    Upload {
        key: String,
        result: Result<UploadOutcome, StepError>,
    },
    Rotation {
        task: RotationTask,
        result: Result<(), StepError>,
    },
}

/// Tries of one step before a transient error (a 503 from the store, a full
/// queue) is reported: as Lambda retries an event and SQS redelivers a task. At
/// [`STEP_FIRST_DELAY`] doubling to [`STEP_MAX_DELAY`], about 6 s in all.
pub const STEP_ATTEMPTS: u32 = 10;
/// The pause after a step's first transient failure; each later one doubles.
pub const STEP_FIRST_DELAY: Duration = Duration::from_millis(20);
/// The longest pause between two tries of a step.
pub const STEP_MAX_DELAY: Duration = Duration::from_secs(1);
/// Rotation tasks queued or running at once: a new upload waits beyond it, so
/// a batch of any size holds a bounded backlog (each task is a few hundred
/// bytes; without the bound, uploads fed faster than rotations piled them up).
pub const MAX_QUEUED_ROTATIONS: usize = 64;

/// The whole pipeline on this machine: uploads are processed as they are
/// announced, and their tasks are run by a worker loop, at most `jobs` steps at a
/// time; a step that fails transiently is tried again (up to
/// [`STEP_ATTEMPTS`]), without holding a slot while it waits. Must be started
/// inside a Tokio runtime with at least `jobs` worker threads (image work runs
/// on them). Nothing is kept but in the store: after a crash,
/// [`LocalPipeline::resume`] finds the unfinished uploads there.
///
/// Local mode keeps no order between two uploads of one key, as the S3 sequencer
/// does in AWS: a notification names only a key and carries no sequencer to
/// record, and local clients never write an upload key twice (a new
/// file of the same name gets `-2`). The processor reads the file as it is when
/// its turn comes, so a repeated notification processes the newest bytes.
#[derive(Debug)]
pub struct LocalPipeline<S = FolderStore> {
    store: Arc<S>,
    queue: ChannelQueue,
    permits: Arc<Semaphore>,
    events: mpsc::UnboundedSender<PipelineEvent>,
    retried: Arc<AtomicU64>,
    /// One permit per rotation that may be queued: an announced upload takes
    /// four, each rotation gives one back as it ends.
    backlog: Arc<Semaphore>,
}

impl<S> Clone for LocalPipeline<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            queue: self.queue.clone(),
            permits: self.permits.clone(),
            events: self.events.clone(),
            retried: self.retried.clone(),
            backlog: self.backlog.clone(),
        }
    }
}

impl LocalPipeline {
    pub fn start(
        root: impl Into<PathBuf>,
        jobs: usize,
    ) -> (Self, mpsc::UnboundedReceiver<PipelineEvent>) {
        Self::start_on(Arc::new(FolderStore::new(root)), jobs)
    }
}

impl<S: ObjectStore + 'static> LocalPipeline<S> {
    /// The pipeline over any store (a fault-injecting one, in tests).
    pub fn start_on(store: Arc<S>, jobs: usize) -> (Self, mpsc::UnboundedReceiver<PipelineEvent>) {
        let (queue, mut tasks) = ChannelQueue::new();
        let permits = Arc::new(Semaphore::new(jobs.max(1)));
        let (events, event_receiver) = mpsc::unbounded_channel();
        let this = Self {
            store,
            queue,
            permits,
            events,
            retried: Arc::new(AtomicU64::new(0)),
            backlog: Arc::new(Semaphore::new(MAX_QUEUED_ROTATIONS)),
        };

        let worker = this.clone();
        tokio::spawn(async move {
            while let Some(task) = tasks.recv().await {
                let Ok(permit) = worker.permits.clone().acquire_owned().await else {
                    break;
                };
                let worker = worker.clone();
                tokio::spawn(async move {
                    // Local tasks carry no sequencer: always written.
                    let result = worker
                        .with_retries(permit, || {
                            steps::make_rotation(worker.store.as_ref(), &task)
                        })
                        .await
                        .map(drop);
                    worker.backlog.add_permits(1);
                    // The receiver is gone only when nobody waits for results.
                    let _ = worker.events.send(PipelineEvent::Rotation { task, result });
                });
            }
        });
        (this, event_receiver)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Transient step failures tried again so far.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::SeqCst)
    }

    /// Announces an object now in the store, as S3's event does. Waits first for
    /// room in the rotation backlog ([`MAX_QUEUED_ROTATIONS`]) and for a free
    /// slot, so rotations already queued go ahead of new uploads.
    pub async fn notify_upload(&self, key: String) {
        let rotations = Angle::ALL.len();
        let Ok(room) = self.backlog.acquire_many(rotations as u32).await else {
            return;
        };
        // Given back by the rotations as they end, or below if none is queued.
        room.forget();
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let result = this
                .with_retries(permit, || {
                    steps::process_upload(this.store.as_ref(), &this.queue, LOCAL_BUCKET, &key)
                })
                .await;
            // What a person is shown is the rejection's plain message; the decoder's
            // own words are for the log only.
            if let Ok(UploadOutcome::Rejected { rejection, .. }) = &result
                && let Some(detail) = &rejection.detail
            {
                tracing::info!(key, code = %rejection.code, detail, "upload rejected");
            }
            if !matches!(result, Ok(UploadOutcome::Processed { .. })) {
                this.backlog.add_permits(rotations);
            }
            let _ = this.events.send(PipelineEvent::Upload { key, result });
        });
    }

    /// Announces again every upload in the store whose work is not finished (no
    /// failed record, and the processed image or a rotation missing), as after a
    /// crash; returns how many. The steps are idempotent, so finishing an upload
    /// twice writes the same objects.
    pub async fn resume(&self) -> Result<usize, StoreError> {
        let uploads = self.store.list(UPLOAD_PREFIX).await?;
        let mut announced = 0;
        for info in uploads {
            let Ok(upload) = UploadKey::parse(&info.key) else {
                continue;
            };
            if self.finished(&upload).await? {
                continue;
            }
            self.notify_upload(info.key).await;
            announced += 1;
        }
        Ok(announced)
    }

    async fn finished(&self, upload: &UploadKey) -> Result<bool, StoreError> {
        if self.store.head(&upload.failed_key()).await?.is_some() {
            return Ok(true);
        }
        let mut keys = vec![upload.processed_key()];
        keys.extend(Angle::ALL.map(|angle| upload.rotation_key(angle)));
        for key in keys {
            if self.store.head(&key).await?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Runs a step, and again after a pause when it fails transiently, up to
    /// [`STEP_ATTEMPTS`]; the slot is given back while it waits.
    async fn with_retries<T, F, Fut>(
        &self,
        permit: tokio::sync::OwnedSemaphorePermit,
        mut step: F,
    ) -> Result<T, StepError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StepError>>,
    {
        let mut permit = Some(permit);
        let mut delay = STEP_FIRST_DELAY;
        let mut attempt = 1;
        loop {
            let result = step().await;
            match result {
                Err(err) if err.is_transient() && attempt < STEP_ATTEMPTS => {
                    self.retried.fetch_add(1, Ordering::SeqCst);
                    drop(permit.take());
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(STEP_MAX_DELAY);
                    attempt += 1;
                    let Ok(again) = self.permits.clone().acquire_owned().await else {
                        return Err(err);
                    };
                    permit = Some(again);
                }
                result => return result,
            }
        }
    }
}
