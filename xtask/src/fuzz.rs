//! `cargo xtask fuzz`: the cargo-fuzz targets of `lambdas/pipeline/fuzz/` (libFuzzer,
//! nightly, the address sanitizer on the Rust code), each for a given time, from the saved
//! corpus. CI splits [`CI_SECONDS`] between them ([`ci_seconds`]); stable tests replay the
//! saved corpora (`lambdas/pipeline/tests/it/fuzz_corpus.rs`, `parser_corpus.rs`).

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, Result, bail, ensure};
use xshell::{Shell, cmd};

use crate::flags::{self, FUZZ_IMAGE_TARGETS, FUZZ_TARGETS};
use crate::paths::{project_root, target_dir};
use crate::tools;

/// The fuzz crate (its own workspace), relative to the project root.
const FUZZ_DIR: &str = "lambdas/pipeline/fuzz";
/// cargo-fuzz, pinned.
const CARGO_FUZZ_VERSION: &str = "0.13.1";
/// The toolchain cargo-fuzz needs (`-Z sanitizer`, sancov passes).
const TOOLCHAIN: &str = "nightly";
/// How long CI fuzzes, all targets together: what it gave the two image targets
/// before the parser targets came, so the step's time stays as it was.
pub const CI_SECONDS: usize = 120;

/// CI's share of [`CI_SECONDS`] for `target`. The parsers run tens of thousands of
/// inputs a second (measured: 3,300 to 58,000 a second, against 90 to 1,600 for the
/// image targets), so 10 s each is hundreds of thousands of inputs; the decoders get
/// the rest.
pub fn ci_seconds(target: &str) -> usize {
    if PARSER_TARGETS.contains(&target) {
        CI_PARSER_SECONDS
    } else {
        (CI_SECONDS - PARSER_TARGETS.len() * CI_PARSER_SECONDS) / FUZZ_IMAGE_TARGETS
    }
}

/// The targets on parsers (the rest decode images).
const PARSER_TARGETS: &[&str] = FUZZ_TARGETS.split_at(FUZZ_IMAGE_TARGETS).1;
/// CI's time for each parser target.
const CI_PARSER_SECONDS: usize = 10;
/// One input running longer than this is a crash (libFuzzer's `-timeout`). The
/// pipeline's budget is 1 s of CPU per upload; the sanitizer and debug assertions
/// make the fuzz build several times slower than release.
const INPUT_TIMEOUT_SECS: u32 = 10;
/// The largest input libFuzzer makes (`-max_len`; its default is 4 KiB). Room for a
/// compression bomb past the targets' ceiling (deflate tops out near 1,032:1) and
/// for a processed 256×256 image with its tables.
const MAX_INPUT_BYTES: u32 = 64 * 1024;
/// libFuzzer's whole-process RSS ceiling (`-rss_limit_mb`): a backstop; the targets
/// assert their own, tighter, peak-allocation ceiling.
const RSS_LIMIT_MIB: u32 = 1024;

/// `cargo xtask fuzz --seconds N [--target T]`.
pub fn run(flags: &flags::Fuzz) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    let targets: Vec<&str> = match &flags.target {
        Some(target) => vec![target.as_str()],
        None => FUZZ_TARGETS.to_vec(),
    };
    let plan: Vec<(&str, usize)> = targets.iter().map(|t| (*t, flags.seconds)).collect();
    fuzz(&sh, &plan)
}

/// The CI step (Linux): every target for its share of [`CI_SECONDS`].
pub fn ci_check(sh: &Shell) -> Result<()> {
    if !cfg!(target_os = "linux") {
        println!("fuzz: skipped (CI fuzzes on Linux)");
        return Ok(());
    }
    // Not a workspace member, so `cargo fmt --all` leaves it out.
    copy_lock()?;
    let manifest = project_root().join(FUZZ_DIR).join("Cargo.toml");
    cmd!(sh, "cargo fmt --manifest-path {manifest} --check")
        .run()
        .context("the fuzz crate is not formatted: cargo fmt --manifest-path lambdas/pipeline/fuzz/Cargo.toml")?;
    let plan: Vec<(&str, usize)> = FUZZ_TARGETS.iter().map(|t| (*t, ci_seconds(t))).collect();
    fuzz(sh, &plan)
}

/// Each target for its seconds.
fn fuzz(sh: &Shell, targets: &[(&str, usize)]) -> Result<()> {
    let _root = sh.push_dir(project_root());
    let has_nightly = cmd!(sh, "rustup run {TOOLCHAIN} cargo --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    if !has_nightly {
        // As `ci` adds rustfmt and clippy: what it needs, it installs.
        cmd!(sh, "rustup toolchain install {TOOLCHAIN} --profile minimal")
            .run()
            .context("cargo-fuzz needs the nightly toolchain, and rustup could not install it")?;
    }
    let cargo_fuzz = tools::ensure(sh, "cargo-fuzz", CARGO_FUZZ_VERSION)?;
    copy_lock()?;
    let fuzz_target_dir = target_dir().join("fuzz");
    let mut total = 0;
    for &(target, seconds) in targets {
        let executions = fuzz_one(&cargo_fuzz, &fuzz_target_dir, target, seconds)?;
        println!("fuzz: {target}: {executions} executions in {seconds} s, no crash");
        total += executions;
    }
    println!(
        "fuzz: {total} executions in total over {} target(s)",
        targets.len()
    );
    Ok(())
}

/// The product's versions, exactly: the fuzz crate is its own workspace, and its lock
/// is the workspace's plus libfuzzer-sys.
fn copy_lock() -> Result<()> {
    let root = project_root();
    std::fs::copy(
        root.join("Cargo.lock"),
        root.join(FUZZ_DIR).join("Cargo.lock"),
    )
    .context("cannot copy Cargo.lock into the fuzz crate")?;
    Ok(())
}

/// Runs one target for `seconds` and returns libFuzzer's count of executions. New
/// inputs go to a corpus in the target dir (kept between runs), so the saved corpus
/// in the repository stays small and changes only by hand.
fn fuzz_one(
    cargo_fuzz: &Path,
    fuzz_target_dir: &Path,
    target: &str,
    seconds: usize,
) -> Result<u64> {
    let root = project_root();
    let saved = root.join(FUZZ_DIR).join("corpus").join(target);
    ensure!(
        saved.is_dir(),
        "no saved corpus for {target}: {}",
        saved.display()
    );
    let grown = target_dir().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&grown)?;
    // Where cargo-fuzz has libFuzzer save a crashing input.
    let artifacts = root.join(FUZZ_DIR).join("artifacts").join(target);
    println!("==> fuzz {target} for {seconds} s");
    let mut child = fuzz_command(cargo_fuzz, fuzz_target_dir, target, &grown, &saved)?
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-timeout={INPUT_TIMEOUT_SECS}"))
        .arg(format!("-rss_limit_mb={RSS_LIMIT_MIB}"))
        .arg(format!("-max_len={MAX_INPUT_BYTES}"))
        .arg("-print_final_stats=1")
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start cargo-fuzz")?;
    let executions = follow_stderr(&mut child)?;
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "fuzz target {target} failed ({status}): the input is saved in {} \
             (reproduce: cargo +nightly fuzz run --fuzz-dir {FUZZ_DIR} {target} <file>; \
             minimise: cargo +nightly fuzz tmin --fuzz-dir {FUZZ_DIR} {target} <file>)",
            artifacts.display()
        );
    }
    executions.with_context(|| format!("libFuzzer printed no execution count for {target}"))
}

/// `cargo fuzz run` of `target` over both corpora, up to libFuzzer's `--`.
fn fuzz_command(
    cargo_fuzz: &Path,
    fuzz_target_dir: &Path,
    target: &str,
    grown: &Path,
    saved: &Path,
) -> Result<Command> {
    let root = project_root();
    // Nightly cargo with our cargo-fuzz on PATH; not the stable cargo that runs
    // xtask (`CARGO`), which cargo-fuzz would otherwise call.
    let tools_bin = cargo_fuzz.parent().context("cargo-fuzz has no folder")?;
    let path = std::env::join_paths(std::iter::once(tools_bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    let mut command = Command::new("rustup");
    command
        .current_dir(&root)
        .env("PATH", path)
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .args([
            "run",
            TOOLCHAIN,
            "cargo",
            "fuzz",
            "run",
            "--fuzz-dir",
            FUZZ_DIR,
        ])
        .arg("--target-dir")
        .arg(fuzz_target_dir)
        .arg(target)
        .arg(grown)
        .arg(saved)
        .arg("--");
    Ok(command)
}

/// Prints what libFuzzer says but its noise, and returns its final count of
/// executions, if it printed one.
fn follow_stderr(child: &mut std::process::Child) -> Result<Option<u64>> {
    let stderr = child.stderr.take().context("no stderr from cargo-fuzz")?;
    let mut executions = None;
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        if let Some(count) = executed_units(&line) {
            executions = Some(count);
        }
        if !is_noise(&line) {
            eprintln!("{line}");
        }
    }
    Ok(executions)
}

/// libFuzzer's final count (`-print_final_stats=1`): `stat::number_of_executed_units: N`.
fn executed_units(line: &str) -> Option<u64> {
    line.strip_prefix("stat::number_of_executed_units:")?
        .trim()
        .parse()
        .ok()
}

/// A line of libFuzzer's progress (`#1234 NEW …`, `REDUCE`, `pulse`, `NEW_FUNC`) or
/// of its closing dictionary: thousands in a minute, left out of the log; everything
/// else (start-up, stats, crashes) is shown.
fn is_noise(line: &str) -> bool {
    let progress = line.starts_with('#')
        && ["NEW", "REDUCE", "pulse"]
            .iter()
            .any(|word| line.split_whitespace().nth(1) == Some(*word));
    let dictionary = line.starts_with('"') && line.contains("# Uses:");
    progress || dictionary || line.trim_start().starts_with("NEW_FUNC[")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_final_execution_count() {
        assert_eq!(
            executed_units("stat::number_of_executed_units: 1234567"),
            Some(1_234_567)
        );
        assert_eq!(
            executed_units("stat::average_exec_per_sec:     20576"),
            None
        );
        assert_eq!(executed_units("Done 1234567 runs in 61 second(s)"), None);
    }

    #[test]
    fn progress_lines_are_left_out_and_the_rest_shown() {
        assert!(is_noise(
            "#2941\tNEW    cov: 1902 ft: 4013 corp: 88/21Kb lim: 4096 exec/s: 2941 rss: 98Mb"
        ));
        assert!(is_noise("#65536\tpulse  cov: 1950 ft: 4219 corp: 97/24Kb"));
        assert!(is_noise(
            "\tNEW_FUNC[1/4]: 0x55a2eba538c0 in jpeg_decoder::decoder::refine_non_zeroes"
        ));
        assert!(is_noise(r#""\377\330\377" # Uses: 13"#));
        assert!(!is_noise("#2\tINITED cov: 1290 ft: 1290 corp: 6/9164b"));
        assert!(!is_noise("==1234== ERROR: libFuzzer: deadly signal"));
        assert!(!is_noise("stat::number_of_executed_units: 12"));
        assert!(!is_noise("###### Recommended dictionary. ######"));
    }

    #[test]
    fn ci_splits_the_same_fuzzing_time_between_all_targets() {
        assert_eq!(
            FUZZ_TARGETS.iter().map(|t| ci_seconds(t)).sum::<usize>(),
            CI_SECONDS
        );
        assert!(FUZZ_TARGETS.iter().all(|t| ci_seconds(t) >= 10));
    }

    #[test]
    fn every_target_has_its_source_and_saved_corpus() {
        let fuzz = project_root().join(FUZZ_DIR);
        for target in FUZZ_TARGETS {
            let source = fuzz.join("fuzz_targets").join(format!("{target}.rs"));
            assert!(source.is_file(), "{}", source.display());
            let corpus = fuzz.join("corpus").join(target);
            let files = std::fs::read_dir(&corpus).map_or(0, Iterator::count);
            assert!(files > 0, "no seeds in {}", corpus.display());
        }
    }
}
