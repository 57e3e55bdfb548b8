//! Python virtual environments for the tools the tasks need from PyPI (moto,
//! cargo-lambda, the benchmark peers): made once, reused while the pins match.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use xshell::{Shell, cmd};

/// Makes (or reuses) a venv at `dir` with exactly `pins` installed; returns its
/// `bin` (`Scripts` on Windows) folder.
pub fn ensure(sh: &Shell, dir: &Path, pins: &[&str]) -> Result<PathBuf> {
    let bin = if cfg!(windows) {
        dir.join("Scripts")
    } else {
        dir.join("bin")
    };
    let python = bin.join(if cfg!(windows) {
        "python.exe"
    } else {
        "python"
    });
    let stamp = dir.join("xtask-pins.txt");
    let wanted = pins.join("\n");
    if python.exists()
        && sh
            .read_file(&stamp)
            .is_ok_and(|installed| installed == wanted)
    {
        return Ok(bin);
    }
    if !python.exists() {
        let system_python = if cfg!(windows) { "python" } else { "python3" };
        cmd!(sh, "{system_python} -m venv {dir}")
            .run()
            .context("making a Python venv failed; is python3 (with venv) installed?")?;
    }
    cmd!(
        sh,
        "{python} -m pip install --quiet --disable-pip-version-check {pins...}"
    )
    .run()
    .with_context(|| format!("installing {} from PyPI failed", pins.join(", ")))?;
    sh.write_file(&stamp, wanted)?;
    Ok(bin)
}

/// `PATH` with `dir` first.
pub fn path_with(dir: &Path) -> Result<std::ffi::OsString> {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(path) = std::env::var_os("PATH") {
        paths.extend(std::env::split_paths(&path));
    }
    Ok(std::env::join_paths(paths)?)
}
