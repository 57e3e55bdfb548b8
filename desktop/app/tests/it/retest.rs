//! What the re-test found, as a person meets it: the sort, quitting mid-batch
//! and the next start, counts per batch, a first batch into an empty gallery,
//! the header, custom mode's warning. Widgets by role and label; local mode
//! runs the real pipeline in a temporary folder.

use std::path::{Path, PathBuf};

use augment_desktop::journal::{QUEUE_FILE, SavedRow};
use augment_desktop::queue::State;
use augment_desktop::{DesktopApp, Launch};
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::common::{
    cancel_quit, click, drop_files, local_settings, originals, shows, wait_for, wait_until,
};

fn app_with(data_dir: &Path, launch: Launch) -> Harness<'static, DesktopApp> {
    let settings = local_settings(data_dir);
    Harness::builder()
        .with_size(egui::vec2(1180.0, 760.0))
        .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, settings, launch).unwrap())
}

/// Small PNGs `img-NN.png`, each of its own colour (no two are duplicates).
fn images(dir: &Path, numbers: std::ops::Range<usize>) -> Vec<PathBuf> {
    numbers
        .map(|i| {
            let path = dir.join(format!("img-{i:02}.png"));
            let shade = u8::try_from(i * 11 % 256).unwrap();
            image::RgbImage::from_pixel(40, 30, image::Rgb([shade, 90, 255 - shade]))
                .save(&path)
                .unwrap();
            path
        })
        .collect()
}

fn all_finished(harness: &Harness<'_, DesktopApp>, rows: usize) -> bool {
    let transfers = harness.state().transfers();
    transfers.len() == rows && transfers.iter().all(|t| !t.state.is_active())
}

fn all_done(harness: &Harness<'_, DesktopApp>, rows: usize) -> bool {
    let transfers = harness.state().transfers();
    transfers.len() == rows && transfers.iter().all(|t| t.state == State::Done)
}

fn card_x(harness: &Harness<'_, DesktopApp>, name: &str) -> f32 {
    harness
        .get_by_role_and_label(Role::Button, name)
        .rect()
        .min
        .x
}

#[test]
fn sort_newest_orders_by_upload_time_at_once() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let mut harness = app_with(data.path(), Launch::default());
    // Uploaded one after the other: img-01 is the newer.
    for (n, file) in images(files.path(), 0..2).into_iter().enumerate() {
        drop_files(&mut harness, &[file]);
        wait_until(&mut harness, "the upload", |h| all_done(h, n + 1));
    }
    wait_until(&mut harness, "both cards", |h| {
        h.query_by_role_and_label(Role::Button, "img-01").is_some()
    });
    assert!(card_x(&harness, "img-00") < card_x(&harness, "img-01"));

    harness
        .get_by_role_and_label(Role::ComboBox, "Sort")
        .click();
    harness.run_steps(2);
    harness.get_by_label("Newest").click();
    harness.run_steps(2);
    assert!(
        card_x(&harness, "img-01") < card_x(&harness, "img-00"),
        "Newest puts the last upload first"
    );
}

#[test]
fn counts_are_per_batch_and_clear_finished_says_what_it_cleared() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let mut harness = app_with(data.path(), Launch::default());
    let mut first = images(files.path(), 0..2);
    let text = files.path().join("notes.png");
    std::fs::write(&text, "not an image").unwrap();
    first.push(text);
    drop_files(&mut harness, &first);
    wait_until(&mut harness, "the first batch", |h| all_finished(h, 3));
    harness.run_steps(2);
    harness.get_by_label_contains("2 done · 1 failed · 0 left");

    // A second, clean batch counts itself alone.
    drop_files(&mut harness, &images(files.path(), 2..5));
    wait_until(&mut harness, "the second batch", |h| all_finished(h, 6));
    harness.run_steps(2);
    harness.get_by_label_contains("3 done · 0 failed · 0 left");
    harness.get_by_label_contains("3/3 files");
    // The earlier failure stays in the list, with its reason.
    harness.get_by_label("Failed (1)");

    click(&mut harness, "Clear finished");
    harness.run_steps(2);
    harness.get_by_label_contains("Cleared 5 finished rows; kept 1 row that failed");
    assert!(!shows(&harness, "0 done"));
    harness.get_by_label("Failed (1)");
}

#[test]
fn quitting_mid_batch_asks_and_the_next_start_finishes_the_queue() {
    let data = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let launch = || Launch {
        queue_file: Some(state.path().join(QUEUE_FILE)),
        ..Launch::default()
    };
    let mut dropped = images(files.path(), 0..21);
    let mut harness = app_with(data.path(), launch());
    // One file first, so the queue has its Pause button.
    drop_files(&mut harness, &dropped[..1]);
    wait_until(&mut harness, "the first upload", |h| all_done(h, 1));
    click(&mut harness, "Pause");
    harness.run_steps(2);
    let held = dropped.split_off(1);
    drop_files(&mut harness, &held);
    wait_until(&mut harness, "twenty rows held", |h| {
        let rows = h.state().transfers();
        rows.len() == 21 && rows[1..].iter().all(|t| t.state == State::Queued)
    });

    harness.key_press_modifiers(Modifiers::COMMAND, Key::Q);
    harness.run_steps(2);
    harness.get_by_label("Uploads are still running");
    // The dialog's Cancel, drawn over the rows' own.
    cancel_quit(&mut harness, "Uploads are still running");
    assert!(!harness.state().quitting());

    // The window's close button asks the same, and the window stays.
    harness
        .input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    harness.step();
    let cancelled = harness
        .output()
        .viewport_output
        .values()
        .flat_map(|viewport| &viewport.commands)
        .any(|command| *command == egui::ViewportCommand::CancelClose);
    assert!(cancelled);
    harness.step();
    harness.get_by_label("Uploads are still running");
    click(&mut harness, "Quit and finish later");
    harness.step();
    assert!(harness.state().quitting());
    drop(harness);
    assert_eq!(originals(data.path()), ["img-00.png"]);

    let mut harness = app_with(data.path(), launch());
    wait_until(&mut harness, "the resumed rows to finish", |h| {
        all_done(h, 20)
    });
    // Each file once: none of them uploaded again under a new name.
    let names: Vec<String> = (0..21).map(|i| format!("img-{i:02}.png")).collect();
    assert_eq!(originals(data.path()), names);
    drop(harness);

    // Nothing left to resume.
    let harness = app_with(data.path(), launch());
    assert!(harness.state().transfers().is_empty());
}

#[test]
fn a_row_uploaded_before_a_kill_is_watched_not_uploaded_again() {
    let data = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let queue = state.path().join(QUEUE_FILE);
    let launch = || Launch {
        queue_file: Some(queue.clone()),
        ..Launch::default()
    };
    let dropped = images(files.path(), 0..2);
    let mut harness = app_with(data.path(), launch());
    drop_files(&mut harness, &dropped);
    wait_until(&mut harness, "both uploads", |h| all_done(h, 2));
    drop(harness);

    // As a kill leaves it: img-00's upload noted as done, img-01's key chosen
    // and its bytes sent, but not yet noted.
    let row = |n: usize, uploaded: bool| {
        let name = format!("img-{n:02}.png");
        let line = serde_json::json!({"row": {"id": 100 + n, "row": SavedRow {
            path: dropped[n].clone(),
            upload: format!("original-uploads/{name}"),
            key: Some(format!("original-uploads/{name}")),
            uploaded,
        }}});
        format!("{line}\n")
    };
    std::fs::write(&queue, row(0, true) + &row(1, false)).unwrap();

    let mut harness = app_with(data.path(), launch());
    wait_until(&mut harness, "both resumed rows to finish", |h| {
        all_done(h, 2)
    });
    assert_eq!(originals(data.path()), ["img-00.png", "img-01.png"]);
}

#[test]
fn a_first_batch_into_an_empty_gallery_shows_every_card() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let mut harness = app_with(data.path(), Launch::default());
    wait_for(&mut harness, "No processed images yet");
    // The pointer rests on the gallery, where the cards will come.
    let empty = harness.get_by_label("No processed images yet").rect();
    harness.hover_at(empty.center());
    drop_files(&mut harness, &images(files.path(), 0..6));
    wait_until(&mut harness, "every upload", |h| all_done(h, 6));
    harness.run_steps(3);
    for n in 0..6 {
        let name = format!("img-{n:02}");
        assert!(
            harness
                .query_by_role_and_label(Role::Button, &name)
                .is_some(),
            "{name} shows"
        );
    }
    assert!(!shows(&harness, "new image"));
    harness.get_by_label("6 images");
}

#[test]
fn the_gallery_heading_is_never_drawn_over_rejected() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_with(data.path(), Launch::default());
    for when in ["loading", "empty"] {
        if when == "empty" {
            wait_for(&mut harness, "No processed images yet");
        } else {
            harness.step();
        }
        let heading = harness.get_by_label("Gallery").rect();
        let rejected = harness
            .get_by_role_and_label(Role::Button, "Rejected (0)")
            .rect();
        assert!(
            !heading.intersects(rejected),
            "{when}: Gallery at {heading:?}, Rejected (0) at {rejected:?}"
        );
    }
}

#[test]
fn custom_mode_says_at_test_connection_that_the_endpoint_must_run_the_pipeline() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app_with(data.path(), Launch::default());
    harness.step();
    click(&mut harness, "Settings");
    harness.run_steps(2);
    assert!(!shows(&harness, "must also run the processing pipeline"));
    harness
        .get_by_role_and_label(Role::RadioButton, "Custom S3-compatible endpoint")
        .click();
    harness.run_steps(2);
    harness.get_by_role_and_label(Role::Button, "Test connection");
    harness.get_by_label_contains("must also run the processing pipeline");
}

#[test]
fn the_queue_panel_gets_its_width_back_after_200_percent() {
    let data = tempfile::tempdir().unwrap();
    // An 800×500 window, first at 100 %.
    let mut harness = app_with(data.path(), Launch::default());
    harness.set_size(egui::vec2(800.0, 500.0));
    harness.run_steps(2);
    let gallery_at = |h: &Harness<'_, DesktopApp>| h.get_by_label("Gallery").rect().min.x;
    let before = gallery_at(&harness);
    // The same screen at 200 %: half the points.
    harness.set_pixels_per_point(2.0);
    harness.set_size(egui::vec2(400.0, 250.0));
    harness.run_steps(3);
    harness.set_pixels_per_point(1.0);
    harness.set_size(egui::vec2(800.0, 500.0));
    harness.run_steps(3);
    let after = gallery_at(&harness);
    assert!(
        (after - before).abs() < 1.0,
        "the gallery starts at {before} before and {after} after"
    );
}
