//! The gallery, the keyboard and the layout, as a person meets them: at 200 %
//! scale and in an 800×500 window, with the keyboard alone, with names in other
//! scripts, and with a bucket holding things the pipeline never wrote. Widgets
//! are found by their role and label, as a screen reader finds them.

use std::path::{Path, PathBuf};

use augment_desktop::{DesktopApp, Launch};
use egui::accesskit::Role;
use egui::{Key, Rect, Vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

use super::common::{SAMPLE, click, drop_files, local_settings, shows, wait_until_with};

/// 1920×1080 pixels at 200 %, in points.
pub(super) const FULL_HD_AT_200: Vec2 = Vec2::new(960.0, 540.0);
/// The smallest window the layout must hold in.
pub(super) const SMALL: Vec2 = Vec2::new(800.0, 500.0);

/// [`super::common::wait_until`], answering the duplicate question as a person keeping
/// every name would: the samples here are copies of one file.
fn wait_until(
    harness: &mut Harness<'_, DesktopApp>,
    what: &str,
    done: impl Fn(&Harness<'_, DesktopApp>) -> bool,
) {
    wait_until_with(
        harness,
        what,
        |harness| {
            if let Some(keep) = harness.query_by_role_and_label(Role::Button, "Keep both") {
                keep.click();
                harness.step();
            }
        },
        done,
    );
}

/// [`wait_until`] the window shows `text`.
fn wait_for(harness: &mut Harness<'_, DesktopApp>, text: &str) {
    wait_until(harness, &format!("{text:?}"), |h| shows(h, text));
}

pub(super) fn app_at(
    data_dir: &Path,
    size: Vec2,
    pixels_per_point: f32,
) -> Harness<'static, DesktopApp> {
    let settings = local_settings(data_dir);
    Harness::builder()
        .with_size(size)
        .with_pixels_per_point(pixels_per_point)
        .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, settings, Launch::default()).unwrap())
}

pub(super) fn button(harness: &Harness<'_, DesktopApp>, label: &str) -> Rect {
    harness.get_by_role_and_label(Role::Button, label).rect()
}

fn window(harness: &Harness<'_, DesktopApp>) -> Rect {
    harness.ctx.content_rect()
}

pub(super) fn assert_inside(harness: &Harness<'_, DesktopApp>, what: &str, rect: Rect) {
    let window = window(harness).expand(0.5);
    assert!(
        window.contains_rect(rect),
        "{what} at {rect:?} is not inside the window {window:?}"
    );
}

/// Copies of the sample under these names, in a folder of their own.
pub(super) fn samples(names: &[&str]) -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let files = names
        .iter()
        .map(|name| {
            let path = dir.path().join(name);
            std::fs::copy(SAMPLE, &path).unwrap();
            path
        })
        .collect();
    (dir, files)
}

/// Uploads the files and waits for each one's card (showing the new ones
/// announced meanwhile).
pub(super) fn upload(harness: &mut Harness<'_, DesktopApp>, files: &[PathBuf], cards: &[&str]) {
    drop_files(harness, files);
    wait_until(harness, "every upload to finish", |h| {
        h.state().transfers().len() >= files.len()
            && h.state().transfers().iter().all(|t| !t.state.is_active())
    });
    if harness
        .query_by_role_and_label(Role::Button, "Show")
        .is_none()
    {
        harness.step();
    }
    if let Some(show) = harness.query_by_role_and_label(Role::Button, "Show") {
        show.click();
    }
    for card in cards {
        wait_until(harness, &format!("the card of {card}"), |h| {
            h.query_by_role_and_label(Role::Button, card).is_some()
        });
    }
}

fn press(harness: &mut Harness<'_, DesktopApp>, key: Key) {
    harness.key_press(key);
    harness.step();
    harness.step();
}

fn focused_card(harness: &Harness<'_, DesktopApp>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find(|name| {
            harness
                .query_by_role_and_label(Role::Button, name)
                .is_some_and(|node| node.is_focused())
        })
        .map(|name| (*name).to_owned())
}

#[test]
fn the_detail_view_fits_the_window_at_200_percent_and_at_800x500() {
    for (size, ppp) in [(FULL_HD_AT_200, 2.0), (SMALL, 2.0), (SMALL, 1.0)] {
        let data = tempfile::tempdir().unwrap();
        let mut harness = app_at(data.path(), size, ppp);
        upload(&mut harness, &[PathBuf::from(SAMPLE)], &["landscape"]);
        harness
            .get_by_role_and_label(Role::Button, "landscape")
            .click();
        wait_until(&mut harness, "four large rotations", |h| {
            [90, 180, 270, 360].iter().all(|angle| {
                h.query_by_label(&format!("landscape rotated {angle}°"))
                    .is_some_and(|node| node.accesskit_node().role() == Role::Image)
            })
        });
        harness.step();
        for label in ["Save to folder…", "Delete…", "Close"] {
            let rect = button(&harness, label);
            assert_inside(&harness, &format!("{label} at {size:?} ×{ppp}"), rect);
        }
        for angle in [90, 180, 270, 360] {
            let rect = harness
                .get_by_label(&format!("landscape rotated {angle}°"))
                .rect();
            assert_inside(&harness, &format!("the {angle}° image at {size:?}"), rect);
        }
    }
}

/// The header's parts, by role and label.
const HEADER: &[(Role, &str)] = &[
    (Role::Button, "Add images…"),
    (Role::Button, "Add folder…"),
    (Role::Button, "Settings"),
    (Role::Button, "Help"),
    (Role::Label, "Gallery"),
    (Role::Button, "Rejected (0)"),
    (Role::ComboBox, "Sort"),
    (Role::TextInput, "Filter"),
];

fn assert_header_holds(harness: &Harness<'_, DesktopApp>, when: &str) {
    let rects: Vec<(&str, Rect)> = HEADER
        .iter()
        .map(|&(role, label)| (label, harness.get_by_role_and_label(role, label).rect()))
        .collect();
    let filter = harness
        .get_by_role_and_label(Role::TextInput, "Filter")
        .rect();
    assert!(
        filter.width() >= 100.0,
        "the filter box is squeezed to {filter:?} ({when})"
    );
    for (i, &(a, rect_a)) in rects.iter().enumerate() {
        assert_inside(harness, &format!("{a} ({when})"), rect_a);
        for &(b, rect_b) in &rects[i + 1..] {
            assert!(
                !rect_a.shrink(0.5).intersects(rect_b.shrink(0.5)),
                "{a} {rect_a:?} overlaps {b} {rect_b:?} ({when})"
            );
        }
    }
}

#[test]
fn the_header_wraps_at_800x500_and_200_percent_and_the_gallery_stays_with_settings_open() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), SMALL, 2.0);
    let (_dir, files) = samples(&["one.jpg", "two.jpg", "three.jpg"]);
    upload(&mut harness, &files, &["one", "two", "three"]);
    assert_header_holds(&harness, "800×500 at 200 %");

    harness
        .get_by_role_and_label(Role::Button, "Settings")
        .click();
    wait_for(&mut harness, "Where images go");
    harness.step();
    assert_header_holds(&harness, "with Settings open");
    // The gallery keeps a column of whole cards between the two panels.
    let card = harness.get_by_role_and_label(Role::Button, "one").rect();
    assert_inside(&harness, "a gallery card with Settings open", card);
    let settings = harness.get_by_label("Where images go").rect();
    assert!(
        card.max.x <= settings.min.x,
        "the card {card:?} runs under the Settings panel {settings:?}"
    );
    // Esc closes the panel.
    press(&mut harness, Key::Escape);
    assert!(!shows(&harness, "Where images go"));
}

#[test]
fn a_long_file_name_does_not_widen_the_queue() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), SMALL, 1.0);
    harness.step();
    let gallery_at = harness.get_by_label("Gallery").rect().min.x;
    let long = format!("{}.jpg", "a-very-long-holiday-photo-name-".repeat(5));
    let (_dir, files) = samples(&[&long]);
    drop_files(&mut harness, &files);
    wait_until(&mut harness, "the row to finish", |h| {
        h.state().transfers().iter().any(|t| !t.state.is_active())
    });
    harness.step();
    let now_at = harness.get_by_label("Gallery").rect().min.x;
    assert!(
        (now_at - gallery_at).abs() < 1.0,
        "the gallery moved from x={gallery_at} to x={now_at}: the queue grew"
    );
}

#[test]
fn the_keyboard_reaches_moves_between_and_opens_the_cards() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), FULL_HD_AT_200, 1.0);
    let names = ["alpha", "bravo", "charlie"];
    let (_dir, files) = samples(&["alpha.jpg", "bravo.jpg", "charlie.jpg"]);
    upload(&mut harness, &files, &names);
    // True counts, and the filter's share of them.
    harness.get_by_label("3 images");

    // Tab from the start reaches a card.
    let mut reached = None;
    for _ in 0..40 {
        press(&mut harness, Key::Tab);
        reached = focused_card(&harness, &names);
        if reached.is_some() {
            break;
        }
    }
    assert_eq!(
        reached.as_deref(),
        Some("alpha"),
        "Tab never reached a card"
    );
    press(&mut harness, Key::ArrowRight);
    assert_eq!(focused_card(&harness, &names).as_deref(), Some("bravo"));
    press(&mut harness, Key::End);
    assert_eq!(focused_card(&harness, &names).as_deref(), Some("charlie"));
    press(&mut harness, Key::ArrowLeft);
    assert_eq!(focused_card(&harness, &names).as_deref(), Some("bravo"));

    // Enter opens it; ← and → move between images in the detail view.
    press(&mut harness, Key::Enter);
    wait_until(&mut harness, "the detail view of bravo", |h| {
        h.query_by_label("bravo rotated 90°").is_some()
    });
    press(&mut harness, Key::ArrowRight);
    wait_until(&mut harness, "the detail view of charlie", |h| {
        h.query_by_label("charlie rotated 90°").is_some()
    });
    // Delete asks first, Esc closes the question, then the view; the focus is
    // back on the card last shown, not on the first button.
    press(&mut harness, Key::Delete);
    assert!(shows(&harness, "It cannot be undone"));
    press(&mut harness, Key::Escape);
    assert!(!shows(&harness, "It cannot be undone"));
    harness.get_by_label("charlie rotated 90°");
    press(&mut harness, Key::Escape);
    assert!(harness.query_by_label("charlie rotated 90°").is_none());
    assert_eq!(focused_card(&harness, &names).as_deref(), Some("charlie"));
    assert!(data.path().join("processed/charlie_256x256.jpg").exists());

    // Delete on a focused card asks too.
    press(&mut harness, Key::Delete);
    assert!(shows(&harness, "Delete “charlie”?"));
    press(&mut harness, Key::Escape);

    harness
        .get_by_role_and_label(Role::TextInput, "Filter")
        .click();
    harness.step();
    harness
        .get_by_role_and_label(Role::TextInput, "Filter")
        .type_text("ra");
    harness.step();
    harness.step();
    harness.get_by_label("1 of 3");
}

#[test]
fn new_images_during_a_batch_are_announced_not_slid_under_the_pointer() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), FULL_HD_AT_200, 1.0);
    let (_dir, first) = samples(&["mike.jpg"]);
    upload(&mut harness, &first, &["mike"]);
    let mike = harness.get_by_role_and_label(Role::Button, "mike").rect();
    harness.hover_at(mike.center());

    // "alpha" sorts before "mike": shown at once, it would take mike's place
    // under the pointer. (Other pictures than mike's: no duplicate question,
    // whose answer would move the pointer.)
    let other = tempfile::tempdir().unwrap();
    let alpha = other.path().join("alpha.jpg");
    std::fs::copy(SAMPLE.replace("landscape.jpg", "tall.jpeg"), &alpha).unwrap();
    drop_files(&mut harness, &[alpha]);
    wait_for(&mut harness, "1 new image");
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "alpha")
            .is_none()
    );
    assert_eq!(
        harness.get_by_role_and_label(Role::Button, "mike").rect(),
        mike
    );

    harness.get_by_role_and_label(Role::Button, "Show").click();
    wait_until(&mut harness, "the card of alpha", |h| {
        h.query_by_role_and_label(Role::Button, "alpha").is_some()
    });
    let alpha = harness.get_by_role_and_label(Role::Button, "alpha").rect();
    assert!(
        alpha.min.x
            < harness
                .get_by_role_and_label(Role::Button, "mike")
                .rect()
                .min
                .x
    );
    harness.step();
    harness.get_by_label("2 images");

    // With the pointer away from the cards (on the queue), a new image joins
    // at once: nothing is under the pointer to slide away.
    let queue = harness.get_by_label_contains("Transfers").rect();
    harness.hover_at(queue.center());
    let bravo = other.path().join("bravo.png");
    std::fs::copy(SAMPLE.replace("landscape.jpg", "badge.png"), &bravo).unwrap();
    drop_files(&mut harness, &[bravo]);
    wait_until(&mut harness, "the card of bravo", |h| {
        h.query_by_role_and_label(Role::Button, "bravo").is_some()
    });
    assert!(!shows(&harness, "1 new image"));
    harness.get_by_label("3 images");
}

#[test]
fn f1_and_the_help_button_list_the_shortcuts() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), SMALL, 2.0);
    harness.step();
    press(&mut harness, Key::F1);
    assert!(shows(&harness, "Keyboard shortcuts"));
    harness.get_by_label("Arrow keys");
    let close = button(&harness, "Close");
    assert_inside(&harness, "Help's Close at 800×500, 200 %", close);
    press(&mut harness, Key::Escape);
    assert!(!shows(&harness, "Keyboard shortcuts"));
    harness.get_by_role_and_label(Role::Button, "Help").click();
    harness.step();
    assert!(shows(&harness, "Keyboard shortcuts"));
}

#[test]
fn a_cjk_name_is_drawn_with_real_glyphs() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), FULL_HD_AT_200, 1.0);
    let name = "猫の写真 中文";
    // The system's fallback fonts load on a thread at start-up.
    wait_until(&mut harness, "a font with CJK glyphs", |h| {
        h.ctx
            .fonts_mut(|fonts| fonts.has_glyphs(&egui::FontId::proportional(14.0), "猫の写真中文"))
    });
    // The harness fails on any character laid out without a glyph.
    let (_dir, files) = samples(&[&format!("{name}.jpg")]);
    upload(&mut harness, &files, &[name]);
    assert!(shows(&harness, &format!("{name}.jpg")));
}

#[test]
fn bucket_content_the_pipeline_did_not_write_is_not_decoded() {
    let data = tempfile::tempdir().unwrap();
    let processed = data.path().join("processed");
    std::fs::create_dir_all(&processed).unwrap();
    // A 2048×2048 JPEG in 1 MiB: 12 MiB of pixels once decoded.
    let big = image::RgbImage::from_pixel(2048, 2048, image::Rgb([200, 200, 200]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 50)
        .encode_image(&big)
        .unwrap();
    assert!(jpeg.len() < 1024 * 1024, "{} bytes", jpeg.len());
    std::fs::write(processed.join("bomb_256x256.jpg"), &jpeg).unwrap();
    // A PNG where a processed JPEG should be.
    let mut png = Vec::new();
    image::RgbImage::from_pixel(64, 64, image::Rgb([0, 0, 0]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    std::fs::write(processed.join("png_256x256.jpg"), &png).unwrap();
    // More than any processed image: not even read.
    let huge = vec![0xFF; usize::try_from(augment_pipeline::limits::MAX_OUTPUT_BYTES).unwrap() + 1];
    std::fs::write(processed.join("huge_256x256.jpg"), &huge).unwrap();

    let mut harness = app_at(data.path(), FULL_HD_AT_200, 1.0);
    upload(&mut harness, &[PathBuf::from(SAMPLE)], &["landscape"]);
    let description = |h: &Harness<'_, DesktopApp>, name: &str| {
        h.query_by_role_and_label(Role::Button, name)
            .and_then(|node| node.accesskit_node().description())
    };
    for name in ["bomb", "png", "huge"] {
        wait_until(&mut harness, &format!("{name} refused"), |h| {
            description(h, name).as_deref() == Some("not a processed image")
        });
    }
    wait_until(&mut harness, "the real one shown", |h| {
        description(h, "landscape").as_deref() == Some("processed")
    });
}

#[test]
fn a_settings_test_result_is_about_the_mode_shown_and_keeps_the_focus() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_at(data.path(), SMALL, 1.0);
    click(&mut harness, "Settings");
    wait_for(&mut harness, "Data folder");
    harness
        .get_by_role_and_label(Role::RadioButton, "Custom S3-compatible endpoint")
        .click();
    wait_for(&mut harness, "Endpoint URL");
    // From the keyboard: the button keeps the focus while and after it tests.
    harness
        .get_by_role_and_label(Role::Button, "Test connection")
        .focus();
    harness.step();
    press(&mut harness, Key::Enter);
    wait_for(&mut harness, "A custom endpoint needs its URL");
    assert!(
        harness
            .get_by_role_and_label(Role::Button, "Test connection")
            .is_focused()
    );
    // Advice read inside Settings does not send you to Settings.
    assert!(!shows(&harness, "in Settings"));
    assert!(shows(&harness, "Enter it above"));
    // Another mode: the result was about the old one, and goes.
    harness
        .get_by_role_and_label(Role::RadioButton, "Local: this computer, no account needed")
        .click();
    harness.step();
    harness.step();
    assert!(!shows(&harness, "A custom endpoint needs its URL"));
}
