//! `cargo xtask screenshot`: the real desktop app (glow renderer, Mesa) under
//! Xvfb, in local mode in a throwaway data folder, with a sample image given on
//! the command line. The app saves a PNG of its window once the image's four
//! rotations show (`--screenshot PATH`), and the PNG is checked not to be blank.
//! `--measure` also reports time to first frame, peak memory and frame times
//! with 1,000 images in the gallery.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, ensure};
use xshell::{Shell, cmd};

use crate::paths::{project_root, target_dir};
use crate::{apt, flags};

/// The image CI's screenshot shows being processed (one: the check is quick).
pub const SAMPLE: &str = "assets/samples/landscape.jpg";
/// What the README's screenshot shows: every sample (a folder, added recursively).
const SAMPLES: &str = "assets/samples";
/// The virtual screen; the window opens at 1180×760 inside it.
const SCREEN: &str = "-screen 0 1280x800x24";
/// The app must have its picture within this many seconds (it takes a few; a
/// thousand files in a debug build take about two minutes).
const APP_TIMEOUT_SECS: &str = "300";
/// Gallery entries for the frame-time measurement.
const MEASURE_ITEMS: usize = 1000;
/// Files in the queue for the second measurement, of which [`BAD_FILES`] are bad.
const QUEUE_FILES: usize = 1000;
/// The bad files of the README's picture and of the queue measurement: text
/// named `.png`, a JPEG cut short (the pipeline rejects it), one over 10 MiB.
const BAD_FILES: usize = 3;
/// A screenshot with fewer distinct colours than this is blank or broken (the
/// real one has thousands: photos, anti-aliased text).
const MIN_DISTINCT_COLOURS: usize = 500;
/// Debian packages: Xvfb (and xauth, which xvfb-run needs), Mesa's software
/// OpenGL, and the X keyboard library winit loads at run time.
pub const APT_PACKAGES: &[(&str, &str)] = &[
    ("xvfb", "/usr/bin/xvfb-run"),
    ("xauth", "/usr/bin/xauth"),
    (
        "libgl1-mesa-dri",
        "/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so",
    ),
    ("libegl1", "/usr/lib/x86_64-linux-gnu/libEGL.so.1"),
    (
        "libxkbcommon-x11-0",
        "/usr/lib/x86_64-linux-gnu/libxkbcommon-x11.so.0",
    ),
];

pub fn run(flags: &flags::Screenshot) -> Result<()> {
    let flags::Screenshot {
        out,
        measure,
        release,
    } = flags;
    let out = out
        .clone()
        .unwrap_or_else(|| project_root().join("docs/screenshot.png"));
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    apt::ensure_installed(&sh, "the screenshot", APT_PACKAGES)?;
    let binary = build(&sh, *release)?;
    let work = scratch_dir("docs")?;
    let started = Instant::now();
    // The samples and three bad files: the picture shows the summary's counts and
    // failures kept beside the done rows.
    let input = docs_input(&work)?;
    let report = shoot(&sh, &binary, &work, &out, &input.display().to_string())?;
    let colours = check_not_blank(&out)?;
    println!(
        "screenshot: {} ({colours} distinct colours) in {:.1} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
    if *measure {
        println!("with the samples uploaded:");
        print_figures(&report);
        println!("with {MEASURE_ITEMS} more images in the gallery:");
        measure_gallery(&sh, &binary, &work)?;
        let queue_shot = work.join("queue-1000.png");
        println!(
            "with {QUEUE_FILES} files in the queue ({BAD_FILES} bad), picture in {}:",
            queue_shot.display()
        );
        measure_queue(&sh, &binary, &queue_shot)?;
    }
    Ok(())
}

/// The three bad files into `dir`: refused before upload (text, too large) and
/// by the pipeline (cut short).
fn write_bad_files(dir: &Path) -> Result<()> {
    std::fs::write(dir.join("notes.png"), "shopping list: milk, eggs")?;
    let mut huge = vec![0xFF, 0xD8, 0xFF, 0xE0];
    huge.resize(11 * 1024 * 1024, 0);
    std::fs::write(dir.join("huge.jpg"), huge)?;
    let sample = std::fs::read(project_root().join(SAMPLE))?;
    std::fs::write(dir.join("broken.jpg"), &sample[..sample.len() / 3])?;
    Ok(())
}

/// A folder with the samples and the bad files, for the README's picture.
fn docs_input(work: &Path) -> Result<PathBuf> {
    let input = work.join("input");
    std::fs::create_dir_all(&input)?;
    for entry in std::fs::read_dir(project_root().join(SAMPLES))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), input.join(entry.file_name()))?;
        }
    }
    write_bad_files(&input)?;
    Ok(input)
}

/// [`QUEUE_FILES`] files in a fresh data folder, each PNG its own colour (so none
/// is a duplicate of another), [`BAD_FILES`] of them bad: the app uploads them
/// all, then reports its figures with every row in the queue and saves `shot`.
fn measure_queue(sh: &Shell, binary: &Path, shot: &Path) -> Result<()> {
    let work = scratch_dir("queue")?;
    let batch = work.join("batch");
    std::fs::create_dir_all(&batch)?;
    for i in 0..QUEUE_FILES - BAD_FILES {
        let [a, b] = u16::try_from(i)?.to_le_bytes();
        let pixels: Vec<u8> = [a, b.wrapping_mul(60), a.wrapping_mul(7)]
            .iter()
            .copied()
            .cycle()
            .take(64 * 48 * 3)
            .collect();
        let mut bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut bytes, 64, 48);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&pixels)?;
        std::fs::write(batch.join(format!("photo-{i:04}.png")), bytes)?;
    }
    write_bad_files(&batch)?;
    let args = [
        "--measure".to_owned(),
        "--screenshot".to_owned(),
        shot.display().to_string(),
        batch.display().to_string(),
    ];
    let output = run_app(sh, binary, &work, &args)?;
    print_figures(&output);
    Ok(())
}

/// The CI step: after the tests, with the debug binary they built.
pub fn ci_check(sh: &Shell) -> Result<()> {
    if !cfg!(target_os = "linux") {
        println!("screenshot: skipped (Xvfb runs on Linux only)");
        return Ok(());
    }
    apt::ensure_installed(sh, "the screenshot", APT_PACKAGES)?;
    let binary = test_build(sh)?.join("augment-desktop");
    let work = scratch_dir("ci")?;
    let out = work.join("screenshot.png");
    shoot(sh, &binary, &work, &out, SAMPLE)?;
    let colours = check_not_blank(&out)?;
    println!("screenshot: {colours} distinct colours, {}", out.display());
    Ok(())
}

/// The folder of the debug binaries the test step built. `cargo build --bin`
/// alone would resolve features without the dev-dependencies' and rebuild the
/// SDK and GUI stack (3+ minutes); the test step's own `cargo test` invocation
/// is a no-op.
pub fn test_build(sh: &Shell) -> Result<PathBuf> {
    cmd!(sh, "cargo test --workspace --locked --no-run").run()?;
    Ok(target_dir().join("debug"))
}

/// `cargo build --bin augment-desktop`, debug or release.
fn build(sh: &Shell, release: bool) -> Result<PathBuf> {
    let profile: &[&str] = if release { &["--release"] } else { &[] };
    cmd!(
        sh,
        "cargo build --locked --bin augment-desktop {profile...}"
    )
    .run()?;
    let dir = if release { "release" } else { "debug" };
    Ok(target_dir().join(dir).join("augment-desktop"))
}

/// A fresh folder under the build output for one run's data and settings.
pub fn scratch_dir(name: &str) -> Result<PathBuf> {
    let dir = target_dir().join("screenshot").join(name);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Runs the app under Xvfb with `args` and a home folder of its own (`work/home`:
/// never the person's settings or data, and the app shows the default local data
/// folder, `~/.local/share/augment`, as a user sees it), returning what it printed.
pub fn run_app(sh: &Shell, binary: &Path, work: &Path, args: &[String]) -> Result<String> {
    let home = work.join("home");
    let _home = sh.push_env("HOME", &home);
    let _config = sh.push_env("XDG_CONFIG_HOME", home.join(".config"));
    let _data = sh.push_env("XDG_DATA_HOME", home.join(".local/share"));
    let _cache = sh.push_env("XDG_CACHE_HOME", home.join(".cache"));
    // Mesa's software renderer: the same pixels on every machine, no GPU needed.
    let _gl = sh.push_env("LIBGL_ALWAYS_SOFTWARE", "1");
    // No desktop session: no portal, no accessibility bus to wait for.
    let _a11y = sh.push_env("NO_AT_BRIDGE", "1");
    let output = cmd!(
        sh,
        "timeout {APP_TIMEOUT_SECS} xvfb-run --auto-servernum --server-args={SCREEN} {binary} {args...}"
    )
    // The app's own overrides would point it back outside `home`.
    .env_remove("AUGMENT_CONFIG_DIR")
    .env_remove("AUGMENT_DATA_DIR")
    .read()
    .with_context(|| {
        format!(
            "the app did not finish its run under Xvfb within {APP_TIMEOUT_SECS} s: {}",
            binary.display()
        )
    })?;
    Ok(output)
}

/// Runs the app on `input` (relative to the project root) until its rotations
/// show, saving the window to `out`.
pub fn shoot(sh: &Shell, binary: &Path, work: &Path, out: &Path, input: &str) -> Result<String> {
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let args = [
        "--screenshot".to_owned(),
        out.display().to_string(),
        project_root().join(input).display().to_string(),
    ];
    let report = run_app(sh, binary, work, &args)?;
    ensure!(
        out.exists(),
        "the app exited without saving {}",
        out.display()
    );
    Ok(report)
}

/// Fills the gallery with [`MEASURE_ITEMS`] copies of the processed sample
/// (`shoot` made it) and lets the app report its figures.
fn measure_gallery(sh: &Shell, binary: &Path, work: &Path) -> Result<()> {
    // The app's default local data folder on Linux (`directories`: $XDG_DATA_HOME/augment).
    let processed = work.join("home/.local/share/augment/processed");
    let source = processed.join("landscape_256x256.jpg");
    let bytes = std::fs::read(&source)
        .with_context(|| format!("no processed sample to copy: {}", source.display()))?;
    for i in 0..MEASURE_ITEMS {
        std::fs::write(processed.join(format!("bench-{i:04}_256x256.jpg")), &bytes)?;
    }
    let output = run_app(sh, binary, work, &["--measure".to_owned()])?;
    print_figures(&output);
    Ok(())
}

/// The `measure:` lines the app printed.
fn print_figures(output: &str) {
    for line in output.lines().filter(|line| line.starts_with("measure:")) {
        println!("  {line}");
    }
}

/// Decodes the PNG and counts its distinct colours: a black or single-colour
/// window (no GL, nothing drawn) has a handful.
pub fn check_not_blank(path: &Path) -> Result<usize> {
    let (info, pixels) = crate::icons::decode_png(path)?;
    let channels = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for pixel in pixels.chunks_exact(channels) {
        colours.insert(pixel.iter().take(3).copied().collect::<Vec<u8>>());
    }
    ensure!(
        colours.len() >= MIN_DISTINCT_COLOURS,
        "the screenshot looks blank: {} distinct colours (want at least {MIN_DISTINCT_COLOURS}): {}",
        colours.len(),
        path.display()
    );
    Ok(colours.len())
}
