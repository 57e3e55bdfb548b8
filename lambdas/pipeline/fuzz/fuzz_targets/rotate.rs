//! The first byte picks the angle, the rest is what lies under `processed/`:
//! `rotate_jpeg_bytes` (the check that it is exactly what the processor writes,
//! from its headers, then libjpeg-turbo's transform) returns a JPEG or a
//! rejection, within the peak-allocation ceiling, and never panics. Where 360°
//! gives the file back unchanged (a file exactly as the processor writes it is
//! copied without the transform), libjpeg-turbo's transform must give it back too.
//! All four angles at once (`rotate_jpeg_bytes_all`, one entropy decode for the
//! transforms) give what each angle alone gives, wherever they succeed.

#![no_main]

mod common;

use augment_pipeline::Angle;
use augment_pipeline::imaging::{rotate_jpeg_bytes, rotate_jpeg_bytes_all};
use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: common::CountingAlloc = common::CountingAlloc;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, jpeg)) = data.split_first() else {
        return;
    };
    let index = usize::from(selector) % Angle::ALL.len();
    let angle = Angle::ALL[index];
    let rotated = common::check("rotate_jpeg_bytes", || rotate_jpeg_bytes(jpeg, angle));
    let together = common::within_ceiling("rotate_jpeg_bytes_all", || {
        rotate_jpeg_bytes_all(jpeg, &Angle::ALL)
    });
    if let Ok(together) = &together {
        assert_eq!(
            Some(&together[index]),
            rotated.as_ref().ok(),
            "{angle}° of all four at once differs from {angle}° alone"
        );
    }
    if angle == Angle::Deg360 && rotated.is_ok_and(|out| out == jpeg) {
        let mut transform = turbojpeg::Transform::op(turbojpeg::TransformOp::None);
        transform.perfect = true;
        transform.copy_none = true;
        let reference = turbojpeg::Transformer::new()
            .and_then(|mut transformer| transformer.transform_to_vec(&transform, jpeg));
        assert!(
            reference.is_ok_and(|out| out == jpeg),
            "360° copied a file libjpeg-turbo's transform changes or refuses"
        );
    }
});
