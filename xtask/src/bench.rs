//! `cargo xtask bench`: see docs/BENCHMARKS.md.

use anyhow::{Result, bail};

pub fn run(_args: &[String]) -> Result<()> {
    bail!("not yet")
}
