//! Fallback fonts for the scripts egui's own fonts lack (CJK, Arabic, Hebrew,
//! Devanagari, Thai…), so a file name never shows as boxes. They are the
//! system's: fontconfig names a font for each script on Linux and the BSDs,
//! and the fonts every Windows and macOS install has are tried by path.
//! Nothing is bundled (see ARCHITECTURE.md, "Fonts"). Loaded on a thread at
//! start-up; egui lays text out with them from the next frame on.

use std::path::{Path, PathBuf};
use std::process::Command;

use egui::epaint::text::{FontInsert, FontPriority, InsertFontFamily};
use egui::{FontData, FontFamily};

/// Scripts asked of fontconfig, by a language that uses each (Chinese first:
/// a CJK font covers the kana and Hangul of most names too).
const LANGUAGES: &[&str] = &["zh-cn", "ja", "ko", "ar", "he", "hi", "th", "bn", "ta"];
/// A font file larger than this is not read (a whole Noto CJK collection is
/// about 20 MiB; anything far beyond is not a font to hold in memory).
const MAX_FONT_FILE_BYTES: u64 = 40 * 1024 * 1024;
/// Most fallback files loaded: each is held in memory for the app's life.
const MAX_FALLBACK_FONTS: usize = 6;

/// Where common fallback fonts live when fontconfig is not there (Windows,
/// macOS) or names none.
const KNOWN_PATHS: &[&str] = &[
    "C:\\Windows\\Fonts\\msyh.ttc",
    "C:\\Windows\\Fonts\\YuGothR.ttc",
    "C:\\Windows\\Fonts\\malgun.ttf",
    "C:\\Windows\\Fonts\\Nirmala.ttf",
    "C:\\Windows\\Fonts\\segoeui.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/Hiragino Sans GB.ttc",
    "/System/Library/Fonts/AppleSDGothicNeo.ttc",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
];

/// Finds the fallback fonts and adds them to `ctx`, after egui's own, for
/// proportional and monospace text. Returns the files added.
pub fn add_fallback_fonts(ctx: &egui::Context) -> Vec<PathBuf> {
    let mut added = Vec::new();
    for path in fallback_files() {
        if added.len() == MAX_FALLBACK_FONTS {
            break;
        }
        let Some(bytes) = read_font(&path) else {
            continue;
        };
        ctx.add_font(FontInsert::new(
            &format!("fallback-{}", added.len()),
            FontData::from_owned(bytes),
            [FontFamily::Proportional, FontFamily::Monospace]
                .into_iter()
                .map(|family| InsertFontFamily {
                    family,
                    priority: FontPriority::Lowest,
                })
                .collect(),
        ));
        added.push(path);
    }
    if added.is_empty() {
        tracing::warn!(
            "no fallback font found: names in CJK and other scripts may show as boxes (install fonts-noto-cjk)"
        );
    } else {
        tracing::info!("fallback fonts: {added:?}");
    }
    added
}

/// Adds the fallback fonts on a thread of its own and repaints when done.
pub fn spawn_fallback_fonts(ctx: &egui::Context) {
    let ctx = ctx.clone();
    let spawned = std::thread::Builder::new()
        .name("fonts".to_owned())
        .spawn(move || {
            add_fallback_fonts(&ctx);
            ctx.request_repaint();
        });
    if let Err(err) = spawned {
        tracing::warn!("no fallback fonts: cannot start their thread: {err}");
    }
}

/// Candidate files, best first, without repeats.
fn fallback_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = LANGUAGES
        .iter()
        .filter_map(|lang| fontconfig_font(lang))
        .collect();
    files.extend(
        KNOWN_PATHS
            .iter()
            .map(PathBuf::from)
            .filter(|path| path.is_file()),
    );
    let mut seen = std::collections::HashSet::new();
    files.retain(|path| seen.insert(path.clone()));
    files
}

/// fontconfig's regular sans font for `lang`, if it has one (`fc-list` lists
/// only fonts that cover the language, unlike `fc-match`).
fn fontconfig_font(lang: &str) -> Option<PathBuf> {
    let output = Command::new("fc-list")
        .arg(format!(":lang={lang}"))
        .args(["file", "style"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut fonts: Vec<(u8, &str)> = text
        .lines()
        .filter_map(|line| {
            let (file, style) = line.split_once(": ")?;
            Some((rank(file, style), file))
        })
        .collect();
    fonts.sort();
    fonts.first().map(|(_, file)| PathBuf::from(*file))
}

/// Lower is better: regular sans before the rest, mono and bold last.
fn rank(file: &str, style: &str) -> u8 {
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let style = style.to_lowercase();
    let mut rank = 0;
    if !(style.contains("regular") || style.contains("book")) {
        rank += 4;
    }
    if name.contains("mono") || name.contains("condensed") || name.contains("serif") {
        rank += 2;
    }
    if !name.contains("sans") {
        rank += 1;
    }
    rank
}

fn read_font(path: &Path) -> Option<Vec<u8>> {
    let size = std::fs::metadata(path).ok()?.len();
    if size > MAX_FONT_FILE_BYTES {
        tracing::info!("font not loaded, {size} bytes: {}", path.display());
        return None;
    }
    std::fs::read(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_sans_comes_before_bold_and_mono() {
        let regular = rank("/f/NotoSansCJK-Regular.ttc", ":style=Regular");
        let bold = rank("/f/NotoSansCJK-Bold.ttc", ":style=Bold");
        let mono = rank("/f/DejaVuSansMono.ttf", ":style=Book");
        assert!(regular < mono && mono < bold);
    }
}
