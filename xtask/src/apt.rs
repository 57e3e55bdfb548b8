//! Debian packages the CI steps need (Xvfb, buildah…), installed when missing.

use std::path::Path;

use anyhow::{Result, ensure};
use xshell::{Shell, cmd};

/// Installs the `(package, file it provides)` pairs whose file is missing, with
/// apt, non-interactively; `purpose` names the step in the error when it can't.
pub fn ensure_installed(sh: &Shell, purpose: &str, packages: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, probe)| !Path::new(probe).exists())
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let root = cmd!(sh, "id -u").read().is_ok_and(|uid| uid == "0");
    ensure!(
        root,
        "{purpose} needs Debian packages {missing:?}; install them with \
         `sudo apt-get install {}`",
        missing.join(" ")
    );
    let _env = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    cmd!(sh, "apt-get update -qq").run()?;
    cmd!(
        sh,
        "apt-get install -y -qq --no-install-recommends {missing...}"
    )
    .run()?;
    Ok(())
}
