//! Where the workspace is: its root, cargo's target directory, and the release
//! folder a build fills. A leaf: every task module asks it, it imports none of them.

use std::path::{Path, PathBuf};

use anyhow::Result;
use xshell::{Shell, cmd};

/// The workspace root, wherever `cargo xtask` is run from. `cargo run` names
/// the manifest folder at run time; the compile-time one is only the fallback.
/// Two checkouts sharing one target dir (`.ci/run`'s default) share the xtask
/// binary too, as cargo's fingerprints do not tell their sources apart: built in
/// one, it drove the other's build and wrote into it.
pub fn project_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest_dir
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Cargo's target directory: `CARGO_TARGET_DIR` (CI shares one) or `target/`.
pub fn target_dir() -> PathBuf {
    let root = project_root();
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |dir| root.join(dir))
}

/// Builds `args` (packages, binaries, examples) in release mode with the cargo
/// that runs this task; returns the release folder.
pub fn build_release(sh: &Shell, args: &[&str]) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    cmd!(sh, "{cargo} build --release {args...}").run()?;
    Ok(target_dir().join("release"))
}
