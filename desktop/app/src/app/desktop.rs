//! The app's state: one part per room, the worker's handle, the harness.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use augment_client::Settings;
use egui::Ui;

use crate::command::{Command, SettingsCommand, TransferCommand};
use crate::dataset::Dataset;
use crate::focus::FocusReturns;
use crate::gallery::{self, Gallery};
use crate::harness::{Harness, Outcome};
use crate::launch::{APP_NAME, Launch};
use crate::queue::{QueueView, Transfer};
use crate::quit;
use crate::settings_ui::SettingsPanel;
use crate::status::{self, PipelineLine};
use crate::style::apply_style;
use crate::worker::{self, WorkerHandle};
use crate::{fonts, window};

/// Width of the transfer queue panel, in points, when the window opens.
pub(super) const QUEUE_PANEL_PT: f32 = 430.0;

/// The narrowest the queue panel gets, in points.
pub(super) const QUEUE_PANEL_MIN_PT: f32 = 260.0;

/// Width of the Settings panel when it opens, and its narrowest, in points.
pub(super) const SETTINGS_PANEL_PT: f32 = 340.0;

pub(super) const SETTINGS_PANEL_MIN_PT: f32 = 240.0;

/// The gallery keeps at least this width (one column of cards), in points.
pub(super) const MIN_GALLERY_PT: f32 = 150.0;

/// Widest the connection's description gets in the header, in points.
pub(super) const CONNECTION_LABEL_PT: f32 = 320.0;

/// The app: UI state plus the handle to the worker.
pub struct DesktopApp {
    pub(super) worker: WorkerHandle,
    pub(super) settings: Settings,
    /// "Local · /path" or "AWS · bucket", or what is wrong with the connection.
    pub(super) connection: Option<Result<String, String>>,
    pub(super) transfers: Vec<Transfer>,
    pub(super) queue_view: QueueView,
    /// The window title last sent ("Augment — 120/203" while a batch runs).
    pub(super) title: String,
    pub(super) gallery: Gallery,
    /// Download all…, Export dataset…: the dialog, the job, its report.
    pub(super) dataset: Dataset,
    pub(super) settings_panel: SettingsPanel,
    /// Messages not tied to a row (a folder without images…), newest last.
    pub(super) notices: Vec<String>,
    /// Queued from the command line: the unattended runs wait for their rows.
    pub(super) files_expected: bool,
    pub(super) harness: Harness,
    pub(super) window_fit: window::WindowFit,
    pub(super) quit: quit::Quit,
    /// The pipeline's status line and panel.
    pub(super) pipeline: PipelineLine,
    /// What had the focus when each open dialog or panel opened.
    pub(super) focus: FocusReturns,
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

    /// A restart starts with a fresh UI: no focus ring, tooltip, scroll or
    /// squeezed panel from the last run (the window's size is kept apart).
    fn persist_egui_memory(&self) -> bool {
        false
    }
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
        worker.send(Command::Settings(SettingsCommand::Connect(
            settings.clone(),
        )));
        let files_expected = !files.is_empty();
        if files_expected {
            worker.send(Command::Transfer(TransferCommand::Add(files)));
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
            dataset: Dataset::default(),
            notices: Vec::new(),
            files_expected,
            harness,
            window_fit: window::WindowFit::default(),
            quit: quit::Quit::default(),
            pipeline: PipelineLine::default(),
            focus: FocusReturns::default(),
        })
    }

    /// The dialogs, panels and menus open over the window, bottom first: the
    /// side panel and the status panel, the modal dialogs in the order drawn,
    /// then a menu (or a combo box's list).
    pub(super) fn overlays(&self, ctx: &egui::Context) -> Vec<egui::Id> {
        let panels = [
            (self.settings_panel.open, egui::Id::unique("settings")),
            (self.pipeline.panel_open, status::panel_id()),
        ];
        let modals = [
            (
                self.dataset.draft.is_some(),
                egui::Id::unique("dataset-dialog"),
            ),
            (
                !self.queue_view.questions.is_empty(),
                egui::Id::unique("duplicates"),
            ),
            (self.quit.asking(), egui::Id::unique("quit")),
            (egui::Popup::is_any_open(ctx), egui::Id::unique("menu")),
        ];
        let shown = |(open, id): (bool, egui::Id)| open.then_some(id);
        let dialogs = self.gallery.dialogs.iter().map(gallery::Dialog::id);
        (panels.into_iter().filter_map(shown))
            .chain(dialogs)
            .chain(modals.into_iter().filter_map(shown))
            .collect()
    }

    /// A modal dialog is open: it alone takes Esc.
    pub(super) fn modal_open(&self) -> bool {
        !self.gallery.dialogs.is_empty()
            || self.dataset.draft.is_some()
            || !self.queue_view.questions.is_empty()
            || self.quit.asking()
    }

    /// What `--screenshot` / `--measure` found, readable after the window closed.
    pub fn outcome(&self) -> Arc<Mutex<Outcome>> {
        self.harness.outcome()
    }

    /// Files and folders from a drop, the dialog or the command line: all the
    /// same path.
    pub fn add_paths(&mut self, paths: Vec<PathBuf>) {
        if !paths.is_empty() {
            self.worker
                .send(Command::Transfer(TransferCommand::Add(paths)));
        }
    }

    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }

    /// The dataset room: its dialog, job and report.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The person said to quit and the window is closing.
    pub fn quitting(&self) -> bool {
        self.quit.confirmed()
    }
}
