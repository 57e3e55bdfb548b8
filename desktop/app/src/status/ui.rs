//! The status line and its panel: they draw the model and return commands.

use augment_client::ops::{DESIGN_EXPECTED_SECS, PipelineStatus, thousands};
use egui::{RichText, Ui};

use super::model::PipelineLine;
use crate::style::Palette;

/// The line under the header; a click opens (or closes) the panel.
pub fn status_line_ui(ui: &mut Ui, line: &mut PipelineLine, palette: &Palette) {
    let mut text = RichText::new(line.headline());
    if line.needs_attention() {
        text = text.color(palette.error);
    }
    let response = ui
        .add(egui::Button::new(text).frame(false))
        .on_hover_text("The pipeline's stages, queues and timing");
    if response.clicked() {
        line.panel_open = !line.panel_open;
    }
}

/// The panel (a window) with the same facts as `augment status`, and
/// *Re-drive…*; `true` when the person confirmed a re-drive. It opens under
/// its line (`below`: the line's bottom edge) and never goes over the header.
pub fn status_panel_ui(
    ctx: &egui::Context,
    line: &mut PipelineLine,
    can_redrive: bool,
    below: f32,
) -> bool {
    if !line.panel_open {
        return false;
    }
    let mut open = true;
    let mut redrive = false;
    let window = ctx.content_rect();
    let room = egui::Rect::from_min_max(egui::pos2(window.left(), below), window.max);
    egui::Window::new("Pipeline status")
        .id(panel_id())
        .open(&mut open)
        .collapsible(false)
        .resizable(true)
        .default_pos(room.left_top() + egui::vec2(PANEL_INSET_PT, PANEL_INSET_PT))
        .constrain_to(room)
        // Held under the line, it may be shorter than its facts (800×500):
        // they scroll rather than being cut off.
        .vscroll(true)
        .show(ctx, |ui| {
            match &line.status {
                None => {
                    ui.label("Checking…");
                }
                Some(Err(message)) => {
                    ui.label(format!("Cannot check the pipeline: {message}"));
                }
                Some(Ok(status)) => facts_ui(ui, status),
            }
            ui.separator();
            redrive = actions_ui(ui, line, can_redrive);
        });
    line.panel_open = open && line.panel_open;
    redrive
}

/// The panel's place from the window's left and from its line, in points.
const PANEL_INSET_PT: f32 = 8.0;

/// The panel's window, also what the app's focus returns know it by.
pub fn panel_id() -> egui::Id {
    egui::Id::unique("pipeline-status")
}

fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "? (not allowed to list)".to_owned(), thousands)
}

fn facts_ui(ui: &mut Ui, status: &PipelineStatus) {
    let stages = &status.stages;
    egui::Grid::new("pipeline-stages")
        .num_columns(2)
        .show(ui, |ui| {
            for (label, n) in [
                ("Uploads", stages.uploads),
                ("Processed", stages.processed),
                ("Complete", stages.complete),
                ("Rejected", stages.rejected),
                ("Stuck", stages.stuck),
            ] {
                ui.label(label);
                ui.label(count(n));
                ui.end_row();
            }
            for queue in &status.queues {
                ui.label(format!("Queue: {}", queue.role.label()));
                ui.label(format!(
                    "{} waiting, {} in flight",
                    thousands(queue.waiting),
                    thousands(queue.in_flight)
                ));
                ui.end_row();
            }
        });
    let (low, high) = DESIGN_EXPECTED_SECS;
    match &status.timing {
        Some(t) => ui.label(format!(
            "Upload to fourth rotation (last {}): median {:.2} s, p95 {:.2} s; the original design expects {low}–{high} s.",
            t.uploads,
            t.median_ms as f64 / 1000.0,
            t.p95_ms as f64 / 1000.0
        )),
        None => ui.label("Upload to fourth rotation: nothing complete to measure yet."),
    };
    for stuck in &status.stuck {
        ui.label(format!(
            "Stuck: {} ({} min), missing {}",
            stuck.key,
            stuck.age_secs / 60,
            stuck.missing.join(", ")
        ));
    }
    for denied in &status.denied {
        ui.label(format!(
            "Not allowed to see {}. This policy statement would allow it: {}",
            denied.what, denied.statement
        ));
    }
}

fn actions_ui(ui: &mut Ui, line: &mut PipelineLine, can_redrive: bool) -> bool {
    let mut confirmed = false;
    if let Some(result) = &line.redriven {
        ui.label(match result {
            Ok(done) => done.clone(),
            Err(message) => format!("Re-drive failed: {message}"),
        });
    }
    if line.confirming {
        ui.label("Put the dead letters, the processor's failed events and the stuck uploads back into the pipeline? Do this once the fault is fixed.");
        ui.horizontal(|ui| {
            if ui.button("Re-drive").clicked() {
                line.confirming = false;
                confirmed = true;
            }
            if ui.button("Cancel").clicked() {
                line.confirming = false;
            }
        });
        return confirmed;
    }
    ui.horizontal(|ui| {
        if ui.button("Refresh").clicked() {
            line.refresh_soon();
        }
        let redrive = ui
            .add_enabled(can_redrive, egui::Button::new("Re-drive…"))
            .on_disabled_hover_text(
                "Local mode finishes unfinished uploads by itself at every start.",
            );
        if redrive.clicked() {
            line.confirming = true;
        }
    });
    confirmed
}
