//! The gallery: every processed image in the bucket, a page at a time, with
//! thumbnails loaded only for the cards on screen; and the detail view with the
//! four rotations large.

use std::collections::HashMap;

use augment_pipeline::{Angle, UploadKey};
use egui::{RichText, TextureHandle, Ui, Vec2};

use super::queue::thumb_ui;
use super::thumbs::{FULL_PX, GALLERY_THUMB_PX};
use super::worker::Command;
use super::{Palette, empty_state_ui};
use augment_client::ImageEntry;

/// Side of a gallery card's thumbnail, in points.
const CARD_THUMB_PT: f32 = 120.0;
/// Room under the thumbnail for the name, in points.
const CARD_LABEL_PT: f32 = 28.0;
/// Gap between cards, in points.
const CARD_GAP_PT: f32 = 10.0;
/// The detail view shows each rotation at up to its real size, in points.
const DETAIL_SIDE_PT: f32 = 256.0;

/// A thumbnail in the cache.
pub enum Thumb {
    Loading,
    Ready(TextureHandle),
    /// Missing or not decodable: a placeholder stays.
    Missing,
}

/// What the gallery knows: the entries listed so far and the thumbnails asked for.
#[derive(Default)]
pub struct Gallery {
    pub entries: Vec<ImageEntry>,
    /// Where the next page starts; `None` when everything is listed.
    pub next: Option<String>,
    pub loading: bool,
    /// The listing failed: the message, until a retry.
    pub error: Option<String>,
    /// Bumped on every reconnect, so a page from the old connection is dropped.
    pub generation: u64,
    pub filter: String,
    /// By key: card thumbnails (processed images) and detail images (rotations).
    pub thumbs: HashMap<String, Thumb>,
    /// The dialogs open over the window, bottom first (see [`dialogs_ui`]).
    pub dialogs: Vec<Dialog>,
    /// The last save's outcome, shown in the detail view.
    pub save_status: Option<Result<String, String>>,
}

impl Gallery {
    /// Forgets everything listed; the caller asks for the first page again.
    pub fn reset(&mut self) {
        let generation = self.generation + 1;
        *self = Self {
            generation,
            filter: std::mem::take(&mut self.filter),
            ..Self::default()
        };
    }

    /// The first page of the listing (after a reset or a retry).
    pub fn first_page(&mut self) -> Command {
        self.loading = true;
        self.error = None;
        Command::ListImages {
            cursor: None,
            generation: self.generation,
        }
    }

    /// Adds (or refreshes) one entry, newest first: an upload just finished.
    pub fn upsert(&mut self, entry: ImageEntry) {
        self.thumbs.remove(&entry.processed_key);
        for angle in Angle::ALL {
            self.thumbs.remove(&rotation_key(&entry.name, angle));
        }
        self.entries.retain(|e| e.name != entry.name);
        self.entries.insert(0, entry);
    }

    /// A texture for `key`, asking the worker for it the first time.
    fn thumb(
        &mut self,
        key: &str,
        side: u32,
        commands: &mut Vec<Command>,
    ) -> Option<&TextureHandle> {
        let thumb = self.thumbs.entry(key.to_owned()).or_insert_with(|| {
            commands.push(Command::Thumbnail {
                key: key.to_owned(),
                side,
            });
            Thumb::Loading
        });
        match thumb {
            Thumb::Ready(texture) => Some(texture),
            Thumb::Loading | Thumb::Missing => None,
        }
    }

    fn visible(&self) -> Vec<usize> {
        let filter = self.filter.trim().to_lowercase();
        (0..self.entries.len())
            .filter(|&i| filter.is_empty() || self.entries[i].name.to_lowercase().contains(&filter))
            .collect()
    }
}

/// The key of one rotation of the upload named `name`.
pub fn rotation_key(name: &str, angle: Angle) -> String {
    // The extension does not enter output keys; any accepted one will do.
    UploadKey::from_name(name, "jpg")
        .map_or_else(|_| String::new(), |upload| upload.rotation_key(angle))
}

/// The gallery panel: filter box, the card grid, and more pages on demand.
pub fn gallery_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    palette: &Palette,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        ui.heading("Gallery");
        ui.label(RichText::new(count_text(gallery)).color(palette.muted));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            ui.add(
                egui::TextEdit::singleline(&mut gallery.filter)
                    .hint_text("Filter by name")
                    .desired_width(180.0),
            )
            .labelled_by(ui.label("Filter").id);
        });
    });
    if let Some(error) = gallery.error.clone() {
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!("Could not list the images: {error}")).color(palette.error),
            );
            if ui.button("Try again").clicked() {
                commands.push(gallery.first_page());
            }
        });
    }
    ui.add_space(4.0);

    let visible = gallery.visible();
    if visible.is_empty() {
        if gallery.loading {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Listing the images…");
            });
        } else if gallery.entries.is_empty() {
            empty_state_ui(
                ui,
                "No processed images yet",
                "Each image you upload appears here with its four rotations.",
            );
        } else {
            ui.label(RichText::new("No image names match the filter.").color(palette.muted));
        }
        return;
    }

    let card = Vec2::new(CARD_THUMB_PT, CARD_THUMB_PT + CARD_LABEL_PT);
    let per_row =
        (((ui.available_width() + CARD_GAP_PT) / (card.x + CARD_GAP_PT)).floor() as usize).max(1);
    let rows = visible.len().div_ceil(per_row);
    let mut shown_to = 0;
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show_rows(ui, card.y + CARD_GAP_PT, rows, |ui, range| {
            shown_to = range.end;
            for row in range {
                ui.horizontal(|ui| {
                    ui.spacing_mut().item_spacing.x = CARD_GAP_PT;
                    for &index in visible.iter().skip(row * per_row).take(per_row) {
                        card_ui(ui, gallery, index, card, palette, commands);
                    }
                });
                ui.add_space(CARD_GAP_PT - ui.spacing().item_spacing.y);
            }
        });
    // Near the end of what is listed: ask for the next page.
    if shown_to + 2 >= rows
        && !gallery.loading
        && gallery.error.is_none()
        && let Some(cursor) = gallery.next.clone()
    {
        gallery.loading = true;
        commands.push(Command::ListImages {
            cursor: Some(cursor),
            generation: gallery.generation,
        });
    }
}

fn count_text(gallery: &Gallery) -> String {
    let n = gallery.entries.len();
    let more = if gallery.next.is_some() { "+" } else { "" };
    match n {
        0 => String::new(),
        1 => "1 image".to_owned(),
        _ => format!("{n}{more} images"),
    }
}

fn card_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    index: usize,
    card: Vec2,
    palette: &Palette,
    commands: &mut Vec<Command>,
) {
    let (name, key) = {
        let entry = &gallery.entries[index];
        (entry.name.clone(), entry.processed_key.clone())
    };
    let texture = gallery.thumb(&key, GALLERY_THUMB_PX, commands).cloned();
    let response = ui
        .allocate_ui(card, |ui| {
            ui.vertical(|ui| {
                thumb_ui(ui, texture.as_ref(), CARD_THUMB_PT, &name, palette);
                ui.add(egui::Label::new(RichText::new(&name).small()).truncate());
            })
        })
        .response;
    let response = ui
        .interact(
            response.rect,
            ui.make_persistent_id(("card", &name)),
            egui::Sense::click(),
        )
        .on_hover_text(format!("{name}: open the four rotations"));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    if response.hovered() {
        ui.painter().rect_stroke(
            response.rect.expand(2.0),
            6.0,
            egui::Stroke::new(2.0, palette.accent),
            egui::StrokeKind::Outside,
        );
    }
    if response.clicked() {
        gallery.dialogs.push(Dialog::Detail { name });
        gallery.save_status = None;
    }
}

/// A dialog over the window. Several can be open, one over the other (the
/// delete confirmation over the detail view); they live in [`Gallery::dialogs`],
/// bottom first, and that list is the only record of what is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// The four rotations of the entry with this name, large.
    Detail { name: String },
    /// "Delete …?" for the entry with this name.
    ConfirmDelete { name: String },
}

impl Dialog {
    fn id(&self) -> egui::Id {
        match self {
            Self::Detail { .. } => egui::Id::unique("detail"),
            Self::ConfirmDelete { .. } => egui::Id::unique("confirm-delete"),
        }
    }
}

/// What a dialog's buttons asked for.
enum DialogAction {
    /// Close this dialog (the one under it, if any, takes over).
    Close,
    /// Open another dialog over this one.
    Open(Dialog),
    /// Delete the entry: every dialog about it closes.
    Delete(String),
}

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
        let response = modal.show(ctx, |ui| match &dialog {
            Dialog::Detail { name } => detail_ui(ui, gallery, name, palette, commands),
            Dialog::ConfirmDelete { name } => confirm_delete_ui(ui, name, palette),
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
    match action {
        None => {}
        Some(DialogAction::Close) => {
            gallery.dialogs.pop();
        }
        Some(DialogAction::Open(dialog)) => gallery.dialogs.push(dialog),
        Some(DialogAction::Delete(name)) => {
            commands.push(Command::Delete { name: name.clone() });
            gallery.dialogs.retain(|dialog| match dialog {
                Dialog::Detail { name: open } | Dialog::ConfirmDelete { name: open } => {
                    *open != name
                }
            });
        }
    }
}

/// The detail view: the four rotations of `name`, Save to folder…, Delete…, Close.
fn detail_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    name: &str,
    palette: &Palette,
    commands: &mut Vec<Command>,
) -> Option<DialogAction> {
    let keys: Vec<String> = Angle::ALL.iter().map(|&a| rotation_key(name, a)).collect();
    ui.heading(name);
    ui.label(
        RichText::new("Rotated counter-clockwise; 360° is the upright image.").color(palette.muted),
    );
    ui.add_space(8.0);
    let side = (ui.ctx().content_rect().width() * 0.8 / 4.0).clamp(96.0, DETAIL_SIDE_PT);
    ui.horizontal(|ui| {
        for (angle, key) in Angle::ALL.iter().zip(&keys) {
            let texture = gallery.thumb(key, FULL_PX, commands).cloned();
            ui.vertical(|ui| {
                let alt = format!("{name} rotated {}°", angle.degrees());
                thumb_ui(ui, texture.as_ref(), side, &alt, palette);
                ui.label(format!("{}°", angle.degrees()));
            });
        }
    });
    if let Some(status) = &gallery.save_status {
        let (text, color) = match status {
            Ok(text) => (text, palette.success),
            Err(text) => (text, palette.error),
        };
        ui.label(RichText::new(text).color(color));
    }
    ui.add_space(8.0);
    let mut action = None;
    ui.horizontal(|ui| {
        if ui.button("Save to folder…").clicked() {
            gallery.save_status = None;
            commands.push(Command::SaveRotations { keys: keys.clone() });
        }
        if ui.button("Delete…").clicked() {
            action = Some(DialogAction::Open(Dialog::ConfirmDelete {
                name: name.to_owned(),
            }));
        }
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close").clicked() {
                action = Some(DialogAction::Close);
            }
        });
    });
    action
}

/// "Delete “name”?" with Delete and Keep it.
fn confirm_delete_ui(ui: &mut Ui, name: &str, palette: &Palette) -> Option<DialogAction> {
    ui.heading(format!("Delete “{name}”?"));
    ui.label(
        "This removes the upload, the processed image and its four rotations. It cannot be undone.",
    );
    ui.add_space(8.0);
    let mut action = None;
    ui.horizontal(|ui| {
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
