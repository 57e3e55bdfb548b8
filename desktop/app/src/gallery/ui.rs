//! The gallery panel: its header (count, Rejected, sort, filter), the
//! "new images" line, the card grid (virtualised rows, the arrow keys).

use egui::{RichText, TextureHandle, Ui, Vec2};

use super::model::Thumb;
use super::model::{Dialog, Gallery, Sort, View, card_id};
use super::rejected::rejected_ui;
use crate::command::Command;
use crate::focus::tooltips_allowed;
use crate::style::{Palette, empty_state_ui, thumb_ui};
use crate::thumbs::{GALLERY_THUMB_PX, NoImage};

/// Side of a gallery card's thumbnail, in points.
pub(super) const CARD_THUMB_PT: f32 = 120.0;

/// Room under the thumbnail for the name, in points.
pub(super) const CARD_LABEL_PT: f32 = 28.0;

/// Gap between cards, in points.
pub(super) const CARD_GAP_PT: f32 = 10.0;

/// The gallery panel: its header (count, sort, filter), the card grid, and the
/// rest of the listing fetched in the background.
pub fn gallery_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    palette: &Palette,
    commands: &mut Vec<Command>,
) {
    // What moves no held card joins (all of it when none is held).
    gallery.release_pending();
    gallery.anchor = None;
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
    commands.extend(gallery.next_pages());
    if gallery.view == View::Rejected {
        rejected_ui(ui, gallery, palette);
        return;
    }

    let visible = gallery.visible();
    if visible.is_empty() {
        no_cards_ui(ui, gallery, palette);
        return;
    }
    grid_ui(ui, gallery, &visible, palette, commands);
}

/// Why there is no card: listing, an error (said above), nothing yet, or
/// nothing the filter lets through.
fn no_cards_ui(ui: &mut Ui, gallery: &Gallery, palette: &Palette) {
    if gallery.image_pages.loading {
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
}

/// "Gallery", the count, the view, the sort and the filter; wraps onto more
/// lines in a narrow window rather than overlapping.
pub(super) fn header_ui(ui: &mut Ui, gallery: &mut Gallery, palette: &Palette) {
    ui.horizontal_wrapped(|ui| {
        ui.heading("Gallery");
        // No label for no count: an empty label in a wrapping row sends the
        // next widget back to the row's start, over the heading.
        let count = count_text(gallery);
        if !count.is_empty() {
            ui.label(RichText::new(count).color(palette.muted));
        }
        ui.add_space(8.0);
        // Always there (greyed out at 0), so the header does not reflow when
        // the first rejection arrives.
        let rejected = gallery.rejected.len();
        let so_far = if gallery.rejected_pages.next.is_some() {
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
        sort_ui(ui, gallery);
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
pub(super) const SORT_GROUP_PT: f32 = 170.0;

pub(super) const FILTER_GROUP_PT: f32 = 220.0;

/// The arrow keys, Home and End over the grid: how many cards to move by.
fn grid_step(ui: &Ui, per_row: usize) -> Option<isize> {
    ui.input_mut(|i| {
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
    })
}

/// "Sort" and its menu; a change sorts the cards at once.
fn sort_ui(ui: &mut Ui, gallery: &mut Gallery) {
    ui.horizontal(|ui| {
        let sort_label = ui.label("Sort");
        let before = gallery.sort;
        egui::ComboBox::from_id_salt("gallery-sort")
            .selected_text(gallery.sort.label())
            .show_ui(ui, |ui| {
                for sort in [Sort::Name, Sort::Newest] {
                    // Enter chooses and closes, as a click does.
                    if ui
                        .selectable_value(&mut gallery.sort, sort, sort.label())
                        .clicked()
                    {
                        ui.close();
                    }
                }
            })
            .response
            .labelled_by(sort_label.id);
        if gallery.sort != before {
            gallery.set_sort(gallery.sort);
        }
    });
}

/// "3 new images — Show", in a line that is always there (empty when there is
/// nothing new), so announcing them does not move the cards either.
pub(super) fn announcement_ui(ui: &mut Ui, gallery: &mut Gallery, palette: &Palette) {
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
    let so_far = if gallery.image_pages.next.is_some() {
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
pub(super) fn grid_ui(
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
    let mut held = None;
    area.show_rows(ui, row_height, rows, |ui, range| {
        gallery.rows_shown = range.clone();
        for row in range {
            ui.horizontal(|ui| {
                ui.spacing_mut().item_spacing.x = CARD_GAP_PT;
                for (at, &index) in visible.iter().enumerate().skip(row * per_row).take(per_row) {
                    let (has_focus, hovered) = card_ui(ui, gallery, index, card, palette, commands);
                    if has_focus {
                        focused = Some(at);
                    }
                    if (has_focus || hovered) && held.is_none() {
                        held = Some(index);
                    }
                }
            });
            ui.add_space(CARD_GAP_PT - ui.spacing().item_spacing.y);
        }
    });
    gallery.anchor = held.map(|index| gallery.entries[index].name.clone());
    let Some(at) = focused else {
        return;
    };
    let name = gallery.entries[visible[at]].name.clone();
    let step = grid_step(ui, per_row);
    if let Some(step) = step {
        gallery.focus_request = gallery.neighbour(&name, step);
    }
    if ui.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Delete)) {
        gallery.dialogs.push(Dialog::ConfirmDelete { name });
    }
}

/// What a card says about its image, for screen readers (and its tooltip).
pub(super) fn card_state(thumb: &Thumb) -> &'static str {
    match thumb {
        Thumb::Loading => "loading",
        Thumb::Ready(_) => "processed",
        Thumb::Missing(NoImage::NotProcessed) => NOT_PROCESSED,
        Thumb::Missing(NoImage::Unavailable) => "could not be loaded",
    }
}

/// Shown instead of anything under `processed/` that the pipeline did not write.
pub const NOT_PROCESSED: &str = "not a processed image";

/// One card: whether it has the keyboard focus, and whether it is under the
/// pointer.
pub(super) fn card_ui(
    ui: &mut Ui,
    gallery: &mut Gallery,
    index: usize,
    card: Vec2,
    palette: &Palette,
    commands: &mut Vec<Command>,
) -> (bool, bool) {
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
    let mut response = ui.interact(response.rect, id, egui::Sense::click());
    if tooltips_allowed(ui) {
        response = response.on_hover_text(format!("{name}: open the four rotations (Enter)"));
    }
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
    ui.ctx()
        .accesskit_node_builder(id, |node| node.set_description(state));
    grid_owns_arrows(ui, id);
    if gallery.focus_request.as_deref() == Some(name.as_str()) {
        gallery.focus_request = None;
        response.request_focus();
        response.scroll_to_me(None);
    }
    let focused = response.has_focus();
    let hovered = response.hovered();
    if focused || hovered {
        outline(ui, response.rect, focused, palette);
    }
    if response.clicked() {
        gallery.dialogs.push(Dialog::Detail { name });
        gallery.save_status = None;
    }
    (focused, hovered)
}

/// The arrows are the grid's, not egui's spatial focus moves.
fn grid_owns_arrows(ui: &Ui, id: egui::Id) {
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
}

/// A card's outline: the focus ring is thicker than the hover outline, so
/// both read.
fn outline(ui: &Ui, rect: egui::Rect, focused: bool, palette: &Palette) {
    let width = if focused { 3.0 } else { 2.0 };
    ui.painter().rect_stroke(
        rect.expand(2.0),
        6.0,
        egui::Stroke::new(width, palette.accent),
        egui::StrokeKind::Outside,
    );
}

/// A picture in a fixed square, or a placeholder that says why there is none.
pub(super) fn picture_ui(
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
