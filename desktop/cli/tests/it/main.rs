//! `augment` run as a person runs it, one test binary: `process`, `upload`,
//! `download`, `export` and `verify`.

#![expect(
    clippy::unwrap_used,
    reason = "tests: a panic is a failure with its line"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use augment_aws::testing;

mod download;
mod export;
mod process;
mod status;
mod upload;

/// A JPEG with a gradient (so it compresses like a photo, not like a flat fill),
/// encoded as the pipeline encodes.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let gradient = |x: u32, y: u32| image::Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, 128]);
    augment_pipeline::imaging::encode_jpeg(&image::RgbImage::from_fn(width, height, gradient))
}

/// A JPEG object to put, with this user metadata.
fn jpeg_object(
    key: &str,
    body: Vec<u8>,
    metadata: Vec<(&'static str, String)>,
) -> augment_pipeline::PutObject {
    augment_pipeline::PutObject {
        key: key.to_owned(),
        body,
        content_type: "image/jpeg",
        metadata,
        tags: Vec::new(),
        on_sent: None,
    }
}

/// `augment` with a private config folder and data folder, and no AWS
/// environment from the machine running the tests.
pub(crate) fn augment(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_augment"));
    testing::isolated_from_machine(&mut command, home).stdin(Stdio::null());
    command
}

pub(crate) fn run(command: &mut Command) -> (Option<i32>, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

pub(crate) fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    path.to_owned()
}

/// Every file under `root`, relative, with `/`.
pub(crate) fn files(root: &Path) -> BTreeSet<String> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

/// `files` (name, bytes; a name may hold folders) written under `dir`, which is
/// returned.
pub(crate) fn folder(dir: &Path, files: &[(&str, Vec<u8>)]) -> PathBuf {
    for (name, bytes) in files {
        write(&dir.join(name), bytes);
    }
    dir.to_owned()
}

/// `photos` written into `home/photos` and processed into `home/data` (its
/// path returned) by `augment process`, which exits with `code` (1: some
/// photos are rejected).
pub(crate) fn processed(home: &Path, photos: &[(&str, Vec<u8>)], code: i32) -> PathBuf {
    let dir = folder(&home.join("photos"), photos);
    let data = home.join("data");
    let (exit, _, stderr) = run(augment(home)
        .args(["process", "--quiet", "--out"])
        .arg(&data)
        .arg(&dir));
    assert_eq!(exit, Some(code), "{stderr}");
    data
}

/// A data folder in `home` made by `augment process` from two photos in class
/// folders (`cats/tom.jpg`, `dogs/rex.jpg`) and a text file it rejects
/// (`notes.jpg`).
pub(crate) fn two_photos_and_a_rejection(home: &Path) -> PathBuf {
    let photos = [
        ("cats/tom.jpg", jpeg(300, 200)),
        ("dogs/rex.jpg", jpeg(200, 300)),
        ("notes.jpg", b"not an image".to_vec()),
    ];
    processed(home, &photos, 1)
}

/// Asserts that `text` (a command's output) says each of `parts`.
pub(crate) fn says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part:?} not in:\n{text}");
    }
}
