//! Rotations are exact: for every angle, the decoded rotation is the decoded
//! processed image turned, to within the rounding of the inverse DCT and chroma
//! upsampling. And the DC-only decoder (1/8 scale) agrees with libjpeg-turbo's.
//!
//! Rotations are compared as the JPEG's own samples (Y, Cb and Cr planes, decoded
//! without upsampling or colour conversion by libjpeg-turbo): those are what a
//! lossless turn keeps. In RGB a ±1 rounding of the inverse DCT in Cb becomes ±2
//! (B = Y + 1.772 Cb), and smooth chroma upsampling rounds differently by
//! direction, so RGB comparisons show 3-4 levels where the samples show 1.

use augment_pipeline::imaging::{
    decode, encode_jpeg, process_upload_bytes, rotate, rotate_jpeg_bytes,
};
use augment_pipeline::sniff::ImageFormat;
use augment_pipeline::{Angle, RejectCode};
use image::RgbImage;
use turbojpeg::{Colorspace, Compressor, Image, PixelFormat, Subsamp};

/// Inverse DCT rounding; a decode and re-encode shows 10 and more.
const EXACT_LEVELS: u8 = 2;

fn open(jpeg: &[u8]) -> RgbImage {
    let mut decompressor = turbojpeg::Decompressor::new().unwrap();
    decompressor.set_fast_upsample(true).unwrap();
    let header = decompressor.read_header(jpeg).unwrap();
    let mut image = Image {
        pixels: vec![0; header.width * header.height * 3],
        width: header.width,
        pitch: header.width * 3,
        height: header.height,
        format: PixelFormat::RGB,
    };
    decompressor.decompress(jpeg, image.as_deref_mut()).unwrap();
    RgbImage::from_raw(header.width as u32, header.height as u32, image.pixels).unwrap()
}

/// The Y, Cb, Cr planes (Cb and Cr at their subsampled size).
fn planes(jpeg: &[u8]) -> Vec<image::GrayImage> {
    let mut decompressor = turbojpeg::Decompressor::new().unwrap();
    let header = decompressor.read_header(jpeg).unwrap();
    let len = turbojpeg::yuv_pixels_len(header.width, 1, header.height, header.subsamp).unwrap();
    let mut yuv = turbojpeg::YuvImage {
        pixels: vec![0; len],
        width: header.width,
        align: 1,
        height: header.height,
        subsamp: header.subsamp,
    };
    decompressor
        .decompress_to_yuv(jpeg, yuv.as_deref_mut())
        .unwrap();
    let (w, h) = (header.width, header.height);
    let (cw, ch) = (
        w.div_ceil(header.subsamp.width()),
        h.div_ceil(header.subsamp.height()),
    );
    let (luma, chroma) = yuv.pixels.split_at(w * h);
    let (cb, cr) = chroma.split_at(cw * ch);
    [(luma, w, h), (cb, cw, ch), (cr, cw, ch)]
        .into_iter()
        .map(|(plane, w, h)| {
            image::GrayImage::from_raw(w as u32, h as u32, plane.to_vec()).unwrap()
        })
        .collect()
}

fn rotate_plane(plane: &image::GrayImage, angle: Angle) -> image::GrayImage {
    match angle {
        Angle::Deg90 => image::imageops::rotate270(plane),
        Angle::Deg180 => image::imageops::rotate180(plane),
        Angle::Deg270 => image::imageops::rotate90(plane),
        Angle::Deg360 => plane.clone(),
    }
}

fn max_plane_difference(a: &[image::GrayImage], b: &[image::GrayImage]) -> u8 {
    a.iter()
        .zip(b)
        .map(|(a, b)| max_difference(a, b))
        .max()
        .unwrap()
}

/// The largest difference of any sample of two images of the same size.
fn max_difference<P: image::Pixel<Subpixel = u8>>(
    a: &image::ImageBuffer<P, Vec<u8>>,
    b: &image::ImageBuffer<P, Vec<u8>>,
) -> u8 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap()
}

/// Sharp edges and every colour: a checkerboard of saturated squares, a thin
/// diagonal line and text-like bars, asymmetric so a wrong turn shows.
fn sharp_canvas() -> RgbImage {
    RgbImage::from_fn(256, 256, |x, y| {
        let square = ((x / 24) + (y / 24) * 3) % 5;
        let mut px = match square {
            0 => [230, 20, 30],
            1 => [20, 200, 40],
            2 => [30, 40, 220],
            3 => [250, 250, 250],
            _ => [10, 10, 10],
        };
        if x.abs_diff(y / 2) < 2 || (x < 100 && y > 200 && x % 7 < 2) {
            px = [255, 255, 0];
        }
        image::Rgb(px)
    })
}

fn turbo_jpeg(image: &RgbImage, subsamp: Subsamp) -> Vec<u8> {
    let mut compressor = Compressor::new().unwrap();
    compressor.set_quality(90).unwrap();
    compressor.set_subsamp(subsamp).unwrap();
    compressor
        .compress_to_vec(Image {
            pixels: image.as_raw().as_slice(),
            width: image.width() as usize,
            pitch: image.width() as usize * 3,
            height: image.height() as usize,
            format: PixelFormat::RGB,
        })
        .unwrap()
}

#[test]
fn rotations_are_the_processed_pixels_turned() {
    let processed_420 = process_upload_bytes(&turbo_jpeg(&sharp_canvas(), Subsamp::None)).unwrap();
    let inputs = [("processed (4:2:0)", processed_420)];
    for (what, jpeg) in inputs {
        let before = open(&jpeg);
        let before_planes = planes(&jpeg);
        for angle in Angle::ALL {
            let rotated = rotate_jpeg_bytes(&jpeg, angle).unwrap();
            let expected: Vec<_> = before_planes
                .iter()
                .map(|p| rotate_plane(p, angle))
                .collect();
            let exact = max_plane_difference(&planes(&rotated), &expected);
            let rgb = max_difference(&open(&rotated), &rotate(&before, angle));
            println!("{what} {angle}: max difference {exact} (in RGB {rgb})");
            assert!(exact <= EXACT_LEVELS, "{what} {angle}: {exact} levels off");

            // What a decode, turn and re-encode gives: the test above must tell
            // it apart.
            let turned = rotate(&before, angle);
            let lossy = max_difference(&open(&encode_jpeg(&turned)), &turned);
            println!("{what} {angle}: decode, turn and re-encode: {lossy}");
            assert!(lossy >= 10, "{what} {angle}: re-encoding only {lossy} off");
        }
        // 360: the coefficients copied, so the pixels are the processed image's.
        let same = open(&rotate_jpeg_bytes(&jpeg, Angle::Deg360).unwrap());
        assert_eq!(max_difference(&same, &open(&jpeg)), 0, "{what} 360");
    }
}

#[test]
fn only_what_the_processor_writes_is_turned() {
    let canvas = sharp_canvas();
    // A 4:2:0 256×256 baseline JPEG, as the processor writes, and its rotations
    // (which the app decodes under the same check) are turned.
    let same_kind = turbo_jpeg(&canvas, Subsamp::Sub2x2);
    let turned = rotate_jpeg_bytes(&same_kind, Angle::Deg90).unwrap();
    rotate_jpeg_bytes(&turned, Angle::Deg270).unwrap();
    augment_pipeline::imaging::decode_output(&turned).unwrap();
    // Partial blocks, another size, another sampling: refused from the header.
    let odd = image::imageops::crop_imm(&canvas, 0, 0, 250, 256).to_image();
    let short = image::imageops::crop_imm(&canvas, 0, 0, 256, 248).to_image();
    let refused = [
        ("250×256", turbo_jpeg(&odd, Subsamp::Sub2x2)),
        ("256×248", turbo_jpeg(&short, Subsamp::None)),
        ("not as YCbCr 4:2:0", turbo_jpeg(&canvas, Subsamp::None)),
        ("not as YCbCr 4:2:0", turbo_jpeg(&canvas, Subsamp::Sub2x1)),
    ];
    for (why, jpeg) in refused {
        let rejection = rotate_jpeg_bytes(&jpeg, Angle::Deg90).unwrap_err();
        assert_eq!(rejection.code, RejectCode::UnsupportedType, "{rejection}");
        assert!(rejection.message.contains(why), "{why}: {rejection}");
        let rejection = augment_pipeline::imaging::decode_output(&jpeg).unwrap_err();
        assert!(rejection.message.contains(why), "{why}: {rejection}");
    }
}

/// A smooth picture (chroma changes slowly, so replicated chroma and
/// libjpeg-turbo's 2×2 chroma IDCT agree), at 1/8 scale through both decoders.
#[test]
fn the_dc_decoder_agrees_with_libjpeg_turbo_at_one_eighth() {
    let (width, height) = (2400_usize, 2056_usize);
    let mut rgb = vec![0_u8; width * height * 3];
    for (i, px) in rgb.chunks_exact_mut(3).enumerate() {
        let (x, y) = (i % width, i / width);
        px[0] = (x * 220 / width) as u8 + 10;
        px[1] = (y * 200 / height) as u8 + 20;
        px[2] = ((x + y) * 100 / (width + height)) as u8 + 60;
    }
    let cases: [(&str, PixelFormat, Option<Colorspace>, Subsamp, bool); 7] = [
        (
            "baseline 4:2:0",
            PixelFormat::RGB,
            None,
            Subsamp::Sub2x2,
            false,
        ),
        (
            "baseline 4:4:4",
            PixelFormat::RGB,
            None,
            Subsamp::None,
            false,
        ),
        (
            "progressive 4:2:0",
            PixelFormat::RGB,
            None,
            Subsamp::Sub2x2,
            true,
        ),
        (
            "progressive 4:2:2",
            PixelFormat::RGB,
            None,
            Subsamp::Sub2x1,
            true,
        ),
        (
            "progressive gray",
            PixelFormat::RGB,
            Some(Colorspace::Gray),
            Subsamp::Gray,
            true,
        ),
        (
            "progressive CMYK",
            PixelFormat::CMYK,
            Some(Colorspace::CMYK),
            Subsamp::None,
            true,
        ),
        (
            "progressive YCCK",
            PixelFormat::CMYK,
            Some(Colorspace::YCCK),
            Subsamp::None,
            true,
        ),
    ];
    let mut inputs: Vec<(String, Vec<u8>, bool)> = cases
        .into_iter()
        .map(|(what, format, colorspace, subsamp, progressive)| {
            let pixels: Vec<u8> = if format == PixelFormat::CMYK {
                rgb.chunks_exact(3)
                    .flat_map(|p| [p[0], p[1], p[2], 255 - p[0] / 2])
                    .collect()
            } else {
                rgb.clone()
            };
            let mut compressor = Compressor::new().unwrap();
            compressor.set_quality(92).unwrap();
            compressor.set_subsamp(subsamp).unwrap();
            if let Some(colorspace) = colorspace {
                compressor.set_colorspace(colorspace).unwrap();
            }
            compressor.set_progressive(progressive).unwrap();
            let jpeg = compressor
                .compress_to_vec(Image {
                    pixels: pixels.as_slice(),
                    width,
                    pitch: width * format.size(),
                    height,
                    format,
                })
                .unwrap();
            (what.to_owned(), jpeg, format == PixelFormat::CMYK)
        })
        .collect();
    // Restart markers (libjpeg-turbo's encoder has no setting for them here).
    for (interval, progressive) in [(3, false), (1, true), (5, true)] {
        let mut jpeg = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut jpeg, 92);
        encoder.set_restart_interval(interval);
        encoder.set_progressive(progressive);
        encoder
            .encode(
                &rgb,
                width as u16,
                height as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .unwrap();
        let what = format!("restart interval {interval}, progressive {progressive}");
        inputs.push((what, jpeg, false));
    }
    for (what, jpeg, cmyk) in inputs {
        let ours = decode(&jpeg, ImageFormat::Jpeg, 256).unwrap();
        assert_eq!(ours.dimensions(), (300, 257), "{what}: decoded at 1/8");

        let mut decompressor = turbojpeg::Decompressor::new().unwrap();
        decompressor
            .set_scaling_factor(turbojpeg::ScalingFactor::ONE_EIGHTH)
            .unwrap();
        let out_format = if cmyk {
            PixelFormat::CMYK
        } else {
            PixelFormat::RGB
        };
        let mut theirs = Image {
            pixels: vec![0; 300 * 257 * out_format.size()],
            width: 300,
            pitch: 300 * out_format.size(),
            height: 257,
            format: out_format,
        };
        decompressor
            .decompress(&jpeg, theirs.as_deref_mut())
            .unwrap();
        let theirs: Vec<u8> = if out_format == PixelFormat::CMYK {
            // As stored (inverted): the naive conversion the pipeline uses.
            theirs
                .pixels
                .chunks_exact(4)
                .flat_map(|p| {
                    let k = u16::from(p[3]);
                    [p[0], p[1], p[2]].map(|v| (u16::from(v) * k / 255) as u8)
                })
                .collect()
        } else {
            theirs.pixels
        };
        let theirs = RgbImage::from_raw(300, 257, theirs).unwrap();
        let difference = max_difference(&ours, &theirs);
        println!("{what}: max difference {difference}");
        assert!(
            difference <= EXACT_LEVELS,
            "{what}: {difference} levels off"
        );
    }
}
