//! A row's way: added, checked, asked about duplicates, uploaded, watched;
//! retried; cancelled.

use std::path::PathBuf;

use augment_client::inputs::{self, Input};
use augment_client::{ClientError, ErrorKind, Remote, UploadPlan};
use augment_pipeline::UploadKey;
use egui::ColorImage;
use tokio::sync::watch;

use super::core::{Transfer, Worker, file_name, lock};
use super::jobs::dialog_extensions;
use super::upload::{Content, check_file, is_own_copy};
use crate::command::{
    BatchId, DuplicateAnswer, RowEvent, TransferCommand, TransferId, UploadEvent,
};
use crate::file_dialog;
use crate::journal::SavedRow;

impl Worker {
    /// Adding files (and their dialogs), cancelling and retrying rows.
    pub(super) fn handle_transfer(&self, command: TransferCommand) {
        let this = self.clone();
        match command {
            TransferCommand::PickFiles => this.pick_and_add(|| {
                rfd::FileDialog::new()
                    .set_title("Add images")
                    .add_filter("JPEG or PNG images", &dialog_extensions())
                    .pick_files()
            }),
            TransferCommand::PickFolder => this.pick_and_add(|| {
                rfd::FileDialog::new()
                    .set_title("Add a folder of images")
                    .pick_folders()
            }),
            TransferCommand::Add(paths) => {
                tokio::task::spawn_blocking(move || this.add(paths));
            }
            TransferCommand::Cancel(id) => {
                if let Some(task) = lock(&self.transfers)
                    .get_mut(&id)
                    .and_then(|transfer| transfer.task.take())
                {
                    // Dropping the upload future aborts the upload (and its
                    // multipart upload) in the client.
                    task.abort();
                }
                self.events.send(RowEvent::Cancelled { id });
            }
            TransferCommand::Retry(id) => self.retry(id),
            TransferCommand::Pause(paused) => {
                self.paused.send_replace(paused);
            }
            TransferCommand::AnswerDuplicates { batch, answer } => {
                lock(&self.answers)
                    .entry(batch)
                    .or_insert_with(|| watch::Sender::new(None))
                    .send_replace(Some(answer));
            }
        }
    }

    /// Retries a row: from the checks if it never reached the bucket; else under
    /// the key it has (so never a `-2` copy): watched again after a time-out,
    /// written again over itself after a failure.
    pub(super) fn retry(&self, id: TransferId) {
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
        self.events.send(RowEvent::Restarted(id));
        self.save_row(id, &input, uploaded.as_ref());
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
                && let Err(error) = this
                    .upload_as(id, &remote, &input.path, &task_key, true)
                    .await
            {
                this.events.send(UploadEvent::Failed { id, error });
                return;
            }
            this.uploaded(id, &task_key);
            this.watch(id, &remote, &task_key).await;
        });
        if let Some(transfer) = lock(&self.transfers).get_mut(&id) {
            transfer.task = Some(task.abort_handle());
            transfer.pipeline_failed = false;
        }
    }

    /// The row in the journal: its file, and the key it was uploaded under
    /// (then only the pipeline is left), if it was.
    fn save_row(&self, id: TransferId, input: &Input, uploaded: Option<&UploadKey>) {
        if let Some(journal) = self.journal() {
            journal.set(
                id,
                SavedRow {
                    path: input.path.clone(),
                    upload: input.upload.as_str().to_owned(),
                    key: uploaded.map(|key| key.as_str().to_owned()),
                    uploaded: uploaded.is_some(),
                },
            );
        }
    }

    /// Expands folders, adds a row for each file and starts it. The final upload
    /// name is the client's choice (it never overwrites). Blocking: runs on the blocking pool.
    /// Adds what a file dialog picks; says why when no dialog can open.
    fn pick_and_add(self, dialog: impl FnOnce() -> Option<Vec<PathBuf>> + Send + 'static) {
        tokio::task::spawn_blocking(move || match file_dialog::ask(dialog) {
            Ok(Some(paths)) => self.add(paths),
            Ok(None) => {}
            Err(why) => self.events.send(RowEvent::AddFailed(why)),
        });
    }

    pub(super) fn add(&self, paths: Vec<PathBuf>) {
        let batch = self.next_batch();
        let mut batch_inputs = Vec::new();
        for path in paths {
            match inputs::collect(std::slice::from_ref(&path), None) {
                Ok(found) => batch_inputs.extend(found),
                Err(err) => self
                    .events
                    .send(RowEvent::AddFailed(format!("Not added: {err}"))),
            }
        }
        let names = batch_inputs
            .iter()
            .map(|input| file_name(&input.upload).to_owned())
            .collect();
        self.plans.register(batch, names);
        for input in batch_inputs {
            let id = self.next_id();
            self.save_row(id, &input, None);
            self.announce(id, batch, &input);
            self.start(id, batch, input);
        }
    }

    /// Check, upload, watch: one task per row, cancellable.
    pub(super) fn start(&self, id: TransferId, batch: BatchId, input: Input) {
        self.start_from(id, batch, input, None);
    }

    /// [`Worker::start`] for a row resumed with the key chosen for it (and
    /// whether its upload completed).
    pub(super) fn start_from(
        &self,
        id: TransferId,
        batch: BatchId,
        input: Input,
        resumed: Option<(UploadKey, bool)>,
    ) {
        let this = self.clone();
        let task_input = input.clone();
        let task = tokio::spawn(async move { this.run(id, batch, task_input, resumed).await });
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

    pub(super) async fn run(
        &self,
        id: TransferId,
        batch: BatchId,
        input: Input,
        resumed: Option<(UploadKey, bool)>,
    ) {
        let (result, thumb, content) = {
            // Never closed; without a permit the check still runs.
            let _permit = self.checks.acquire().await.ok();
            checked(&input).await
        };
        // An upload that completed before the quit is watched even if its
        // file has gone since.
        let passed = result.is_ok() || resumed.as_ref().is_some_and(|(_, uploaded)| *uploaded);
        let result = if passed { Ok(()) } else { result };
        self.events.send(RowEvent::Checked { id, thumb, result });
        if !passed {
            return;
        }

        let remote = self.connected().await;
        let sha256 = content.as_ref().map(|content| content.sha256.as_str());
        if let Some((key, uploaded)) = resumed
            && (uploaded || is_own_copy(&remote, &key, sha256).await)
        {
            let Ok(_in_pipeline) = self.pipeline.acquire().await else {
                return;
            };
            self.uploaded(id, &key);
            self.watch(id, &remote, &key).await;
            return;
        }
        let batch_plan = self.plans.get(batch);
        let plan = match &batch_plan {
            Some(batch_plan) => batch_plan.for_remote(&remote).await,
            None => None,
        };
        if let Some(content) = &content
            && let Some(existing) = self.duplicate_of(id, &remote, plan, &input, content).await
            && self.answer(id, batch, &existing).await == DuplicateAnswer::Skip
        {
            self.events.send(RowEvent::Skipped { id, existing });
            return;
        }
        let Ok(_in_pipeline) = self.pipeline.acquire().await else {
            return;
        };
        let Some(upload_key) = self.upload_in_slot(id, &remote, plan, &input).await else {
            return;
        };
        self.uploaded(id, &upload_key);
        self.watch(id, &remote, &upload_key).await;
    }

    /// The upload, once a slot is free (and the queue not paused): its key;
    /// `None` when it failed (the row is told) or the worker stops.
    async fn upload_in_slot(
        &self,
        id: TransferId,
        remote: &Remote,
        plan: Option<&UploadPlan>,
        input: &Input,
    ) -> Option<UploadKey> {
        let slot = self.upload_slot().await?;
        let retried = remote.retried();
        let uploaded = self.upload(id, remote, plan, input).await;
        // A retry on the way is the link's sign to send fewer at once.
        slot.finish(remote.retried() > retried);
        match uploaded {
            Ok(key) => Some(key),
            Err(error) => {
                self.events.send(UploadEvent::Failed { id, error });
                None
            }
        }
    }

    /// An upload slot, once the queue is not paused.
    pub(super) async fn upload_slot(&self) -> Option<augment_client::Slot> {
        let mut paused = self.paused.subscribe();
        loop {
            paused.wait_for(|paused| !*paused).await.ok()?;
            let uploads = lock(&self.uploads).clone();
            let slot = uploads.acquire().await?;
            if !*self.paused.borrow() {
                return Some(slot);
            }
        }
    }

    /// Where the same bytes already are: an earlier row of the queue, or an
    /// upload under the same name in the bucket. A failed look is no duplicate.
    pub(super) async fn duplicate_of(
        &self,
        id: TransferId,
        remote: &Remote,
        plan: Option<&UploadPlan>,
        input: &Input,
        content: &Content,
    ) -> Option<String> {
        let sha256 = content.sha256.as_str();
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
        let file_name = file_name(&input.upload);
        let copy = match plan {
            Some(plan) => {
                plan.uploaded_copy(file_name, sha256, content.size_bytes)
                    .await
            }
            None => remote.uploaded_copy(file_name, sha256).await,
        };
        match copy {
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
    pub(super) async fn answer(
        &self,
        id: TransferId,
        batch: BatchId,
        existing: &str,
    ) -> DuplicateAnswer {
        let mut answer = lock(&self.answers)
            .entry(batch)
            .or_insert_with(|| watch::Sender::new(None))
            .subscribe();
        if let Some(given) = *answer.borrow() {
            return given;
        }
        self.events.send(RowEvent::Duplicate {
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
}

/// The client's checks of a row's file, off the async threads: the outcome,
/// the queue thumbnail and the content's hash and size.
async fn checked(input: &Input) -> (Result<(), ClientError>, Option<ColorImage>, Option<Content>) {
    let path = input.path.clone();
    let upload = input.upload.clone();
    match tokio::task::spawn_blocking(move || check_file(&path, &upload)).await {
        Ok(Ok((thumb, content))) => (Ok(()), thumb, Some(content)),
        Ok(Err(message)) => (Err(message), None, None),
        Err(join) => (
            Err(
                ClientError::new(ErrorKind::Other, "The file could not be checked.")
                    .with_source(join),
            ),
            None,
            None,
        ),
    }
}
