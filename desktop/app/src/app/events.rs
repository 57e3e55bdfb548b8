//! The worker's events applied to the rooms' models: the one place the UI
//! state changes, one handler per area.

use std::time::Instant;

use augment_client::{ImageEntry, Mode};
use augment_pipeline::{Landed, Output};
use egui::{TextureHandle, TextureOptions};

use super::desktop::DesktopApp;
use crate::command::{
    DatasetEvent, DesktopEvent, Event, GalleryEvent, PipelineEvent, RowEvent, SettingsEvent,
    StatusEvent, TransferId, UploadEvent,
};
use crate::format::InApp;
use crate::gallery::{self, Thumb};
use crate::queue::{self, FailureCode, State, Transfer};

/// The words a person reads for a worker's error; what the app was doing
/// (`what`: "checking /path/cat.jpg") and the technical causes go to the log,
/// once, here.
pub(super) fn shown(what: &str, err: &augment_client::ClientError) -> String {
    shown_in(InApp::Window, what, err)
}

/// [`shown`], read at `place` (inside Settings, its advice says "above").
pub(super) fn shown_in(place: InApp, what: &str, err: &augment_client::ClientError) -> String {
    tracing::warn!(kind = ?err.kind, "{what}: {}", err.detail());
    err.words(&place)
}

pub(super) fn texture(ctx: &egui::Context, name: &str, image: egui::ColorImage) -> TextureHandle {
    ctx.load_texture(name, image, TextureOptions::LINEAR)
}

impl DesktopApp {
    pub(super) fn transfer_mut(&mut self, id: TransferId) -> Option<&mut Transfer> {
        self.transfers.iter_mut().find(|t| t.id == id)
    }

    pub(super) fn drain_events(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.worker.try_recv() {
            self.apply_event(ctx, event);
        }
    }

    /// The one place the UI state changes: each event goes to the handler of its
    /// area (connection and settings, the gallery; for the transfer queue: its
    /// rows, their uploads, the pipeline's answers). Every event is routed here
    /// by name, so a new one does not compile until it has a handler.
    pub(super) fn apply_event(&mut self, ctx: &egui::Context, event: Event) {
        match event {
            Event::Settings(event) => self.apply_settings_event(event),
            Event::Gallery(event) => self.apply_gallery_event(ctx, event),
            Event::Row(event) => self.apply_row_event(ctx, event),
            Event::Upload(event) => self.apply_upload_event(event),
            Event::Pipeline(event) => self.apply_pipeline_event(event),
            Event::Desktop(event) => self.apply_desktop_event(event),
            Event::Status(event) => self.apply_status_event(event),
            Event::Dataset(event) => {
                if let DatasetEvent::Downloaded(Err(err)) | DatasetEvent::Exported(Err(err)) =
                    &event
                {
                    tracing::warn!(kind = ?err.kind, "the dataset job: {}", err.detail());
                }
                self.dataset.apply(event);
            }
        }
    }

    /// The pipeline's status, a re-drive's counts.
    pub(super) fn apply_status_event(&mut self, event: StatusEvent) {
        match event {
            StatusEvent::Refreshed(result) => self
                .pipeline
                .applied(result.map_err(|err| shown("checking the pipeline", &err))),
            StatusEvent::Redriven(result) => self
                .pipeline
                .redrive_done(result.map_err(|err| shown("re-driving", &err))),
        }
    }

    /// The desktop's parts: where the report went.
    pub(super) fn apply_desktop_event(&mut self, event: DesktopEvent) {
        match event {
            DesktopEvent::ReportSaved(Some(Ok(path))) => {
                self.notices
                    .push(format!("Saved the report to {}", path.display()));
            }
            DesktopEvent::ReportSaved(Some(Err(err))) => {
                let message = shown("saving the report", &err);
                self.notices.push(message);
            }
            // The dialog was closed: nothing happened, nothing to say.
            DesktopEvent::ReportSaved(None) => {}
        }
    }

    pub(super) fn apply_settings_event(&mut self, event: SettingsEvent) {
        let panel = &mut self.settings_panel;
        match event {
            SettingsEvent::Connected(result) => {
                self.pipeline.refresh_soon();
                self.connection = Some(result.map_err(|err| shown("connecting", &err)));
            }
            SettingsEvent::Tested(result) => {
                if !panel.testing {
                    // The mode changed since: the answer is about another place.
                    return;
                }
                panel.testing = false;
                panel.status = Some(
                    result
                        .map(|d| format!("Connected: {d}"))
                        .map_err(|err| shown_in(InApp::Settings, "testing the connection", &err)),
                );
            }
            SettingsEvent::Imported(Ok(aws)) => {
                panel.draft.aws = aws;
                if panel.draft.mode == Mode::Local {
                    panel.draft.mode = Mode::Aws;
                }
                panel.status = Some(Ok(
                    "Imported the bucket and region from Terraform.".to_owned()
                ));
            }
            SettingsEvent::Imported(Err(err)) => {
                panel.status = Some(Err(shown_in(
                    InApp::Settings,
                    "importing Terraform outputs",
                    &err,
                )));
            }
            SettingsEvent::Profiles(profiles) => panel.profiles = profiles,
            SettingsEvent::DataDirChosen(dir) => panel.draft.local.data_dir = Some(dir),
            SettingsEvent::NoFileDialog(why) => panel.status = Some(Err(why)),
        }
    }

    pub(super) fn apply_gallery_event(&mut self, ctx: &egui::Context, event: GalleryEvent) {
        let gallery = &mut self.gallery;
        match event {
            GalleryEvent::Page {
                listing,
                generation,
                result,
            } => {
                if let Err(err) = gallery.page_arrived(listing, generation, result) {
                    gallery.error = Some(shown(listing.doing(), &err));
                }
            }
            GalleryEvent::Thumbnail { key, image } => match image {
                Ok(image) => gallery.image_ready(key, image),
                Err(why) => {
                    gallery.thumbs.insert(key, Thumb::Missing(why));
                }
            },
            GalleryEvent::Deleted { name, result } => match result {
                Ok(()) => {
                    let had_focus = self.focus.hand_over(ctx, gallery::card_id(&name));
                    gallery.remove_deleted(&name, had_focus);
                    for transfer in &mut self.transfers {
                        if transfer.state == State::Done
                            && transfer.image_name().as_deref() == Some(name.as_str())
                        {
                            transfer.state = State::Deleted;
                        }
                    }
                }
                Err(err) => self.notices.push(format!(
                    "Could not delete {name}: {}",
                    shown(&format!("deleting {name}"), &err)
                )),
            },
            GalleryEvent::Saved(status) => {
                gallery.save_status =
                    status.map(|s| s.map_err(|err| shown("saving rotations", &err)));
            }
        }
    }

    /// Rows arriving, checked before upload, restarted, cancelled.
    pub(super) fn apply_row_event(&mut self, ctx: &egui::Context, event: RowEvent) {
        match event {
            RowEvent::Added {
                id,
                batch,
                name,
                path,
                size_bytes,
            } => {
                let run = self.queue_view.run_for_new_row(&self.transfers);
                let row = Transfer::new(id, run, batch, name, path, size_bytes);
                self.transfers.push(row);
            }
            RowEvent::AddFailed(message) => self.notices.push(message),
            RowEvent::Checked { id, thumb, result } => self.checked(ctx, id, thumb, result),
            RowEvent::Restarted(id) => {
                if let Some(transfer) = self.transfer_mut(id) {
                    transfer.state = State::Checking;
                    transfer.landed = Landed::default();
                    transfer.outputs.clear();
                }
            }
            RowEvent::Cancelled { id } => self.update(id, |state| {
                if state.is_active() {
                    *state = State::Cancelled;
                }
            }),
            RowEvent::Duplicate {
                id,
                batch,
                existing,
            } => {
                if let Some(transfer) = self.transfer_mut(id) {
                    let name = transfer.name.clone();
                    transfer.state = State::Duplicate {
                        existing: existing.clone(),
                    };
                    self.queue_view.ask(batch, &name, &existing);
                }
            }
            RowEvent::Skipped { id, existing } => {
                self.update(id, |state| *state = State::Skipped { existing });
            }
        }
    }

    /// The checks before upload passed (the row waits for its turn) or not
    /// (the row says why, in the words `shown` picks).
    fn checked(
        &mut self,
        ctx: &egui::Context,
        id: TransferId,
        thumb: Option<egui::ColorImage>,
        result: Result<(), augment_client::ClientError>,
    ) {
        let texture = thumb.map(|image| texture(ctx, &format!("row-{id}"), image));
        if let Some(transfer) = self.transfer_mut(id) {
            transfer.thumb = texture;
            transfer.state = match result {
                Ok(()) => State::Queued,
                Err(err) => State::Failed {
                    code: FailureCode::of(&err),
                    reason: format!(
                        "Not uploaded: {}",
                        shown(&format!("checking {}", transfer.path.display()), &err)
                    ),
                    retry: false,
                },
            };
        }
    }

    /// The upload of a checked row: its name, progress, the end of it.
    pub(super) fn apply_upload_event(&mut self, event: UploadEvent) {
        match event {
            UploadEvent::Uploading { id, name } => {
                if let Some(transfer) = self.transfer_mut(id) {
                    transfer.name = name;
                    transfer.state = State::Uploading {
                        sent_bytes: 0,
                        total_bytes: transfer.size_bytes.unwrap_or(0),
                        started: Instant::now(),
                    };
                }
            }
            UploadEvent::Progress {
                id,
                sent_bytes,
                total_bytes,
            } => self.update(id, |state| {
                if let State::Uploading {
                    sent_bytes: sent,
                    total_bytes: total,
                    ..
                } = state
                {
                    // An SDK retry starts the body again: the bar follows it back.
                    *sent = sent_bytes;
                    *total = total_bytes;
                }
            }),
            UploadEvent::Uploaded { id, upload_key } => {
                if let Some(transfer) = self.transfer_mut(id) {
                    transfer.upload_key = Some(upload_key);
                    transfer.state = State::Processing;
                }
            }
            UploadEvent::Failed { id, error } => {
                let code = FailureCode::of(&error);
                let reason = shown(&format!("uploading {}", self.row_path(id)), &error);
                self.update(id, |state| {
                    *state = State::Failed {
                        reason,
                        code,
                        retry: true,
                    };
                });
            }
        }
    }

    /// What the pipeline made of an upload: each rotation, a rejection, a
    /// time-out, all four done.
    pub(super) fn apply_pipeline_event(&mut self, event: PipelineEvent) {
        let mode = self.settings.mode;
        match event {
            PipelineEvent::Landed {
                id,
                output,
                key,
                image,
            } => self.output_landed(id, output, key, image),
            PipelineEvent::PipelineRejected { id, code, message } => {
                tracing::info!("the pipeline rejected {}: {message}", self.row_path(id));
                let upload = self
                    .transfers
                    .iter()
                    .find(|t| t.id == id)
                    .and_then(|t| t.upload_key.as_deref())
                    .and_then(|key| augment_pipeline::UploadKey::parse(key).ok());
                if let Some(upload) = upload {
                    self.gallery.add_rejected(augment_client::RejectedEntry {
                        name: upload.name().to_owned(),
                        failed_key: upload.failed_key(),
                        code: code.clone(),
                        message: message.clone(),
                        last_modified: Some(std::time::SystemTime::now()),
                    });
                }
                self.update(id, |state| {
                    *state = State::Failed {
                        reason: format!("The pipeline rejected it: {message}"),
                        code: FailureCode::Rejected(code),
                        retry: false,
                    };
                });
            }
            PipelineEvent::TimedOut { id } => {
                tracing::warn!("no rotations in time for {}", self.row_path(id));
                self.update(id, |state| {
                    if state.is_active() {
                        *state = State::Failed {
                            reason: queue::timeout_message(mode),
                            code: FailureCode::TimedOut,
                            retry: true,
                        };
                    }
                });
            }
            PipelineEvent::Done { id } => self.transfer_done(id),
        }
    }

    /// An output of a row's upload landed (a rotation with its thumbnail).
    fn output_landed(
        &mut self,
        id: TransferId,
        output: Output,
        key: String,
        image: Option<egui::ColorImage>,
    ) {
        if let Some(image) = image {
            // Into the gallery's bounded cache: the row keeps only the key
            // (its detail view and the row's Rotations share the texture).
            self.gallery.image_ready(key.clone(), image);
        }
        if let Some(transfer) = self.transfer_mut(id) {
            transfer.landed.insert(output);
            transfer.outputs.insert(output, key);
        }
    }

    /// All four rotations are there: the row is done and the gallery gains it.
    pub(super) fn transfer_done(&mut self, id: TransferId) {
        let mut entry = None;
        if let Some(transfer) = self.transfer_mut(id) {
            if transfer.state == State::Processing
                && let Some(upload_key) = &transfer.upload_key
            {
                entry = augment_pipeline::UploadKey::parse(upload_key)
                    .ok()
                    .map(|key| ImageEntry {
                        name: key.name().to_owned(),
                        processed_key: Output::Processed.key(&key),
                        size_bytes: transfer.size_bytes.unwrap_or(0),
                        last_modified: None,
                    });
            }
            transfer.state = State::Done;
        }
        if let Some(entry) = entry {
            self.gallery.upsert(entry);
        }
    }

    /// The row's file, for the log.
    pub(super) fn row_path(&self, id: TransferId) -> String {
        self.transfers
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("row {id}"), |t| t.path.display().to_string())
    }

    pub(super) fn update(&mut self, id: TransferId, change: impl FnOnce(&mut State)) {
        if let Some(transfer) = self.transfer_mut(id) {
            change(&mut transfer.state);
        }
    }

    /// Nothing in flight: every queued file has finished, each success shows its
    /// four rotations, and the gallery's pages and visible thumbnails are in.
    pub(super) fn settled(&self) -> bool {
        let transfers_done = self
            .transfers
            .iter()
            .all(|t| !t.state.is_active() && (t.state != State::Done || t.landed.is_complete()));
        let gallery_done = self.gallery.image_pages.is_done()
            && !self
                .gallery
                .thumbs
                .values()
                .any(|thumb| matches!(thumb, Thumb::Loading));
        let rows_done = !self.files_expected || !self.transfers.is_empty();
        transfers_done && rows_done && gallery_done && self.connection.is_some()
    }
}
