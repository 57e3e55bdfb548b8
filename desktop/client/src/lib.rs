//! The client library the desktop app and the `augment` command line share:
//! settings, one [`Remote`] over either backend (a local folder with the pipeline
//! in-process, or an S3 bucket), uploads with real progress, the gallery listing,
//! watching an upload's outputs land, deleting an image; which files a person
//! named and their upload names ([`inputs`]); a batch through the local pipeline
//! ([`batch`]). No UI here; everything is async (Tokio) and the handles are
//! `Send + Sync`, cheap to clone.

pub mod batch;
pub mod dataset;
mod dedupe;
pub mod download;
mod error;
mod files;
pub mod inputs;
mod local;
mod pages;
mod retry;
mod s3;
pub mod settings;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use augment_aws::S3Store;
use augment_local::FolderStore;
use augment_pipeline::contract::{
    FAILED_PREFIX, PROCESSED_PREFIX, UPLOAD_PREFIX, is_upload_extension,
};
use augment_pipeline::limits::{MAX_OUTPUT_BYTES, MAX_UPLOAD_BYTES};
use augment_pipeline::sniff::{self, ImageFormat};
use augment_pipeline::{
    Angle, FailedRecord, ListRequest, ObjectStore, OnSent, PutObject, Rejection, StoreError,
    UploadKey,
};

pub use dedupe::{SHA256_METADATA, sha256_hex};
pub use download::{Area, DownloadEvent, DownloadRequest, DownloadSummary};
pub use error::{ClientError, ErrorKind};
pub use pages::LIST_PAGE_KEYS;
pub use retry::{RETRY_BUDGET, RETRY_FIRST_DELAY, RETRY_MAX_DELAY};
pub use settings::{AwsSettings, LocalSettings, Mode, Settings, aws_profiles};

/// Images per page of [`Remote::list_images`] (S3's `ListObjectsV2` returns at
/// most 1,000; a gallery screen shows far fewer).
pub const PAGE_SIZE: usize = 200;
/// Largest `failed/<name>.json` read back: the pipeline writes a few hundred bytes.
pub const MAX_FAILED_RECORD_BYTES: u64 = 64 * 1024;
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

/// One page of [`Remote::list_images`]; pass `next` back for the following page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub items: Vec<ImageEntry>,
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

/// One page of [`Remote::list_rejected`]; pass `next` back for the following page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectedPage {
    pub items: Vec<RejectedEntry>,
    pub next: Option<String>,
}

/// Which outputs of an upload exist now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputsState {
    pub processed: bool,
    /// Keys of the rotations that exist, in [`Angle::ALL`] order (90, 180, 270, 360).
    pub rotations: [Option<String>; 4],
    pub failed: Option<FailedRecord>,
}

impl OutputsState {
    /// All four rotations are there.
    pub fn is_complete(&self) -> bool {
        self.rotations.iter().all(Option::is_some)
    }
}

/// What [`Remote::watch`] reports, each at most once per watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// The processed 256×256 image exists (the upload is being rotated).
    Processed {
        key: String,
    },
    RotationLanded {
        angle: Angle,
        key: String,
    },
    /// The pipeline rejected the upload: the record says why. Final.
    Rejected(FailedRecord),
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

impl Remote {
    /// Builds the backend the settings name. Local: starts the pipeline in the data
    /// folder (uploads are processed in this process, on the calling runtime, one
    /// image per worker thread but one).
    /// S3: loads the AWS config (profile, region, endpoint) and builds the client
    /// once; nothing is sent until the first call ([`Remote::check`] tests it).
    pub async fn connect(settings: &Settings) -> Result<Self, ClientError> {
        let endpoint = match settings.mode {
            Mode::Local => {
                let local = local::LocalMode::start(&settings.data_dir()?)?;
                let store = Arc::new(local.store().clone());
                let place = local.root().display().to_string();
                return Ok(Self::new(store, String::new(), place, Some(local)));
            }
            Mode::Aws => None,
            Mode::Custom => {
                let Some(endpoint) = settings
                    .aws
                    .endpoint_url
                    .as_deref()
                    .filter(|url| !url.trim().is_empty())
                else {
                    return Err(ClientError::invalid_settings(
                        "A custom endpoint needs its URL, e.g. http://localhost:9000. Enter it in Settings.",
                    ));
                };
                Some(endpoint)
            }
        };
        let config = s3::sdk_config(&settings.aws, endpoint).await?;
        Self::with_sdk_config(&config, &settings.aws.bucket)
    }

    /// An S3 backend on an SDK config built by the caller (an emulator's
    /// endpoint and test credentials, or an embedder's own credential provider);
    /// [`Remote::connect`] is the usual way.
    pub fn with_sdk_config(
        config: &aws_config::SdkConfig,
        bucket: &str,
    ) -> Result<Self, ClientError> {
        let bucket = s3::bucket_name(bucket)?;
        let mut this = Self::new(
            Arc::new(S3Store::from_config(config, bucket)),
            bucket.to_owned(),
            s3::describe(config, bucket),
            None,
        );
        if let Some(inner) = Arc::get_mut(&mut this.inner) {
            let probe = S3Store::from_config(&s3::probe_config(config), bucket);
            inner.probe = Some((Arc::new(probe), s3::endpoint(config)));
        }
        Ok(this)
    }

    fn new(
        store: Arc<dyn ObjectStore>,
        bucket: String,
        place: String,
        local: Option<local::LocalMode>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                bucket,
                place,
                local,
                reserved: Mutex::new(HashSet::new()),
                deadlines: Mutex::new(HashMap::new()),
                retried: AtomicU64::new(0),
                probe: None,
            }),
        }
    }

    /// An S3-like backend over any store (a fault-injecting one, in tests).
    #[cfg(feature = "testing")]
    pub fn over_store(store: Arc<dyn ObjectStore>, bucket: &str) -> Self {
        Self::new(store, bucket.to_owned(), format!("s3://{bucket}"), None)
    }

    /// How many transient errors this backend has tried again so far (uploads,
    /// downloads, watches).
    pub fn retried(&self) -> u64 {
        self.inner.retried.load(Ordering::Relaxed)
    }

    /// Where uploads go, for a title bar or a log line: a folder or `s3://bucket`.
    pub fn describe(&self) -> String {
        self.inner.place.clone()
    }

    /// The local data folder, in local mode.
    pub fn local_root(&self) -> Option<&Path> {
        self.inner.local.as_ref().map(local::LocalMode::root)
    }

    /// "Test connection": the bucket exists and these credentials may list it (a
    /// one-key list, whose error has a code; S3's `HeadBucket` needs the same
    /// permission and answers without one); local mode: also, the data folder is
    /// writable. S3: one attempt first, so an endpoint that refuses or never
    /// answers is reported within the connect timeout, naming the endpoint; a
    /// throttle or a 5xx then gets the usual attempts.
    pub async fn check(&self) -> Result<(), ClientError> {
        if let Some((probe, _)) = &self.inner.probe {
            match probe
                .list_page(ListRequest::new(PROCESSED_PREFIX, None, 1))
                .await
                .map_err(|err| self.error(err))
            {
                Ok(_) => return Ok(()),
                Err(err) if err.is_transient() && err.kind != ErrorKind::Offline => {}
                Err(err) => return Err(err),
            }
        }
        self.inner
            .store
            .list_page(ListRequest::new(PROCESSED_PREFIX, None, 1))
            .await
            .map_err(|err| self.error(err))?;
        match &self.inner.local {
            Some(local) => local.check_writable().await,
            None => Ok(()),
        }
    }

    /// Uploads the file at `path` as `upload_key`, calling `progress` as bytes
    /// are sent. The file is checked first (size before reading, then type by
    /// content): a bad file is [`ErrorKind::Rejected`] and nothing is sent.
    ///
    /// `progress` is `Send + Sync + 'static` because the SDK polls the body on its
    /// connection task, and may rebuild it for a retry.
    ///
    /// A transient error is tried again with backoff until the file's budget
    /// ([`RETRY_BUDGET`] from the start of its [`Remote::choose_upload_key`]) is
    /// spent: the same key each time, as a PUT whose reply was lost may have
    /// been stored (a new name check would see it and pick `-2`).
    ///
    /// Cancel by dropping the future. S3: one `PutObject` (uploads are at most
    /// 10 MiB, so no multipart), and S3 stores nothing from an interrupted PUT.
    /// Local: the copy stops at the next chunk and its temporary file is removed.
    pub async fn upload(
        &self,
        path: &Path,
        upload_key: &UploadKey,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<(), ClientError> {
        let result = self.put_file(path, upload_key, progress).await;
        self.release(upload_key.name());
        result
    }

    async fn put_file(
        &self,
        path: &Path,
        upload_key: &UploadKey,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<(), ClientError> {
        let CheckedFile { bytes, format } = check_file_async(path).await?;
        let total_bytes = bytes.len() as u64;
        let sha256 = sha256_hex(&bytes);
        let on_sent = OnSent::new(move |sent_bytes| {
            progress(Progress {
                sent_bytes,
                total_bytes,
            });
        });
        if let Some(local) = &self.inner.local {
            local.forget_fault(upload_key);
        }
        let deadline = lock(&self.inner.deadlines)
            .get(&upload_key.name().to_lowercase())
            .copied()
            .unwrap_or_else(|| tokio::time::Instant::now() + RETRY_BUDGET);
        let (bytes, on_sent, sha256) = (&bytes, &on_sent, &sha256);
        retry::until(deadline, &self.inner.retried, || async move {
            self.inner
                .store
                .put(PutObject {
                    key: upload_key.as_str().to_owned(),
                    body: bytes.clone(),
                    content_type: content_type(format),
                    metadata: vec![(SHA256_METADATA, sha256.clone())],
                    on_sent: Some(on_sent.clone()),
                })
                .await
                .map_err(|err| self.error(err))
        })
        .await?;
        if let Some(local) = &self.inner.local {
            local.notify_upload(upload_key).await;
        }
        Ok(())
    }

    /// An upload key for a file called `file_name` (a name, or a relative path
    /// with `/`) that does not overwrite an earlier upload: `<name>`, else
    /// `<name>-2`, `<name>-3`… until no original (any extension, any case), no
    /// processed image and no failed record has that name, and this process has
    /// not handed it out already.
    ///
    /// Async and fallible because it asks the store (a few `HEAD`s and a list per
    /// candidate); a transient error starts the name check again with backoff,
    /// within the file's [`RETRY_BUDGET`], which starts now. A name handed out
    /// stays reserved in this process until [`Remote::upload`] of that key ends.
    pub async fn choose_upload_key(&self, file_name: &str) -> Result<UploadKey, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        let key = retry::until(deadline, &self.inner.retried, || {
            self.choose_upload_key_once(file_name)
        })
        .await?;
        lock(&self.inner.deadlines).insert(key.name().to_lowercase(), deadline);
        Ok(key)
    }

    async fn choose_upload_key_once(&self, file_name: &str) -> Result<UploadKey, ClientError> {
        let (stem, ext) = split_file_name(file_name)?;
        for n in 1..=MAX_NAME_SUFFIX {
            let candidate = inputs::numbered(&stem, n);
            let lowered = candidate.to_lowercase();
            if self.is_reserved(&lowered) || self.name_taken(&candidate).await? {
                continue;
            }
            let key = UploadKey::from_name(&candidate, &ext).map_err(|err| {
                ClientError::invalid_settings(format!("{err}. Rename the file: {file_name}"))
            })?;
            let mut reserved = self
                .inner
                .reserved
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Another task may have taken it while we asked the store.
            if reserved.insert(lowered) {
                return Ok(key);
            }
        }
        Err(ClientError::new(
            ErrorKind::Other,
            format!(
                "{MAX_NAME_SUFFIX} uploads already have this name. Rename the file: {file_name}"
            ),
        ))
    }

    /// One page of processed images, sorted by key; `cursor` is the previous
    /// page's `next`.
    /// (Entries of `processed/` that are not a processed image are left out, so a
    /// page can hold fewer than [`PAGE_SIZE`].)
    pub async fn list_images(&self, cursor: Option<String>) -> Result<Page, ClientError> {
        let page = self
            .inner
            .store
            .list_page(ListRequest::new(
                PROCESSED_PREFIX,
                cursor.as_deref(),
                PAGE_SIZE,
            ))
            .await
            .map_err(|err| self.error(err))?;
        let items = page
            .objects
            .into_iter()
            .filter_map(|info| {
                Some(ImageEntry {
                    name: name_of_processed(&info.key)?,
                    processed_key: info.key,
                    size_bytes: info.size_bytes,
                    last_modified: info.last_modified,
                })
            })
            .collect();
        Ok(Page {
            items,
            next: page.next,
        })
    }

    /// One page of the uploads the pipeline rejected, by record key; `cursor` is
    /// the previous page's `next`. Each record is read (at most
    /// [`MAX_FAILED_RECORD_BYTES`], [`PARALLEL_RECORD_READS`] at a time) and
    /// trusted only as far as the bucket's layout: a record whose `source_key`
    /// is not an upload whose failed key is this one is left out, so no record
    /// can name, and get deleted, an image it is not about. A record deleted
    /// meanwhile is left out too.
    pub async fn list_rejected(&self, cursor: Option<String>) -> Result<RejectedPage, ClientError> {
        let page = self
            .inner
            .store
            .list_page(ListRequest::new(
                FAILED_PREFIX,
                cursor.as_deref(),
                PAGE_SIZE,
            ))
            .await
            .map_err(|err| self.error(err))?;
        let mut items = Vec::new();
        for chunk in page.objects.chunks(PARALLEL_RECORD_READS) {
            let mut reads = tokio::task::JoinSet::new();
            for info in chunk {
                let remote = self.clone();
                let info = info.clone();
                reads.spawn(async move {
                    let bytes = match remote.get(&info.key, MAX_FAILED_RECORD_BYTES).await {
                        Ok(bytes) => bytes,
                        Err(err) if err.kind == ErrorKind::NotFound => return Ok(None),
                        Err(err) => return Err(err),
                    };
                    Ok(rejected_entry(&info.key, &bytes, info.last_modified))
                });
            }
            while let Some(read) = reads.join_next().await {
                let read = read.map_err(|err| {
                    ClientError::new(ErrorKind::Other, format!("reading a failed record: {err}"))
                })?;
                items.extend(read?);
            }
        }
        items.sort_by(|a: &RejectedEntry, b| a.failed_key.cmp(&b.failed_key));
        Ok(RejectedPage {
            items,
            next: page.next,
        })
    }

    /// The object at `key`, refusing to read more than `max_bytes`. A transient
    /// error (a body cut mid-download, a 503) is tried again with backoff for up
    /// to [`RETRY_BUDGET`].
    pub async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        retry::until(deadline, &self.inner.retried, || async move {
            self.inner
                .store
                .get(key, max_bytes)
                .await
                .map_err(|err| self.error(err))
        })
        .await
    }

    /// Downloads each `(key, name)` to `folder/<name>`, written whole or not at
    /// all. `name` becomes a path by the folder store's rules
    /// ([`augment_local::key_path`]), so no key in the bucket can write outside
    /// `folder`, on any OS. Outputs only: at most [`MAX_OUTPUT_BYTES`] each.
    pub async fn save_to_folder(
        &self,
        objects: &[(String, String)],
        folder: &Path,
    ) -> Result<(), ClientError> {
        let target = FolderStore::new(folder);
        for (key, name) in objects {
            let body = self.get(key, MAX_OUTPUT_BYTES).await?;
            target
                .put(PutObject {
                    key: name.clone(),
                    body,
                    content_type: "application/octet-stream",
                    metadata: Vec::new(),
                    on_sent: None,
                })
                .await
                .map_err(ClientError::from_store)?;
        }
        Ok(())
    }

    /// Which of the upload's outputs exist now.
    pub async fn outputs(&self, upload_key: &UploadKey) -> Result<OutputsState, ClientError> {
        let mut state = OutputsState {
            processed: self.exists(&upload_key.processed_key()).await?,
            ..OutputsState::default()
        };
        for (angle, slot) in Angle::ALL.into_iter().zip(&mut state.rotations) {
            let key = upload_key.rotation_key(angle);
            if self.exists(&key).await? {
                *slot = Some(key);
            }
        }
        state.failed = self.failed_record(upload_key).await?;
        Ok(state)
    }

    /// Deletes an image and everything made from it: its original(s) under
    /// `original-uploads/` (any of the three extensions, any case), the processed
    /// image, the four rotations and the failed record. Missing pieces are fine.
    pub async fn delete_image(&self, name: &str) -> Result<(), ClientError> {
        let key = upload_key_for(name)?;
        let mut keys = self.originals_of(name).await?;
        keys.push(key.processed_key());
        keys.extend(Angle::ALL.map(|angle| key.rotation_key(angle)));
        keys.push(key.failed_key());
        for key in keys {
            self.inner
                .store
                .delete(&key)
                .await
                .map_err(|err| self.error(err))?;
        }
        Ok(())
    }

    /// Watches for the upload's outputs until all four rotations exist, the
    /// pipeline rejects it, or `timeout` passes; `on_event` hears each as it
    /// happens. Polls with backoff (250 ms doubling to 2 s, back to 250 ms after
    /// news) in both modes, so the events are the same; local mode also reports the
    /// pipeline's own failures ([`WatchEvent::Failed`]). A transient error while
    /// polling is retried, others are returned.
    pub async fn watch(
        &self,
        upload_key: &UploadKey,
        mut on_event: impl FnMut(WatchEvent) + Send,
        timeout: Duration,
    ) -> Result<(), ClientError> {
        let started = Instant::now();
        let mut delay = WATCH_FIRST_DELAY;
        let mut seen = Seen::default();
        loop {
            if let Some(local) = &self.inner.local
                && let Some(message) = local.fault(upload_key)
            {
                on_event(WatchEvent::Failed(message));
                return Ok(());
            }
            match self.poll_outputs(upload_key, &mut seen).await {
                Ok(events) => {
                    // Rotations land moments apart: look again soon after news.
                    if !events.is_empty() {
                        delay = WATCH_FIRST_DELAY;
                    }
                    for event in events {
                        let last = matches!(event, WatchEvent::Rejected(_));
                        on_event(event);
                        if last {
                            return Ok(());
                        }
                    }
                    if seen.rotations.iter().all(|landed| *landed) {
                        return Ok(());
                    }
                }
                Err(err) if err.is_transient() => {
                    self.inner.retried.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(error = %err.detail(), "watch: transient error, polling again");
                }
                Err(err) => return Err(err),
            }
            let left = timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                on_event(WatchEvent::TimedOut);
                return Ok(());
            }
            tokio::time::sleep(delay.min(left)).await;
            delay = (delay * 2).min(WATCH_MAX_DELAY);
        }
    }

    fn is_reserved(&self, lowered: &str) -> bool {
        self.inner
            .reserved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(lowered)
    }

    fn release(&self, name: &str) {
        lock(&self.inner.deadlines).remove(&name.to_lowercase());
        self.inner
            .reserved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&name.to_lowercase());
    }

    async fn name_taken(&self, name: &str) -> Result<bool, ClientError> {
        let key = upload_key_for(name)?;
        Ok(!self.originals_of(name).await?.is_empty()
            || self.exists(&key.processed_key()).await?
            || self.exists(&key.failed_key()).await?)
    }

    /// A store error as a person reads it, classified once from its structure.
    /// "No answer" names the endpoint: the thing to check, not the bucket.
    fn error(&self, err: StoreError) -> ClientError {
        let err = ClientError::from_store_in(&self.inner.bucket, err);
        match &self.inner.probe {
            Some((_, endpoint)) if err.kind == ErrorKind::Offline => err.unreachable(endpoint),
            _ => err,
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, ClientError> {
        self.inner
            .store
            .head(key)
            .await
            .map(|info| info.is_some())
            .map_err(|err| self.error(err))
    }

    /// Originals of `name`: `original-uploads/<name>.<ext>` for an upload
    /// extension in any case (and not `<name>.x.jpg`, which is another name).
    async fn originals_of(&self, name: &str) -> Result<Vec<String>, ClientError> {
        let prefix = format!("{UPLOAD_PREFIX}{name}.");
        let found = self
            .inner
            .store
            .list(&prefix)
            .await
            .map_err(|err| self.error(err))?;
        Ok(found
            .into_iter()
            .map(|info| info.key)
            .filter(|key| key.get(prefix.len()..).is_some_and(is_upload_extension))
            .collect())
    }

    /// The upload's failed record, if the pipeline wrote one.
    async fn failed_record(
        &self,
        upload_key: &UploadKey,
    ) -> Result<Option<FailedRecord>, ClientError> {
        match self
            .get(&upload_key.failed_key(), MAX_FAILED_RECORD_BYTES)
            .await
        {
            Ok(bytes) => Ok(Some(parse_failed_record(upload_key, &bytes))),
            Err(err) if err.kind == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// One round of a watch, asking only what can have changed: before the
    /// processed image exists, whether it does or a failed record does (2
    /// requests; rotations cannot exist yet); after, only the rotations still
    /// missing.
    async fn poll_outputs(
        &self,
        upload_key: &UploadKey,
        seen: &mut Seen,
    ) -> Result<Vec<WatchEvent>, ClientError> {
        let mut events = Vec::new();
        if !seen.processed {
            if let Some(record) = self.failed_record(upload_key).await? {
                events.push(WatchEvent::Rejected(record));
                return Ok(events);
            }
            if !self.exists(&upload_key.processed_key()).await? {
                return Ok(events);
            }
            seen.processed = true;
            events.push(WatchEvent::Processed {
                key: upload_key.processed_key(),
            });
        }
        for (angle, landed) in Angle::ALL.into_iter().zip(&mut seen.rotations) {
            let key = upload_key.rotation_key(angle);
            if !*landed && self.exists(&key).await? {
                *landed = true;
                events.push(WatchEvent::RotationLanded { angle, key });
            }
        }
        Ok(events)
    }
}

/// `(stem, extension)` of a file name, with `\` and `/` as separators and `.`,
/// `..` and empty segments dropped, so the key is valid in a bucket and a folder.
fn split_file_name(file_name: &str) -> Result<(String, String), ClientError> {
    let segments: Vec<&str> = file_name
        .split(['/', '\\'])
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .collect();
    let Some((last, folders)) = segments.split_last() else {
        return Err(ClientError::invalid_settings(format!(
            "The file has no name: {file_name}"
        )));
    };
    let (base, ext) = match last.rfind('.') {
        Some(dot) if dot > 0 => (&last[..dot], &last[dot + 1..]),
        _ => (*last, ""),
    };
    if !is_upload_extension(ext) {
        return Err(ClientError::rejected(Rejection::new(
            augment_pipeline::RejectCode::UnsupportedType,
            format!(
                "The file name must end in .jpg, .jpeg or .png. Rename or convert it, then add it again: {file_name}"
            ),
        )));
    }
    let mut stem = folders.join("/");
    if !stem.is_empty() {
        stem.push('/');
    }
    stem.push_str(base);
    Ok((stem, ext.to_owned()))
}

/// A file that passed [`check_file`], read whole.
#[derive(Debug)]
pub struct CheckedFile {
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
}

/// The one client-side check of a file before upload (the app, `augment upload`
/// and [`Remote::upload`] all run it): its size first (a huge file is refused
/// unread), then its type by content, as the processor will judge it. A bad file
/// is [`ErrorKind::Rejected`]. Blocking: it reads the file.
pub fn check_file(path: &Path) -> Result<CheckedFile, ClientError> {
    let size_bytes = std::fs::metadata(path)
        .map_err(|err| ClientError::io("Cannot read the file", path, err))?
        .len();
    if size_bytes > MAX_UPLOAD_BYTES {
        return Err(ClientError::rejected(Rejection::too_large(size_bytes)));
    }
    let bytes =
        std::fs::read(path).map_err(|err| ClientError::io("Cannot read the file", path, err))?;
    let format = sniff::check_upload(&bytes).map_err(ClientError::rejected)?;
    Ok(CheckedFile { bytes, format })
}

/// [`check_file`] off the async threads.
pub async fn check_file_async(path: &Path) -> Result<CheckedFile, ClientError> {
    let owned = path.to_owned();
    tokio::task::spawn_blocking(move || check_file(&owned))
        .await
        .map_err(|err| {
            ClientError::new(ErrorKind::Other, "The file could not be checked.").with_source(err)
        })?
}

/// Writes `folder/failed/<name>.json` for a file refused before upload, the
/// record the pipeline writes for a file it rejects (same JSON, same key), so an
/// output folder accounts for every input. Whole or not at all.
pub async fn write_failed_record(
    folder: &Path,
    upload: &UploadKey,
    rejection: &Rejection,
) -> Result<(), ClientError> {
    FolderStore::new(folder)
        .put(PutObject {
            key: upload.failed_key(),
            body: FailedRecord::new(upload, rejection).to_json(),
            content_type: "application/json",
            metadata: Vec::new(),
            on_sent: None,
        })
        .await
        .map_err(ClientError::from_store)
}

fn content_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
    }
}

/// Any upload key with this `<name>`: every output key depends on the name only.
fn upload_key_for(name: &str) -> Result<UploadKey, ClientError> {
    UploadKey::from_name(name, "jpg").map_err(|err| {
        ClientError::invalid_settings(format!("This is not an image name ({err}): {name}"))
    })
}

/// A record that does not parse (another version, damaged) still means the
/// upload failed: say so rather than wait for rotations that will not come.
fn parse_failed_record(upload_key: &UploadKey, bytes: &[u8]) -> FailedRecord {
    serde_json::from_slice(bytes).unwrap_or_else(|_| {
        FailedRecord::new(
            upload_key,
            &Rejection::new(
                augment_pipeline::RejectCode::Corrupt,
                "The pipeline rejected this file, but its record could not be read. Look at the record in the bucket's failed/ folder.",
            ),
        )
    })
}

/// The entry a `failed/` record at `key` stands for, if it is one the pipeline
/// could have written there (see [`Remote::list_rejected`]).
fn rejected_entry(
    key: &str,
    bytes: &[u8],
    last_modified: Option<SystemTime>,
) -> Option<RejectedEntry> {
    let record: FailedRecord = serde_json::from_slice(bytes).ok()?;
    let upload = UploadKey::parse(&record.source_key).ok()?;
    (upload.failed_key() == key).then(|| RejectedEntry {
        name: upload.name().to_owned(),
        failed_key: key.to_owned(),
        code: record.code.as_str().to_owned(),
        message: record.message,
        last_modified,
    })
}

/// What a watch has reported so far.
#[derive(Debug, Default)]
struct Seen {
    processed: bool,
    rotations: [bool; 4],
}

/// `<name>` of a processed key, or `None` for anything else in `processed/`.
fn name_of_processed(key: &str) -> Option<String> {
    UploadKey::from_processed_key(key).map(|upload| upload.name().to_owned())
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_safe_stems() {
        let ok = |name: &str| split_file_name(name).unwrap();
        assert_eq!(ok("cat.JPG"), ("cat".into(), "JPG".into()));
        assert_eq!(
            ok("trip/beach day.jpeg"),
            ("trip/beach day".into(), "jpeg".into())
        );
        assert_eq!(ok("..\\a\\.\\b.png"), ("a/b".into(), "png".into()));
        assert_eq!(ok("v1.2.final.jpg"), ("v1.2.final".into(), "jpg".into()));
        for bad in ["notes.txt", "cat", ".jpg", "", "/"] {
            assert!(split_file_name(bad).is_err(), "{bad}");
        }
    }
}
