//! The dialogs over the window: one stack, bottom first, whose top is drawn
//! on top and alone takes clicks and Esc; each at most the window's size.

use augment_pipeline::Output;
use egui::{RichText, Ui};

use super::model::Thumb;
use super::model::{Dialog, Gallery};
use super::ui::{card_state, picture_ui};
use crate::command::{Command, GalleryCommand};
use crate::style::Palette;
use crate::thumbs::FULL_PX;

/// The detail view shows each rotation at up to its real size, in points.
pub(super) const DETAIL_SIDE_PT: f32 = 256.0;

/// What a dialog's buttons asked for.
pub(super) enum DialogAction {
    /// Close this dialog (the one under it, if any, takes over).
    Close,
    /// Open another dialog over this one.
    Open(Dialog),
    /// Show another entry in this (detail) dialog: ←/→.
    Show(String),
    /// Delete the entry: every dialog about it closes.
    Delete(String),
}

/// The keyboard shortcuts, as the Help dialog lists them.
pub const SHORTCUTS: &[(&str, &str)] = &[
    (
        "Tab / Shift+Tab",
        "Move between buttons, fields and the gallery",
    ),
    ("Arrow keys", "Move between gallery cards"),
    ("Home / End", "First / last card"),
    (
        "Enter or Space",
        "Open the card (or press the button) with the focus",
    ),
    ("Left / Right", "Previous / next image in the detail view"),
    ("Delete", "Delete the image with the focus (asks first)"),
    (
        "Shift+F10 or Menu",
        "A queue row's menu, from its picture or name",
    ),
    ("Esc", "Close the dialog, the status panel or Settings"),
    ("Ctrl+O", "Add images…"),
    ("Ctrl+D", "Download all…"),
    ("Ctrl+E", "Export dataset…"),
    ("Ctrl+Q", "Quit (asks first while files are moving)"),
    ("F1", "This help"),
];

/// The open dialogs, bottom first. The last one is drawn on top and is the only
/// one that takes input: its buttons, Esc and a click outside it close it alone.
pub fn dialogs_ui(
    ctx: &egui::Context,
    gallery: &mut Gallery,
    palette: &Palette,
    commands: &mut Vec<Command>,
) {
    let Some(top) = gallery.dialogs.len().checked_sub(1) else {
        return;
    };
    let mut action = None;
    for index in 0..=top {
        let dialog = gallery.dialogs[index].clone();
        let modal = egui::Modal::new(dialog.id());
        if index == top {
            // Over the others whatever was clicked last: a click on the lower
            // dialog (its "Delete…") raised that one, and egui keeps an area's
            // place in the order between openings.
            ctx.move_to_top(modal.area.layer());
        }
        let response = modal.show(ctx, |ui| {
            // Never larger than the window (200 % scale, 800×500): what does
            // not fit scrolls.
            let window = ctx.content_rect();
            ui.set_max_width(window.width() - DIALOG_MARGIN_PT);
            egui::ScrollArea::vertical()
                .max_height(window.height() - DIALOG_MARGIN_PT)
                .show(ui, |ui| match &dialog {
                    Dialog::Detail { name } => {
                        detail_ui(ui, gallery, name, index == top, palette, commands)
                    }
                    Dialog::ConfirmDelete { name } => confirm_delete_ui(ui, name, palette),
                    Dialog::Help => help_ui(ui, palette),
                })
                .inner
        });
        if index == top {
            // Esc is this dialog's from its first frame on (egui's own rule waits
            // a frame for the new top), and never reaches the one under it.
            let closed = response.backdrop_response.clicked()
                || ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape));
            action = response
                .inner
                .or_else(|| closed.then_some(DialogAction::Close));
        }
    }
    if let Some(action) = action {
        apply(gallery, action, commands);
    }
}

/// What the top dialog asked for, done to the stack.
fn apply(gallery: &mut Gallery, action: DialogAction, commands: &mut Vec<Command>) {
    match action {
        DialogAction::Close => {
            if let Some(Dialog::Detail { name }) = gallery.dialogs.pop()
                && std::mem::take(&mut gallery.detail_moved)
            {
                // Back to the card last shown, not to the one that opened the
                // view (else the app's focus returns give it back).
                gallery.focus_request = Some(name);
            }
        }
        DialogAction::Open(dialog) => gallery.dialogs.push(dialog),
        DialogAction::Show(name) => {
            if let Some(Dialog::Detail { name: open }) = gallery.dialogs.last_mut() {
                *open = name;
                gallery.save_status = None;
                gallery.detail_moved = true;
            }
        }
        DialogAction::Delete(name) => {
            commands.push(Command::Gallery(GalleryCommand::Delete {
                name: name.clone(),
            }));
            gallery.detail_moved = false;
            gallery.dialogs.retain(|dialog| match dialog {
                Dialog::Detail { name: open } | Dialog::ConfirmDelete { name: open } => {
                    *open != name
                }
                Dialog::Help => true,
            });
        }
    }
}

/// Room kept between a dialog and the window's edges, in points (both sides).
pub(super) const DIALOG_MARGIN_PT: f32 = 64.0;

/// Height of everything in the detail view but the rotations, in points
/// (heading, caption, labels, buttons, frame).
pub(super) const DETAIL_CHROME_PT: f32 = 190.0;

/// Height kept for the save's outcome ("Saved 4 images to …", two lines).
pub(super) const SAVE_STATUS_PT: f32 = 40.0;

/// The detail view: the four rotations of `name`, Save to folder…, Delete…,
/// Close; ←/→ show the previous and next image, Delete asks to delete it.
pub(super) fn detail_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    name: &str,
    on_top: bool,
    palette: &Palette,
    commands: &mut Vec<Command>,
) -> Option<DialogAction> {
    let keys: Vec<String> = Output::ROTATIONS
        .iter()
        .map(|output| output.key_of_name(name))
        .collect();
    ui.add(egui::Label::new(RichText::new(name).heading()).truncate());
    ui.add(
        egui::Label::new(
            RichText::new("Rotated counter-clockwise; 360° is the upright image.")
                .color(palette.muted),
        )
        .wrap(),
    );
    ui.add_space(8.0);
    detail_pictures_ui(ui, gallery, name, &keys, palette, commands);
    if let Some(status) = &gallery.save_status {
        let (text, color) = match status {
            Ok(text) => (text, palette.success),
            Err(text) => (text, palette.error),
        };
        ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
    }
    ui.add_space(8.0);
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Save to folder…")
            .on_hover_text("Download the four rotations into a folder you choose")
            .clicked()
        {
            gallery.save_status = None;
            commands.push(Command::Gallery(GalleryCommand::SaveRotations { keys: keys.clone() }));
        }
        if ui
            .button("Delete…")
            .on_hover_text(
                "Delete this image from the bucket: the upload, the processed image and the rotations (asks first)",
            )
            .clicked()
        {
            action = Some(DialogAction::Open(Dialog::ConfirmDelete {
                name: name.to_owned(),
            }));
        }
        if ui.button("Close").on_hover_text("Esc").clicked() {
            action = Some(DialogAction::Close);
        }
    });
    if on_top && action.is_none() {
        action = detail_keys(ui, gallery, name);
    }
    action
}

/// The four rotations side by side, as large as the window lets them be.
fn detail_pictures_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    name: &str,
    keys: &[String],
    palette: &Palette,
    commands: &mut Vec<Command>,
) {
    let window = ui.ctx().content_rect();
    let gap = ui.spacing().item_spacing.x;
    let by_width = (window.width() - DIALOG_MARGIN_PT - 24.0) / 4.0 - gap;
    // The save's outcome takes a line or two under the pictures.
    let status_pt = if gallery.save_status.is_some() {
        SAVE_STATUS_PT
    } else {
        0.0
    };
    let by_height = window.height() - DIALOG_MARGIN_PT - DETAIL_CHROME_PT - status_pt;
    let side = by_width.min(by_height).clamp(48.0, DETAIL_SIDE_PT);
    ui.horizontal(|ui| {
        for (output, key) in Output::ROTATIONS.iter().zip(keys) {
            let Some(angle) = output.angle() else {
                continue;
            };
            let thumb = gallery.thumb(key, FULL_PX, commands);
            let state = card_state(thumb);
            let texture = match thumb {
                Thumb::Ready(texture) => Some(texture.clone()),
                _ => None,
            };
            ui.vertical(|ui| {
                let alt = format!("{name} rotated {}°", angle.degrees());
                picture_ui(ui, texture.as_ref(), side, &alt, state, palette);
                ui.label(format!("{}°", angle.degrees()));
            });
        }
    });
}

/// The detail view's keys: ←/→ the previous and next image, Delete asks.
fn detail_keys(ui: &Ui, gallery: &Gallery, name: &str) -> Option<DialogAction> {
    ui.input_mut(|i| {
        let mut pressed = |key| i.consume_key(egui::Modifiers::NONE, key);
        if pressed(egui::Key::ArrowLeft) {
            gallery.neighbour(name, -1).map(DialogAction::Show)
        } else if pressed(egui::Key::ArrowRight) {
            gallery.neighbour(name, 1).map(DialogAction::Show)
        } else if pressed(egui::Key::Delete) {
            Some(DialogAction::Open(Dialog::ConfirmDelete {
                name: name.to_owned(),
            }))
        } else {
            None
        }
    })
}

/// "Delete “name”?" with Delete and Keep it.
pub(super) fn confirm_delete_ui(
    ui: &mut Ui,
    name: &str,
    palette: &Palette,
) -> Option<DialogAction> {
    ui.add(egui::Label::new(RichText::new(format!("Delete “{name}”?")).heading()).wrap());
    ui.add(
        egui::Label::new(
            "This removes the upload and everything made from it: the processed image and its four rotations, or the record of why it was rejected. It cannot be undone.",
        )
        .wrap(),
    );
    ui.add_space(8.0);
    let mut action = None;
    ui.horizontal_wrapped(|ui| {
        let delete =
            egui::Button::new(RichText::new("Delete").color(palette.on_danger)).fill(palette.error);
        if ui.add(delete).clicked() {
            action = Some(DialogAction::Delete(name.to_owned()));
        }
        if ui.button("Keep it").clicked() {
            action = Some(DialogAction::Close);
        }
    });
    action
}

/// Help: what the app does and every keyboard shortcut.
pub(super) fn help_ui(ui: &mut Ui, palette: &Palette) -> Option<DialogAction> {
    ui.heading("Keyboard shortcuts");
    ui.add(
        egui::Label::new(
            RichText::new(format!(
                "Augment {}: drop JPEG or PNG images, get them back fitted to 256×256 and rotated four ways.",
                env!("CARGO_PKG_VERSION")
            ))
            .color(palette.muted),
        )
        .wrap(),
    );
    ui.add_space(8.0);
    egui::Grid::new("shortcuts")
        .num_columns(2)
        .spacing([16.0, 6.0])
        .show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.label(RichText::new(*keys).strong());
                ui.add(egui::Label::new(*what).wrap());
                ui.end_row();
            }
        });
    ui.add_space(8.0);
    ui.button("Close").clicked().then_some(DialogAction::Close)
}
