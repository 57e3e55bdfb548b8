//! libjpeg-turbo's handles are kept between images on a thread: what one image
//! leaves behind (a refusal half-way through a decode or a transform) must never
//! show in the next. The same upload gives the same bytes before and after a
//! damaged one, on one thread, and the same as on a fresh thread.

use augment_pipeline::Angle;
use augment_pipeline::imaging::{process_upload_bytes, rotate_jpeg_bytes};
use augment_pipeline::makers::photo_jpeg;

/// The processed image and its four turns.
fn job(upload: &[u8]) -> Vec<Vec<u8>> {
    let processed = process_upload_bytes(upload).unwrap();
    let mut outputs: Vec<Vec<u8>> = Angle::ALL
        .into_iter()
        .map(|angle| rotate_jpeg_bytes(&processed, angle).unwrap())
        .collect();
    outputs.push(processed);
    outputs
}

/// `jpeg` with its entropy-coded data cut in the middle.
fn cut(jpeg: &[u8]) -> Vec<u8> {
    let mut damaged = jpeg[..jpeg.len() / 2].to_vec();
    damaged.extend_from_slice(&[0xFF, 0xD9]);
    damaged
}

#[test]
fn an_image_after_a_refused_one_comes_out_as_on_a_fresh_thread() {
    // 640×480 goes through libjpeg-turbo's decode (at 1/2), unlike 1/8's own.
    let upload = photo_jpeg(640, 480, false);
    let fresh = std::thread::spawn({
        let upload = upload.clone();
        move || job(&upload)
    })
    .join()
    .unwrap();
    let before = job(&upload);
    assert!(process_upload_bytes(&cut(&upload)).is_err());
    let processed = process_upload_bytes(&upload).unwrap();
    for angle in Angle::ALL {
        // Refused, or turned into a clean JPEG of what is there: either way the
        // transform stopped where the data did.
        std::hint::black_box(rotate_jpeg_bytes(&cut(&processed), angle).ok());
    }
    let after = job(&upload);
    assert_eq!(before, fresh, "the first job on this thread");
    assert_eq!(after, fresh, "the job after the refused ones");
}
