//! One row of the queue: its thumbnail, name and status, its buttons, its
//! context menu, its rotations; and what the row's controls ask for.

use std::path::Path;

use augment_pipeline::Output;
use egui::{RichText, TextureHandle, Ui};

use super::model::{State, Transfer};
use crate::command::{Command, DesktopCommand, GalleryCommand, TransferCommand, TransferId};
use crate::focus::context_menu;
use crate::format::format_bytes;
use crate::style::{Palette, thumb_ui, thumb_with_sense};

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

/// The texture of a key from the app's bounded cache (loaded on demand).
pub type Textures<'a> = &'a mut dyn FnMut(&str) -> Option<TextureHandle>;

/// What every row needs besides itself.
pub(super) struct RowContext<'a> {
    pub(super) offline: bool,
    pub(super) local_root: Option<&'a Path>,
    pub(super) paused: bool,
    pub(super) palette: &'a Palette,
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
            context_menu(&thumb, |ui| {
                row_menu_ui(ui, transfer, ctx.local_root, actions);
            });
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
    context_menu(&name, |ui| {
        row_menu_ui(ui, transfer, ctx.local_root, actions);
    });
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
        let keys = Output::ROTATIONS
            .iter()
            .map(|output| output.key_of_name(name))
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
        for output in Output::ROTATIONS {
            let Some(angle) = output.angle() else {
                continue;
            };
            let alt = format!("{} rotated {}°", transfer.name, angle.degrees());
            let key = transfer.outputs.get(&output);
            let texture = key.map(String::as_str).and_then(&mut *textures);
            thumb_ui(ui, texture.as_ref(), ROTATION_THUMB_PT, &alt, palette);
            ui.label(
                RichText::new(format!("{}°", angle.degrees()))
                    .small()
                    .color(palette.muted),
            );
        }
    });
}
