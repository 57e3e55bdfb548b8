//! The gallery: every processed image in the bucket, a page at a time, with
//! thumbnails loaded only for the cards on screen; and the detail view with the
//! four rotations large.

use std::collections::HashMap;

use augment_pipeline::{Angle, Output};
use egui::{RichText, TextureHandle, Ui, Vec2};

use super::queue::thumb_ui;
use super::thumbs::{FULL_PX, GALLERY_THUMB_PX, NoImage};
use super::worker::Command;
use super::{Palette, empty_state_ui};
use augment_client::{ImageEntry, RejectedEntry};

/// Side of a gallery card's thumbnail, in points.
const CARD_THUMB_PT: f32 = 120.0;
/// Textures kept once they are off screen (cards, detail images, the queue's
/// rotations): at most 256 KiB each, so about 64 MiB. More than a 4K screen
/// of cards and an open detail view; what is on screen is never let go.
pub const MAX_TEXTURES: usize = 256;
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
    /// No picture, and why: a placeholder stays.
    Missing(NoImage),
}

/// The order of the cards. The order never changes by itself: images that
/// arrive during a batch wait in [`Gallery::pending`] until "show".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// By name, A to Z (the bucket's own order).
    #[default]
    Name,
    /// Newest first (by the processed image's time), then by name.
    Newest,
}

impl Sort {
    fn label(self) -> &'static str {
        match self {
            Self::Name => "Name",
            Self::Newest => "Newest",
        }
    }
}

/// What the panel shows: the processed images, or the uploads the pipeline
/// rejected (their originals stay in the bucket until deleted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum View {
    #[default]
    Images,
    Rejected,
}

/// Height of a row of the rejected list, in points.
const REJECTED_ROW_PT: f32 = 44.0;

/// What the gallery knows: the entries listed so far and the thumbnails asked for.
#[derive(Default)]
pub struct Gallery {
    /// In [`Gallery::sort`] order.
    pub entries: Vec<ImageEntry>,
    /// Finished while the pointer was over the cards (or one had the keyboard
    /// focus): announced ("3 new — Show"), added on "Show" or once the pointer
    /// leaves them, so no card moves under the pointer.
    pub pending: Vec<ImageEntry>,
    /// Last frame the pointer was over the cards, or a card had the focus.
    holding: bool,
    pub sort: Sort,
    pub view: View,
    /// The uploads the pipeline rejected, by name: listed from `failed/`, and
    /// joined by the rejections of this session's batches.
    pub rejected: Vec<RejectedEntry>,
    /// Where the next page of `failed/` starts; `None` when all are listed.
    pub rejected_next: Option<String>,
    pub rejected_loading: bool,
    /// Where the next page starts; `None` when everything is listed.
    pub next: Option<String>,
    pub loading: bool,
    /// The listing failed: the message, until a retry.
    pub error: Option<String>,
    /// Bumped on every reconnect, so a page from the old connection is dropped.
    pub generation: u64,
    pub filter: String,
    /// By key: card thumbnails (processed images) and detail images (rotations),
    /// also the queue's rotations. At most [`MAX_TEXTURES`] are kept past a
    /// frame (see [`Gallery::trim`]).
    pub thumbs: HashMap<String, Thumb>,
    /// The frame each texture in `thumbs` was last asked for.
    used: HashMap<String, u64>,
    /// Frames drawn so far (bumped by [`Gallery::trim`]).
    frame: u64,
    /// The dialogs open over the window, bottom first (see [`dialogs_ui`]).
    pub dialogs: Vec<Dialog>,
    /// The last save's outcome, shown in the detail view.
    pub save_status: Option<Result<String, String>>,
    /// The card to give keyboard focus to when it is next drawn (arrow keys,
    /// closing the detail view), scrolled into view.
    focus_request: Option<String>,
    /// Rows of cards drawn last frame, to know when a focus request must scroll.
    rows_shown: std::ops::Range<usize>,
}

impl Gallery {
    /// Forgets everything listed; the caller asks for the first page again.
    pub fn reset(&mut self) {
        let generation = self.generation + 1;
        *self = Self {
            generation,
            filter: std::mem::take(&mut self.filter),
            sort: self.sort,
            view: self.view,
            ..Self::default()
        };
    }

    /// The first pages of both listings, images and rejections (after a reset
    /// or a retry).
    pub fn first_page(&mut self) -> [Command; 2] {
        self.loading = true;
        self.rejected_loading = true;
        self.error = None;
        [
            Command::ListImages {
                cursor: None,
                generation: self.generation,
            },
            Command::ListRejected {
                cursor: None,
                generation: self.generation,
            },
        ]
    }

    /// A page of `failed/`: each entry joins by name, as [`Gallery::add_rejected`].
    pub fn add_rejected_page(&mut self, items: Vec<RejectedEntry>, next: Option<String>) {
        for item in items {
            self.add_rejected(item);
        }
        self.rejected_next = next;
    }

    /// A rejection joins the list, kept by name, in place of an earlier one of
    /// the same name (the pipeline just rejected it again, or a page listed it).
    pub fn add_rejected(&mut self, entry: RejectedEntry) {
        match self.rejected.binary_search_by(|e| e.name.cmp(&entry.name)) {
            Ok(at) => self.rejected[at] = entry,
            Err(at) => self.rejected.insert(at, entry),
        }
    }

    /// Indices into `rejected` that the filter lets through, in order.
    pub fn visible_rejected(&self) -> Vec<usize> {
        let matches = self.filter_matcher();
        (0..self.rejected.len())
            .filter(|&i| matches(&self.rejected[i].name))
            .collect()
    }

    /// Whether a name passes the filter box (case-insensitive, anywhere).
    fn filter_matcher(&self) -> impl Fn(&str) -> bool {
        let filter = self.filter.trim().to_lowercase();
        move |name| filter.is_empty() || name.to_lowercase().contains(&filter)
    }

    /// A page of the listing: entries not seen yet join, in the current order.
    pub fn add_page(&mut self, items: Vec<ImageEntry>, next: Option<String>) {
        for item in items {
            if !self.entries.iter().any(|e| e.name == item.name) {
                self.pending.retain(|e| e.name != item.name);
                self.entries.push(item);
            }
        }
        self.next = next;
        self.sort_entries();
    }

    /// An upload just finished. A name already shown is refreshed in place; a
    /// new one joins at once only where no card moves for it (at the end), else
    /// it waits in [`Gallery::pending`], so the cards under the pointer stay
    /// where they are.
    pub fn upsert(&mut self, mut entry: ImageEntry) {
        self.thumbs.remove(&entry.processed_key);
        for angle in Angle::ALL {
            self.thumbs.remove(&rotation_key(&entry.name, angle));
        }
        if entry.last_modified.is_none() {
            entry.last_modified = Some(std::time::SystemTime::now());
        }
        // The pipeline deleted the stale record of an earlier rejection.
        self.rejected.retain(|e| e.name != entry.name);
        let appends = match self.sort {
            // After every card shown: joining at the end moves none of them.
            Sort::Name => self
                .entries
                .last()
                .is_none_or(|last| last.name < entry.name),
            Sort::Newest => self.entries.is_empty(),
        };
        if let Some(shown) = self.entries.iter_mut().find(|e| e.name == entry.name) {
            *shown = entry;
        } else if appends && self.pending.is_empty() {
            self.entries.push(entry);
        } else {
            self.pending.retain(|e| e.name != entry.name);
            self.pending.push(entry);
        }
    }

    /// "Show": the waiting entries join the cards, in the current order.
    pub fn show_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.entries.append(&mut self.pending);
        self.sort_entries();
    }

    /// Forgets one entry (it was deleted), image or rejection.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|e| e.name != name);
        self.pending.retain(|e| e.name != name);
        self.rejected.retain(|e| e.name != name);
    }

    fn sort_entries(&mut self) {
        match self.sort {
            Sort::Name => self.entries.sort_by(|a, b| a.name.cmp(&b.name)),
            Sort::Newest => self.entries.sort_by(|a, b| {
                b.last_modified
                    .cmp(&a.last_modified)
                    .then_with(|| a.name.cmp(&b.name))
            }),
        }
    }

    /// The texture for `key` once it is loaded, asking the worker for it the
    /// first time (or again after [`Gallery::trim`] let it go).
    pub fn texture(
        &mut self,
        key: &str,
        side: u32,
        commands: &mut Vec<Command>,
    ) -> Option<TextureHandle> {
        match self.thumb(key, side, commands) {
            Thumb::Ready(texture) => Some(texture.clone()),
            _ => None,
        }
    }

    /// Lets go of the textures not asked for this frame beyond the newest
    /// [`MAX_TEXTURES`] (a texture is 256 KiB at full size: a batch of a
    /// thousand files once kept 4,000 of them, about 1 GiB). Called once a
    /// frame, after drawing; one still loading is kept.
    pub fn trim(&mut self) {
        let frame = self.frame;
        self.frame += 1;
        if self.thumbs.len() <= MAX_TEXTURES {
            return;
        }
        // Never asked for (a rotation that landed in a row) sorts first.
        let mut idle: Vec<(Option<u64>, String)> = self
            .thumbs
            .iter()
            .filter(|(_, thumb)| !matches!(thumb, Thumb::Loading))
            .map(|(key, _)| (self.used.get(key).copied(), key.clone()))
            .filter(|(used, _)| used.is_none_or(|used| used < frame))
            .collect();
        idle.sort_unstable();
        self.used.retain(|key, _| self.thumbs.contains_key(key));
        let excess = self.thumbs.len() - MAX_TEXTURES;
        for (_, key) in idle.into_iter().take(excess) {
            self.thumbs.remove(&key);
            self.used.remove(&key);
        }
    }

    /// A texture for `key`, asking the worker for it the first time.
    fn thumb(&mut self, key: &str, side: u32, commands: &mut Vec<Command>) -> &Thumb {
        self.used.insert(key.to_owned(), self.frame);
        self.thumbs.entry(key.to_owned()).or_insert_with(|| {
            commands.push(Command::Thumbnail {
                key: key.to_owned(),
                side,
            });
            Thumb::Loading
        })
    }

    /// Indices into `entries` of the cards the filter lets through, in order.
    pub fn visible(&self) -> Vec<usize> {
        let matches = self.filter_matcher();
        (0..self.entries.len())
            .filter(|&i| matches(&self.entries[i].name))
            .collect()
    }

    /// The visible entry `step` places from `name` (clamped at the ends).
    fn neighbour(&self, name: &str, step: isize) -> Option<String> {
        let visible = self.visible();
        let at = visible.iter().position(|&i| self.entries[i].name == name)?;
        let to = at
            .saturating_add_signed(step)
            .min(visible.len().saturating_sub(1));
        Some(self.entries[visible[to]].name.clone())
    }
}

/// The key of one rotation of the upload named `name`.
pub fn rotation_key(name: &str, angle: Angle) -> String {
    Output::Rotation(angle).key_of_name(name)
}

/// The id of the card of `name`: the same wherever the card is drawn, so focus
/// can be sent back to it.
pub fn card_id(name: &str) -> egui::Id {
    egui::Id::unique(("gallery-card", name))
}

/// The gallery panel: its header (count, sort, filter), the card grid, and the
/// rest of the listing fetched in the background.
pub fn gallery_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    palette: &Palette,
    commands: &mut Vec<Command>,
) {
    // Nobody is at the cards: nothing can slide under a pointer or a focus.
    if !gallery.holding {
        gallery.show_pending();
    }
    gallery.holding = false;
    header_ui(ui, gallery, palette);
    if let Some(error) = gallery.error.clone() {
        ui.horizontal_wrapped(|ui| {
            ui.label(
                RichText::new(format!("Could not list the images: {error}")).color(palette.error),
            );
            if ui.button("Try again").clicked() {
                commands.extend(gallery.first_page());
            }
        });
    }
    announcement_ui(ui, gallery, palette);
    // The whole listing, page after page: true counts, and a sort over all.
    if !gallery.loading
        && gallery.error.is_none()
        && let Some(cursor) = gallery.next.clone()
    {
        gallery.loading = true;
        commands.push(Command::ListImages {
            cursor: Some(cursor),
            generation: gallery.generation,
        });
    }
    if !gallery.rejected_loading
        && gallery.error.is_none()
        && let Some(cursor) = gallery.rejected_next.clone()
    {
        gallery.rejected_loading = true;
        commands.push(Command::ListRejected {
            cursor: Some(cursor),
            generation: gallery.generation,
        });
    }
    if gallery.view == View::Rejected {
        rejected_ui(ui, gallery, palette);
        return;
    }

    let visible = gallery.visible();
    if visible.is_empty() {
        if gallery.loading {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Listing the images…");
            });
        } else if gallery.error.is_some() {
            // The error above says it all; "no images yet" might not be true.
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
    grid_ui(ui, gallery, &visible, palette, commands);
}

/// "Gallery", the count, the view, the sort and the filter; wraps onto more
/// lines in a narrow window rather than overlapping.
fn header_ui(ui: &mut Ui, gallery: &mut Gallery, palette: &Palette) {
    ui.horizontal_wrapped(|ui| {
        ui.heading("Gallery");
        ui.label(RichText::new(count_text(gallery)).color(palette.muted));
        ui.add_space(8.0);
        // Always there (greyed out at 0), so the header does not reflow when
        // the first rejection arrives.
        let rejected = gallery.rejected.len();
        let so_far = if gallery.rejected_next.is_some() {
            "+"
        } else {
            ""
        };
        let on = gallery.view == View::Rejected;
        let toggle = ui
            .add_enabled(
                rejected > 0 || on,
                egui::Button::selectable(on, format!("Rejected ({rejected}{so_far})")),
            )
            .on_hover_text("Uploads the pipeline could not use, and why")
            .on_disabled_hover_text("No upload was rejected");
        if toggle.clicked() {
            gallery.view = if on { View::Images } else { View::Rejected };
        }
        ui.add_space(8.0);
        // Each label wraps with its control, never apart from it, and a control
        // that would not fit whole starts the next line.
        if ui.available_size_before_wrap().x < SORT_GROUP_PT {
            ui.end_row();
        }
        ui.horizontal(|ui| {
            let sort_label = ui.label("Sort");
            let before = gallery.sort;
            egui::ComboBox::from_id_salt("gallery-sort")
                .selected_text(gallery.sort.label())
                .show_ui(ui, |ui| {
                    for sort in [Sort::Name, Sort::Newest] {
                        ui.selectable_value(&mut gallery.sort, sort, sort.label());
                    }
                })
                .response
                .labelled_by(sort_label.id);
            if gallery.sort != before {
                gallery.show_pending();
            }
        });
        ui.add_space(8.0);
        if ui.available_size_before_wrap().x < FILTER_GROUP_PT {
            ui.end_row();
        }
        ui.horizontal(|ui| {
            let filter_label = ui.label("Filter");
            ui.add(
                egui::TextEdit::singleline(&mut gallery.filter)
                    .hint_text("Filter by name")
                    .desired_width(160.0),
            )
            .labelled_by(filter_label.id);
        });
    });
}

/// Width of "Sort" and its menu, and of "Filter" and its box, in points: the
/// header wraps before either rather than squeeze it.
const SORT_GROUP_PT: f32 = 170.0;
const FILTER_GROUP_PT: f32 = 220.0;

/// "3 new images — Show", in a line that is always there (empty when there is
/// nothing new), so announcing them does not move the cards either.
fn announcement_ui(ui: &mut Ui, gallery: &mut Gallery, palette: &Palette) {
    let height = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(
        Vec2::new(ui.available_width(), height),
        egui::Layout::left_to_right(egui::Align::Center),
        |ui| {
            ui.set_min_height(height);
            let n = gallery.pending.len();
            if n == 0 {
                return;
            }
            let text = if n == 1 {
                "1 new image".to_owned()
            } else {
                format!("{n} new images")
            };
            ui.label(RichText::new(text).color(palette.accent));
            if ui
                .small_button("Show")
                .on_hover_text("Add the images finished since the cards were laid out")
                .clicked()
            {
                gallery.show_pending();
            }
        },
    );
}

/// The rejected uploads, a row each: name, reason, Delete… (asks first).
fn rejected_ui(ui: &mut Ui, gallery: &mut Gallery, palette: &Palette) {
    ui.horizontal_wrapped(|ui| {
        if ui.button("Back to the images").clicked() {
            gallery.view = View::Images;
        }
        ui.label(
            RichText::new(
                "The pipeline could not use these files. Their originals stay in the bucket until you delete them.",
            )
            .color(palette.muted),
        );
    });
    ui.add_space(4.0);
    let visible = gallery.visible_rejected();
    if visible.is_empty() {
        let text = if gallery.rejected.is_empty() {
            "No rejected uploads."
        } else {
            "No rejected names match the filter."
        };
        ui.label(RichText::new(text).color(palette.muted));
        return;
    }
    let mut delete = None;
    egui::ScrollArea::vertical()
        .id_salt("rejected-list")
        .auto_shrink([false, false])
        .show_rows(ui, REJECTED_ROW_PT, visible.len(), |ui, range| {
            for &index in &visible[range] {
                let entry = &gallery.rejected[index];
                ui.allocate_ui(Vec2::new(ui.available_width(), REJECTED_ROW_PT), |ui| {
                    ui.horizontal(|ui| {
                        let button = ui.button("Delete…").on_hover_text(
                            "Delete the original and its failure record (asks first)",
                        );
                        let label = format!("Delete {}…", entry.name);
                        button.widget_info(|| {
                            egui::WidgetInfo::labeled(egui::Role::Button, true, &label)
                        });
                        if button.clicked() {
                            delete = Some(entry.name.clone());
                        }
                        ui.vertical(|ui| {
                            ui.add(
                                egui::Label::new(RichText::new(&entry.name).strong()).truncate(),
                            );
                            ui.add(
                                egui::Label::new(
                                    RichText::new(format!("{} · {}", entry.code, entry.message))
                                        .color(palette.error)
                                        .small(),
                                )
                                .truncate(),
                            )
                            .on_hover_text(&entry.message);
                        });
                    });
                });
            }
        });
    if let Some(name) = delete {
        gallery.dialogs.push(Dialog::ConfirmDelete { name });
    }
}

/// "209 images", "10 of 209" with a filter, "200 images so far" while listing.
pub fn count_text(gallery: &Gallery) -> String {
    let total = gallery.entries.len();
    let images = |n: usize| {
        if n == 1 {
            "1 image".to_owned()
        } else {
            format!("{n} images")
        }
    };
    if total == 0 {
        return String::new();
    }
    let so_far = if gallery.next.is_some() {
        " so far"
    } else {
        ""
    };
    if gallery.filter.trim().is_empty() {
        format!("{}{so_far}", images(total))
    } else {
        format!("{} of {total}{so_far}", gallery.visible().len())
    }
}

/// The cards, a row at a time, only the rows on screen drawn. Arrow keys move
/// the focus between cards, Enter opens one, Delete asks to delete it.
fn grid_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    visible: &[usize],
    palette: &Palette,
    commands: &mut Vec<Command>,
) {
    let card = Vec2::new(CARD_THUMB_PT, CARD_THUMB_PT + CARD_LABEL_PT);
    let per_row =
        (((ui.available_width() + CARD_GAP_PT) / (card.x + CARD_GAP_PT)).floor() as usize).max(1);
    let rows = visible.len().div_ceil(per_row);
    let row_height = card.y + CARD_GAP_PT;
    let mut area = egui::ScrollArea::vertical().auto_shrink([false, false]);
    // A card asked for focus on a row not drawn: scroll there first.
    if let Some(name) = &gallery.focus_request
        && let Some(at) = visible
            .iter()
            .position(|&i| gallery.entries[i].name == *name)
        && !gallery.rows_shown.contains(&(at / per_row))
    {
        area = area.vertical_scroll_offset(row_height * (at / per_row) as f32);
    }
    let mut focused = None;
    let over = ui.rect_contains_pointer(ui.available_rect_before_wrap());
    area.show_rows(ui, row_height, rows, |ui, range| {
        gallery.rows_shown = range.clone();
        for row in range {
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = CARD_GAP_PT;
                for (at, &index) in visible.iter().enumerate().skip(row * per_row).take(per_row) {
                    if card_ui(ui, gallery, index, card, palette, commands) {
                        focused = Some(at);
                    }
                }
            });
            ui.add_space(CARD_GAP_PT - ui.spacing().item_spacing.y);
        }
    });
    gallery.holding = over || focused.is_some();
    let Some(at) = focused else {
        return;
    };
    let name = gallery.entries[visible[at]].name.clone();
    let step = ui.input_mut(|i| {
        let mut pressed = |key| i.consume_key(egui::Modifiers::NONE, key);
        if pressed(egui::Key::ArrowLeft) {
            Some(-1)
        } else if pressed(egui::Key::ArrowRight) {
            Some(1)
        } else if pressed(egui::Key::ArrowUp) {
            Some(-(per_row as isize))
        } else if pressed(egui::Key::ArrowDown) {
            Some(per_row as isize)
        } else if pressed(egui::Key::Home) {
            Some(isize::MIN / 2)
        } else if pressed(egui::Key::End) {
            Some(isize::MAX / 2)
        } else {
            None
        }
    });
    if let Some(step) = step {
        gallery.focus_request = gallery.neighbour(&name, step);
    }
    if ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Delete)) {
        gallery.dialogs.push(Dialog::ConfirmDelete { name });
    }
}

/// What a card says about its image, for screen readers (and its tooltip).
fn card_state(thumb: &Thumb) -> &'static str {
    match thumb {
        Thumb::Loading => "loading",
        Thumb::Ready(_) => "processed",
        Thumb::Missing(NoImage::NotProcessed) => NOT_PROCESSED,
        Thumb::Missing(NoImage::Unavailable) => "could not be loaded",
    }
}

/// Shown instead of anything under `processed/` that the pipeline did not write.
pub const NOT_PROCESSED: &str = "not a processed image";

/// One card; `true` when it has the keyboard focus.
fn card_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    index: usize,
    card: Vec2,
    palette: &Palette,
    commands: &mut Vec<Command>,
) -> bool {
    let (name, key) = {
        let entry = &gallery.entries[index];
        (entry.name.clone(), entry.processed_key.clone())
    };
    let thumb = gallery.thumb(&key, GALLERY_THUMB_PX, commands);
    let state = card_state(thumb);
    let texture = match thumb {
        Thumb::Ready(texture) => Some(texture.clone()),
        _ => None,
    };
    let response = ui
        .allocate_ui(card, |ui| {
            ui.vertical(|ui| {
                picture_ui(ui, texture.as_ref(), CARD_THUMB_PT, &name, state, palette);
                ui.add(egui::Label::new(RichText::new(&name).small()).truncate());
            })
        })
        .response;
    let id = card_id(&name);
    let response = ui
        .interact(response.rect, id, egui::Sense::click())
        .on_hover_text(format!("{name}: open the four rotations (Enter)"));
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    ui.ctx()
        .accesskit_node_builder(id, |node| node.set_description(state));
    // The arrows are the grid's, not egui's spatial focus moves.
    ui.memory_mut(|m| {
        m.set_focus_lock_filter(
            id,
            egui::EventFilter {
                horizontal_arrows: true,
                vertical_arrows: true,
                ..Default::default()
            },
        );
    });
    if gallery.focus_request.as_deref() == Some(name.as_str()) {
        gallery.focus_request = None;
        response.request_focus();
        response.scroll_to_me(None);
    }
    let focused = response.has_focus();
    if focused || response.hovered() {
        // The focus ring is thicker than the hover outline, so both read.
        let width = if focused { 3.0 } else { 2.0 };
        ui.painter().rect_stroke(
            response.rect.expand(2.0),
            6.0,
            egui::Stroke::new(width, palette.accent),
            egui::StrokeKind::Outside,
        );
    }
    if response.clicked() {
        gallery.dialogs.push(Dialog::Detail { name });
        gallery.save_status = None;
    }
    focused
}

/// A picture in a fixed square, or a placeholder that says why there is none.
fn picture_ui(
    ui: &mut Ui,
    texture: Option<&TextureHandle>,
    side_pt: f32,
    alt: &str,
    state: &str,
    palette: &Palette,
) {
    if texture.is_some() || state == "loading" {
        thumb_ui(ui, texture, side_pt, alt, palette);
        return;
    }
    let size = Vec2::splat(side_pt);
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter().rect_filled(rect, 4.0, palette.placeholder);
    let galley = ui.painter().layout(
        state.to_owned(),
        egui::TextStyle::Small.resolve(ui.style()),
        palette.muted,
        side_pt - 12.0,
    );
    let at = rect.center() - galley.size() / 2.0;
    ui.painter().galley(at, galley, palette.muted);
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
    /// The keyboard shortcuts and what the app is.
    Help,
}

impl Dialog {
    fn id(&self) -> egui::Id {
        match self {
            Self::Detail { .. } => egui::Id::unique("detail"),
            Self::ConfirmDelete { .. } => egui::Id::unique("confirm-delete"),
            Self::Help => egui::Id::unique("help"),
        }
    }
}

/// What a dialog's buttons asked for.
enum DialogAction {
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
    ("Esc", "Close the dialog or the Settings panel"),
    ("Ctrl+O", "Add images…"),
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
    match action {
        None => {}
        Some(DialogAction::Close) => {
            if let Some(Dialog::Detail { name }) = gallery.dialogs.pop() {
                // Back to the card that was open, not to the first button.
                gallery.focus_request = Some(name);
            }
        }
        Some(DialogAction::Open(dialog)) => gallery.dialogs.push(dialog),
        Some(DialogAction::Show(name)) => {
            if let Some(Dialog::Detail { name: open }) = gallery.dialogs.last_mut() {
                *open = name;
                gallery.save_status = None;
            }
        }
        Some(DialogAction::Delete(name)) => {
            commands.push(Command::Delete { name: name.clone() });
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
const DIALOG_MARGIN_PT: f32 = 64.0;
/// Height of everything in the detail view but the rotations, in points
/// (heading, caption, labels, buttons, frame).
const DETAIL_CHROME_PT: f32 = 190.0;

/// The detail view: the four rotations of `name`, Save to folder…, Delete…,
/// Close; ←/→ show the previous and next image, Delete asks to delete it.
fn detail_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    name: &str,
    on_top: bool,
    palette: &Palette,
    commands: &mut Vec<Command>,
) -> Option<DialogAction> {
    let keys: Vec<String> = Angle::ALL.iter().map(|&a| rotation_key(name, a)).collect();
    ui.add(egui::Label::new(RichText::new(name).heading()).truncate());
    ui.add(
        egui::Label::new(
            RichText::new("Rotated counter-clockwise; 360° is the upright image.")
                .color(palette.muted),
        )
        .wrap(),
    );
    ui.add_space(8.0);
    // The four side by side, as large as the window lets them be.
    let window = ui.ctx().content_rect();
    let gap = ui.spacing().item_spacing.x;
    let by_width = (window.width() - DIALOG_MARGIN_PT - 24.0) / 4.0 - gap;
    let by_height = window.height() - DIALOG_MARGIN_PT - DETAIL_CHROME_PT;
    let side = by_width.min(by_height).clamp(48.0, DETAIL_SIDE_PT);
    ui.horizontal(|ui| {
        for (angle, key) in Angle::ALL.iter().zip(&keys) {
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
            commands.push(Command::SaveRotations { keys: keys.clone() });
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
        action = ui.input_mut(|i| {
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
        });
    }
    action
}

/// "Delete “name”?" with Delete and Keep it.
fn confirm_delete_ui(ui: &mut Ui, name: &str, palette: &Palette) -> Option<DialogAction> {
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
fn help_ui(ui: &mut Ui, palette: &Palette) -> Option<DialogAction> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(ctx: &egui::Context, key: &str) -> Thumb {
        let image = egui::ColorImage::filled([4, 4], egui::Color32::WHITE);
        Thumb::Ready(ctx.load_texture(key, image, egui::TextureOptions::LINEAR))
    }

    fn rejected(name: &str, code: &str) -> RejectedEntry {
        RejectedEntry {
            name: name.to_owned(),
            failed_key: format!("failed/{name}.json"),
            code: code.to_owned(),
            message: "why".to_owned(),
            last_modified: None,
        }
    }

    #[test]
    fn a_rejection_is_listed_once_by_name_and_goes_when_the_name_succeeds() {
        let mut gallery = Gallery::default();
        gallery.add_rejected_page(
            vec![rejected("b", "corrupt"), rejected("a", "too_large")],
            None,
        );
        // This session's rejection of a name listed already replaces it.
        gallery.add_rejected(rejected("b", "name_too_long"));
        gallery.add_rejected(rejected("c", "corrupt"));
        let listed: Vec<(&str, &str)> = gallery
            .rejected
            .iter()
            .map(|e| (e.name.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            listed,
            [("a", "too_large"), ("b", "name_too_long"), ("c", "corrupt")]
        );
        // A later page of the listing does not bring it back twice.
        gallery.add_rejected_page(vec![rejected("c", "corrupt")], None);
        assert_eq!(gallery.rejected.len(), 3);

        gallery.filter = "C".to_owned();
        assert_eq!(gallery.visible_rejected(), [2]);

        // A later upload of the name succeeded: the pipeline deleted its record.
        gallery.upsert(ImageEntry {
            name: "b".to_owned(),
            processed_key: "processed/b_256x256.jpg".to_owned(),
            size_bytes: 1,
            last_modified: None,
        });
        // Deleted from the app.
        gallery.remove("a");
        let names: Vec<&str> = gallery.rejected.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["c"]);
    }

    #[test]
    fn the_texture_cache_keeps_what_is_drawn_and_a_bounded_rest() {
        let ctx = egui::Context::default();
        let mut gallery = Gallery::default();
        let mut commands = Vec::new();
        // A long batch: far more rotations landed than the cache keeps.
        for n in 0..MAX_TEXTURES * 3 {
            let key = format!("augmented-images/90-degree/{n}.jpg");
            gallery.thumbs.insert(key, ready(&ctx, "t"));
        }
        gallery.trim();
        assert_eq!(gallery.thumbs.len(), MAX_TEXTURES);

        // Drawn this frame: kept even past the bound, and reused, not fetched again.
        let drawn: Vec<String> = gallery.thumbs.keys().take(10).cloned().collect();
        for n in 0..MAX_TEXTURES {
            let key = format!("processed/new-{n}_256x256.jpg");
            gallery.thumbs.insert(key, ready(&ctx, "t"));
        }
        for key in &drawn {
            assert!(gallery.texture(key, FULL_PX, &mut commands).is_some());
        }
        assert!(commands.is_empty());
        gallery.trim();
        assert_eq!(gallery.thumbs.len(), MAX_TEXTURES);
        assert!(drawn.iter().all(|key| gallery.thumbs.contains_key(key)));

        // Let go and asked for again: fetched again.
        let gone = "augmented-images/90-degree/gone.jpg";
        assert!(gallery.texture(gone, FULL_PX, &mut commands).is_none());
        assert_eq!(commands.len(), 1);
    }
}
