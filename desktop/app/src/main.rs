//! `augment-desktop [FILES]...`: the desktop app. Files and folders given on the
//! command line (as a file manager's "Open with" passes them) go straight into
//! the upload queue. The app itself is in `augment_desktop::app`.

// A release build on Windows is a GUI program: no console window opens with it.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, bail};
use augment_client::Settings;
use augment_desktop::window::{MIN_WINDOW_SIZE, WINDOW_SIZE};
use augment_desktop::{APP_NAME, DesktopApp, Launch};
use clap::{CommandFactory as _, Parser};

/// The app icon (made by `assets/make_icon.py`).
const ICON_PNG: &[u8] = include_bytes!("../../../assets/icon.png");

#[derive(Parser)]
#[command(
    name = "augment-desktop",
    version,
    about = "Drop images, get them back rotated four ways."
)]
struct Args {
    /// Images or folders to upload at once.
    files: Vec<PathBuf>,
    /// Save a PNG of the window once the files' rotations show, then quit
    /// (`cargo xtask screenshot`).
    #[arg(long, value_name = "PATH")]
    screenshot: Option<PathBuf>,
    /// Print the time to first frame, peak memory and frame times once the
    /// gallery is listed, then quit.
    #[arg(long)]
    measure: bool,
    /// Write this program's man page (roff) to stdout, then exit.
    #[arg(long, hide = true)]
    generate_man_page: bool,
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let args = Args::parse();
    if args.generate_man_page {
        clap_mangen::Man::new(Args::command())
            .render(&mut std::io::stdout().lock())
            .context("cannot write the man page")?;
        return Ok(());
    }
    let log_file = augment_desktop::logging::init();
    let settings = Settings::load().unwrap_or_else(|err| {
        tracing::warn!("using the default settings: {}", err.detail());
        Settings::default()
    });
    let unattended = args.screenshot.is_some() || args.measure;
    let launch = Launch {
        log_file,
        files: args.files,
        screenshot: args.screenshot,
        measure: args.measure,
        started: Some(started),
        watch_timeout: None,
        // Unattended runs start from nothing and leave nothing to resume.
        queue_file: (!unattended)
            .then(augment_desktop::journal::default_path)
            .flatten(),
    };

    let options = native_options(unattended);

    let outcome = std::sync::Arc::new(std::sync::Mutex::new(None));
    let outcome_slot = std::sync::Arc::clone(&outcome);
    eframe::run_native(
        APP_NAME,
        options,
        Box::new(move |cc| {
            let app = DesktopApp::new(&cc.egui_ctx, settings, launch)?;
            if let Ok(mut slot) = outcome_slot.lock() {
                *slot = Some(app.outcome());
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|err| anyhow::anyhow!("{err}"))
    .context("cannot open the window")?;

    print_outcome(&outcome, unattended)
}

/// What `--screenshot` / `--measure` found: the figures on stdout, an error
/// as the exit status.
fn print_outcome(
    outcome: &std::sync::Mutex<Option<std::sync::Arc<std::sync::Mutex<augment_desktop::Outcome>>>>,
    unattended: bool,
) -> anyhow::Result<()> {
    let Some(outcome) = outcome.lock().ok().and_then(|slot| slot.clone()) else {
        return Ok(());
    };
    let outcome = outcome
        .lock()
        .map_err(|_| anyhow::anyhow!("the app panicked"))?;
    for line in &outcome.report {
        println!("measure: {line}");
    }
    if unattended && let Some(rss) = peak_rss_kib() {
        println!("measure: peak_rss_mib={:.1}", rss as f64 / 1024.0);
    }
    if let Some(error) = &outcome.error {
        bail!("{error}");
    }
    Ok(())
}

/// The window: title, app id, size, icon, glow; unattended runs do not
/// restore a saved size or zoom.
fn native_options(unattended: bool) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(APP_NAME)
        .with_app_id("augment-desktop")
        .with_inner_size(WINDOW_SIZE)
        .with_min_inner_size(MIN_WINDOW_SIZE)
        .with_drag_and_drop(true);
    match eframe::icon_data::from_png_bytes(ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(err) => tracing::warn!("no window icon: {err}"),
    }
    eframe::NativeOptions {
        viewport,
        renderer: eframe::Renderer::Glow,
        // Unattended runs must not pick up a saved window size or zoom.
        persist_window: !unattended,
        ..Default::default()
    }
}

/// Peak resident memory of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
