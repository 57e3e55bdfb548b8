//! The dataset room's drawing: the toolbar's *Dataset* menu, the dialog of a
//! download or an export, and the job's progress and report above the queue.
//! Each only draws and returns what was asked for.

use augment_client::dataset::MANIFEST_CSV;
use augment_client::download::Area;
use egui::{RichText, Ui};

use super::model::{Dataset, Draft, Running};
use crate::command::{Command, DatasetCommand, DesktopCommand};
use crate::dataset_job::{FormatChoice, JobKind};
use crate::format::format_eta;
use crate::style::Palette;

/// Room kept between the dialog and the window's edges, in points (both sides).
const DIALOG_MARGIN_PT: f32 = 64.0;

/// The widest the dialog gets, in points.
const DIALOG_MAX_PT: f32 = 460.0;

/// The deepest label the dialog offers (folders below `original-uploads/`).
const MAX_LABEL_DEPTH: usize = 8;

/// What the menu asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetAction {
    Open(JobKind),
}

/// The toolbar's *Dataset* menu: *Download all…* (Ctrl+D) and *Export
/// dataset…* (Ctrl+E), both off while a job runs.
pub fn dataset_menu_ui(ui: &mut Ui, room: &Dataset) -> Option<DatasetAction> {
    let idle = room.running.is_none();
    let mut action = None;
    ui.menu_button("Dataset", |ui| {
        for (kind, shortcut, hint) in [
            (
                JobKind::Download,
                "Ctrl+D",
                "Everything processed, in the bucket's layout, into a folder (again: only what is new)",
            ),
            (
                JobKind::Export,
                "Ctrl+E",
                "A training-ready dataset: image folders, WebDataset or a manifest, with splits and labels",
            ),
        ] {
            let item = ui
                .add_enabled(idle, egui::Button::new(format!("{}…", kind.title())))
                .on_hover_text(format!("{hint} ({shortcut})"));
            if item.clicked() {
                action = Some(DatasetAction::Open(kind));
                ui.close();
            }
        }
    });
    action
}

/// The dialog, when open: the folder, what to take, and the export's choices.
/// Esc or Cancel closes it; Start sends the job.
pub fn dataset_dialog_ui(
    ctx: &egui::Context,
    room: &mut Dataset,
    palette: &Palette,
) -> Vec<Command> {
    let mut commands = Vec::new();
    let Some(draft) = room.draft.as_mut() else {
        return commands;
    };
    let mut close = false;
    let mut start = false;
    let response = egui::Modal::new(egui::Id::unique("dataset-dialog")).show(ctx, |ui| {
        let window = ctx.content_rect();
        ui.set_max_width((window.width() - DIALOG_MARGIN_PT).min(DIALOG_MAX_PT));
        egui::ScrollArea::vertical()
            .max_height(window.height() - DIALOG_MARGIN_PT)
            .show(ui, |ui| {
                draft_ui(ui, draft, palette, &mut commands);
                ui.add_space(8.0);
                ui.horizontal_wrapped(|ui| {
                    let go = match draft.kind {
                        JobKind::Download => "Download",
                        JobKind::Export => "Export",
                    };
                    start = ui.button(go).clicked();
                    close = ui.button("Cancel").clicked();
                });
                if let Some(problem) = &draft.problem {
                    ui.add(egui::Label::new(RichText::new(problem).color(palette.error)).wrap());
                }
            });
    });
    close |= response.backdrop_response.clicked()
        || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape));
    if start && let Some(job) = room.start() {
        commands.push(Command::Dataset(DatasetCommand::Start(job)));
    } else if close {
        room.draft = None;
    }
    commands
}

fn draft_ui(ui: &mut Ui, draft: &mut Draft, palette: &Palette, commands: &mut Vec<Command>) {
    ui.heading(draft.kind.title());
    let what = if draft.filter.is_empty() {
        "Every image in the gallery.".to_owned()
    } else {
        format!(
            "The images whose name contains “{}” (the gallery's filter).",
            draft.filter
        )
    };
    ui.add(egui::Label::new(RichText::new(what).color(palette.muted)).wrap());
    ui.add_space(6.0);
    let label = ui.label("Folder");
    ui.horizontal_wrapped(|ui| {
        let field = ui
            .add(
                egui::TextEdit::singleline(&mut draft.folder)
                    .hint_text("a new or empty folder")
                    .desired_width(260.0),
            )
            .labelled_by(label.id);
        if std::mem::take(&mut draft.focus_folder) {
            field.request_focus();
        }
        if ui.button("Choose…").clicked() {
            commands.push(Command::Dataset(DatasetCommand::PickFolder));
        }
    });
    match draft.kind {
        JobKind::Download => {
            ui.checkbox(
                &mut draft.everything,
                "Also the originals and the rejection records",
            );
            let areas: Vec<&str> = Area::RESULTS.iter().map(|area| area.name()).collect();
            ui.add(
                egui::Label::new(
                    RichText::new(format!(
                        "Always {}; a second download fetches only what is new or changed.",
                        areas.join(" and ")
                    ))
                    .color(palette.muted),
                )
                .wrap(),
            );
        }
        JobKind::Export => export_choices_ui(ui, draft, palette),
    }
}

fn export_choices_ui(ui: &mut Ui, draft: &mut Draft, palette: &Palette) {
    let choices = &mut draft.export;
    ui.add_space(4.0);
    ui.label("Format");
    for format in FormatChoice::ALL {
        ui.radio_value(&mut choices.format, format, format.label());
    }
    ui.add_space(4.0);
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Splits");
        ui.add(egui::TextEdit::singleline(&mut choices.splits).desired_width(200.0))
            .labelled_by(label.id);
    });
    ui.horizontal_wrapped(|ui| {
        let label = ui.label("Seed");
        ui.add(egui::DragValue::new(&mut choices.seed))
            .labelled_by(label.id);
        let label = ui.label("Label depth");
        ui.add(egui::DragValue::new(&mut choices.label_depth).range(0..=MAX_LABEL_DEPTH))
            .labelled_by(label.id)
            .on_hover_text("Folders that make the class: 1 the first folder, 0 no labels");
    });
    ui.checkbox(&mut choices.all_angles, "Every split gets every angle");
    let note = match choices.label_depth {
        0 => "No labels: every image under <split>/unlabeled/.",
        _ => {
            "Labels from the class folders; images with none sit at the split's root, outside every class."
        }
    };
    ui.add(egui::Label::new(RichText::new(note).color(palette.muted)).wrap());
}

/// Above the queue: the job's progress bar and Cancel, or the last report
/// with Open folder and Dismiss.
pub fn dataset_progress_ui(ui: &mut Ui, room: &mut Dataset, palette: &Palette) -> Vec<Command> {
    let mut commands = Vec::new();
    if let Some(running) = &mut room.running {
        running_ui(ui, running, palette, &mut commands);
    } else if let Some(report) = &room.report {
        let color = if report.failed {
            palette.error
        } else {
            palette.muted
        };
        ui.add(egui::Label::new(RichText::new(&report.text).color(color)).wrap());
        let mut dismiss = false;
        ui.horizontal_wrapped(|ui| {
            if ui.button("Open folder").clicked() {
                let inside = match report.kind {
                    JobKind::Export => report.dest.join(MANIFEST_CSV),
                    JobKind::Download => report.dest.join(Area::Processed.name()),
                };
                commands.push(Command::Desktop(DesktopCommand::Reveal(inside)));
            }
            dismiss = ui.button("Dismiss").clicked();
        });
        if dismiss {
            room.report = None;
        }
    } else {
        return commands;
    }
    ui.separator();
    commands
}

fn running_ui(ui: &mut Ui, running: &mut Running, palette: &Palette, commands: &mut Vec<Command>) {
    let (verb, unit) = match running.job.kind {
        JobKind::Download => ("Downloading", "files"),
        JobKind::Export => ("Exporting", "images"),
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new(verb).strong());
        ui.add(
            egui::Label::new(
                RichText::new(running.job.dest.display().to_string()).color(palette.muted),
            )
            .truncate(),
        );
    });
    let mut text = match running.total {
        Some(total) => format!("{}/{total} {unit}", running.done),
        None => format!("{} {unit}", running.done),
    };
    let elapsed = running.started.elapsed().as_secs_f64();
    if running.done > 0 && elapsed > 0.0 {
        let rate = running.done as f64 / elapsed;
        text.push_str(&format!(" · {rate:.1} {unit}/s"));
        if let Some(total) = running.total
            && total > running.done
        {
            let left = (total - running.done) as f64 / rate;
            text.push_str(&format!(
                " · {}",
                format_eta(std::time::Duration::from_secs_f64(left))
            ));
        }
    }
    if running.failed > 0 {
        text.push_str(&format!(" · {} failed", running.failed));
    }
    let fraction = running
        .total
        .filter(|total| *total > 0)
        .map_or(0.0, |total| running.done as f32 / total as f32);
    ui.add(
        egui::ProgressBar::new(fraction)
            .desired_height(14.0)
            .text(RichText::new(text).small()),
    );
    let what = match running.job.kind {
        JobKind::Download => "Cancel download",
        JobKind::Export => "Cancel export",
    };
    let cancel = ui.add_enabled(!running.cancelling, egui::Button::new(what));
    if cancel.clicked() {
        running.cancelling = true;
        commands.push(Command::Dataset(DatasetCommand::Cancel));
    }
}
