//! 360° of a processed image: libjpeg-turbo's lossless transform (no operation) is
//! the reference. A file exactly as the processor writes it comes back as itself
//! without the transform; every other file, and every damaged one, must still come
//! out (or be refused) exactly as the transform has it.

use augment_pipeline::Angle;
use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use augment_pipeline::makers::photo_jpeg;

/// libjpeg-turbo's transform with no operation, as the worker ran it for 360°
/// before: `None` where it refuses the file.
fn reference(jpeg: &[u8]) -> Option<Vec<u8>> {
    let mut transform = turbojpeg::Transform::op(turbojpeg::TransformOp::None);
    transform.perfect = true;
    transform.copy_none = true;
    turbojpeg::Transformer::new()
        .and_then(|mut transformer| transformer.transform_to_vec(&transform, jpeg))
        .ok()
}

/// Processed images of photos of many sizes (so the fitted picture's white bars
/// and its detail differ), each `(what, bytes)`.
fn processed_images() -> Vec<(String, Vec<u8>)> {
    [
        (64, 48),
        (200, 300),
        (256, 256),
        (320, 240),
        (400, 97),
        (640, 480),
        (97, 400),
        (1000, 750),
    ]
    .into_iter()
    .map(|(w, h)| {
        let processed = process_upload_bytes(&photo_jpeg(w, h, false)).unwrap();
        (format!("{w}x{h}"), processed)
    })
    .collect()
}

/// A small deterministic generator (xorshift), so a failure names its case.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Where 360° gives `jpeg` back unchanged, libjpeg-turbo's transform must too
/// (anything else 360° gives comes from that transform). Returns whether it did.
fn copied_only_as_the_transform_would(what: &str, jpeg: &[u8]) -> bool {
    let copied = rotate_jpeg_bytes(jpeg, Angle::Deg360).is_ok_and(|out| out == jpeg);
    if copied {
        assert_eq!(
            reference(jpeg).as_deref(),
            Some(jpeg),
            "{what}: 360° copied a file libjpeg-turbo's transform changes or refuses"
        );
    }
    copied
}

/// Where the entropy-coded data starts: after the scan header.
fn data_start(jpeg: &[u8]) -> usize {
    let sos = jpeg.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    sos + 2 + usize::from(u16::from_be_bytes([jpeg[sos + 2], jpeg[sos + 3]]))
}

#[test]
fn a_processed_image_turned_360_is_itself_and_the_transforms_output() {
    for (what, processed) in processed_images() {
        assert_eq!(reference(&processed).as_ref(), Some(&processed), "{what}");
        assert_eq!(
            rotate_jpeg_bytes(&processed, Angle::Deg360).unwrap(),
            processed,
            "{what}"
        );
    }
}

#[test]
fn a_damaged_or_padded_processed_image_turned_360_is_what_the_transform_makes() {
    let mut state = 0x9E37_79B9_7F4A_7C15;
    let mut copies = 0;
    for (what, processed) in processed_images() {
        let data_start = data_start(&processed);
        for case in 0..60 {
            let mut damaged = processed.clone();
            let span = damaged.len() - 2 - data_start;
            let at = data_start + (next(&mut state) as usize % span);
            match case % 4 {
                // A flipped bit: another coefficient, a broken code or a marker.
                0 | 1 => damaged[at] ^= 1 << (next(&mut state) % 8),
                // A byte of other bits.
                2 => damaged[at] = next(&mut state) as u8,
                // Cut short, with the end-of-image marker kept.
                _ => {
                    damaged.drain(at..damaged.len() - 2);
                }
            }
            let what = format!("{what}, case {case} at {at}");
            copies += usize::from(copied_only_as_the_transform_would(&what, &damaged));
        }
        let mut trailing = processed.clone();
        trailing.extend_from_slice(b"after the end");
        let after = format!("{what} with bytes after its end");
        assert!(!copied_only_as_the_transform_would(&after, &trailing));
        let mut padded = processed.clone();
        // Padding of zero bits instead of ones in the last data byte.
        let last = padded.len() - 3;
        padded[last] &= 0xF0;
        let zeros = format!("{what} padded with zeros");
        copied_only_as_the_transform_would(&zeros, &padded);
        let mut extra = processed.clone();
        extra.splice(extra.len() - 2..extra.len() - 2, [0x00, 0x00]);
        let before = format!("{what} with bytes before its end");
        assert!(!copied_only_as_the_transform_would(&before, &extra));
    }
    // Flipped sign or value bits leave a file an encoder could have written: the
    // copy must have been taken for some, or this test shows nothing.
    println!("{copies} damaged files copied as the transform would");
    assert!(copies > 0, "no damaged file went through the copy");
}
