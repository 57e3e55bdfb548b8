//! `cargo xtask <task>`: the project's tasks, in Rust so they run on every OS.

mod bench;

use anyhow::{Result, bail};

const HELP: &str = "\
cargo xtask <TASK>

Tasks:
  ci      everything CI checks: fmt, clippy -D warnings, the test suite
  bench   time the pipeline against Pillow and libvips; writes docs/BENCHMARKS.md
";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    match task.as_deref() {
        Some("ci") => ci(&rest),
        Some("bench") => bench::run(&rest),
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown task `{other}`\n\n{HELP}"),
    }
}

fn ci(_args: &[String]) -> Result<()> {
    bail!("not yet")
}

