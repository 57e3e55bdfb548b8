//! Debian packages the CI steps need (Xvfb, buildah…), installed when missing.

use std::path::Path;

use anyhow::{Result, bail};
use xshell::{Shell, cmd};

/// Installs the `(package, file it provides)` pairs whose file is missing, with
/// apt, non-interactively (as root, or through passwordless sudo); `purpose`
/// names the step in the error when it can't.
pub fn ensure_installed(sh: &Shell, purpose: &str, packages: &[(&str, &str)]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, probe)| !Path::new(probe).exists())
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let Some(root) = as_root(sh) else {
        bail!(
            "{purpose} needs Debian packages {missing:?}; install them with \
             `sudo apt-get install {}`",
            missing.join(" ")
        );
    };
    let _env = sh.push_env("DEBIAN_FRONTEND", "noninteractive");
    root.cmd(sh, "apt-get", ["update", "-qq"]).run()?;
    root.cmd(
        sh,
        "apt-get",
        ["install", "-y", "-qq", "--no-install-recommends"],
    )
    .args(missing)
    .run()?;
    Ok(())
}

/// How this process runs commands as root.
#[derive(Clone, Copy)]
pub enum Root {
    /// It is root.
    Already,
    /// Through `sudo -n` (no password asked: GitHub's runners).
    Sudo,
}

impl Root {
    /// `program args…` as root.
    pub fn cmd<'a, I>(self, sh: &'a Shell, program: &str, args: I) -> xshell::Cmd<'a>
    where
        I: IntoIterator,
        I::Item: AsRef<std::ffi::OsStr>,
    {
        match self {
            Self::Already => cmd!(sh, "{program}").args(args),
            Self::Sudo => cmd!(sh, "sudo -n -E {program}").args(args),
        }
    }
}

/// Whether this process can run commands as root, and how; `None` when it can't.
pub fn as_root(sh: &Shell) -> Option<Root> {
    if cmd!(sh, "id -u").quiet().read().is_ok_and(|uid| uid == "0") {
        return Some(Root::Already);
    }
    let sudo_works = cmd!(sh, "sudo -n true")
        .quiet()
        .ignore_stderr()
        .run()
        .is_ok();
    sudo_works.then_some(Root::Sudo)
}
