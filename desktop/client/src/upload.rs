//! Uploads: the one client-side check of a file, and its `PutObject` with progress.

use std::path::Path;
use std::sync::Arc;

use augment_local::FolderStore;
use augment_pipeline::limits::MAX_UPLOAD_BYTES;
use augment_pipeline::sniff::{self, ImageFormat};
use augment_pipeline::{FailedRecord, ObjectStore, OnSent, PutObject, Rejection, UploadKey};

use crate::dedupe::{SHA256_METADATA, sha256_hex};
use crate::error::{ClientError, ErrorKind};
use crate::retry::RETRY_BUDGET;

use crate::lock::lock;
use crate::names::file_name_of;
use crate::remote::Remote;
use crate::retry;

/// Bytes of one upload actually handed to the network (or copied, in local mode).
/// On an SDK retry the count starts again from 0: `sent_bytes` can go down once,
/// to 0, and then rises again to `total_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub sent_bytes: u64,
    pub total_bytes: u64,
}

/// A progress callback shared by the tries of one upload.
type OnProgress = Arc<dyn Fn(Progress) + Send + Sync>;

impl Remote {
    /// Uploads the file at `path` as `upload_key`, or, if another writer took
    /// that name after it was chosen, as the next free name: returns the key
    /// the file is stored under. Calls `progress` as bytes are sent. The file is
    /// checked first (size before reading, then type by content): a bad file is
    /// [`ErrorKind::Rejected`] and nothing is sent.
    ///
    /// Never overwrites: S3 gets one conditional `PutObject` (`If-None-Match:
    /// *`), which S3 refuses atomically when the key exists. A refusal whose
    /// object carries this file's own hash is this upload (an attempt whose reply
    /// was lost) or the same bytes: done. Otherwise the next name is chosen the
    /// per-name way and tried.
    ///
    /// `progress` is `Send + Sync + 'static` because the SDK polls the body on its
    /// connection task, and may rebuild it for a retry.
    ///
    /// A transient error is tried again with backoff until the file's budget
    /// ([`RETRY_BUDGET`] from the start of its [`Remote::choose_upload_key`]) is
    /// spent: the same key each time.
    ///
    /// Cancel by dropping the future. S3: one `PutObject` (uploads are at most
    /// 10 MiB, so no multipart), and S3 stores nothing from an interrupted PUT.
    /// Local: the copy stops at the next chunk and its temporary file is removed.
    pub async fn upload(
        &self,
        path: &Path,
        upload_key: &UploadKey,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<UploadKey, ClientError> {
        let progress: OnProgress = Arc::new(progress);
        let mut key = upload_key.clone();
        let result = loop {
            let sha256 = match self.put_file(path, &key, &progress, true).await {
                Ok(Put::Written) => break Ok(()),
                Ok(Put::Taken { sha256 }) => sha256,
                Err(err) => break Err(err),
            };
            match self.has_hash(key.as_str(), &sha256).await {
                Ok(true) => break Ok(()),
                Ok(false) => {}
                Err(err) => break Err(err),
            }
            let next = self.choose_upload_key_once(&file_name_of(&key)).await;
            let deadline = lock(&self.inner.deadlines).remove(&key.name().to_lowercase());
            self.release(key.name());
            match next {
                Ok(next) => {
                    if let Some(deadline) = deadline {
                        lock(&self.inner.deadlines).insert(next.name().to_lowercase(), deadline);
                    }
                    key = next;
                }
                Err(err) => return Err(err),
            }
        };
        self.release(key.name());
        result.map(|()| key)
    }

    /// Uploads the file at `path` as `upload_key` whatever is there already
    /// (`augment upload --on-duplicate replace`): the pipeline runs on it again.
    pub async fn upload_over(
        &self,
        path: &Path,
        upload_key: &UploadKey,
        progress: impl Fn(Progress) + Send + Sync + 'static,
    ) -> Result<(), ClientError> {
        let progress: OnProgress = Arc::new(progress);
        let result = self.put_file(path, upload_key, &progress, false).await;
        self.release(upload_key.name());
        result.map(drop)
    }

    async fn put_file(
        &self,
        path: &Path,
        upload_key: &UploadKey,
        progress: &OnProgress,
        if_absent: bool,
    ) -> Result<Put, ClientError> {
        let CheckedFile { bytes, format } = check_file_async(path).await?;
        let total_bytes = bytes.len() as u64;
        let sha256 = sha256_hex(&bytes);
        let progress = Arc::clone(progress);
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
        let (bytes, on_sent, hash) = (&bytes, &on_sent, &sha256);
        let written = retry::until(deadline, &self.inner.retried, || async move {
            let object = PutObject {
                key: upload_key.as_str().to_owned(),
                body: bytes.clone(),
                content_type: content_type(format),
                // The metadata for readers of the original; the tag for the
                // duplicate check, which may not read originals.
                metadata: vec![(SHA256_METADATA, hash.clone())],
                tags: vec![(SHA256_METADATA, hash.clone())],
                on_sent: Some(on_sent.clone()),
            };
            let store = &self.inner.store;
            let put = if if_absent {
                store.put_if_absent(object).await
            } else {
                store.put(object).await.map(|()| true)
            };
            put.map_err(|err| self.error(err))
        })
        .await?;
        if !written {
            return Ok(Put::Taken { sha256 });
        }
        if let Some(local) = &self.inner.local {
            local.notify_upload(upload_key).await;
        }
        Ok(Put::Written)
    }
}

/// How one `PutObject` of [`Remote::upload`] ended.
enum Put {
    Written,
    /// The key was taken (by another writer, or by this very upload whose
    /// earlier reply was lost): `sha256` tells them apart.
    Taken {
        sha256: String,
    },
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
            tags: Vec::new(),
            on_sent: None,
        })
        .await
        .map_err(ClientError::from_store)
}

pub(crate) fn content_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
    }
}
