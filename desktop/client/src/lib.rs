//! The client library the desktop app and the `augment` command line share:
//! settings, one [`Remote`] over either backend (a local folder with the pipeline
//! in-process, or an S3 bucket), uploads with real progress, the gallery listing,
//! watching an upload's outputs land, deleting an image; which files a person
//! named and their upload names ([`inputs`]); a batch through the local pipeline
//! ([`batch`]). No UI here; everything is async (Tokio) and the handles are
//! `Send + Sync`, cheap to clone.

pub mod batch;
mod error;
pub mod inputs;
mod local;
mod s3;
pub mod settings;

use std::collections::HashSet;
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use augment_local::FolderStore;
use augment_pipeline::contract::{UPLOAD_PREFIX, is_upload_extension};
use augment_pipeline::limits::{MAX_OUTPUT_BYTES, MAX_UPLOAD_BYTES};
use augment_pipeline::sniff::{self, ImageFormat};
use augment_pipeline::{Angle, FailedRecord, ObjectStore as _, PutObject, Rejection, UploadKey};

pub use error::{ClientError, ErrorKind};
pub use settings::{AwsSettings, LocalSettings, Mode, Settings, aws_profiles};

/// Images per page of [`Remote::list_images`] (S3's `ListObjectsV2` returns at
/// most 1,000; a gallery screen shows far fewer).
pub const PAGE_SIZE: usize = 200;
/// Largest `failed/<name>.json` read back: the pipeline writes a few hundred bytes.
pub const MAX_FAILED_RECORD_BYTES: u64 = 64 * 1024;
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

#[derive(Debug)]
struct Inner {
    backend: Backend,
    /// Names chosen by this process and not yet uploaded, lowercased, so two files
    /// called `cat.jpg` dropped together do not both get `cat`.
    reserved: Mutex<HashSet<String>>,
}

#[derive(Debug)]
enum Backend {
    Local(local::LocalBackend),
    S3(s3::S3Backend),
}

impl Remote {
    /// Builds the backend the settings name. Local: starts the pipeline in the data
    /// folder (uploads are processed in this process, on the calling runtime, one
    /// image per worker thread but one).
    /// S3: loads the AWS config (profile, region, endpoint) and builds the client
    /// once; nothing is sent until the first call ([`Remote::check`] tests it).
    pub async fn connect(settings: &Settings) -> Result<Self, ClientError> {
        let backend = match settings.mode {
            Mode::Local => Backend::Local(local::LocalBackend::start(&settings.data_dir()?)?),
            Mode::Aws => Backend::S3(s3::S3Backend::connect(&settings.aws, None).await?),
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
                Backend::S3(s3::S3Backend::connect(&settings.aws, Some(endpoint)).await?)
            }
        };
        Ok(Self::from_backend(backend))
    }

    /// An S3 backend on an SDK config built by the caller (an emulator's
    /// endpoint and test credentials, or an embedder's own credential provider);
    /// [`Remote::connect`] is the usual way.
    pub fn with_sdk_config(
        config: &aws_config::SdkConfig,
        bucket: &str,
    ) -> Result<Self, ClientError> {
        Ok(Self::from_backend(Backend::S3(s3::S3Backend::from_config(
            config, bucket,
        )?)))
    }

    fn from_backend(backend: Backend) -> Self {
        Self {
            inner: Arc::new(Inner {
                backend,
                reserved: Mutex::new(HashSet::new()),
            }),
        }
    }

    /// Where uploads go, for a title bar or a log line: a folder or `s3://bucket`.
    pub fn describe(&self) -> String {
        match &self.inner.backend {
            Backend::Local(local) => local.root().display().to_string(),
            Backend::S3(s3) => s3.describe(),
        }
    }

    /// The local data folder, in local mode.
    pub fn local_root(&self) -> Option<&Path> {
        match &self.inner.backend {
            Backend::Local(local) => Some(local.root()),
            Backend::S3(_) => None,
        }
    }

    /// "Test connection": S3: the bucket exists and these credentials may list
    /// it (`HeadBucket`, then a one-key `ListObjectsV2`, whose error has a code);
    /// local: the data folder is writable.
    pub async fn check(&self) -> Result<(), ClientError> {
        match &self.inner.backend {
            Backend::Local(local) => local.check().await,
            Backend::S3(s3) => s3.check().await,
        }
    }

    /// Uploads the file at `path` as `upload_key`, calling `progress` as bytes
    /// are sent. The file is checked first (size before reading, then type by
    /// content): a bad file is [`ErrorKind::Rejected`] and nothing is sent.
    ///
    /// `progress` is `Send + Sync + 'static` because the SDK polls the body on its
    /// connection task, and may rebuild it for a retry.
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
        let result = match &self.inner.backend {
            Backend::Local(local) => local.upload(path, upload_key, progress).await,
            Backend::S3(s3) => {
                let CheckedFile { bytes, format } = check_file_async(path).await?;
                s3.upload(bytes, format, upload_key, progress).await
            }
        };
        self.release(upload_key.name());
        result
    }

    /// An upload key for a file called `file_name` (a name, or a relative path
    /// with `/`) that does not overwrite an earlier upload: `<name>`, else
    /// `<name>-2`, `<name>-3`… until no original (any extension, any case), no
    /// processed image and no failed record has that name, and this process has
    /// not handed it out already.
    ///
    /// Async and fallible because it asks the store (a few `HEAD`s and a list per
    /// candidate). A name handed out stays reserved in this process until
    /// [`Remote::upload`] of that key ends.
    pub async fn choose_upload_key(&self, file_name: &str) -> Result<UploadKey, ClientError> {
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
    pub async fn list_images(&self, cursor: Option<String>) -> Result<Page, ClientError> {
        match &self.inner.backend {
            Backend::Local(local) => local.list_images(cursor).await,
            Backend::S3(s3) => s3.list_images(cursor).await,
        }
    }

    /// The object at `key`, refusing to read more than `max_bytes`.
    pub async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, ClientError> {
        match &self.inner.backend {
            Backend::Local(local) => local.get(key, max_bytes).await,
            Backend::S3(s3) => s3.get(key, max_bytes).await,
        }
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
                })
                .await
                .map_err(ClientError::from_store)?;
        }
        Ok(())
    }

    /// Which of the upload's outputs exist now.
    pub async fn outputs(&self, upload_key: &UploadKey) -> Result<OutputsState, ClientError> {
        match &self.inner.backend {
            Backend::Local(local) => outputs_in(local, upload_key).await,
            Backend::S3(s3) => outputs_in(s3, upload_key).await,
        }
    }

    /// Deletes an image and everything made from it: its original(s) under
    /// `original-uploads/` (any of the three extensions, any case), the processed
    /// image, the four rotations and the failed record. Missing pieces are fine.
    pub async fn delete_image(&self, name: &str) -> Result<(), ClientError> {
        match &self.inner.backend {
            Backend::Local(local) => delete_in(local, name).await,
            Backend::S3(s3) => delete_in(s3, name).await,
        }
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
            if let Backend::Local(local) = &self.inner.backend
                && let Some(message) = local.fault(upload_key)
            {
                on_event(WatchEvent::Failed(message));
                return Ok(());
            }
            let polled = match &self.inner.backend {
                Backend::Local(local) => poll_outputs(local, upload_key, &mut seen).await,
                Backend::S3(s3) => poll_outputs(s3, upload_key, &mut seen).await,
            };
            match polled {
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
        self.inner
            .reserved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&name.to_lowercase());
    }

    async fn name_taken(&self, name: &str) -> Result<bool, ClientError> {
        match &self.inner.backend {
            Backend::Local(local) => name_taken_in(local, name).await,
            Backend::S3(s3) => name_taken_in(s3, name).await,
        }
    }
}

/// What the shared operations (naming, outputs, delete) need of either backend,
/// with errors already classified for a person.
trait Store: Sync {
    /// Whether an object exists at `key`.
    fn exists(&self, key: &str) -> impl Future<Output = Result<bool, ClientError>> + Send;
    /// The object, or [`ErrorKind::NotFound`].
    fn get(
        &self,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Vec<u8>, ClientError>> + Send;
    /// Every key starting with `prefix`.
    fn list(&self, prefix: &str) -> impl Future<Output = Result<Vec<String>, ClientError>> + Send;
    /// Deleting a missing object succeeds.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), ClientError>> + Send;
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

fn content_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
    }
}

/// Originals of `name`: `original-uploads/<name>.<ext>` for an upload extension
/// in any case (and not `<name>.x.jpg`, which is another name).
async fn originals_of(store: &impl Store, name: &str) -> Result<Vec<String>, ClientError> {
    let prefix = format!("{UPLOAD_PREFIX}{name}.");
    Ok(store
        .list(&prefix)
        .await?
        .into_iter()
        .filter(|key| key.get(prefix.len()..).is_some_and(is_upload_extension))
        .collect())
}

async fn name_taken_in(store: &impl Store, name: &str) -> Result<bool, ClientError> {
    let key = upload_key_for(name)?;
    Ok(!originals_of(store, name).await?.is_empty()
        || store.exists(&key.processed_key()).await?
        || store.exists(&key.failed_key()).await?)
}

/// Any upload key with this `<name>`: every output key depends on the name only.
fn upload_key_for(name: &str) -> Result<UploadKey, ClientError> {
    UploadKey::from_name(name, "jpg").map_err(|err| {
        ClientError::invalid_settings(format!("This is not an image name ({err}): {name}"))
    })
}

async fn outputs_in(
    store: &impl Store,
    upload_key: &UploadKey,
) -> Result<OutputsState, ClientError> {
    let mut state = OutputsState {
        processed: store.exists(&upload_key.processed_key()).await?,
        ..OutputsState::default()
    };
    for (angle, slot) in Angle::ALL.into_iter().zip(&mut state.rotations) {
        let key = upload_key.rotation_key(angle);
        if store.exists(&key).await? {
            *slot = Some(key);
        }
    }
    state.failed = match store
        .get(&upload_key.failed_key(), MAX_FAILED_RECORD_BYTES)
        .await
    {
        Ok(bytes) => Some(parse_failed_record(upload_key, &bytes)),
        Err(err) if err.kind == ErrorKind::NotFound => None,
        Err(err) => return Err(err),
    };
    Ok(state)
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

async fn delete_in(store: &impl Store, name: &str) -> Result<(), ClientError> {
    let key = upload_key_for(name)?;
    let mut keys = originals_of(store, name).await?;
    keys.push(key.processed_key());
    keys.extend(Angle::ALL.map(|angle| key.rotation_key(angle)));
    keys.push(key.failed_key());
    for key in keys {
        store.delete(&key).await?;
    }
    Ok(())
}

/// What a watch has reported so far.
#[derive(Debug, Default)]
struct Seen {
    processed: bool,
    rotations: [bool; 4],
}

/// One round of a watch, asking only what can have changed: before the
/// processed image exists, whether it does or a failed record does (2 requests;
/// rotations cannot exist yet); after, only the rotations still missing.
async fn poll_outputs(
    store: &impl Store,
    upload_key: &UploadKey,
    seen: &mut Seen,
) -> Result<Vec<WatchEvent>, ClientError> {
    let mut events = Vec::new();
    if !seen.processed {
        match store
            .get(&upload_key.failed_key(), MAX_FAILED_RECORD_BYTES)
            .await
        {
            Ok(bytes) => {
                events.push(WatchEvent::Rejected(parse_failed_record(
                    upload_key, &bytes,
                )));
                return Ok(events);
            }
            Err(err) if err.kind == ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        if !store.exists(&upload_key.processed_key()).await? {
            return Ok(events);
        }
        seen.processed = true;
        events.push(WatchEvent::Processed {
            key: upload_key.processed_key(),
        });
    }
    for (angle, landed) in Angle::ALL.into_iter().zip(&mut seen.rotations) {
        let key = upload_key.rotation_key(angle);
        if !*landed && store.exists(&key).await? {
            *landed = true;
            events.push(WatchEvent::RotationLanded { angle, key });
        }
    }
    Ok(events)
}

/// `<name>` of a processed key, or `None` for anything else in `processed/`.
fn name_of_processed(key: &str) -> Option<String> {
    UploadKey::from_processed_key(key).map(|upload| upload.name().to_owned())
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
