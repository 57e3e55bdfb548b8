//! The upload itself (its name, its progress) and the watch for what the
//! pipeline makes of it.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use augment_client::inputs::Input;
use augment_client::{ClientError, ErrorKind, Progress, Remote, UploadPlan, WatchEvent};
use augment_pipeline::contract::UPLOAD_PREFIX;
use augment_pipeline::{Landed, Output, UploadKey};
use egui::ColorImage;

use super::core::{PROGRESS_EVENT_INTERVAL, Worker, file_name, lock};
use super::jobs::fetch_thumbnail;
use crate::command::{PipelineEvent, TransferId, UploadEvent};
use crate::thumbs::{self, QUEUE_THUMB_PX};

/// Whether the bucket holds these very bytes under `key`: a resumed row's own
/// upload, made before the app was stopped and not yet noted as done.
pub(super) async fn is_own_copy(remote: &Remote, key: &UploadKey, sha256: Option<&str>) -> bool {
    let Some(sha256) = sha256 else {
        return false;
    };
    match remote.uploaded_copy(file_name(key), sha256).await {
        Ok(copy) => copy.as_deref() == Some(key.as_str()),
        Err(err) => {
            tracing::warn!("cannot look for {}: {}", key.as_str(), err.detail());
            false
        }
    }
}

/// What the check learned of a file's bytes, for the duplicate question.
pub(super) struct Content {
    pub(super) sha256: String,
    pub(super) size_bytes: u64,
}

/// The client's check before upload (size, then type by content), then the
/// name. `Ok` carries the queue thumbnail and the content's hash and size.
pub(super) fn check_file(
    path: &Path,
    upload: &UploadKey,
) -> Result<(Option<ColorImage>, Content), ClientError> {
    let checked = augment_client::check_file(path)?;
    upload.check_extension().map_err(ClientError::rejected)?;
    let content = Content {
        sha256: augment_client::sha256_hex(&checked.bytes),
        size_bytes: checked.bytes.len() as u64,
    };
    Ok((
        thumbs::decode_thumbnail(&checked.bytes, QUEUE_THUMB_PX),
        content,
    ))
}

impl Worker {
    /// The row's file is in the bucket under `key`: noted for retries and the
    /// saved queue, and the UI told.
    pub(super) fn uploaded(&self, id: TransferId, key: &UploadKey) {
        if let Some(transfer) = lock(&self.transfers).get_mut(&id) {
            transfer.uploaded = Some(key.clone());
        }
        if let Some(journal) = self.journal() {
            journal.update(id, |row| {
                row.key = Some(key.as_str().to_owned());
                row.uploaded = true;
            });
        }
        self.events.send(UploadEvent::Uploaded {
            id,
            upload_key: key.as_str().to_owned(),
        });
    }

    pub(super) async fn upload(
        &self,
        id: TransferId,
        remote: &Remote,
        plan: Option<&UploadPlan>,
        input: &Input,
    ) -> Result<UploadKey, ClientError> {
        let file_name = file_name(&input.upload);
        let key = match plan {
            Some(plan) => plan.choose_upload_key(file_name).await?,
            None => remote.choose_upload_key(file_name).await?,
        };
        // Noted before the first byte goes: after a kill, the next start looks
        // for this very upload under this key.
        if let Some(journal) = self.journal() {
            journal.update(id, |row| row.key = Some(key.as_str().to_owned()));
        }
        let stored = self.upload_as(id, remote, &input.path, &key, false).await?;
        // Another writer took the name meanwhile: the file went under the next.
        if stored != key
            && let Some(journal) = self.journal()
        {
            journal.update(id, |row| row.key = Some(stored.as_str().to_owned()));
        }
        Ok(stored)
    }

    /// Uploads the file at `path` as `key` (over what is there, with
    /// `replace`), reporting its name and progress; returns the key it is stored
    /// under (without `replace`, another if a writer took `key` meanwhile).
    pub(super) async fn upload_as(
        &self,
        id: TransferId,
        remote: &Remote,
        path: &Path,
        key: &UploadKey,
        replace: bool,
    ) -> Result<UploadKey, ClientError> {
        self.events.send(UploadEvent::Uploading {
            id,
            name: key
                .as_str()
                .strip_prefix(UPLOAD_PREFIX)
                .unwrap_or(key.as_str())
                .to_owned(),
        });
        let events = self.events.clone();
        let last = Mutex::new(None::<Instant>);
        let progress = move |progress: Progress| {
            let mut last = lock(&last);
            let done = progress.sent_bytes >= progress.total_bytes;
            if done || last.is_none_or(|at| at.elapsed() >= PROGRESS_EVENT_INTERVAL) {
                *last = Some(Instant::now());
                events.send(UploadEvent::Progress {
                    id,
                    sent_bytes: progress.sent_bytes,
                    total_bytes: progress.total_bytes,
                });
            }
        };
        if replace {
            return remote
                .upload_over(path, key, progress)
                .await
                .map(|()| key.clone());
        }
        remote.upload(path, key, progress).await
    }

    /// An output of the row's upload landed: the UI hears of it, a rotation
    /// with its thumbnail.
    async fn output_landed(&self, id: TransferId, remote: &Remote, output: Output, key: String) {
        let image = match output.angle() {
            Some(_) => fetch_thumbnail(remote, &key, thumbs::GALLERY_THUMB_PX)
                .await
                .ok(),
            None => None,
        };
        self.events.send(PipelineEvent::Landed {
            id,
            output,
            key,
            image,
        });
    }

    /// Reports each rotation as it lands (with its thumbnail), a rejection, or
    /// the time-out.
    pub(super) async fn watch(&self, id: TransferId, remote: &Arc<Remote>, upload_key: &UploadKey) {
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
                        self.output_landed(id, remote, output, key).await;
                        // The outputs model says when an upload is complete.
                        if landed.is_complete() {
                            self.events.send(PipelineEvent::Done { id });
                        }
                    }
                    WatchEvent::Rejected(record) => {
                        self.events.send(PipelineEvent::PipelineRejected {
                            id,
                            code: record.code,
                            message: record.message,
                        });
                    }
                    WatchEvent::Failed(message) => {
                        if let Some(transfer) = lock(&self.transfers).get_mut(&id) {
                            transfer.pipeline_failed = true;
                        }
                        self.events.send(UploadEvent::Failed {
                            id,
                            error: ClientError::new(ErrorKind::Other, message),
                        });
                    }
                    WatchEvent::TimedOut => self.events.send(PipelineEvent::TimedOut { id }),
                }
            }
        };
        let (result, ()) = tokio::join!(watching, forward);
        if let Err(err) = result {
            self.events.send(UploadEvent::Failed { id, error: err });
        }
    }
}
