//! Cargo subcommands the tasks need (cargo-packager, cargo-fuzz), pinned and
//! installed into `<target dir>/tools` on first use, never into the user's ~/.cargo.

use std::path::PathBuf;

use anyhow::Result;
use xshell::{Shell, cmd};

use crate::target_dir;

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
        println!("==> installing {name} {version} into {}", root.display());
        cmd!(
            sh,
            "cargo install {name} --version {version} --locked --root {root}"
        )
        // Its own throwaway target dir, not the workspace's.
        .env_remove("CARGO_TARGET_DIR")
        .run()?;
    }
    Ok(binary)
}
