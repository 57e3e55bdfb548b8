//! `cargo xtask icons`: every icon the installers need, generated from the one
//! source, `assets/icon.png` (512×512 RGBA, made by `assets/make_icon.py`), so
//! nobody edits binary icon files by hand:
//!
//! - `<size>x<size>.png` for the freedesktop hicolor theme (the .deb, AppImage);
//! - `icon.ico` for Windows (the installer, shortcuts);
//! - `icon.icns` for macOS (the .app bundle, the .dmg).
//!
//! Both containers hold PNG images (Windows Vista+ and macOS 10.7+ read those), so
//! writing them is a header and a table of contents; CI checks them with icoutils
//! and libicns, the tools the platforms' own build scripts use.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, ensure};
use fast_image_resize as fr;

/// The source every icon is made from.
pub const SOURCE: &str = "assets/icon.png";
/// The source's size: the largest icon (macOS's 256@2x and Linux's 512×512).
pub const SOURCE_SIZE: u32 = 512;
/// The freedesktop hicolor sizes the .deb installs (what GNOME, KDE and the
/// menus look up; 48 is the classic menu size).
pub const PNG_SIZES: &[u32] = &[16, 24, 32, 48, 64, 128, 256, 512];
/// Windows: the small sizes Explorer and the taskbar use at 100-200 % scale, and
/// 256 for large views. Windows reads at most 256.
pub const ICO_SIZES: &[u32] = &[16, 24, 32, 48, 64, 256];
/// macOS: (OSType, pixel size) of each PNG entry. `ic11`..`ic14` are the @2x
/// (Retina) versions of 16, 32, 128 and 256 points; `ic10` (512@2x, 1024 px)
/// would need a larger source and is left out.
pub const ICNS_ENTRIES: &[(&[u8; 4], u32)] = &[
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic13", 256),
    (b"ic08", 256),
    (b"ic14", 512),
    (b"ic09", 512),
];

/// What [`generate`] wrote.
pub struct Icons {
    /// One PNG per [`PNG_SIZES`] entry, in that order.
    pub pngs: Vec<PathBuf>,
    pub ico: PathBuf,
    pub icns: PathBuf,
}

pub fn run(flags: &crate::flags::Icons) -> Result<()> {
    let out = flags
        .out
        .clone()
        .unwrap_or_else(|| crate::paths::target_dir().join("dist").join("icons"));
    let icons = generate(&crate::paths::project_root().join(SOURCE), &out)?;
    println!(
        "icons: {} PNGs, {} and {} in {}",
        icons.pngs.len(),
        icons.ico.display(),
        icons.icns.display(),
        out.display()
    );
    Ok(())
}

/// Writes every icon into `out` (created, files replaced).
pub fn generate(source: &Path, out: &Path) -> Result<Icons> {
    let source = read_rgba(source)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut encoded = std::collections::BTreeMap::new();
    let mut png_for = |size: u32| -> Result<Vec<u8>> {
        if let Some(png) = encoded.get(&size) {
            return Ok(Vec::clone(png));
        }
        let png = encode_png(&resize(&source, size)?, size)?;
        encoded.insert(size, png.clone());
        Ok(png)
    };

    let mut pngs = Vec::new();
    for &size in PNG_SIZES {
        let path = out.join(format!("{size}x{size}.png"));
        write(&path, &png_for(size)?)?;
        pngs.push(path);
    }
    let ico_images = ICO_SIZES
        .iter()
        .map(|&size| Ok((size, png_for(size)?)))
        .collect::<Result<Vec<_>>>()?;
    let ico = out.join("icon.ico");
    write(&ico, &ico_file(&ico_images)?)?;
    let icns_images = ICNS_ENTRIES
        .iter()
        .map(|&(kind, size)| Ok((kind, png_for(size)?)))
        .collect::<Result<Vec<_>>>()?;
    let icns = out.join("icon.icns");
    write(&icns, &icns_file(&icns_images)?)?;
    Ok(Icons { pngs, ico, icns })
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// A PNG file's pixels, 8 bits per sample, tightly packed, and its frame info.
pub fn decode_png(path: &Path) -> Result<(png::OutputInfo, Vec<u8>)> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let mut pixels = vec![0; reader.output_buffer_size().context("PNG too large")?];
    let info = reader.next_frame(&mut pixels)?;
    pixels.truncate(info.buffer_size());
    Ok((info, pixels))
}

/// The source as tightly packed 8-bit RGBA, checked square and [`SOURCE_SIZE`].
fn read_rgba(path: &Path) -> Result<Vec<u8>> {
    let (info, pixels) = decode_png(path)?;
    ensure!(
        info.width == SOURCE_SIZE && info.height == SOURCE_SIZE,
        "{} is {}×{}; the icon source must be {SOURCE_SIZE}×{SOURCE_SIZE}",
        path.display(),
        info.width,
        info.height
    );
    ensure!(
        info.color_type == png::ColorType::Rgba,
        "{} has no alpha channel ({:?}); the icon needs transparent corners",
        path.display(),
        info.color_type
    );
    Ok(pixels)
}

/// Lanczos3 with premultiplied alpha (`fast_image_resize` multiplies by alpha
/// before filtering), so transparent corners don't bleed dark fringes.
fn resize(rgba: &[u8], size: u32) -> Result<Vec<u8>> {
    if size == SOURCE_SIZE {
        return Ok(rgba.to_vec());
    }
    let src = fr::images::ImageRef::new(SOURCE_SIZE, SOURCE_SIZE, rgba, fr::PixelType::U8x4)?;
    let mut dst = fr::images::Image::new(size, size, fr::PixelType::U8x4);
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    fr::Resizer::new().resize(&src, &mut dst, &options)?;
    Ok(dst.into_vec())
}

fn encode_png(rgba: &[u8], size: u32) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, size, size);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    encoder.write_header()?.write_image_data(rgba)?;
    Ok(bytes)
}

/// A Windows `.ico`: ICONDIR (reserved 0, type 1, count), one 16-byte
/// ICONDIRENTRY per image (width and height as one byte each, 0 meaning 256;
/// 32 bits per pixel; byte length and offset), then the PNGs. Little-endian.
fn ico_file(images: &[(u32, Vec<u8>)]) -> Result<Vec<u8>> {
    const HEADER: usize = 6;
    const ENTRY: usize = 16;
    let count = u16::try_from(images.len())?;
    let mut file = Vec::new();
    file.extend_from_slice(&0u16.to_le_bytes());
    file.extend_from_slice(&1u16.to_le_bytes());
    file.extend_from_slice(&count.to_le_bytes());
    let mut offset = HEADER + ENTRY * images.len();
    for (size, png) in images {
        ensure!(*size <= 256, "an .ico image is at most 256 px, not {size}");
        let side = u8::try_from(*size).unwrap_or(0); // 256 is written as 0
        file.extend_from_slice(&[side, side, 0, 0]);
        file.extend_from_slice(&1u16.to_le_bytes()); // colour planes
        file.extend_from_slice(&32u16.to_le_bytes()); // bits per pixel
        file.extend_from_slice(&u32::try_from(png.len())?.to_le_bytes());
        file.extend_from_slice(&u32::try_from(offset)?.to_le_bytes());
        offset += png.len();
    }
    for (_, png) in images {
        file.extend_from_slice(png);
    }
    Ok(file)
}

/// A macOS `.icns`: the magic `icns` and the file's length, then per image its
/// OSType and length (both including the 8-byte entry header) and the PNG.
/// Big-endian.
fn icns_file(images: &[(&[u8; 4], Vec<u8>)]) -> Result<Vec<u8>> {
    const HEADER: usize = 8;
    let length = HEADER
        + images
            .iter()
            .map(|(_, png)| HEADER + png.len())
            .sum::<usize>();
    let mut file = Vec::with_capacity(length);
    file.extend_from_slice(b"icns");
    file.extend_from_slice(&u32::try_from(length)?.to_be_bytes());
    for (kind, png) in images {
        file.extend_from_slice(*kind);
        file.extend_from_slice(&u32::try_from(HEADER + png.len())?.to_be_bytes());
        file.extend_from_slice(png);
    }
    Ok(file)
}
