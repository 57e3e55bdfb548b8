//! Uploads: the one client-side check of a file, and its `PutObject` with progress.

use std::path::Path;

use augment_local::FolderStore;
use augment_pipeline::limits::MAX_UPLOAD_BYTES;
use augment_pipeline::sniff::{self, ImageFormat};
use augment_pipeline::{FailedRecord, ObjectStore, OnSent, PutObject, Rejection, UploadKey};

use crate::dedupe::{SHA256_METADATA, sha256_hex};
use crate::error::{ClientError, ErrorKind};
use crate::retry::RETRY_BUDGET;

use crate::{Progress, Remote, lock, retry};

impl Remote {
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

    pub(crate) async fn put_file(
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

pub(crate) fn content_type(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Jpeg => "image/jpeg",
        ImageFormat::Png => "image/png",
    }
}
