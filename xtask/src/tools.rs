//! Cargo subcommands the tasks need (cargo-packager, cargo-fuzz), pinned and
//! installed into `<target dir>/tools` on first use, never into the user's ~/.cargo;
//! and the npm package the IAM test needs, pinned, into `<target dir>/iam-simulator`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use xshell::{Shell, cmd};

use crate::paths::target_dir;

/// The `name` binary at `version`, installed with `cargo install --locked` when
/// missing or another version (a few minutes, once). `name --version` must print
/// `<name> <version>`, as every cargo subcommand does.
pub fn ensure(sh: &Shell, name: &str, version: &str) -> Result<PathBuf> {
    let root = target_dir().join("tools");
    let binary = root
        .join("bin")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let installed = cmd!(sh, "{binary} --version")
        .quiet()
        .ignore_stderr()
        .read()
        .is_ok_and(|answer| answer.trim() == format!("{name} {version}"));
    if !installed {
        cargo_install(sh, &root, (name, version), &[])?;
    }
    Ok(binary)
}

/// `cargo install --locked` of `name` at `version` into `root`, with `extra`
/// arguments (features), on its own throwaway target dir, not the workspace's.
fn cargo_install(
    sh: &Shell,
    root: &Path,
    (name, version): (&str, &str),
    extra: &[&str],
) -> Result<()> {
    println!("==> installing {name} {version} into {}", root.display());
    cmd!(
        sh,
        "cargo install {name} --version {version} {extra...} --locked --root {root}"
    )
    .env_remove("CARGO_TARGET_DIR")
    .run()?;
    Ok(())
}

/// The second S3 implementation the client's custom-mode test runs against.
const S3S_FS_VERSION: &str = "0.14.1";
/// The environment variable that test reads the server's path from.
pub const S3S_FS_ENV: &str = "S3S_FS";

/// `s3s-fs` (crates.io, its `binary` feature) at [`S3S_FS_VERSION`], installed
/// into `<target dir>/tools/s3s-fs-<version>` when missing (a few minutes, once).
pub fn ensure_s3s_fs(sh: &Shell) -> Result<PathBuf> {
    let root = target_dir()
        .join("tools")
        .join(format!("s3s-fs-{S3S_FS_VERSION}"));
    let binary = root
        .join("bin")
        .join(format!("s3s-fs{}", std::env::consts::EXE_SUFFIX));
    if !binary.exists() {
        let features = ["--features", "binary"];
        cargo_install(sh, &root, ("s3s-fs", S3S_FS_VERSION), &features)?;
    }
    Ok(binary)
}

/// Where the IAM policy simulator's files are in the repository: package.json,
/// package-lock.json (the package and its dependencies pinned by integrity hash) and
/// simulate.mjs, which the IAM test runs with `node`.
const IAM_SIMULATOR_SOURCE: &str = "lambdas/e2e/iam-simulator";
/// The environment variable the IAM test reads the installed folder from.
pub const IAM_SIMULATOR_ENV: &str = "IAM_SIMULATOR";

/// The IAM policy simulator (npm `@cloud-copilot/iam-simulate`) in
/// `<target dir>/iam-simulator`: `npm ci` from the npm registry when the lock file
/// changed (a few seconds, once), offline after that. Needs Node.js 20+ and npm.
pub fn ensure_iam_simulator(sh: &Shell) -> Result<PathBuf> {
    crate::apt::ensure_installed(
        sh,
        "the IAM policy simulator",
        &[("nodejs", "/usr/bin/node"), ("npm", "/usr/bin/npm")],
    )?;
    let source = crate::paths::project_root().join(IAM_SIMULATOR_SOURCE);
    let dir = target_dir().join("iam-simulator");
    std::fs::create_dir_all(&dir)?;
    let lock = std::fs::read(source.join("package-lock.json"))?;
    let installed = dir.join("node_modules").is_dir()
        && std::fs::read(dir.join("package-lock.json")).is_ok_and(|old| old == lock);
    for file in ["package.json", "package-lock.json", "simulate.mjs"] {
        std::fs::copy(source.join(file), dir.join(file))?;
    }
    if !installed {
        println!(
            "==> installing the IAM policy simulator into {}",
            dir.display()
        );
        let _dir = sh.push_dir(&dir);
        cmd!(sh, "npm ci --no-audit --no-fund --ignore-scripts").run()?;
    }
    Ok(dir)
}
