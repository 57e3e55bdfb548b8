//! The CI check that the `augment` command line builds without the GUI stack: someone
//! who wants only `augment upload` on a server must not compile eframe and its kin
//! (ARCHITECTURE.md: "the CLI never depends on a GUI crate").

use anyhow::{Context as _, Result, bail};
use xshell::{Shell, cmd};

/// The Cargo package of the `augment` binary.
pub const CLI_PACKAGE: &str = "augment-cli";

/// Crates of the GUI stack: the app's window, its renderer and its file dialogs.
pub const GUI_CRATES: &[&str] = &[
    "eframe",
    "egui",
    "egui-winit",
    "winit",
    "glutin",
    "glow",
    "rfd",
];

/// Fails, naming them, when [`CLI_PACKAGE`]'s normal dependencies on any target
/// include a [`GUI_CRATES`] crate.
pub fn ci_check(sh: &Shell) -> Result<()> {
    check(sh, CLI_PACKAGE)
}

fn check(sh: &Shell, package: &str) -> Result<()> {
    // Every target, not only this host's: the release builds Windows and macOS too.
    let tree = cmd!(
        sh,
        "cargo tree --locked -p {package} -e normal --prefix none --target all"
    )
    .quiet()
    .read()
    .with_context(|| format!("cargo tree -p {package} failed"))?;
    let found = gui_crates_in(&tree);
    if !found.is_empty() {
        bail!(
            "{package} depends on the GUI stack ({}): the command line must build \
             without it; see `cargo tree -p {package} -i <crate>` for the path",
            found.join(", ")
        );
    }
    println!(
        "gui-free: {package}'s {} crates include none of {}",
        crate_names(&tree).count(),
        GUI_CRATES.join(", ")
    );
    Ok(())
}

/// The [`GUI_CRATES`] in `cargo tree --prefix none` output, once each, in list order.
fn gui_crates_in(tree: &str) -> Vec<&'static str> {
    GUI_CRATES
        .iter()
        .copied()
        .filter(|gui| crate_names(tree).any(|name| name == *gui))
        .collect()
}

/// Each line's crate name: `name vX.Y.Z [(path)] [(*)]`.
fn crate_names(tree: &str) -> impl Iterator<Item = &str> {
    tree.lines()
        .filter_map(|line| line.split_whitespace().next())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLI_TREE: &str = "\
augment-cli v0.1.0 (/work/desktop/cli)
anyhow v1.0.100
augment-client v0.1.0 (/work/desktop/client)
aws-config v1.13.0
clap v4.5.53
indicatif v0.18.3
tokio v1.48.0
anyhow v1.0.100 (*)
";

    const APP_TREE: &str = "\
augment-desktop v0.1.0 (/work/desktop)
eframe v0.37.0
egui v0.37.0
egui-winit v0.37.0
egui v0.37.0 (*)
winit v0.30.12
glow v0.16.0
glutin v0.32.3
rfd v0.17.2
egui_glow v0.37.0
";

    #[test]
    fn a_tree_without_the_gui_stack_passes() {
        assert!(gui_crates_in(CLI_TREE).is_empty());
        assert!(gui_crates_in("").is_empty());
    }

    #[test]
    fn every_gui_crate_is_named_once() {
        assert_eq!(gui_crates_in(APP_TREE), GUI_CRATES);
        let one = "augment-cli v0.1.0 (/x)\nrfd v0.17.2\nrfd v0.17.2 (*)\n";
        assert_eq!(gui_crates_in(one), ["rfd"]);
    }

    #[test]
    fn names_match_whole_not_as_prefixes() {
        // egui_glow and names that only start like a listed crate are not the crates listed.
        let near = "x v0.1.0\negui_glow v0.37.0\nwinit-helper v1.0.0\nglow-x v1.0.0\n";
        assert!(gui_crates_in(near).is_empty());
    }
}
