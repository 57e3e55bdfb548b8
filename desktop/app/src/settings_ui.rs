//! The settings panel: where the images go (this machine, an AWS bucket, any
//! S3-compatible endpoint), tried before they are used.

use egui::{RichText, Ui};

use crate::command::{Command, SettingsCommand};
use crate::style::Palette;
use augment_client::{AwsSettings, Mode, Settings};
use augment_pipeline::limits::{MAX_TRANSFER_JOBS, START_TRANSFER_JOBS};

/// The panel's own state: a draft of the settings, edited until "Save".
pub struct SettingsPanel {
    pub open: bool,
    pub draft: Settings,
    pub profiles: Vec<String>,
    pub testing: bool,
    /// The last "Test connection" or import: what happened, in words.
    pub status: Option<Result<String, String>>,
    /// The app's log file, to name when something went wrong.
    pub log_file: Option<std::path::PathBuf>,
}

impl SettingsPanel {
    pub fn new(settings: &Settings, log_file: Option<std::path::PathBuf>) -> Self {
        Self {
            log_file,
            open: false,
            draft: settings.clone(),
            profiles: Vec::new(),
            testing: false,
            status: None,
        }
    }
}

/// What the panel asks of the app.
pub enum SettingsAction {
    Send(Command),
    /// Save the draft and connect with it.
    Apply,
    Close,
}

/// The whole panel, section by section: where images go, that place's details,
/// trying and saving, the log.
pub fn settings_ui(
    ui: &mut Ui,
    panel: &mut SettingsPanel,
    palette: &Palette,
) -> Vec<SettingsAction> {
    let mut actions = Vec::new();
    header_ui(ui, &mut actions);
    ui.add_space(6.0);
    let mode = panel.draft.mode;
    mode_ui(ui, &mut panel.draft.mode);
    if panel.draft.mode != mode {
        // A test or import result was about the other place: it no longer holds
        // (and a test still running is not waited for).
        panel.status = None;
        panel.testing = false;
    }
    ui.add_space(8.0);
    match panel.draft.mode {
        Mode::Local => local_ui(ui, &mut panel.draft, palette, &mut actions),
        Mode::Aws | Mode::Custom => bucket_ui(ui, panel, palette, &mut actions),
    }
    ui.add_space(8.0);
    transfers_ui(ui, &mut panel.draft.transfer_jobs, palette);
    ui.add_space(10.0);
    connect_ui(ui, panel, palette, &mut actions);
    ui.add_space(8.0);
    log_ui(ui, panel.log_file.as_deref(), palette);
    actions
}

fn header_ui(ui: &mut Ui, actions: &mut Vec<SettingsAction>) {
    ui.horizontal(|ui| {
        ui.heading("Settings");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close").clicked() {
                actions.push(SettingsAction::Close);
            }
        });
    });
}

fn mode_ui(ui: &mut Ui, mode: &mut Mode) {
    ui.label(RichText::new("Where images go").strong());
    ui.radio_value(mode, Mode::Local, "Local: this computer, no account needed");
    ui.radio_value(mode, Mode::Aws, "AWS: a bucket deployed with Terraform");
    ui.radio_value(mode, Mode::Custom, "Custom S3-compatible endpoint");
}

/// Local mode: the data folder.
fn local_ui(
    ui: &mut Ui,
    draft: &mut Settings,
    palette: &Palette,
    actions: &mut Vec<SettingsAction>,
) {
    ui.label("Data folder");
    ui.horizontal(|ui| {
        let mut text = draft
            .local
            .data_dir
            .as_ref()
            .map(|dir| dir.display().to_string())
            .unwrap_or_default();
        let edit = ui.add(
            egui::TextEdit::singleline(&mut text)
                .hint_text("the default folder")
                .desired_width(220.0),
        );
        if edit.changed() {
            draft.local.data_dir = (!text.trim().is_empty()).then(|| text.trim().into());
        }
        if ui.button("Choose…").clicked() {
            actions.push(SettingsAction::Send(Command::Settings(
                SettingsCommand::ChooseDataDir,
            )));
        }
    });
    ui.label(
        RichText::new("Laid out like the bucket; the pipeline runs inside the app.")
            .color(palette.muted),
    );
}

/// AWS and Custom: profile, region, bucket (and endpoint), or Terraform's outputs.
fn bucket_ui(
    ui: &mut Ui,
    panel: &mut SettingsPanel,
    palette: &Palette,
    actions: &mut Vec<SettingsAction>,
) {
    let custom = panel.draft.mode == Mode::Custom;
    let aws = &mut panel.draft.aws;
    egui::Grid::new("aws-settings")
        .num_columns(2)
        .spacing([8.0, 6.0])
        .show(ui, |ui| {
            profile_ui(ui, &mut aws.profile, &panel.profiles);
            optional_field(ui, "Region", &mut aws.region, "e.g. eu-west-1");
            let label = ui.label("Bucket");
            ui.add(egui::TextEdit::singleline(&mut aws.bucket).desired_width(220.0))
                .labelled_by(label.id);
            ui.end_row();
            if custom {
                optional_field(
                    ui,
                    "Endpoint URL",
                    &mut aws.endpoint_url,
                    "http://localhost:9000",
                );
            }
        });
    if custom {
        plain_http_ui(ui, aws, palette);
    }
    ui.add_space(4.0);
    if ui
        .button("Import Terraform outputs…")
        .on_hover_text("The JSON that `terraform output -json` prints")
        .clicked()
    {
        actions.push(SettingsAction::Send(Command::Settings(
            SettingsCommand::ImportTerraform,
        )));
    }
    ui.label(
        RichText::new("Credentials come from your AWS config (profiles, SSO, environment); the app never stores a secret.")
            .color(palette.muted),
    );
}

/// Plain `http://` to another machine: said in words, and used only once the
/// person ticks the box (saved with the settings, for this endpoint).
fn plain_http_ui(ui: &mut Ui, aws: &mut AwsSettings, palette: &Palette) {
    let insecure = aws
        .endpoint_url
        .as_deref()
        .is_some_and(augment_client::settings::is_insecure_endpoint);
    if !insecure {
        aws.allow_insecure_http = false;
        return;
    }
    ui.label(RichText::new(PLAIN_HTTP_WARNING).color(palette.error));
    ui.checkbox(&mut aws.allow_insecure_http, ALLOW_PLAIN_HTTP);
}

/// What a plain-HTTP endpoint to another machine means, before anything is sent.
pub const PLAIN_HTTP_WARNING: &str = "Plain HTTP to another machine: the signed requests and your images cross the network unencrypted. Use https://, or allow plain HTTP for this endpoint.";
/// The box that allows it.
pub const ALLOW_PLAIN_HTTP: &str = "Allow plain HTTP to this endpoint";

/// The profile picker, one row of the bucket grid. `None` is the SDK's default chain.
fn profile_ui(ui: &mut Ui, profile: &mut Option<String>, profiles: &[String]) {
    let label = ui.label("Profile");
    let current = profile.clone().unwrap_or_default();
    egui::ComboBox::from_id_salt("profile")
        .selected_text(if current.is_empty() {
            "default chain"
        } else {
            &current
        })
        .show_ui(ui, |ui| {
            // Enter chooses and closes, as a click does.
            let mut chosen = ui
                .selectable_value(profile, None, "default chain")
                .clicked();
            for name in profiles {
                chosen |= ui
                    .selectable_value(profile, Some(name.clone()), name)
                    .clicked();
            }
            if chosen {
                ui.close();
            }
        })
        .response
        .labelled_by(label.id);
    ui.end_row();
}

/// How many files move at once: adapting to the link (the default), or fixed.
fn transfers_ui(ui: &mut Ui, jobs: &mut Option<u16>, palette: &Palette) {
    let most = u16::try_from(MAX_TRANSFER_JOBS).unwrap_or(u16::MAX);
    ui.horizontal(|ui| {
        let mut fixed = jobs.is_some();
        let check = ui.checkbox(&mut fixed, "Fixed number of files at once");
        if check.changed() {
            *jobs = fixed.then(|| u16::try_from(START_TRANSFER_JOBS).unwrap_or(most));
        }
        if let Some(n) = jobs {
            ui.add(egui::DragValue::new(n).range(1..=most))
                .labelled_by(check.id);
        }
    });
    let words = if jobs.is_some() {
        "Always this many, whatever the link does."
    } else {
        "Adapts to the link: 16 at once to start, up to 64, fewer after a throttle."
    };
    ui.label(RichText::new(words).color(palette.muted));
}

/// "Test connection", "Save and connect", and what the last test or import said.
fn connect_ui(
    ui: &mut Ui,
    panel: &mut SettingsPanel,
    palette: &Palette,
    actions: &mut Vec<SettingsAction>,
) {
    ui.horizontal(|ui| {
        // Never disabled while testing (a disabled button loses the keyboard
        // focus); a second press while one runs does nothing.
        if ui
            .button("Test connection")
            .on_hover_text("Try these settings without saving them")
            .clicked()
            && !panel.testing
        {
            panel.testing = true;
            panel.status = None;
            actions.push(SettingsAction::Send(Command::Settings(
                SettingsCommand::TestConnection(panel.draft.clone()),
            )));
        }
        if ui.button("Save and connect").clicked() {
            actions.push(SettingsAction::Apply);
        }
        if panel.testing {
            ui.spinner();
        }
    });
    if let Some(status) = &panel.status {
        let (text, color) = match status {
            Ok(text) => (text.as_str(), palette.success),
            Err(text) => (text.as_str(), palette.error),
        };
        ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
    }
    if panel.draft.mode == Mode::Custom {
        // Said before the first upload, not after its watch times out.
        ui.add(egui::Label::new(RichText::new(CUSTOM_NEEDS_PIPELINE).color(palette.muted)).wrap());
    }
}

/// What a custom endpoint must do besides storing: a test can only show that
/// it stores.
pub const CUSTOM_NEEDS_PIPELINE: &str = "A custom endpoint must also run the processing pipeline on each upload (an S3 event or webhook to the image processor); Test connection checks the bucket only. Without the pipeline, uploads wait and no rotations come back.";

/// Where the log is, to name when something went wrong.
fn log_ui(ui: &mut Ui, log_file: Option<&std::path::Path>, palette: &Palette) {
    let log = log_file.map_or_else(
        || "Log: none (the log file could not be opened)".to_owned(),
        |path| format!("Log: {}", path.display()),
    );
    ui.add(egui::Label::new(RichText::new(log).small().color(palette.muted)).wrap());
}

/// A labelled text field for an optional value: empty means "not set".
fn optional_field(ui: &mut Ui, label: &str, value: &mut Option<String>, hint: &str) {
    let label = ui.label(label);
    let mut text = value.clone().unwrap_or_default();
    let edit = ui
        .add(
            egui::TextEdit::singleline(&mut text)
                .hint_text(hint)
                .desired_width(220.0),
        )
        .labelled_by(label.id);
    if edit.changed() {
        *value = (!text.trim().is_empty()).then(|| text.trim().to_owned());
    }
    ui.end_row();
}
