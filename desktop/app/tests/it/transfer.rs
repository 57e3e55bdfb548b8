//! The app as a transfer client, driven as a person would: the batch summary,
//! failures kept and reported, retry under the same key, the duplicate question,
//! compact rows and their context menu, cancel and pause. Local mode runs the
//! real pipeline (the folder store) in a temporary folder.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use augment_desktop::{DesktopApp, Launch};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

use super::common::{
    SAMPLE, WAIT, click, drop_files, local_settings, originals, shows, wait_for, wait_until,
};

fn app_with(data_dir: &Path, launch: Launch) -> Harness<'static, DesktopApp> {
    let settings = local_settings(data_dir);
    Harness::builder()
        .with_size(egui::vec2(1180.0, 760.0))
        .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, settings, launch).unwrap())
}

fn app(data_dir: &Path) -> Harness<'static, DesktopApp> {
    app_with(data_dir, Launch::default())
}

fn all_finished(harness: &Harness<'_, DesktopApp>, rows: usize) -> bool {
    let transfers = harness.state().transfers();
    transfers.len() == rows && transfers.iter().all(|t| !t.state.is_active())
}

/// Small PNGs `img-NN.png` for each number, each of its own colour (so no two
/// are duplicates).
fn distinct_images(dir: &Path, numbers: std::ops::Range<usize>) -> Vec<PathBuf> {
    numbers
        .map(|i| {
            let path = dir.join(format!("img-{i:02}.png"));
            let shade = u8::try_from(i * 7 % 256).unwrap();
            image::RgbImage::from_pixel(40, 30, image::Rgb([shade, 255 - shade, 90]))
                .save(&path)
                .unwrap();
            path
        })
        .collect()
}

/// A file over the size limit and a text file named `.png`: refused before upload.
fn bad_files(dir: &Path) -> Vec<PathBuf> {
    let big = dir.join("huge.jpg");
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(11 * 1024 * 1024, 0);
    std::fs::write(&big, bytes).unwrap();
    let text = dir.join("notes.png");
    std::fs::write(&text, "shopping list: milk, eggs").unwrap();
    vec![big, text]
}

/// Titles the app gave its window in the last frame.
fn titles(harness: &Harness<'_, DesktopApp>) -> Vec<String> {
    harness
        .output()
        .viewport_output
        .values()
        .flat_map(|viewport| &viewport.commands)
        .filter_map(|command| match command {
            egui::ViewportCommand::Title(title) => Some(title.clone()),
            _ => None,
        })
        .collect()
}

/// The app on a fresh data folder with `good` distinct images and the two bad
/// files dropped on it; the folders live as long as the returned pair.
fn dropped_with_bad_files(good: usize) -> (Harness<'static, DesktopApp>, [tempfile::TempDir; 2]) {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let mut dropped = distinct_images(files.path(), 0..good);
    dropped.extend(bad_files(files.path()));
    let mut harness = app(data.path());
    drop_files(&mut harness, &dropped);
    (harness, [data, files])
}

#[test]
fn the_summary_counts_done_failed_and_left_and_the_title_follows() {
    let (mut harness, _folders) = dropped_with_bad_files(3);

    let mut seen = Vec::new();
    let started = Instant::now();
    while !all_finished(&harness, 5) {
        harness.step();
        seen.extend(titles(&harness));
        assert!(started.elapsed() < WAIT, "timed out waiting for the batch");
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(2);
    seen.extend(titles(&harness));
    harness.get_by_label_contains("3 done · 2 failed · 0 left");
    harness.get_by_label_contains("5/5 files");
    // While it ran the title counted; at the end it is the app's name again.
    assert!(
        seen.iter()
            .any(|t| t.starts_with("Augment — ") && t.ends_with("/5")),
        "{seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("Augment"), "{seen:?}");
}

#[test]
fn failures_are_kept_in_their_own_view_and_clear_finished_keeps_them() {
    let (mut harness, _folders) = dropped_with_bad_files(2);
    wait_until(&mut harness, "four finished rows", |h| all_finished(h, 4));

    click(&mut harness, "Clear finished");
    // Files refused before upload keep their rows and reasons.
    wait_until(&mut harness, "the done rows to go", |h| {
        h.state().transfers().len() == 2
            && shows(h, "Cleared 2 finished rows; kept 2 rows that failed")
    });
    harness.get_by_label_contains("huge.jpg");
    harness.get_by_label_contains("notes.png");
    assert!(!shows(&harness, "img-00.png"));

    harness.get_by_label("Failed (2)").click();
    wait_until(&mut harness, "the failed view", |h| {
        shows(
            h,
            "Not uploaded: The file is 11 MiB but the limit is 10 MiB",
        ) && shows(h, "Not uploaded: The file is text, not a JPEG or PNG image")
    });
    // Bad input is final: nothing to retry.
    assert!(
        harness
            .query_by_role_and_label(Role::Button, "Retry failed")
            .is_some_and(|node| node.accesskit_node().is_disabled())
    );
}

#[test]
fn the_report_is_csv_with_file_key_state_code_and_message() {
    let (mut harness, _folders) = dropped_with_bad_files(1);
    wait_until(&mut harness, "three finished rows", |h| all_finished(h, 3));

    click(&mut harness, "Copy report");
    harness.step();
    let copied: Vec<String> = harness
        .output()
        .platform_output
        .commands
        .iter()
        .filter_map(|command| match command {
            egui::OutputCommand::CopyText(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    let [report] = copied.as_slice() else {
        panic!("one copied report, not {copied:?}");
    };
    let mut reader = csv::Reader::from_reader(report.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec!["file", "key", "state", "code", "message"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let row = |file: &str| {
        rows.iter()
            .find(|row| row[0].ends_with(file))
            .unwrap_or_else(|| panic!("no row for {file}: {rows:?}"))
    };
    let good = row("img-00.png");
    assert_eq!(
        (&good[1], &good[2], &good[3]),
        ("original-uploads/img-00.png", "done", "")
    );
    let big = row("huge.jpg");
    assert_eq!((&big[1], &big[2], &big[3]), ("", "failed", "too_large"));
    assert!(big[4].contains("limit is 10 MiB"), "{big:?}");
    let text = row("notes.png");
    assert_eq!((&text[2], &text[3]), ("failed", "unsupported_type"));
}

#[test]
fn retry_after_a_watch_timeout_watches_the_same_key_and_uploads_nothing_again() {
    let data = tempfile::tempdir().unwrap();
    // A watch that looks once: it gives up before the local pipeline has answered.
    let launch = Launch {
        watch_timeout: Some(Duration::ZERO),
        ..Launch::default()
    };
    let mut harness = app_with(data.path(), launch);
    drop_files(&mut harness, &[PathBuf::from(SAMPLE)]);
    wait_for(&mut harness, "no rotations appeared within");
    let advice = harness
        .query_all_by_label_contains("no rotations appeared within")
        .next()
        .unwrap()
        .accesskit_node()
        .label()
        .unwrap_or_default();
    assert!(
        !advice.contains("cargo") && !advice.contains("CloudWatch"),
        "{advice}"
    );
    // The pipeline finishes meanwhile; Retry finds its rotations.
    wait_until(&mut harness, "the rotations on disk", |_| {
        data.path()
            .join("augmented-images/360-degree/landscape_360.jpg")
            .exists()
    });
    click(&mut harness, "Retry");
    wait_for(&mut harness, "1 done · 0 failed · 0 left");
    assert_eq!(originals(data.path()), vec!["landscape.jpg"]);
}

#[test]
fn duplicates_ask_skip_or_keep_both_once_per_batch() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let mut harness = app(data.path());
    drop_files(&mut harness, &[PathBuf::from(SAMPLE)]);
    wait_until(&mut harness, "the first upload", |h| all_finished(h, 1));

    // The same bytes under the same name (already uploaded), and a copy under
    // another name in the same drop (already queued): one question.
    let again = files.path().join("landscape.jpg");
    std::fs::copy(SAMPLE, &again).unwrap();
    let copy = files.path().join("copy-of-landscape.jpg");
    std::fs::copy(SAMPLE, &copy).unwrap();
    drop_files(&mut harness, &[again.clone(), copy.clone()]);
    wait_for(&mut harness, "Already uploaded or queued");
    click(&mut harness, "Skip");
    wait_until(&mut harness, "the question to go", |h| {
        !shows(h, "Already uploaded or queued")
    });
    let mut asked_again = false;
    let started = Instant::now();
    while !all_finished(&harness, 3) {
        harness.step();
        asked_again |= shows(&harness, "Already uploaded or queued");
        assert!(started.elapsed() < WAIT, "timed out waiting for the skips");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!asked_again, "the answer holds for the batch");
    assert_eq!(
        harness
            .query_all_by_label_contains(
                "Skipped: already uploaded as original-uploads/landscape.jpg"
            )
            .count(),
        2
    );
    // The summary counts this batch alone: the first upload was the last one's.
    harness.get_by_label_contains("0 done · 0 failed · 0 left · 2 skipped");
    assert_eq!(originals(data.path()), vec!["landscape.jpg"]);

    // A new batch asks again; Keep both uploads each under a new name.
    drop_files(&mut harness, &[again, copy]);
    wait_for(&mut harness, "Already uploaded or queued");
    click(&mut harness, "Keep both");
    wait_until(&mut harness, "both kept", |h| all_finished(h, 5));
    assert_eq!(
        originals(data.path()),
        vec!["copy-of-landscape.jpg", "landscape-2.jpg", "landscape.jpg"]
    );
}

#[test]
fn rows_are_compact_and_rotations_show_on_demand() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let dropped = distinct_images(files.path(), 0..20);
    let mut harness = app(data.path());
    drop_files(&mut harness, &dropped);
    wait_until(&mut harness, "twenty finished rows", |h| {
        all_finished(h, 20)
    });
    harness.run_steps(2);
    // Rows off screen are not built at all; the ones on screen are in the window.
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1180.0, 760.0));
    let visible = (0..20)
        .filter(|i| {
            harness
                .query_by_label_contains(&format!("img-{i:02}.png · "))
                .is_some_and(|node| window.contains_rect(node.rect()))
        })
        .count();
    assert!(visible >= 12, "only {visible} rows fit at 1180×760");
    assert!(
        harness
            .query_all_by_label_contains("rotated 90°")
            .next()
            .is_none()
    );
    harness
        .query_all_by_role_and_label(Role::Button, "Rotations")
        .next()
        .unwrap()
        .click();
    wait_until(&mut harness, "one row's rotations", |h| {
        h.query_all_by_label_contains("rotated")
            .filter(|node| node.accesskit_node().role() == Role::Image)
            .count()
            == 4
    });
}

#[test]
fn a_row_has_a_context_menu_and_its_thumbnail_opens_the_detail_view() {
    let data = tempfile::tempdir().unwrap();
    let mut harness = app(data.path());
    drop_files(&mut harness, &[PathBuf::from(SAMPLE)]);
    wait_until(&mut harness, "the row done", |h| all_finished(h, 1));

    harness
        .get_by_label_contains("landscape.jpg · ")
        .click_secondary();
    wait_until(&mut harness, "the menu", |h| {
        h.query_by_role_and_label(Role::Button, "Copy key")
            .is_some()
    });
    for item in [
        "Open",
        "Save to folder…",
        "Copy file path",
        "Reveal in file manager",
        "Delete…",
        "Remove from list",
    ] {
        harness.get_by_role_and_label(Role::Button, item);
    }
    click(&mut harness, "Copy key");
    harness.step();
    assert!(
        harness
            .output()
            .platform_output
            .commands
            .contains(&egui::OutputCommand::CopyText(
                "original-uploads/landscape.jpg".to_owned()
            ))
    );

    harness.run_steps(2);
    harness
        .query_all_by_label("landscape.jpg")
        .find(|node| node.accesskit_node().role() == Role::Image)
        .unwrap()
        .click();
    wait_until(&mut harness, "the detail view", |h| {
        h.query_by_label("landscape rotated 90°").is_some()
    });
}

/// Clicks Pause and steps until the queue is paused (the click lands a frame on).
fn pause(harness: &mut Harness<'_, DesktopApp>) {
    click(harness, "Pause");
    wait_until(harness, "Resume", |h| {
        h.query_by_role_and_label(Role::Button, "Resume").is_some()
    });
}

#[test]
fn pause_holds_the_queue_and_cancel_all_stops_every_row() {
    let data = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let mut harness = app(data.path());
    let first = distinct_images(files.path(), 0..1);
    drop_files(&mut harness, &first);
    wait_until(&mut harness, "the first row", |h| all_finished(h, 1));

    pause(&mut harness);
    let dropped = distinct_images(files.path(), 1..4);
    drop_files(&mut harness, &dropped[..2]);
    wait_until(&mut harness, "two paused rows", |h| {
        h.query_all_by_label_contains("Queued (paused)").count() == 2
    });
    click(&mut harness, "Resume");
    wait_until(&mut harness, "the paused rows done", |h| all_finished(h, 3));

    pause(&mut harness);
    drop_files(&mut harness, &dropped[2..]);
    wait_for(&mut harness, "Queued (paused)");
    click(&mut harness, "Cancel all");
    wait_until(&mut harness, "the row cancelled", |h| all_finished(h, 4));
    // This batch alone: the one row it had.
    harness.get_by_label_contains("0 done · 0 failed · 0 left · 1 cancelled");
    assert!(!data.path().join("original-uploads/img-03.png").exists());
}
