//! `augment` run as a person runs it, one test binary: `process`, `upload`,
//! `download`, `export` and `verify`.

#![expect(
    clippy::unwrap_used,
    reason = "tests: a panic is a failure with its line"
)]

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
