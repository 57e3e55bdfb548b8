//! `cargo xtask dist`: the release build of the desktop app (`augment-desktop`
//! and the `augment` command line) and every installer the host OS can make,
//! into `target/dist/`: .deb and AppImage on Linux, NSIS .exe on Windows, .app
//! and .dmg on macOS. The installers are made by cargo-packager from
//! `packaging/packager.toml`, completed by `dist/packager.rs`.
//!
//! CI ([`ci_check`]) builds the .deb from the test step's binaries and checks it
//! the way a Debian user meets it: its metadata and files, then `apt install`,
//! the installed app run under Xvfb, and `dpkg -r`.

use std::time::Instant;

use anyhow::{Result, ensure};
use xshell::{Shell, cmd};

use crate::flags;
use crate::paths::{project_root, target_dir};

mod deb;
mod man;
mod packager;

use packager::{PACKAGE, package};

/// The CI step (Linux): the .deb, checked, installed, run and removed.
pub fn ci_check(sh: &Shell) -> Result<()> {
    if !cfg!(target_os = "linux") {
        println!("installer: skipped (the .deb check runs on Linux)");
        return Ok(());
    }
    deb::ci_check(sh)
}

/// The Cargo package that builds the command line (`augment`).
const CLI_PACKAGE: &str = "augment-cli";

/// What the host OS can build, in cargo-packager's format names.
fn host_formats() -> &'static [&'static str] {
    if cfg!(target_os = "linux") {
        &["deb", "appimage"]
    } else if cfg!(target_os = "windows") {
        &["nsis"]
    } else if cfg!(target_os = "macos") {
        &["app", "dmg"]
    } else {
        &[]
    }
}

pub fn run(flags: &flags::Dist) -> Result<()> {
    if flags.check {
        let sh = Shell::new()?;
        sh.change_dir(project_root());
        return ci_check(&sh);
    }
    let formats: Vec<String> = flags
        .formats
        .clone()
        .unwrap_or_else(|| host_formats().iter().map(|f| (*f).to_owned()).collect());
    ensure!(!formats.is_empty(), "no installer formats for this OS");
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    let started = Instant::now();
    cmd!(
        sh,
        "cargo build --release --locked -p {PACKAGE} -p {CLI_PACKAGE} --bins"
    )
    .run()?;
    let outputs = package(
        &sh,
        &target_dir().join("release"),
        &target_dir().join("dist"),
        &formats,
    )?;
    println!(
        "dist: {} installer(s) in {:.0} s:",
        outputs.len(),
        started.elapsed().as_secs_f64()
    );
    for output in &outputs {
        let size = std::fs::metadata(output).map_or(0, |meta| meta.len());
        println!(
            "  {} ({:.1} MiB)",
            output.display(),
            size as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(())
}
