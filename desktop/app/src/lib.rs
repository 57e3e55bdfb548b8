//! The desktop app: drop images, watch them upload and come back as four
//! rotations, browse everything processed so far.
//!
//! [`DesktopApp`] holds the UI state and draws it; all disk and network work
//! happens in the [`worker`], which answers with events. `*_ui` functions only
//! draw and return what the person asked for. The unattended runs
//! (`--screenshot`, `--measure`) are the [`harness`]'s business.

pub mod file_dialog;
pub mod fonts;
pub mod format;
pub mod gallery;
pub mod harness;
pub mod journal;
pub mod logging;
pub mod queue;
pub mod quit;
pub mod report;
mod reveal;
pub mod settings_ui;
pub mod summary;
pub mod thumbs;
pub mod window;
pub mod worker;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use augment_pipeline::Angle;
use egui::{Color32, RichText, TextureHandle, TextureOptions, Ui};

use self::gallery::{Gallery, Thumb};
use self::harness::Harness;
pub use self::harness::Outcome;
use self::queue::{QueueView, RowAction, State, Transfer};
use self::settings_ui::{SettingsAction, SettingsPanel};
use self::worker::{Command, Event, WorkerHandle};
use augment_client::{ImageEntry, Mode, Settings};

/// The window title, also the app id the OS groups windows by.
pub const APP_NAME: &str = "Augment";
/// Width of the transfer queue panel, in points, when the window opens.
const QUEUE_PANEL_PT: f32 = 430.0;
/// The narrowest the queue panel gets, in points.
const QUEUE_PANEL_MIN_PT: f32 = 260.0;
/// Width of the Settings panel when it opens, and its narrowest, in points.
const SETTINGS_PANEL_PT: f32 = 340.0;
const SETTINGS_PANEL_MIN_PT: f32 = 240.0;
/// The gallery keeps at least this width (one column of cards), in points.
const MIN_GALLERY_PT: f32 = 150.0;
/// Widest the connection's description gets in the header, in points.
const CONNECTION_LABEL_PT: f32 = 320.0;

/// How the app was started (the command line; tests build it directly).
#[derive(Debug, Default, Clone)]
pub struct Launch {
    /// Where the log goes ([`logging::init`]), shown in Settings.
    pub log_file: Option<PathBuf>,
    /// Files and folders to queue at once, as "Open with" passes them.
    pub files: Vec<PathBuf>,
    /// Save a screenshot here once the queued files' rotations show, then quit.
    pub screenshot: Option<PathBuf>,
    /// Print start-up and frame-time figures once the gallery is listed, then quit.
    pub measure: bool,
    /// When the process started, for the time to first frame.
    pub started: Option<Instant>,
    /// How long to wait for an upload's rotations; `None`: [`worker::WATCH_TIMEOUT`].
    pub watch_timeout: Option<Duration>,
    /// Where the queue is kept between runs ([`journal`]); `None`: not kept.
    pub queue_file: Option<PathBuf>,
}

/// Colours that read well on both the light and the dark theme.
pub struct Palette {
    pub muted: Color32,
    pub error: Color32,
    pub success: Color32,
    pub accent: Color32,
    pub placeholder: Color32,
    pub on_danger: Color32,
}

impl Palette {
    fn for_visuals(visuals: &egui::Visuals) -> Self {
        if visuals.dark_mode {
            Self {
                muted: Color32::from_gray(160),
                error: Color32::from_rgb(255, 120, 110),
                success: Color32::from_rgb(120, 210, 140),
                accent: Color32::from_rgb(100, 160, 255),
                placeholder: Color32::from_gray(55),
                on_danger: Color32::BLACK,
            }
        } else {
            Self {
                muted: Color32::from_gray(95),
                error: Color32::from_rgb(180, 30, 30),
                success: Color32::from_rgb(20, 120, 50),
                accent: Color32::from_rgb(30, 100, 220),
                placeholder: Color32::from_gray(225),
                on_danger: Color32::WHITE,
            }
        }
    }
}

/// The app: UI state plus the handle to the worker.
pub struct DesktopApp {
    worker: WorkerHandle,
    settings: Settings,
    /// "Local · /path" or "AWS · bucket", or what is wrong with the connection.
    connection: Option<Result<String, String>>,
    transfers: Vec<Transfer>,
    queue_view: QueueView,
    /// The window title last sent ("Augment — 120/203" while a batch runs).
    title: String,
    gallery: Gallery,
    settings_panel: SettingsPanel,
    /// Messages not tied to a row (a folder without images…), newest last.
    notices: Vec<String>,
    /// Queued from the command line: the unattended runs wait for their rows.
    files_expected: bool,
    harness: Harness,
    window_fit: window::WindowFit,
    quit: quit::Quit,
}

impl DesktopApp {
    /// Builds the app on `ctx`: style, worker, connection, and the files given.
    pub fn new(ctx: &egui::Context, settings: Settings, launch: Launch) -> std::io::Result<Self> {
        apply_style(ctx);
        fonts::spawn_fallback_fonts(ctx);
        let harness = Harness::new(&launch);
        let Launch {
            log_file,
            files,
            watch_timeout,
            queue_file,
            ..
        } = launch;
        let worker = WorkerHandle::spawn_with(
            ctx.clone(),
            watch_timeout.unwrap_or(worker::WATCH_TIMEOUT),
            queue_file,
        )?;
        worker.send(Command::Connect(settings.clone()));
        let files_expected = !files.is_empty();
        if files_expected {
            worker.send(Command::Add(files));
        }
        let mut gallery = Gallery::default();
        for command in gallery.first_page() {
            worker.send(command);
        }
        Ok(Self {
            worker,
            settings_panel: SettingsPanel::new(&settings, log_file),
            settings,
            connection: None,
            transfers: Vec::new(),
            queue_view: QueueView::default(),
            title: APP_NAME.to_owned(),
            gallery,
            notices: Vec::new(),
            files_expected,
            harness,
            window_fit: window::WindowFit::default(),
            quit: quit::Quit::default(),
        })
    }

    /// What `--screenshot` / `--measure` found, readable after the window closed.
    pub fn outcome(&self) -> Arc<Mutex<Outcome>> {
        self.harness.outcome()
    }

    /// Files and folders from a drop, the dialog or the command line: all the
    /// same path.
    pub fn add_paths(&mut self, paths: Vec<PathBuf>) {
        if !paths.is_empty() {
            self.worker.send(Command::Add(paths));
        }
    }

    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// The person said to quit and the window is closing.
    pub fn quitting(&self) -> bool {
        self.quit.confirmed()
    }

    /// The whole window.
    pub fn show(&mut self, ui: &mut Ui) {
        let build_started = Instant::now();
        let ctx = ui.ctx().clone();
        self.drain_events(&ctx);
        let palette = Palette::for_visuals(ui.visuals());
        let mut commands = Vec::new();
        self.window_input(&ctx, &mut commands);
        let left = self
            .transfers
            .iter()
            .filter(|t| t.state.is_active())
            .count();
        self.quit.input(&ctx, left);
        self.window_fit.check(&ctx);

        egui::Panel::top("toolbar")
            .frame(
                egui::Frame::side_top_panel(ui.style())
                    .inner_margin(egui::Margin::symmetric(12, 8)),
            )
            .show(ui, |ui| self.toolbar_ui(ui, &palette, &mut commands));
        if !self.notices.is_empty() {
            egui::Panel::bottom("notices").show(ui, |ui| self.notices_ui(ui, &palette));
        }
        // At 800×500 (or 200 %) the side panels give up width before the
        // gallery does: it always keeps MIN_GALLERY_PT.
        let width = ctx.content_rect().width();
        let settings_max = (width * 0.4).max(SETTINGS_PANEL_MIN_PT);
        if self.settings_panel.open {
            egui::Panel::right("settings")
                .default_size(SETTINGS_PANEL_PT.min(settings_max))
                .size_range(SETTINGS_PANEL_MIN_PT..=settings_max)
                .resizable(true)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .show(ui, |ui| self.settings_panel_ui(ui, &palette, &mut commands));
                });
        }
        let taken = if self.settings_panel.open {
            settings_max
        } else {
            0.0
        };
        let queue_max = (width - taken - MIN_GALLERY_PT).clamp(QUEUE_PANEL_MIN_PT, 700.0);
        egui::Panel::left("queue")
            .default_size(QUEUE_PANEL_PT.min(queue_max))
            .size_range(QUEUE_PANEL_MIN_PT..=queue_max)
            .resizable(true)
            .show(ui, |ui| self.queue_panel_ui(ui, &palette, &mut commands));
        if self.harness.unattended() {
            // No person, no pointer to move cards under: show every image.
            self.gallery.show_pending();
        }
        egui::CentralPanel::default().show(ui, |ui| {
            gallery::gallery_ui(ui, &mut self.gallery, &palette, &mut commands);
        });
        gallery::dialogs_ui(&ctx, &mut self.gallery, &palette, &mut commands);
        commands.extend(queue::duplicates_dialog_ui(&ctx, &mut self.queue_view));
        self.batch_ui(&ctx, &mut commands);
        self.quit.ui(&ctx, left);
        drop_overlay_ui(&ctx, &palette);
        // Textures nothing drew this frame, beyond the cache's bound, go.
        self.gallery.trim();

        for command in commands {
            self.worker.send(command);
        }
        if self.harness.wants_whole_gallery()
            && !self.gallery.loading
            && let Some(cursor) = self.gallery.next.clone()
        {
            self.gallery.loading = true;
            self.worker.send(Command::ListImages {
                cursor: Some(cursor),
                generation: self.gallery.generation,
            });
        }
        // Only the unattended runs ask (a loop over every row).
        let settled = self.harness.unattended() && self.settled();
        self.harness.after_frame(
            &ctx,
            build_started.elapsed(),
            settled,
            self.gallery.entries.len(),
        );
    }

    /// What reaches the whole window rather than one widget: dropped files,
    /// Ctrl+O, F1, Esc for the Settings panel.
    fn window_input(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|file| file.path().to_owned())
                .collect()
        });
        self.add_paths(dropped);
        if ctx.input_mut(|i| {
            i.consume_shortcut(&egui::KeyboardShortcut::new(
                egui::Modifiers::COMMAND,
                egui::Key::O,
            ))
        }) {
            commands.push(Command::PickFiles);
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F1)) {
            self.open_help();
        }
        // Esc closes the dialog on top (`dialogs_ui`); with none open, Settings.
        if self.gallery.dialogs.is_empty()
            && self.settings_panel.open
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
        {
            self.settings_panel.open = false;
        }
    }

    /// The latest message not tied to a row, and "Dismiss".
    fn notices_ui(&mut self, ui: &mut Ui, palette: &Palette) {
        ui.horizontal(|ui| {
            if let Some(notice) = self.notices.last() {
                ui.label(RichText::new(notice).color(palette.error));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.small_button("Dismiss").clicked() {
                    self.notices.clear();
                }
            });
        });
    }

    fn settings_panel_ui(&mut self, ui: &mut Ui, palette: &Palette, commands: &mut Vec<Command>) {
        for action in settings_ui::settings_ui(ui, &mut self.settings_panel, palette) {
            match action {
                SettingsAction::Send(command) => commands.push(command),
                SettingsAction::Apply => self.apply_settings(commands),
                SettingsAction::Close => self.settings_panel.open = false,
            }
        }
    }

    fn queue_panel_ui(&mut self, ui: &mut Ui, palette: &Palette, commands: &mut Vec<Command>) {
        ui.add_space(6.0);
        let offline = matches!(self.connection, Some(Err(_)));
        let local_root = (self.settings.mode == Mode::Local)
            .then(|| self.settings.data_dir().ok())
            .flatten();
        let gallery = &mut self.gallery;
        let mut textures = |key: &str| gallery.texture(key, thumbs::FULL_PX, commands);
        let actions = queue::queue_ui(
            ui,
            &self.transfers,
            &mut self.queue_view,
            offline,
            local_root.as_deref(),
            &mut textures,
            palette,
        );
        for action in actions {
            match action {
                RowAction::Send(command) => commands.push(command),
                RowAction::Remove(id) => self.transfers.retain(|t| t.id != id),
                RowAction::ClearFinished => self.queue_view.clear_finished(&mut self.transfers),
                RowAction::Open(name) => {
                    self.gallery.save_status = None;
                    self.gallery.dialogs.push(gallery::Dialog::Detail { name });
                }
                RowAction::Delete(name) => {
                    self.gallery
                        .dialogs
                        .push(gallery::Dialog::ConfirmDelete { name });
                }
            }
        }
    }

    /// The window title while a batch runs, and a notification when one ends
    /// while the window is not focused.
    fn batch_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let counts = summary::Counts::of(&self.transfers, self.queue_view.run);
        let title = counts.title();
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        if let Some(ended) = self.queue_view.clock.update(&counts)
            && !ctx.input(|i| i.focused)
        {
            commands.push(Command::Notify {
                summary: "Uploads finished".to_owned(),
                body: ended.text(),
            });
        }
    }

    /// The header: wraps onto a second line in a narrow window (800×500, 200 %)
    /// instead of drawing its parts over each other.
    fn toolbar_ui(&mut self, ui: &mut Ui, palette: &Palette, commands: &mut Vec<Command>) {
        ui.horizontal_wrapped(|ui| {
            ui.heading(RichText::new(APP_NAME).strong());
            ui.add_space(12.0);
            if ui
                .button("Add images…")
                .on_hover_text("JPEG or PNG, up to 10 MiB each (Ctrl+O)")
                .clicked()
            {
                commands.push(Command::PickFiles);
            }
            if ui
                .button("Add folder…")
                .on_hover_text("Every JPEG and PNG in a folder and its subfolders")
                .clicked()
            {
                commands.push(Command::PickFolder);
            }
            ui.add_space(12.0);
            ui.scope(|ui| {
                ui.set_max_width(CONNECTION_LABEL_PT);
                match &self.connection {
                    None => {
                        ui.spinner();
                        ui.label(RichText::new("Connecting…").color(palette.muted));
                    }
                    Some(Ok(description)) => {
                        ui.add(
                            egui::Label::new(RichText::new(description).color(palette.muted))
                                .truncate(),
                        );
                    }
                    Some(Err(message)) => {
                        ui.add(
                            egui::Label::new(RichText::new(message).color(palette.error))
                                .truncate(),
                        );
                    }
                }
            });
            if ui
                .selectable_label(self.settings_panel.open, "Settings")
                .on_hover_text("Where the images go: this computer, AWS or an S3 endpoint")
                .clicked()
            {
                self.toggle_settings(commands);
            }
            if ui
                .button("Help")
                .on_hover_text("Keyboard shortcuts (F1)")
                .clicked()
            {
                self.open_help();
            }
        });
    }

    fn toggle_settings(&mut self, commands: &mut Vec<Command>) {
        self.settings_panel.open = !self.settings_panel.open;
        if self.settings_panel.open {
            self.settings_panel.draft = self.settings.clone();
            self.settings_panel.status = None;
            commands.push(Command::LoadProfiles);
        }
    }

    fn open_help(&mut self) {
        if !self.gallery.dialogs.contains(&gallery::Dialog::Help) {
            self.gallery.dialogs.push(gallery::Dialog::Help);
        }
    }

    fn apply_settings(&mut self, commands: &mut Vec<Command>) {
        self.settings = self.settings_panel.draft.clone();
        if let Err(err) = self.settings.save() {
            self.settings_panel.status = Some(Err(err.message));
        } else {
            self.settings_panel.status = Some(Ok("Saved.".to_owned()));
        }
        self.connection = None;
        commands.push(Command::Connect(self.settings.clone()));
        self.gallery.reset();
        commands.extend(self.gallery.first_page());
    }

    fn transfer_mut(&mut self, id: worker::TransferId) -> Option<&mut Transfer> {
        self.transfers.iter_mut().find(|t| t.id == id)
    }

    fn drain_events(&mut self, ctx: &egui::Context) {
        while let Some(event) = self.worker.try_recv() {
            self.apply_event(ctx, event);
        }
    }

    /// The one place the UI state changes: each event goes to the handler of its
    /// area (connection and settings, the gallery; for the transfer queue: its
    /// rows, their uploads, the pipeline's answers). Every event is routed here
    /// by name, so a new one does not compile until it has a handler.
    fn apply_event(&mut self, ctx: &egui::Context, event: Event) {
        match event {
            Event::Connected(_)
            | Event::Tested(_)
            | Event::Imported(_)
            | Event::Profiles(_)
            | Event::DataDirChosen(_) => self.apply_settings_event(event),
            Event::Page { .. }
            | Event::RejectedPage { .. }
            | Event::Thumbnail { .. }
            | Event::Deleted { .. }
            | Event::Saved(_) => self.apply_gallery_event(ctx, event),
            Event::Added { .. }
            | Event::AddFailed(_)
            | Event::Checked { .. }
            | Event::Restarted(_)
            | Event::Duplicate { .. }
            | Event::Skipped { .. }
            | Event::ReportSaved(_)
            | Event::Cancelled { .. } => self.apply_row_event(ctx, event),
            Event::Uploading { .. }
            | Event::Progress { .. }
            | Event::Uploaded { .. }
            | Event::Failed { .. } => self.apply_upload_event(event),
            Event::Rotation { .. }
            | Event::PipelineRejected { .. }
            | Event::TimedOut { .. }
            | Event::Done { .. } => self.apply_pipeline_event(ctx, event),
        }
    }

    fn apply_settings_event(&mut self, event: Event) {
        let panel = &mut self.settings_panel;
        match event {
            Event::Connected(result) => {
                self.connection = Some(result.map_err(|err| shown("connecting", err)));
            }
            Event::Tested(result) => {
                if !panel.testing {
                    // The mode changed since: the answer is about another place.
                    return;
                }
                panel.testing = false;
                panel.status = Some(
                    result
                        .map(|d| format!("Connected: {d}"))
                        .map_err(|err| shown("testing the connection", err)),
                );
            }
            Event::Imported(Ok(aws)) => {
                panel.draft.aws = aws;
                if panel.draft.mode == Mode::Local {
                    panel.draft.mode = Mode::Aws;
                }
                panel.status = Some(Ok(
                    "Imported the bucket and region from Terraform.".to_owned()
                ));
            }
            Event::Imported(Err(err)) => {
                panel.status = Some(Err(shown("importing Terraform outputs", err)));
            }
            Event::Profiles(profiles) => panel.profiles = profiles,
            Event::DataDirChosen(dir) => panel.draft.local.data_dir = Some(dir),
            _ => {}
        }
    }

    fn apply_gallery_event(&mut self, ctx: &egui::Context, event: Event) {
        let gallery = &mut self.gallery;
        match event {
            Event::Page { generation, result } => {
                if generation != gallery.generation {
                    return;
                }
                gallery.loading = false;
                match result {
                    Ok((items, next)) => gallery.add_page(items, next),
                    Err(err) => gallery.error = Some(shown("listing the gallery", err)),
                }
            }
            Event::RejectedPage { generation, result } => {
                if generation != gallery.generation {
                    return;
                }
                gallery.rejected_loading = false;
                match result {
                    Ok((items, next)) => gallery.add_rejected_page(items, next),
                    Err(err) => gallery.error = Some(shown("listing the rejected uploads", err)),
                }
            }
            Event::Thumbnail { key, image } => {
                let thumb = match image {
                    Ok(image) => Thumb::Ready(texture(ctx, &key, image)),
                    Err(why) => Thumb::Missing(why),
                };
                gallery.thumbs.insert(key, thumb);
            }
            Event::Deleted { name, result } => match result {
                Ok(()) => {
                    gallery.remove(&name);
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
                    shown(&format!("deleting {name}"), err)
                )),
            },
            Event::Saved(status) => {
                gallery.save_status =
                    status.map(|s| s.map_err(|err| shown("saving rotations", err)));
            }
            _ => {}
        }
    }

    /// Rows arriving, checked before upload, restarted, cancelled.
    fn apply_row_event(&mut self, ctx: &egui::Context, event: Event) {
        match event {
            Event::Added {
                id,
                batch,
                name,
                path,
                size_bytes,
            } => self.transfers.push(Transfer {
                id,
                run: self.queue_view.run_for_new_row(&self.transfers),
                batch,
                name,
                path,
                size_bytes,
                thumb: None,
                state: State::Checking,
                upload_key: None,
                rotations: [None, None, None, None],
            }),
            Event::AddFailed(message) => self.notices.push(message),
            Event::Checked { id, thumb, result } => {
                let texture = thumb.map(|image| texture(ctx, &format!("row-{id}"), image));
                if let Some(transfer) = self.transfer_mut(id) {
                    transfer.thumb = texture;
                    transfer.state = match result {
                        Ok(()) => State::Queued,
                        Err(err) => State::Failed {
                            code: report::error_code(&err),
                            reason: format!(
                                "Not uploaded: {}",
                                shown(&format!("checking {}", transfer.path.display()), err)
                            ),
                            retry: false,
                        },
                    };
                }
            }
            Event::Restarted(id) => {
                if let Some(transfer) = self.transfer_mut(id) {
                    transfer.state = State::Checking;
                    transfer.rotations = [None, None, None, None];
                }
            }
            Event::Cancelled { id } => self.update(id, |state| {
                if state.is_active() {
                    *state = State::Cancelled;
                }
            }),
            Event::Duplicate {
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
            Event::Skipped { id, existing } => {
                self.update(id, |state| *state = State::Skipped { existing });
            }
            Event::ReportSaved(Some(Ok(path))) => {
                self.notices
                    .push(format!("Saved the report to {}", path.display()));
            }
            Event::ReportSaved(Some(Err(err))) => {
                let message = shown("saving the report", err);
                self.notices.push(message);
            }
            _ => {}
        }
    }

    /// The upload of a checked row: its name, progress, the end of it.
    fn apply_upload_event(&mut self, event: Event) {
        match event {
            Event::Uploading { id, name } => {
                if let Some(transfer) = self.transfer_mut(id) {
                    transfer.name = name;
                    transfer.state = State::Uploading {
                        sent_bytes: 0,
                        total_bytes: transfer.size_bytes.unwrap_or(0),
                        started: Instant::now(),
                    };
                }
            }
            Event::Progress {
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
            Event::Uploaded { id, upload_key } => {
                if let Some(transfer) = self.transfer_mut(id) {
                    transfer.upload_key = Some(upload_key);
                    transfer.state = State::Processing;
                }
            }
            Event::Failed { id, error } => {
                let code = report::error_code(&error);
                let reason = shown(&format!("uploading {}", self.row_path(id)), error);
                self.update(id, |state| {
                    *state = State::Failed {
                        reason,
                        code,
                        retry: true,
                    };
                });
            }
            _ => {}
        }
    }

    /// What the pipeline made of an upload: each rotation, a rejection, a
    /// time-out, all four done.
    fn apply_pipeline_event(&mut self, ctx: &egui::Context, event: Event) {
        let mode = self.settings.mode;
        match event {
            Event::Rotation {
                id,
                angle,
                key,
                image,
            } => {
                let index = Angle::ALL.iter().position(|a| *a == angle).unwrap_or(0);
                if let Some(image) = image {
                    // Into the gallery's bounded cache: the row keeps only the key
                    // (its detail view and the row's Rotations share the texture).
                    let handle = texture(ctx, &key, image);
                    self.gallery
                        .thumbs
                        .insert(key.clone(), Thumb::Ready(handle));
                    if let Some(transfer) = self.transfer_mut(id) {
                        transfer.rotations[index] = Some(key);
                    }
                }
            }
            Event::PipelineRejected { id, code, message } => {
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
                        code,
                        retry: false,
                    };
                });
            }
            Event::TimedOut { id } => {
                tracing::warn!("no rotations in time for {}", self.row_path(id));
                self.update(id, |state| {
                    if state.is_active() {
                        *state = State::Failed {
                            reason: queue::timeout_message(mode),
                            code: "timed_out".to_owned(),
                            retry: true,
                        };
                    }
                });
            }
            Event::Done { id } => self.transfer_done(id),
            _ => {}
        }
    }

    /// All four rotations are there: the row is done and the gallery gains it.
    fn transfer_done(&mut self, id: worker::TransferId) {
        let mut entry = None;
        if let Some(transfer) = self.transfer_mut(id) {
            if transfer.state == State::Processing
                && let Some(upload_key) = &transfer.upload_key
            {
                entry = augment_pipeline::UploadKey::parse(upload_key)
                    .ok()
                    .map(|key| ImageEntry {
                        name: key.name().to_owned(),
                        processed_key: key.processed_key(),
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
    fn row_path(&self, id: worker::TransferId) -> String {
        self.transfers
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("row {id}"), |t| t.path.display().to_string())
    }

    fn update(&mut self, id: worker::TransferId, change: impl FnOnce(&mut State)) {
        if let Some(transfer) = self.transfer_mut(id) {
            change(&mut transfer.state);
        }
    }

    /// Nothing in flight: every queued file has finished, each success shows its
    /// four rotations, and the gallery's pages and visible thumbnails are in.
    fn settled(&self) -> bool {
        let transfers_done = self.transfers.iter().all(|t| {
            !t.state.is_active()
                && (t.state != State::Done || t.rotations.iter().all(Option::is_some))
        });
        let gallery_done = !self.gallery.loading
            && self.gallery.next.is_none()
            && !self
                .gallery
                .thumbs
                .values()
                .any(|thumb| matches!(thumb, Thumb::Loading));
        let rows_done = !self.files_expected || !self.transfers.is_empty();
        transfers_done && rows_done && gallery_done && self.connection.is_some()
    }
}

/// The words a person reads for a worker's error; what the app was doing
/// (`what`: "checking /path/cat.jpg") and the technical causes go to the log,
/// once, here.
fn shown(what: &str, err: augment_client::ClientError) -> String {
    tracing::warn!(kind = ?err.kind, "{what}: {}", err.detail());
    err.message
}

impl eframe::App for DesktopApp {
    fn ui(&mut self, ui: &mut Ui, _frame: &mut eframe::Frame) {
        self.show(ui);
    }

    fn raw_input_hook(&mut self, _ctx: &egui::Context, raw_input: &mut egui::RawInput) {
        self.harness.filter_input(raw_input);
    }

    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }
}

fn texture(ctx: &egui::Context, name: &str, image: egui::ColorImage) -> TextureHandle {
    ctx.load_texture(name, image, TextureOptions::LINEAR)
}

/// Text a little larger than egui's default, for both themes; follows the
/// system's light or dark setting.
fn apply_style(ctx: &egui::Context) {
    ctx.options_mut(|options| options.theme_preference = egui::ThemePreference::System);
    ctx.all_styles_mut(|style| {
        use egui::{FontId, TextStyle};
        for (text_style, size) in [
            (TextStyle::Body, 14.0),
            (TextStyle::Button, 14.0),
            (TextStyle::Small, 11.5),
            (TextStyle::Heading, 19.0),
        ] {
            style
                .text_styles
                .insert(text_style, FontId::proportional(size));
        }
        style.spacing.button_padding = egui::vec2(8.0, 4.0);
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
    });
}

/// A large, quiet message where content will be.
pub fn empty_state_ui(ui: &mut Ui, title: &str, hint: &str) {
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.3).min(160.0));
        ui.label(RichText::new(title).size(22.0).strong());
        ui.add_space(4.0);
        ui.label(RichText::new(hint).weak());
    });
}

/// While files hover over the window: a drop target over everything, with a
/// label (so it is also there for screen readers and tests).
fn drop_overlay_ui(ctx: &egui::Context, palette: &Palette) {
    let hovering = ctx.input(|i| i.raw.hovered_files.len());
    if hovering == 0 {
        return;
    }
    let rect = ctx.content_rect();
    let dark = ctx.global_style().visuals.dark_mode;
    egui::Area::new(egui::Id::unique("drop-target"))
        .order(egui::Order::Foreground)
        .fixed_pos(rect.min)
        .interactable(false)
        .show(ctx, |ui| {
            let fill = if dark {
                Color32::from_black_alpha(200)
            } else {
                Color32::from_white_alpha(220)
            };
            ui.painter().rect_filled(rect, 0.0, fill);
            ui.painter().rect_stroke(
                rect.shrink(16.0),
                12.0,
                egui::Stroke::new(3.0, palette.accent),
                egui::StrokeKind::Inside,
            );
            let text = if hovering == 1 {
                "Drop to upload 1 item".to_owned()
            } else {
                format!("Drop to upload {hovering} items")
            };
            let band = egui::Rect::from_center_size(rect.center(), egui::vec2(rect.width(), 40.0));
            ui.put(
                band,
                egui::Label::new(RichText::new(text).size(26.0).strong()),
            );
        });
}
