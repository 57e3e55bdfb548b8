//! Download all… and Export dataset… as a person uses them: from the menu or
//! the keyboard, narrowed by the gallery's filter, the progress and the report
//! above the queue; an export a quit left continues at the next start. Local
//! mode runs the real pipeline; widgets by role and label.

use std::path::{Path, PathBuf};

use augment_client::dataset::{ExportEvent, ExportRequest, MANIFEST_JSONL};
use augment_client::{NameFilter, Remote};
use augment_desktop::dataset::ExportChoices;
use augment_desktop::journal::QUEUE_FILE;
use augment_desktop::worker::DATASET_JOB_FILE;
use augment_desktop::{DesktopApp, Launch};
use egui::accesskit::Role;
use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use super::common::{cancel_quit, click, local_settings, shows, wait_for, wait_until};
use super::layout::{FULL_HD_AT_200, SMALL, app_at, assert_inside, button};

fn app_with(data_dir: &Path, launch: Launch) -> Harness<'static, DesktopApp> {
    let settings = local_settings(data_dir);
    Harness::builder()
        .with_size(egui::vec2(1180.0, 760.0))
        .build_eframe(move |cc| DesktopApp::new(&cc.egui_ctx, settings, launch).unwrap())
}

/// Four photos in two class folders, through the local pipeline.
fn data_folder(home: &Path) -> PathBuf {
    let photos = home.join("photos");
    for (n, name) in ["cats/tom", "cats/felix", "dogs/rex", "dogs/fido"]
        .into_iter()
        .enumerate()
    {
        let path = photos.join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let shade = u8::try_from(n * 60).unwrap();
        image::RgbImage::from_pixel(40, 30, image::Rgb([shade, 90, 255 - shade]))
            .save(&path)
            .unwrap();
    }
    let inputs = augment_client::inputs::collect(&[photos], None).unwrap();
    let data = home.join("data");
    let summary = augment_client::batch::run(&inputs, &data, 2, |_, _| {}).unwrap();
    assert!(summary.all_done(), "{summary:?}");
    data
}

/// A home folder with a data folder of four photos ([`data_folder`]), and
/// where the test's download or export goes in it.
fn home_with_data(dest: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let data = data_folder(home.path());
    let dest = home.path().join(dest);
    (home, data, dest)
}

/// Replaces what the field holds with `text`, as typed.
fn type_into(harness: &mut Harness<'_, DesktopApp>, field: &str, text: &str) {
    harness
        .get_by_role_and_label(Role::TextInput, field)
        .click();
    harness.step();
    harness.key_press_modifiers(Modifiers::COMMAND, Key::A);
    harness
        .get_by_role_and_label(Role::TextInput, field)
        .type_text(text);
    harness.step();
}

fn manifest_names(dest: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_to_string(dest.join(MANIFEST_JSONL))
        .unwrap()
        .lines()
        .map(|line| {
            let row: serde_json::Value = serde_json::from_str(line).unwrap();
            row["name"].as_str().unwrap().to_owned()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn ctrl_e_exports_what_the_gallery_filter_shows_and_reports_where() {
    let (_home, data, dest) = home_with_data("dataset");
    let mut harness = app_with(&data, Launch::default());
    wait_for(&mut harness, "felix");
    type_into(&mut harness, "Filter", "CAT");

    harness.key_press_modifiers(Modifiers::COMMAND, Key::E);
    harness.run_steps(2);
    assert!(shows(&harness, "The images whose name contains “CAT”"));
    click(&mut harness, "Export");
    harness.run_steps(2);
    assert!(shows(&harness, "Choose a folder to write into."));
    type_into(&mut harness, "Folder", &dest.display().to_string());
    type_into(&mut harness, "Splits", "train=0.5,bad=0.2");
    click(&mut harness, "Export");
    harness.run_steps(2);
    assert!(
        shows(&harness, "add up to"),
        "a bad split is said, not sent"
    );
    type_into(&mut harness, "Splits", "train=0.5,val=0.5");
    harness
        .get_by_role_and_label(Role::RadioButton, "WebDataset tar shards")
        .click();
    harness.step();
    click(&mut harness, "Export");
    wait_for(&mut harness, "Exported 2 images");
    assert!(shows(&harness, &dest.display().to_string()));
    harness.get_by_role_and_label(Role::Button, "Open folder");
    assert_eq!(manifest_names(&dest), ["cats/felix", "cats/tom"]);
    assert!(
        std::fs::read_dir(dest.join("train"))
            .into_iter()
            .chain(std::fs::read_dir(dest.join("val")))
            .flatten()
            .flatten()
            .any(|entry| entry.file_name().to_string_lossy().ends_with(".tar")),
        "WebDataset shards"
    );
    click(&mut harness, "Dismiss");
    harness.run_steps(2);
    assert!(!shows(&harness, "Exported 2 images"));
}

#[test]
fn download_all_from_the_menu_then_again_fetches_only_what_is_new() {
    let (_home, data, dest) = home_with_data("results");
    let mut harness = app_with(&data, Launch::default());
    wait_for(&mut harness, "felix");
    for round in 0..2 {
        click(&mut harness, "Dataset");
        harness.run_steps(2);
        click(&mut harness, "Download all…");
        harness.run_steps(2);
        if round == 0 {
            type_into(&mut harness, "Folder", &dest.display().to_string());
        }
        click(&mut harness, "Download");
        let expected = if round == 0 {
            "Downloaded: 20 fetched"
        } else {
            "Downloaded: 0 fetched"
        };
        wait_until(&mut harness, expected, |h| shows(h, expected));
    }
    assert!(shows(&harness, "20 up to date"));
    assert!(
        dest.join("augmented-images/90-degree/dogs/rex_90.jpg")
            .is_file()
    );
    assert!(dest.join("processed/cats/tom_256x256.jpg").is_file());
}

/// The export the dialog's default choices make, interrupted as a quit leaves
/// it (stopped before its first image was written whole, no manifest).
fn interrupted_export(data: &Path, dest: &Path) {
    let choices = ExportChoices::default();
    let request = ExportRequest {
        dest: dest.to_owned(),
        format: choices.format.format(),
        splits: choices.splits.parse().unwrap(),
        seed: choices.seed,
        all_angles: choices.all_angles,
        label_depth: choices.label_depth,
        shard_bytes: augment_client::dataset::DEFAULT_SHARD_BYTES,
        name_prefix: String::new(),
        name_filter: NameFilter::default(),
        jobs: 1,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let stopped = runtime.block_on(async {
        let remote = Remote::connect(&local_settings(data)).await.unwrap();
        tokio::spawn(async move {
            remote
                .export(&request, |event| {
                    assert!(!matches!(event, ExportEvent::Exported { .. }), "quit here");
                })
                .await
        })
        .await
    });
    assert!(stopped.unwrap_err().is_panic());
    assert!(!dest.join(MANIFEST_JSONL).exists());
}

/// The app on a data folder that cannot be (a file): a job it starts waits
/// for a connection that never comes, so it is still running.
fn app_without_data(home: &Path, launch: Launch) -> Harness<'static, DesktopApp> {
    let not_a_folder = home.join("a file");
    std::fs::write(&not_a_folder, b"").unwrap();
    app_with(&not_a_folder, launch)
}

/// Ctrl+E, the folder typed, Export: until the job shows above the queue.
fn export_running(harness: &mut Harness<'_, DesktopApp>, dest: &Path) {
    harness.run_steps(2);
    harness.key_press_modifiers(Modifiers::COMMAND, Key::E);
    harness.run_steps(2);
    type_into(harness, "Folder", &dest.display().to_string());
    click(harness, "Export");
    wait_until(harness, "the export running", |h| {
        h.query_by_role_and_label(Role::Button, "Cancel export")
            .is_some()
    });
}

#[test]
fn an_export_a_quit_left_continues_at_the_next_start() {
    let (home, data, dest) = home_with_data("dataset");
    interrupted_export(&data, &dest);
    let state = home.path().join("state");
    let launch = || Launch {
        queue_file: Some(state.join(QUEUE_FILE)),
        ..Launch::default()
    };
    // The window closes while the export runs.
    let mut first = app_without_data(home.path(), launch());
    export_running(&mut first, &dest);
    drop(first);
    assert!(
        state.join(DATASET_JOB_FILE).is_file(),
        "kept for the next start"
    );

    let launch = launch();
    let mut harness = app_with(&data, launch);
    wait_for(&mut harness, "continued an interrupted export");
    assert!(shows(&harness, "Exported 4 images"));
    assert_eq!(
        manifest_names(&dest),
        ["cats/felix", "cats/tom", "dogs/fido", "dogs/rex"]
    );
    assert!(
        !state.join(DATASET_JOB_FILE).exists(),
        "a finished job is not resumed again"
    );
}

#[test]
fn the_export_dialog_fits_at_800x500_and_at_200_percent() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    for (size, scale) in [(SMALL, 1.0), (FULL_HD_AT_200, 2.0)] {
        let mut harness = app_at(&data, size, scale);
        harness.run_steps(3);
        harness.key_press_modifiers(Modifiers::COMMAND, Key::E);
        harness.run_steps(3);
        for label in ["Choose…", "Export", "Cancel"] {
            assert_inside(&harness, label, button(&harness, label));
        }
        let every = harness
            .get_by_role_and_label(Role::CheckBox, "Every split gets every angle")
            .rect();
        assert_inside(&harness, "the angles' checkbox", every);
        harness.key_press(Key::Escape);
        harness.run_steps(2);
        assert!(harness.state().dataset().draft.is_none(), "Esc closes it");
    }
}

#[test]
fn a_running_export_is_kept_until_cancelled_and_a_quit_asks_first() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let launch = Launch {
        queue_file: Some(state.join(QUEUE_FILE)),
        ..Launch::default()
    };
    let mut harness = app_without_data(home.path(), launch);
    export_running(&mut harness, &home.path().join("dataset"));
    assert!(shows(&harness, "Exporting"));
    assert!(
        state.join(DATASET_JOB_FILE).is_file(),
        "kept for the next start while it runs"
    );
    // Ctrl+Q asks first, and says the export continues at the next start.
    harness.key_press_modifiers(Modifiers::COMMAND, Key::Q);
    harness.run_steps(2);
    harness.get_by_label("An export is still running");
    assert!(shows(&harness, "continues where it stopped"));
    assert!(!harness.state().quitting());
    cancel_quit(&mut harness, "An export is still running");
    click(&mut harness, "Cancel export");
    wait_for(&mut harness, "Cancelled");
    assert!(shows(&harness, "unfinished"));
    assert!(
        !state.join(DATASET_JOB_FILE).exists(),
        "a cancelled job is not resumed"
    );
}
