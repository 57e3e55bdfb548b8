//! What every UI test file needs: local-mode settings, dropping files on the
//! window, stepping until something shows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use augment_client::{LocalSettings, Mode, Settings};
use augment_desktop::DesktopApp;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

/// The longest a test waits for the worker (a whole local pipeline run).
pub const WAIT: Duration = Duration::from_secs(60);
/// A real photo from the samples.
pub const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../assets/samples/landscape.jpg"
);

/// A file dropped on the window, as winit hands it over.
#[derive(Debug)]
pub struct Dropped(pub PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|err| err.to_string())
    }
}

/// Local mode with its data folder at `data_dir`.
pub fn local_settings(data_dir: &Path) -> Settings {
    Settings {
        mode: Mode::Local,
        local: LocalSettings {
            data_dir: Some(data_dir.to_owned()),
        },
        ..Settings::default()
    }
}

pub fn drop_files(harness: &mut Harness<'_, DesktopApp>, files: &[PathBuf]) {
    for file in files {
        harness
            .input_mut()
            .dropped_files
            .push(Arc::new(Dropped(file.clone())));
    }
    harness.step();
}

/// Steps the app until `done` holds (the worker runs on its own threads); on a
/// time-out, fails naming what the window shows.
pub fn wait_until(
    harness: &mut Harness<'_, DesktopApp>,
    what: &str,
    done: impl Fn(&Harness<'_, DesktopApp>) -> bool,
) {
    wait_until_with(harness, what, |_| {}, done);
}

/// Steps until the window shows `text` (anywhere in a label).
pub fn wait_for(harness: &mut Harness<'_, DesktopApp>, text: &str) {
    wait_until(harness, &format!("{text:?}"), |h| shows(h, text));
}

/// [`wait_until`], doing `each` (answering a question, say) after every step.
pub fn wait_until_with(
    harness: &mut Harness<'_, DesktopApp>,
    what: &str,
    mut each: impl FnMut(&mut Harness<'_, DesktopApp>),
    done: impl Fn(&Harness<'_, DesktopApp>) -> bool,
) {
    let started = Instant::now();
    loop {
        harness.step();
        each(harness);
        if done(harness) {
            return;
        }
        if started.elapsed() > WAIT {
            let labels: Vec<String> = harness
                .query_all_by_label_contains("")
                .filter_map(|node| node.accesskit_node().label())
                .collect();
            panic!("timed out waiting for {what}; the window shows {labels:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn shows(harness: &Harness<'_, DesktopApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

pub fn click(harness: &mut Harness<'_, DesktopApp>, button: &str) {
    harness.get_by_role_and_label(Role::Button, button).click();
}

/// The files under `original-uploads/` of the data folder.
pub fn originals(data: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("original-uploads"))
        .map(|dir| {
            dir.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| !name.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The quit question's *Cancel* (drawn over the rows' own, so the last one),
/// then the question titled `question` is gone.
pub fn cancel_quit(harness: &mut Harness<'_, DesktopApp>, question: &str) {
    harness
        .query_all_by_role_and_label(Role::Button, "Cancel")
        .last()
        .unwrap()
        .click();
    harness.run_steps(2);
    assert!(!shows(harness, question));
}
