//! The desktop app driven as a person would: files dropped on the window, buttons
//! found by their role and label, messages read off the screen. Local mode runs
//! the real pipeline in a temporary folder.

use std::path::PathBuf;

use augment_client::Settings;
use augment_desktop::{DesktopApp, Launch};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

use super::common::{SAMPLE, click, drop_files, local_settings, shows, wait_for, wait_until};

fn app(settings: Settings) -> Harness<'static, DesktopApp> {
    Harness::builder()
        .with_size(egui::vec2(1180.0, 760.0))
        .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, settings, Launch::default()).unwrap())
}

/// Steps until the gallery shows the card of `name`.
fn wait_for_card(harness: &mut Harness<'_, DesktopApp>, name: &str) {
    wait_until(harness, &format!("the gallery card of {name}"), |h| {
        h.query_by_role_and_label(Role::Button, name).is_some()
    });
}

/// Clicks the widget with this role and label, then steps until `text` shows.
fn click_until_shown(harness: &mut Harness<'_, DesktopApp>, role: Role, label: &str, text: &str) {
    harness.get_by_role_and_label(role, label).click();
    wait_until(harness, text, |h| shows(h, text));
}

#[test]
fn the_empty_window_invites_a_drop() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app(local_settings(data.path()));
    harness.step();
    harness.get_by_label("Drop images here");
    harness.get_by_role_and_label(Role::Button, "Add images…");
    wait_for(&mut harness, "No processed images yet");
}

#[test]
fn hovering_files_show_a_drop_target() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app(local_settings(data.path()));
    for _ in 0..2 {
        harness.input_mut().hovered_files.push(egui::HoveredFile {
            path: Some(PathBuf::from(SAMPLE)),
            mime: String::new(),
        });
    }
    wait_for(&mut harness, "Drop to upload 2 items");
    // The files leave without being dropped: nothing is queued.
    harness.input_mut().hovered_files.clear();
    wait_until(&mut harness, "the drop target to go", |h| {
        !shows(h, "Drop to upload")
    });
    harness.get_by_label("Drop images here");
}

#[test]
fn each_file_is_checked_before_upload_and_a_bad_one_says_why() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let good = files.path().join("landscape.jpg");
    std::fs::copy(SAMPLE, &good).unwrap();
    let big = files.path().join("huge.jpg");
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(11 * 1024 * 1024, 0);
    std::fs::write(&big, bytes).unwrap();
    let text = files.path().join("notes.png");
    std::fs::write(&text, "shopping list: milk, eggs").unwrap();

    let mut harness = app(local_settings(data.path()));
    drop_files(&mut harness, &[good, big, text]);

    wait_until(&mut harness, "three finished rows", |h| {
        h.state().transfers().len() == 3
            && h.state().transfers().iter().all(|t| !t.state.is_active())
    });
    harness.get_by_label("Done");
    harness.get_by_label_contains("Not uploaded: The file is 11 MiB but the limit is 10 MiB");
    harness.get_by_label_contains("Not uploaded: The file is text, not a JPEG or PNG image");
    // Nothing bad reached the bucket.
    assert!(!data.path().join("original-uploads/huge.jpg").exists());
    assert!(!data.path().join("original-uploads/notes.png").exists());
}

#[test]
fn a_local_upload_ends_with_four_rotations_in_the_gallery() {
    let (data, mut harness) = the_sample_dropped();

    // Rows are compact: the rotations show on demand.
    wait_for(&mut harness, "Done");
    click(&mut harness, "Rotations");
    wait_until(&mut harness, "four rotation thumbnails in the queue", |h| {
        h.query_all_by_label_contains("landscape.jpg rotated")
            .filter(|node| node.accesskit_node().role() == Role::Image)
            .count()
            == 4
    });
    harness.get_by_label("Done");

    // The gallery has the new image (its listing may land a frame after the
    // queue's last rotation); its detail view shows the four rotations.
    wait_for_card(&mut harness, "landscape");
    click(&mut harness, "landscape");
    wait_until(&mut harness, "four large rotations", |h| {
        [90, 180, 270, 360].iter().all(|angle| {
            h.query_by_label(&format!("landscape rotated {angle}°"))
                .is_some_and(|node| node.accesskit_node().role() == Role::Image)
        })
    });
    harness.get_by_role_and_label(Role::Button, "Save to folder…");
    click(&mut harness, "Close");
    wait_until(&mut harness, "the detail view to close", |h| {
        h.query_by_label("landscape rotated 90°").is_none()
    });

    // A fresh start lists it from the data folder.
    drop(harness);
    let mut harness = app(local_settings(data.path()));
    wait_for_card(&mut harness, "landscape");
}

/// The app on a new data folder, with the sample dropped on it; the folder and
/// the harness.
fn the_sample_dropped() -> (tempfile::TempDir, Harness<'static, DesktopApp>) {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app(local_settings(data.path()));
    drop_files(&mut harness, &[PathBuf::from(SAMPLE)]);
    (data, harness)
}

/// Opens the detail view of the sample (uploaded first, [`the_sample_dropped`]).
fn detail_of_the_sample() -> (tempfile::TempDir, Harness<'static, DesktopApp>) {
    let (data, mut harness) = the_sample_dropped();
    wait_for_card(&mut harness, "landscape");
    click(&mut harness, "landscape");
    wait_until(&mut harness, "the detail view", |h| {
        h.query_by_role_and_label(Role::Button, "Delete…").is_some()
    });
    (data, harness)
}

/// Clicks "Delete…" in the detail view; the confirmation must show on top: its
/// "Keep it" takes a real pointer click (a dialog hidden under another would not).
fn ask_to_delete(harness: &mut Harness<'_, DesktopApp>) {
    click(harness, "Delete…");
    wait_for(harness, "It cannot be undone");
}

/// The confirmation is gone and the detail view under it takes clicks again.
fn back_in_the_detail_view(harness: &mut Harness<'_, DesktopApp>) {
    wait_until(harness, "the confirmation to go", |h| {
        !shows(h, "It cannot be undone")
    });
    harness.get_by_role_and_label(Role::Button, "Delete…");
}

#[test]
fn deleting_an_image_asks_first() {
    let (data, mut harness) = detail_of_the_sample();
    ask_to_delete(&mut harness);
    click(&mut harness, "Delete");
    wait_until(&mut harness, "the card to go", |h| {
        h.query_by_role_and_label(Role::Button, "landscape")
            .is_none()
    });
    wait_until(&mut harness, "the outputs to go", |_| {
        !data.path().join("processed/landscape_256x256.jpg").exists()
    });
    assert!(
        !data
            .path()
            .join("augmented-images/90-degree/landscape_90.jpg")
            .exists()
    );
    // Its row in the queue says so, not "Done".
    wait_for(&mut harness, "Deleted from the bucket");
}

#[test]
fn every_way_out_of_the_delete_confirmation_leaves_a_usable_window() {
    let (data, mut harness) = detail_of_the_sample();

    // "Keep it", clicked with the pointer where the confirmation is drawn.
    ask_to_delete(&mut harness);
    click(&mut harness, "Keep it");
    back_in_the_detail_view(&mut harness);

    // A click outside the confirmation closes it, and only it.
    ask_to_delete(&mut harness);
    harness.hover_at(egui::pos2(4.0, 4.0));
    harness.event(egui::Event::PointerButton {
        pos: egui::pos2(4.0, 4.0),
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    harness.event(egui::Event::PointerButton {
        pos: egui::pos2(4.0, 4.0),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    back_in_the_detail_view(&mut harness);

    // Asked again (where the app used to lock up): on top, and Esc closes the
    // confirmation only.
    ask_to_delete(&mut harness);
    harness.key_press(egui::Key::Escape);
    back_in_the_detail_view(&mut harness);
    harness.run_steps(3);
    harness.get_by_role_and_label(Role::Button, "Delete…");

    // Close and Esc each close the detail view; the window takes clicks again.
    click(&mut harness, "Close");
    wait_until(&mut harness, "the detail view to close", |h| {
        h.query_by_role_and_label(Role::Button, "Delete…").is_none()
    });
    click(&mut harness, "landscape");
    wait_until(&mut harness, "the detail view again", |h| {
        h.query_by_role_and_label(Role::Button, "Delete…").is_some()
    });
    ask_to_delete(&mut harness);
    click(&mut harness, "Keep it");
    back_in_the_detail_view(&mut harness);
    harness.key_press(egui::Key::Escape);
    wait_until(&mut harness, "the detail view to close", |h| {
        h.query_by_role_and_label(Role::Button, "Delete…").is_none()
    });
    click_until_shown(&mut harness, Role::Button, "Settings", "Data folder");
    // Nothing was deleted on the way.
    assert!(data.path().join("processed/landscape_256x256.jpg").exists());
}

#[test]
fn a_file_the_pipeline_rejects_shows_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    // A JPEG by its first bytes (so it passes the checks before upload) whose
    // data ends early: only the pipeline's decoder finds out.
    let broken = files.path().join("broken.jpg");
    let sample = std::fs::read(SAMPLE).unwrap();
    std::fs::write(&broken, &sample[..sample.len() / 3]).unwrap();

    let mut harness = app(local_settings(data.path()));
    drop_files(&mut harness, &[broken]);
    wait_for(&mut harness, "The pipeline rejected it:");
    assert!(data.path().join("failed/broken.json").exists());
    // Bad input is final: no retry offered.
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "Retry")
            .is_none()
    );
    // The gallery lists it among the rejected uploads at once…
    click_until_shown(&mut harness, Role::Button, "Rejected (1)", "broken");
    assert!(shows(&harness, "corrupt ·"));
    drop(harness);

    // …and after a restart, from the bucket, where it can be deleted.
    let mut harness = app(local_settings(data.path()));
    wait_until(&mut harness, "the rejected upload listed", |h| {
        h.query_by_role_and_label(Role::Button, "Rejected (1)")
            .is_some()
    });
    click_until_shown(&mut harness, Role::Button, "Rejected (1)", "broken");
    click_until_shown(
        &mut harness,
        Role::Button,
        "Delete broken…",
        "Delete “broken”?",
    );
    harness
        .get_by_role_and_label(Role::Button, "Delete")
        .click();
    wait_for(&mut harness, "No rejected uploads.");
    assert!(!data.path().join("original-uploads/broken.jpg").exists());
    assert!(!data.path().join("failed/broken.json").exists());
}

#[test]
fn a_queued_upload_can_be_cancelled_and_retried() {
    // A data folder that cannot be created: the connection fails, so the file
    // waits in the queue (as it would while a slow connection is made).
    let files = tempfile::tempdir().unwrap();
    let blocker = files.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let mut harness = app(local_settings(&blocker.join("data")));
    drop_files(&mut harness, &[PathBuf::from(SAMPLE)]);
    wait_for(&mut harness, "Queued: not connected");

    click_until_shown(&mut harness, Role::Button, "Cancel", "Cancelled");
    click_until_shown(&mut harness, Role::Button, "Retry", "Queued");
    click_until_shown(&mut harness, Role::Button, "Cancel", "Cancelled");
    click_until_shown(
        &mut harness,
        Role::Button,
        "Clear finished",
        "Drop images here",
    );
}

#[test]
fn settings_switch_between_local_aws_and_a_custom_endpoint_and_fix_files_at_once() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app(local_settings(data.path()));
    click_until_shown(&mut harness, Role::Button, "Settings", "Data folder");

    click_until_shown(
        &mut harness,
        Role::RadioButton,
        "AWS: a bucket deployed with Terraform",
        "Bucket",
    );
    harness.get_by_role_and_label(Role::Button, "Import Terraform outputs…");
    assert!(harness.query_by_label("Endpoint URL").is_none());

    click_until_shown(
        &mut harness,
        Role::RadioButton,
        "Custom S3-compatible endpoint",
        "Endpoint URL",
    );
    click_until_shown(
        &mut harness,
        Role::Button,
        "Test connection",
        "A custom endpoint needs its URL",
    );

    click_until_shown(
        &mut harness,
        Role::RadioButton,
        "Local: this computer, no account needed",
        "Data folder",
    );
    click_until_shown(
        &mut harness,
        Role::Button,
        "Test connection",
        "Connected: Local",
    );

    // Files at once: adaptive by default, or a fixed number.
    assert!(shows(&harness, "Adapts to the link"));
    click_until_shown(
        &mut harness,
        Role::CheckBox,
        "Fixed number of files at once",
        "Always this many",
    );
    harness.get_by_role_and_label(Role::SpinButton, "Fixed number of files at once");
}

#[test]
fn a_plain_http_endpoint_to_another_machine_asks_for_consent_first() {
    let data = tempfile::tempdir().unwrap();
    let mut settings = local_settings(data.path());
    settings.mode = augment_client::Mode::Custom;
    settings.aws.bucket = "images".into();
    // TEST-NET-1, never contacted: the client refuses it before any request.
    settings.aws.endpoint_url = Some("http://192.0.2.1:9000".into());
    let mut harness = app(settings);
    click_until_shown(&mut harness, Role::Button, "Settings", "Endpoint URL");
    wait_for(&mut harness, "Plain HTTP to another machine");
    harness.get_by_role_and_label(Role::CheckBox, "Allow plain HTTP to this endpoint");
    click_until_shown(
        &mut harness,
        Role::Button,
        "Test connection",
        "allow plain HTTP to it in Settings",
    );
}
