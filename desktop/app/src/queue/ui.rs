//! The queue panel: the summary and its buttons, the rows (only those on
//! screen built).

use std::path::Path;

use egui::{RichText, Ui};

use super::model::{Filter, QueueView, Transfer, clears};
use super::report;
use super::row::{EXPANDED_PT, ROW_PT, RowAction, RowContext, Textures, row_ui};
use super::summary::{self, Counts};
use crate::command::{Command, DesktopCommand, TransferCommand};
use crate::style::{Palette, empty_state_ui};

/// The queue panel: the batch summary and its buttons, the view, the rows.
/// `offline`: the connection failed, so queued files say what they wait for.
/// `local_root`: the data folder in local mode ("Reveal in file manager").
pub fn queue_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    view: &mut QueueView,
    offline: bool,
    local_root: Option<&Path>,
    textures: Textures<'_>,
    palette: &Palette,
) -> Vec<RowAction> {
    let mut actions = Vec::new();
    if transfers.is_empty() {
        empty_state_ui(
            ui,
            "Drop images here",
            "or use Add images… (Ctrl+O). JPEG or PNG, up to 10 MiB each; folders too.",
        );
        return actions;
    }
    summary::summary_ui(
        ui,
        transfers,
        view.run,
        view.cleared.as_deref(),
        &view.clock,
        palette,
    );
    let counts = Counts::of(transfers, view.run);
    buttons_ui(ui, transfers, view, &counts, &mut actions);
    // The tabs count the whole list, earlier runs too.
    let failed_rows = transfers.iter().filter(|t| t.state.is_failed()).count();
    ui.horizontal(|ui| {
        ui.selectable_value(
            &mut view.filter,
            Filter::All,
            format!("All ({})", transfers.len()),
        );
        let failed = RichText::new(format!("Failed ({failed_rows})"));
        let failed = if failed_rows > 0 {
            failed.color(palette.error)
        } else {
            failed
        };
        ui.selectable_value(&mut view.filter, Filter::Failed, failed);
    });
    ui.separator();
    let ctx = RowContext {
        offline,
        local_root,
        paused: view.paused,
        palette,
    };
    match view.filter {
        Filter::All => all_rows_ui(ui, transfers, view, &ctx, textures, &mut actions),
        Filter::Failed => failed_rows_ui(ui, transfers, &ctx, textures, &mut actions),
    }
    actions
}

/// Pause, Cancel all, Retry failed, Clear finished, and the report.
pub(super) fn buttons_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    view: &mut QueueView,
    counts: &Counts,
    actions: &mut Vec<RowAction>,
) {
    ui.horizontal_wrapped(|ui| {
        let pause = if view.paused { "Resume" } else { "Pause" };
        if ui
            .small_button(pause)
            .on_hover_text("Hold the uploads not started yet; the ones running finish")
            .clicked()
        {
            view.paused = !view.paused;
            actions.push(RowAction::Send(Command::Transfer(TransferCommand::Pause(
                view.paused,
            ))));
        }
        if ui
            .add_enabled(counts.left > 0, egui::Button::new("Cancel all").small())
            .clicked()
        {
            for transfer in transfers.iter().filter(|t| t.state.is_active()) {
                actions.push(RowAction::Send(Command::Transfer(TransferCommand::Cancel(
                    transfer.id,
                ))));
            }
        }
        let retryable = transfers.iter().filter(|t| t.state.can_retry()).count();
        if ui
            .add_enabled(retryable > 0, egui::Button::new("Retry failed").small())
            .on_hover_text("Retry every failed row that trying again can help")
            .clicked()
        {
            for transfer in transfers.iter().filter(|t| t.state.can_retry()) {
                actions.push(RowAction::Send(Command::Transfer(TransferCommand::Retry(
                    transfer.id,
                ))));
            }
        }
        let clearable = transfers.iter().filter(|t| clears(&t.state)).count();
        if ui
            .add_enabled(clearable > 0, egui::Button::new("Clear finished").small())
            .on_hover_text("Remove the finished rows; failed ones stay with their reasons")
            .clicked()
        {
            actions.push(RowAction::ClearFinished);
        }
        report_buttons_ui(ui, transfers, actions);
    });
}

/// Copy report and Save report…: every row as CSV.
fn report_buttons_ui(ui: &mut Ui, transfers: &[Transfer], actions: &mut Vec<RowAction>) {
    if ui
        .small_button("Copy report")
        .on_hover_text("Every row as CSV: file, key, state, code, message")
        .clicked()
    {
        ui.ctx().copy_text(report::csv(transfers));
    }
    if ui.small_button("Save report…").clicked() {
        actions.push(RowAction::Send(Command::Desktop(
            DesktopCommand::SaveReport(report::csv(transfers)),
        )));
    }
}

/// Every row, only the visible ones built (1,000 rows cost what 20 do).
pub(super) fn all_rows_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    view: &mut QueueView,
    ctx: &RowContext<'_>,
    textures: Textures<'_>,
    actions: &mut Vec<RowAction>,
) {
    let height_of = |transfer: &Transfer| {
        if view.expanded.contains(&transfer.id) {
            ROW_PT + EXPANDED_PT
        } else {
            ROW_PT
        }
    };
    let total: f32 = transfers.iter().map(height_of).sum();
    let mut toggled = Vec::new();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_viewport(ui, |ui, viewport| {
            let width = ui.available_width();
            let (whole, _) = ui.allocate_exact_size(egui::vec2(width, total), egui::Sense::hover());
            let mut top = 0.0;
            for transfer in transfers {
                let height = height_of(transfer);
                let (start, end) = (top, top + height);
                top = end;
                if end < viewport.min.y || start > viewport.max.y {
                    continue;
                }
                let rect = egui::Rect::from_min_size(
                    whole.min + egui::vec2(0.0, start),
                    egui::vec2(width, height),
                );
                let expanded = view.expanded.contains(&transfer.id);
                ui.scope_builder(egui::UiBuilder::new().max_rect(rect), |ui| {
                    if row_ui(ui, transfer, expanded, false, ctx, &mut *textures, actions) {
                        toggled.push(transfer.id);
                    }
                });
            }
        });
    for id in toggled {
        if !view.expanded.remove(&id) {
            view.expanded.insert(id);
        }
    }
}

/// The failed rows, each with its whole reason (there are few).
pub(super) fn failed_rows_ui(
    ui: &mut Ui,
    transfers: &[Transfer],
    ctx: &RowContext<'_>,
    textures: Textures<'_>,
    actions: &mut Vec<RowAction>,
) {
    let failed: Vec<&Transfer> = transfers.iter().filter(|t| t.state.is_failed()).collect();
    if failed.is_empty() {
        ui.label(RichText::new("Nothing failed.").color(ctx.palette.muted));
        return;
    }
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for transfer in failed {
                row_ui(ui, transfer, false, true, ctx, &mut *textures, actions);
                ui.separator();
            }
        });
}
