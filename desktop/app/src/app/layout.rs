//! The frame: the header, the side panels, the gallery, the dialogs, each
//! handed to its room's `*_ui`; what those ask for goes to the worker.

use std::path::PathBuf;
use std::time::Instant;

use augment_client::Mode;
use egui::{RichText, Ui};

use super::desktop::{
    CONNECTION_LABEL_PT, DesktopApp, MIN_GALLERY_PT, QUEUE_PANEL_MIN_PT, QUEUE_PANEL_PT,
    SETTINGS_PANEL_MIN_PT, SETTINGS_PANEL_PT,
};
use crate::command::{
    Command, DesktopCommand, Listing, SettingsCommand, StatusCommand, TransferCommand,
};
use crate::dataset::{self, DatasetAction};
use crate::dataset_job::JobKind;
use crate::gallery;
use crate::launch::APP_NAME;
use crate::queue::summary;
use crate::queue::{self, RowAction};
use crate::quit;
use crate::settings_ui::{self, SettingsAction};
use crate::status;
use crate::style::{Palette, drop_overlay_ui};
use crate::thumbs;

impl DesktopApp {
    /// The whole window.
    pub fn show(&mut self, ui: &mut Ui) {
        let build_started = Instant::now();
        let ctx = ui.ctx().clone();
        self.focus.begin_frame(&ctx);
        self.drain_events(&ctx);
        self.upload_textures(&ctx);
        let palette = Palette::for_visuals(ui.visuals());
        let mut commands = Vec::new();
        self.window_input(&ctx, &mut commands);
        let left = quit::Left {
            files: self
                .transfers
                .iter()
                .filter(|t| t.state.is_active())
                .count(),
            job: self
                .dataset
                .running
                .as_ref()
                .map(|running| running.job.kind),
        };
        self.quit.input(&ctx, left);
        self.window_fit.check(&ctx);

        egui::Panel::top("toolbar")
            .frame(
                egui::Frame::side_top_panel(ui.style())
                    .inner_margin(egui::Margin::symmetric(12, 8)),
            )
            .show(ui, |ui| self.toolbar_ui(ui, &palette, &mut commands));
        self.pipeline_ui(ui, &palette, &mut commands);
        if !self.notices.is_empty() {
            egui::Panel::bottom("notices").show(ui, |ui| self.notices_ui(ui, &palette));
        }
        self.side_panels_ui(ui, &palette, &mut commands);
        if self.harness.unattended() {
            // No person, no pointer to move cards under: show every image.
            self.gallery.show_pending();
        }
        egui::CentralPanel::default().show(ui, |ui| {
            gallery::gallery_ui(ui, &mut self.gallery, &palette, &mut commands);
        });
        gallery::dialogs_ui(&ctx, &mut self.gallery, &palette, &mut commands);
        commands.extend(dataset::dataset_dialog_ui(
            &ctx,
            &mut self.dataset,
            &palette,
        ));
        commands.extend(queue::duplicates_dialog_ui(&ctx, &mut self.queue_view));
        self.batch_ui(&ctx, &mut commands);
        self.quit.ui(&ctx, left);
        drop_overlay_ui(&ctx, &palette);
        // Textures nothing drew this frame, beyond the cache's bound, go.
        self.gallery.trim();

        for command in commands {
            self.worker.send(command);
        }
        self.after_frame(&ctx, build_started);
    }

    /// The Settings panel (when open) and the queue panel: at 800×500 (or
    /// 200 %) they give up width before the gallery does, which always keeps
    /// `MIN_GALLERY_PT`.
    fn side_panels_ui(&mut self, ui: &mut Ui, palette: &Palette, commands: &mut Vec<Command>) {
        let ctx = ui.ctx().clone();
        let width = ctx.content_rect().width();
        let settings_max = (width * 0.4).max(SETTINGS_PANEL_MIN_PT);
        if self.settings_panel.open {
            egui::Panel::right("settings")
                .default_size(SETTINGS_PANEL_PT.min(settings_max))
                .size_range(SETTINGS_PANEL_MIN_PT..=settings_max)
                .resizable(true)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .show(ui, |ui| self.settings_panel_ui(ui, palette, commands));
                });
        }
        let taken = if self.settings_panel.open {
            settings_max
        } else {
            0.0
        };
        let queue_max = (width - taken - MIN_GALLERY_PT).clamp(QUEUE_PANEL_MIN_PT, 700.0);
        // Each scale remembers its own width: a panel squeezed at 200 %
        // is not left narrow at 100 %.
        let scale = (ctx.pixels_per_point() * 100.0).round();
        egui::Panel::left(egui::Id::unique(("queue", scale.to_bits())))
            .default_size(QUEUE_PANEL_PT.min(queue_max))
            .size_range(QUEUE_PANEL_MIN_PT..=queue_max)
            .resizable(true)
            .show(ui, |ui| self.queue_panel_ui(ui, palette, commands));
    }

    /// The status line under the header, its panel, and its timer: the worker
    /// is asked again every `REFRESH_EVERY`.
    fn pipeline_ui(&mut self, ui: &mut Ui, palette: &Palette, commands: &mut Vec<Command>) {
        let ctx = ui.ctx().clone();
        let line = egui::Panel::top("pipeline")
            .frame(
                egui::Frame::side_top_panel(ui.style())
                    .inner_margin(egui::Margin::symmetric(12, 2)),
            )
            .show(ui, |ui| {
                status::status_line_ui(ui, &mut self.pipeline, palette);
            })
            .response
            .rect;
        let can_redrive = self.settings.mode != Mode::Local;
        if status::status_panel_ui(&ctx, &mut self.pipeline, can_redrive, line.bottom()) {
            commands.push(StatusCommand::Redrive(Box::new(self.settings.clone())).into());
        }
        let now = ctx.input(|i| i.time);
        if self.pipeline.due(now) {
            self.pipeline.asked(now);
            commands.push(StatusCommand::Refresh(Box::new(self.settings.clone())).into());
        }
        ctx.request_repaint_after(status::REFRESH_EVERY);
    }

    /// After drawing: the focus given back by whatever closed (wherever it
    /// was closed), the unattended runs' whole listing and their figures.
    fn after_frame(&mut self, ctx: &egui::Context, build_started: Instant) {
        let open = self.overlays(ctx);
        self.focus
            .end_frame(ctx, &open, self.gallery.places_focus());
        if self.harness.wants_whole_gallery()
            && let Some(next) = self.gallery.next_page(Listing::Images)
        {
            self.worker.send(next);
        }
        // Only the unattended runs ask (a loop over every row).
        let settled = self.harness.unattended() && self.settled();
        self.harness.after_frame(
            ctx,
            build_started.elapsed(),
            settled,
            self.gallery.entries.len(),
        );
    }

    /// What reaches the whole window rather than one widget: dropped files,
    /// Ctrl+O, F1, Esc for the Settings panel.
    pub(super) fn window_input(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
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
            commands.push(Command::Transfer(TransferCommand::PickFiles));
        }
        for (key, kind) in [
            (egui::Key::D, JobKind::Download),
            (egui::Key::E, JobKind::Export),
        ] {
            if self.dataset.running.is_none()
                && ctx.input_mut(|i| {
                    i.consume_shortcut(&egui::KeyboardShortcut::new(egui::Modifiers::COMMAND, key))
                })
            {
                self.dataset.open(kind, &self.gallery.filter);
            }
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::F1)) {
            self.open_help();
        }
        // Esc closes the dialog or menu on top (each its own); with none
        // open, the status panel (drawn over the rest), else Settings.
        if !self.modal_open()
            && !egui::Popup::is_any_open(ctx)
            && (self.pipeline.panel_open || self.settings_panel.open)
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
        {
            if self.pipeline.panel_open {
                self.pipeline.panel_open = false;
            } else {
                self.settings_panel.open = false;
            }
        }
    }

    /// The latest message not tied to a row, and "Dismiss".
    pub(super) fn notices_ui(&mut self, ui: &mut Ui, palette: &Palette) {
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

    pub(super) fn settings_panel_ui(
        &mut self,
        ui: &mut Ui,
        palette: &Palette,
        commands: &mut Vec<Command>,
    ) {
        for action in settings_ui::settings_ui(ui, &mut self.settings_panel, palette) {
            match action {
                SettingsAction::Send(command) => commands.push(command),
                SettingsAction::Apply => self.apply_settings(commands),
                SettingsAction::Close => self.settings_panel.open = false,
            }
        }
    }

    pub(super) fn queue_panel_ui(
        &mut self,
        ui: &mut Ui,
        palette: &Palette,
        commands: &mut Vec<Command>,
    ) {
        ui.add_space(6.0);
        commands.extend(dataset::dataset_progress_ui(ui, &mut self.dataset, palette));
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
    pub(super) fn batch_ui(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let counts = summary::Counts::of(&self.transfers, self.queue_view.run);
        let title = counts.title();
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
        if self.queue_view.clock.update(counts.finished(), counts.left) && !ctx.input(|i| i.focused)
        {
            commands.push(Command::Desktop(DesktopCommand::Notify {
                summary: "Uploads finished".to_owned(),
                body: counts.text(),
            }));
        }
    }

    /// The header: wraps onto a second line in a narrow window (800×500, 200 %)
    /// instead of drawing its parts over each other.
    pub(super) fn toolbar_ui(
        &mut self,
        ui: &mut Ui,
        palette: &Palette,
        commands: &mut Vec<Command>,
    ) {
        ui.horizontal_wrapped(|ui| {
            ui.heading(RichText::new(APP_NAME).strong());
            ui.add_space(12.0);
            if ui
                .button("Add images…")
                .on_hover_text("JPEG or PNG, up to 10 MiB each (Ctrl+O)")
                .clicked()
            {
                commands.push(Command::Transfer(TransferCommand::PickFiles));
            }
            if ui
                .button("Add folder…")
                .on_hover_text("Every JPEG and PNG in a folder and its subfolders")
                .clicked()
            {
                commands.push(Command::Transfer(TransferCommand::PickFolder));
            }
            if let Some(DatasetAction::Open(kind)) = dataset::dataset_menu_ui(ui, &self.dataset) {
                self.dataset.open(kind, &self.gallery.filter);
            }
            ui.add_space(12.0);
            self.connection_ui(ui, palette);
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

    /// "Local · /path" or "AWS · bucket", or what is wrong with the connection.
    fn connection_ui(&self, ui: &mut Ui, palette: &Palette) {
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
                        egui::Label::new(RichText::new(message).color(palette.error)).truncate(),
                    );
                }
            }
        });
    }

    pub(super) fn toggle_settings(&mut self, commands: &mut Vec<Command>) {
        self.settings_panel.open = !self.settings_panel.open;
        if self.settings_panel.open {
            self.settings_panel.draft = self.settings.clone();
            self.settings_panel.status = None;
            commands.push(Command::Settings(SettingsCommand::LoadProfiles));
        }
    }

    /// Decoded thumbnails become textures, a bounded number this frame; for
    /// the rest, another frame.
    fn upload_textures(&mut self, ctx: &egui::Context) {
        if self.gallery.upload_textures(ctx) > 0 {
            ctx.request_repaint();
        }
    }

    pub(super) fn open_help(&mut self) {
        if !self.gallery.dialogs.contains(&gallery::Dialog::Help) {
            self.gallery.dialogs.push(gallery::Dialog::Help);
        }
    }

    pub(super) fn apply_settings(&mut self, commands: &mut Vec<Command>) {
        self.settings = self.settings_panel.draft.clone();
        if let Err(err) = self.settings.save() {
            self.settings_panel.status = Some(Err(err.words(&crate::format::InApp::Settings)));
        } else {
            self.settings_panel.status = Some(Ok("Saved.".to_owned()));
        }
        self.connection = None;
        commands.push(Command::Settings(SettingsCommand::Connect(
            self.settings.clone(),
        )));
        self.gallery.reset();
        commands.extend(self.gallery.first_page());
    }
}
