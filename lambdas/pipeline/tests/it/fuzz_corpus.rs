//! The fuzz corpus (`fuzz/corpus/`, seeds and every crash found, minimised) replayed
//! on stable in every test run: each file, as an upload and as a rotation input
//! (the first byte picks the angle, as the `rotate` target reads it), gives a
//! rejection or a JPEG that decodes, and never panics, not even inside the decoder
//! guard that would turn a panic into a rejection.
//!
//! A PNG crash goes into the corpus with its chunk CRCs recomputed: the png crate
//! skips CRC checks in a fuzzing build, so the saved input as libFuzzer wrote it is
//! rejected here for its CRC before it reaches the code that crashed.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use augment_pipeline::Angle;
use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use augment_pipeline::limits::CANVAS_SIDE_PX;
use image::{ImageFormat, RgbImage};

/// The fuzz targets' corpus folders.
const TARGETS: [&str; 2] = ["process_upload", "rotate"];

fn corpus() -> Vec<(PathBuf, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut files = Vec::new();
    for target in TARGETS {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(root.join(target))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        paths.sort();
        assert!(!paths.is_empty(), "no corpus for {target}");
        for path in paths {
            let bytes = std::fs::read(&path).unwrap();
            files.push((path, bytes));
        }
    }
    files
}

/// Runs `work` and fails if anything panicked meanwhile, caught or not: the guard
/// keeps a production batch alive, but a panic on input is a bug to fix before it.
fn without_panics<T>(work: impl FnOnce() -> T) -> T {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::Relaxed);
        default_hook(info);
    }));
    let result = work();
    let _ = std::panic::take_hook();
    assert_eq!(
        PANICS.load(Ordering::Relaxed),
        0,
        "a decoder panicked on a corpus file (its message is above)"
    );
    result
}

/// A JPEG the pipeline returned: it must decode.
fn decoded(jpeg: &[u8], what: &str) -> RgbImage {
    image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg)
        .unwrap_or_else(|err| panic!("{what}: the returned JPEG does not decode: {err}"))
        .to_rgb8()
}

#[test]
fn every_corpus_file_is_rejected_or_processed_onto_the_canvas() {
    let mut processed = 0;
    for (path, bytes) in corpus() {
        let what = path.display().to_string();
        // A Rejection is a fine outcome; a panic fails the test.
        if let Ok(jpeg) = without_panics(|| process_upload_bytes(&bytes)) {
            let image = decoded(&jpeg, &what);
            assert_eq!(
                image.dimensions(),
                (CANVAS_SIDE_PX, CANVAS_SIDE_PX),
                "{what}"
            );
            processed += 1;
        }
    }
    // The seeds are real images: the replay exercises the whole pipeline, not only
    // its rejections.
    assert!(processed > 0, "no corpus file was processed");
}

#[test]
fn every_corpus_file_is_rejected_or_rotated() {
    let mut rotated = 0;
    for (path, bytes) in corpus() {
        let Some((&selector, jpeg)) = bytes.split_first() else {
            continue;
        };
        let angle = Angle::ALL[usize::from(selector) % Angle::ALL.len()];
        let what = format!("{} at {}°", path.display(), angle.degrees());
        if let Ok(rotation) = without_panics(|| rotate_jpeg_bytes(jpeg, angle)) {
            let image = decoded(&rotation, &what);
            assert!(image.width() > 0 && image.height() > 0, "{what}");
            rotated += 1;
        }
    }
    assert!(rotated > 0, "no corpus file was rotated");
}
