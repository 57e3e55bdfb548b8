//! `cargo xtask deploy` / `destroy` (issue 4 is building them).

use anyhow::{Result, bail};

pub fn deploy(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask deploy` is not built yet")
}

pub fn destroy(_args: &[String]) -> Result<()> {
    bail!("`cargo xtask destroy` is not built yet")
}
