//! Helpers the desktop crate's test binaries share.

#![allow(
    dead_code,
    reason = "each test binary uses its own subset of these helpers"
)]
#![expect(
    clippy::unwrap_used,
    reason = "test helpers fail the test on setup errors"
)]

use std::sync::{Arc, Mutex};

use image::{ImageFormat, Rgb, RgbImage};

/// A JPEG with a gradient (so it compresses like a photo, not like a flat fill).
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 7 % 256) as u8, (y * 3 % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

/// A callback that records what it is called with, and the record.
pub fn recorder<T: Send + 'static>() -> (Arc<Mutex<Vec<T>>>, impl Fn(T) + Send + Sync + 'static) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    (seen, move |item| record.lock().unwrap().push(item))
}
