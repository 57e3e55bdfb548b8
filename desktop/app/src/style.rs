//! How the app looks: the palette for both themes, the text sizes, and the few
//! widgets every room draws (a thumbnail in a fixed square, an empty state,
//! the drop target).

use egui::{Color32, RichText, TextureHandle, Ui, Vec2};

/// A square thumbnail, or a placeholder of the same size while it loads.
pub fn thumb_ui(
    ui: &mut Ui,
    texture: Option<&TextureHandle>,
    side_pt: f32,
    alt: &str,
    palette: &Palette,
) {
    let _ = thumb_with_sense(ui, texture, side_pt, alt, palette, egui::Sense::hover());
}

/// [`thumb_ui`] sensing `sense`; the response is the image's (none for the
/// placeholder).
pub fn thumb_with_sense(
    ui: &mut Ui,
    texture: Option<&TextureHandle>,
    side_pt: f32,
    alt: &str,
    palette: &Palette,
    sense: egui::Sense,
) -> Option<egui::Response> {
    let size = Vec2::splat(side_pt);
    if let Some(texture) = texture {
        // Centred in a fixed square, so tall and wide images keep the columns
        // beside them aligned.
        return Some(
            ui.add_sized(
                size,
                egui::Image::new(texture)
                    .fit_to_exact_size(size)
                    .maintain_aspect_ratio(true)
                    .corner_radius(4.0)
                    .alt_text(alt)
                    .sense(sense),
            ),
        );
    }
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    ui.painter().rect_filled(rect, 4.0, palette.placeholder);
    None
}
/// Colours that read well on both the light and the dark theme.
pub struct Palette {
    pub muted: Color32,
    pub error: Color32,
    pub success: Color32,
    pub accent: Color32,
    pub placeholder: Color32,
    pub on_danger: Color32,
}

impl Palette {
    pub fn for_visuals(visuals: &egui::Visuals) -> Self {
        if visuals.dark_mode {
            Self {
                muted: Color32::from_gray(160),
                error: Color32::from_rgb(255, 120, 110),
                success: Color32::from_rgb(120, 210, 140),
                accent: Color32::from_rgb(100, 160, 255),
                placeholder: Color32::from_gray(55),
                on_danger: Color32::BLACK,
            }
        } else {
            Self {
                muted: Color32::from_gray(95),
                error: Color32::from_rgb(180, 30, 30),
                success: Color32::from_rgb(20, 120, 50),
                accent: Color32::from_rgb(30, 100, 220),
                placeholder: Color32::from_gray(225),
                on_danger: Color32::WHITE,
            }
        }
    }
}

/// Text a little larger than egui's default, for both themes; follows the
/// system's light or dark setting.
pub fn apply_style(ctx: &egui::Context) {
    ctx.options_mut(|options| options.theme_preference = egui::ThemePreference::System);
    ctx.all_styles_mut(|style| {
        use egui::{FontId, TextStyle};
        for (text_style, size) in [
            (TextStyle::Body, 14.0),
            (TextStyle::Button, 14.0),
            (TextStyle::Small, 11.5),
            (TextStyle::Heading, 19.0),
        ] {
            style
                .text_styles
                .insert(text_style, FontId::proportional(size));
        }
        style.spacing.button_padding = egui::vec2(8.0, 4.0);
        style.spacing.item_spacing = egui::vec2(8.0, 6.0);
    });
}

/// A large, quiet message where content will be.
pub fn empty_state_ui(ui: &mut Ui, title: &str, hint: &str) {
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.3).min(160.0));
        ui.label(RichText::new(title).size(22.0).strong());
        ui.add_space(4.0);
        ui.label(RichText::new(hint).weak());
    });
}

/// While files hover over the window: a drop target over everything, with a
/// label (so it is also there for screen readers and tests).
pub fn drop_overlay_ui(ctx: &egui::Context, palette: &Palette) {
    let hovering = ctx.input(|i| i.raw.hovered_files.len());
    if hovering == 0 {
        return;
    }
    let rect = ctx.content_rect();
    let dark = ctx.global_style().visuals.dark_mode;
    egui::Area::new(egui::Id::unique("drop-target"))
        .order(egui::Order::Foreground)
        .fixed_pos(rect.min)
        .interactable(false)
        .show(ctx, |ui| {
            let fill = if dark {
                Color32::from_black_alpha(200)
            } else {
                Color32::from_white_alpha(220)
            };
            ui.painter().rect_filled(rect, 0.0, fill);
            ui.painter().rect_stroke(
                rect.shrink(16.0),
                12.0,
                egui::Stroke::new(3.0, palette.accent),
                egui::StrokeKind::Inside,
            );
            let text = if hovering == 1 {
                "Drop to upload 1 item".to_owned()
            } else {
                format!("Drop to upload {hovering} items")
            };
            let band = egui::Rect::from_center_size(rect.center(), egui::vec2(rect.width(), 40.0));
            ui.put(
                band,
                egui::Label::new(RichText::new(text).size(26.0).strong()),
            );
        });
}
