//! `cargo xtask terraform`: the Terraform checks (issue 4 is building them).

use anyhow::{Result, bail};
use xshell::Shell;

pub fn run(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask terraform` is not built yet")
}

pub fn ci_check(_sh: &Shell) -> Result<()> {
    Ok(())
}
