//! The rejected uploads, the header's *Rejected (N)* view: a row each with
//! its code, its reason and Delete… (asks first).

use egui::{RichText, Ui, Vec2};

use super::model::{Dialog, Gallery, View};
use crate::style::Palette;

/// Height of a row of the rejected list, in points.
pub(super) const REJECTED_ROW_PT: f32 = 44.0;

/// The rejected uploads, a row each: name, reason, Delete… (asks first).
pub(super) fn rejected_ui(ui: &mut Ui, gallery: &mut Gallery, palette: &Palette) {
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
                if rejected_row_ui(ui, entry, palette) {
                    delete = Some(entry.name.clone());
                }
            }
        });
    if let Some(name) = delete {
        gallery.dialogs.push(Dialog::ConfirmDelete { name });
    }
}

/// One rejected upload: Delete…, its name, its code and reason. `true`
/// when Delete… was clicked.
fn rejected_row_ui(ui: &mut Ui, entry: &augment_client::RejectedEntry, palette: &Palette) -> bool {
    let mut clicked = false;
    ui.allocate_ui(Vec2::new(ui.available_width(), REJECTED_ROW_PT), |ui| {
        ui.horizontal(|ui| {
            let button = ui
                .button("Delete…")
                .on_hover_text("Delete the original and its failure record (asks first)");
            let label = format!("Delete {}…", entry.name);
            button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
            if button.clicked() {
                clicked = true;
            }
            ui.vertical(|ui| {
                ui.add(egui::Label::new(RichText::new(&entry.name).strong()).truncate());
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
    clicked
}
