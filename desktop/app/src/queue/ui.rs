//! The queue panel: the summary and its buttons, the rows (only those on
//! screen built), each row's buttons and context menu, its rotations.

use std::path::Path;

use augment_pipeline::Angle;
use egui::{RichText, TextureHandle, Ui};

use super::model::{Filter, QueueView, State, Transfer, clears};
use super::report;
use super::summary::{self, Counts};
use crate::command::{Command, DesktopCommand, GalleryCommand, TransferCommand, TransferId};
use crate::format::format_bytes;
use crate::gallery::rotation_key;
use crate::style::{Palette, empty_state_ui, thumb_ui, thumb_with_sense};

/// Side of the file's thumbnail in a queue row, in points.
pub(super) const ROW_THUMB_PT: f32 = 28.0;

/// Height of one row, in points: 12 and more fit in the default window.
pub const ROW_PT: f32 = 38.0;

/// Side of each rotation's thumbnail when a row is expanded, in points.
pub(super) const ROTATION_THUMB_PT: f32 = 40.0;

/// The extra height of an expanded row (its four rotations).
pub(super) const EXPANDED_PT: f32 = ROTATION_THUMB_PT + 8.0;

/// What the queue's buttons and menus asked for.
pub enum RowAction {
    Send(Command),
    Remove(TransferId),
    /// *Clear finished*.
    ClearFinished,
    /// Open the gallery's detail view of this image name.
    Open(String),
    /// Ask to delete this image name (the gallery's confirmation).
    Delete(String),
}

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

/// The texture of a key from the app's bounded cache (loaded on demand).
pub type Textures<'a> = &'a mut dyn FnMut(&str) -> Option<TextureHandle>;

/// What every row needs besides itself.
pub(super) struct RowContext<'a> {
    pub(super) offline: bool,
    pub(super) local_root: Option<&'a Path>,
    pub(super) paused: bool,
    pub(super) palette: &'a Palette,
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

/// One row: thumbnail, name and status, the row's buttons; the rotations below
/// when `expanded`; the whole reason when `full_reason`. Returns whether the
/// expand toggle was clicked.
pub(super) fn row_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    expanded: bool,
    full_reason: bool,
    ctx: &RowContext<'_>,
    textures: Textures<'_>,
    actions: &mut Vec<RowAction>,
) -> bool {
    let palette = ctx.palette;
    let mut toggle = false;
    let row = ui.horizontal(|ui| {
        ui.set_min_height(ROW_PT - 4.0);
        let thumb = thumb_with_sense(
            ui,
            transfer.thumb.as_ref(),
            ROW_THUMB_PT,
            &transfer.name,
            palette,
            egui::Sense::click(),
        );
        let image_name = transfer.image_name();
        if let Some(thumb) = thumb {
            let thumb = thumb.on_hover_cursor(egui::CursorIcon::PointingHand);
            if thumb.clicked()
                && transfer.state == State::Done
                && let Some(name) = &image_name
            {
                actions.push(RowAction::Open(name.clone()));
            }
            thumb.context_menu(|ui| row_menu_ui(ui, transfer, ctx.local_root, actions));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            row_buttons_ui(ui, transfer, actions);
            if matches!(transfer.state, State::Processing | State::Done) {
                let arrow = if expanded {
                    "Hide rotations"
                } else {
                    "Rotations"
                };
                if ui.small_button(arrow).clicked() {
                    toggle = true;
                }
            }
            ui.with_layout(egui::Layout::top_down(egui::Align::Min), |ui| {
                row_text_ui(ui, transfer, full_reason, ctx, actions);
            });
        });
    });
    upload_bar_ui(ui, row.response.rect, &transfer.state, palette);
    if expanded {
        rotations_ui(ui, transfer, textures, palette);
    }
    toggle
}

/// The row's name and size, and its status in words (whole when
/// `full_reason`); both open the row's context menu.
fn row_text_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    full_reason: bool,
    ctx: &RowContext<'_>,
    actions: &mut Vec<RowAction>,
) {
    let palette = ctx.palette;
    ui.spacing_mut().item_spacing.y = 1.0;
    let mut title = transfer.name.clone();
    if let Some(size) = transfer.size_bytes {
        title.push_str(&format!(" · {}", format_bytes(size)));
    }
    let name = ui.add(
        egui::Label::new(RichText::new(title).strong())
            .truncate()
            .sense(egui::Sense::click()),
    );
    let name = name.on_hover_text(&transfer.name);
    name.context_menu(|ui| row_menu_ui(ui, transfer, ctx.local_root, actions));
    let color = match &transfer.state {
        State::Failed { .. } => palette.error,
        State::Done => palette.success,
        _ => palette.muted,
    };
    let mut status = transfer.state.describe();
    if transfer.state == State::Queued {
        if ctx.offline {
            status.push_str(": not connected, see the message at the top or Settings");
        } else if ctx.paused {
            status.push_str(" (paused)");
        }
    }
    let label = egui::Label::new(RichText::new(&status).small().color(color));
    if full_reason {
        ui.add(label.wrap());
    } else {
        ui.add(label.truncate()).on_hover_text(status);
    }
}

/// While a row uploads: a thin bar along its foot.
fn upload_bar_ui(ui: &Ui, rect: egui::Rect, state: &State, palette: &Palette) {
    let State::Uploading {
        sent_bytes,
        total_bytes,
        ..
    } = state
    else {
        return;
    };
    let fraction = if *total_bytes == 0 {
        1.0
    } else {
        *sent_bytes as f32 / *total_bytes as f32
    };
    let bar = egui::Rect::from_min_size(
        egui::pos2(rect.left(), rect.bottom() - 2.0),
        egui::vec2(rect.width() * fraction, 2.0),
    );
    ui.painter().rect_filled(bar, 0.0, palette.accent);
}

/// The row's context menu: Open, Save to folder…, Copy key, Copy file path,
/// Reveal in file manager (local mode), Delete…, Remove from list.
pub(super) fn row_menu_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    local_root: Option<&Path>,
    actions: &mut Vec<RowAction>,
) {
    let name = transfer.image_name();
    let done = transfer.state == State::Done;
    if ui
        .add_enabled(done && name.is_some(), egui::Button::new("Open"))
        .clicked()
        && let Some(name) = &name
    {
        actions.push(RowAction::Open(name.clone()));
        ui.close();
    }
    if ui
        .add_enabled(done && name.is_some(), egui::Button::new("Save to folder…"))
        .clicked()
        && let Some(name) = &name
    {
        let keys = Angle::ALL
            .iter()
            .map(|angle| rotation_key(name, *angle))
            .collect();
        actions.push(RowAction::Send(Command::Gallery(
            GalleryCommand::SaveRotations { keys },
        )));
        ui.close();
    }
    copy_items_ui(ui, transfer, local_root, actions);
    if ui
        .add_enabled(
            name.is_some() && !transfer.state.is_active(),
            egui::Button::new("Delete…"),
        )
        .on_hover_text("Delete the upload and its rotations from the bucket (asks first)")
        .clicked()
        && let Some(name) = &name
    {
        actions.push(RowAction::Delete(name.clone()));
        ui.close();
    }
    if ui
        .add_enabled(
            !transfer.state.is_active(),
            egui::Button::new("Remove from list"),
        )
        .clicked()
    {
        actions.push(RowAction::Remove(transfer.id));
        ui.close();
    }
}

/// The menu's Copy key, Copy file path and Reveal in file manager (local mode).
fn copy_items_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    local_root: Option<&Path>,
    actions: &mut Vec<RowAction>,
) {
    if ui
        .add_enabled(transfer.upload_key.is_some(), egui::Button::new("Copy key"))
        .clicked()
        && let Some(key) = &transfer.upload_key
    {
        ui.ctx().copy_text(key.clone());
        ui.close();
    }
    if ui.button("Copy file path").clicked() {
        ui.ctx().copy_text(transfer.path.display().to_string());
        ui.close();
    }
    if let Some(root) = local_root {
        let stored = transfer
            .upload_key
            .as_deref()
            .map(|key| key.split('/').fold(root.to_owned(), |path, s| path.join(s)));
        if ui
            .add_enabled(
                stored.is_some(),
                egui::Button::new("Reveal in file manager"),
            )
            .clicked()
            && let Some(stored) = stored
        {
            actions.push(RowAction::Send(Command::Desktop(DesktopCommand::Reveal(
                stored,
            ))));
            ui.close();
        }
    }
}

/// Cancel while it moves (a processing row stops being watched; the upload
/// stays), else Retry where it can help and Remove.
pub(super) fn row_buttons_ui(ui: &mut Ui, transfer: &Transfer, actions: &mut Vec<RowAction>) {
    if transfer.state.is_active() {
        if ui.small_button("Cancel").clicked() {
            actions.push(RowAction::Send(Command::Transfer(TransferCommand::Cancel(
                transfer.id,
            ))));
        }
        return;
    }
    if ui
        .small_button("Remove")
        .on_hover_text("Remove the row from the list; what was uploaded stays")
        .clicked()
    {
        actions.push(RowAction::Remove(transfer.id));
    }
    if transfer.state.can_retry() && ui.small_button("Retry").clicked() {
        actions.push(RowAction::Send(Command::Transfer(TransferCommand::Retry(
            transfer.id,
        ))));
    }
}

/// The four rotations as they land; an empty frame for each still to come.
pub(super) fn rotations_ui(
    ui: &mut Ui,
    transfer: &Transfer,
    textures: Textures<'_>,
    palette: &Palette,
) {
    ui.horizontal(|ui| {
        ui.add_space(ROW_THUMB_PT + 8.0);
        for (angle, key) in Angle::ALL.iter().zip(&transfer.rotations) {
            let alt = format!("{} rotated {}°", transfer.name, angle.degrees());
            let texture = key.as_deref().and_then(&mut *textures);
            thumb_ui(ui, texture.as_ref(), ROTATION_THUMB_PT, &alt, palette);
            ui.label(
                RichText::new(format!("{}°", angle.degrees()))
                    .small()
                    .color(palette.muted),
            );
        }
    });
}
