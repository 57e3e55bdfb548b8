//! `cargo xtask <task>`: the project's tasks, in Rust so they run on every OS.

mod apt;
mod bench;
mod bench_goals;
mod bench_peers;
mod bench_report;
mod bench_results;
mod bench_transfer;
mod bench_transfer_report;
mod deny;
mod deploy;
mod dist;
mod flags;
mod fuzz;
mod gui_free;
mod icons;
mod images;
mod paths;
mod screenshot;
mod terraform;
mod tools;
mod venv;
mod workflows;

use std::time::Instant;

use anyhow::{Context as _, Result};
use clap::Parser as _;
use xshell::{Shell, cmd};

use crate::flags::Task;
use crate::paths::{project_root, target_dir};

fn main() -> Result<()> {
    let flags::Xtask { task } = flags::Xtask::parse();
    match task {
        Task::Ci => ci(),
        Task::Bench(flags) => bench::run(&flags),
        Task::BuildImages(flags) => images::run(&flags),
        Task::Terraform => terraform::run(),
        Task::Deploy(flags) => deploy::deploy(&flags),
        Task::Destroy(flags) => deploy::destroy(&flags),
        Task::Screenshot(flags) => screenshot::run(&flags),
        Task::Dist(flags) => dist::run(&flags),
        Task::Icons(flags) => icons::run(&flags),
        Task::Fuzz(flags) => fuzz::run(&flags),
        Task::Deny => {
            let sh = Shell::new()?;
            sh.change_dir(project_root());
            deny::run(&sh)
        }
        Task::Workflows => {
            let sh = Shell::new()?;
            sh.change_dir(project_root());
            workflows::ci_check(&sh)
        }
    }
}

/// Formatting, lints, the `augment` CLI's tree free of the GUI stack, the whole test
/// suite, then the Lambda container images. Installs the rustup components it
/// needs; uses cargo-nextest when present (faster, one process per test) and
/// `cargo test` otherwise.
fn ci() -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    let started = Instant::now();
    clean_when_disk_is_low(&sh)?;
    install_ci_tools(&sh)?;

    step("fmt", || cmd!(sh, "cargo fmt --all --check").run())?;
    step("clippy", || {
        cmd!(
            sh,
            "cargo clippy --workspace --all-targets --locked -- -D warnings"
        )
        .run()
    })?;
    step_with("CLI without the GUI stack", || gui_free::ci_check(&sh))?;
    step_with("supply chain (cargo-deny)", || deny::run(&sh))?;
    run_tests(&sh)?;
    step_with("fuzz", || fuzz::ci_check(&sh))?;
    step_with("terraform", || terraform::ci_check(&sh))?;
    step_with("screenshot", || screenshot::ci_check(&sh))?;
    step_with("installer (.deb)", || dist::ci_check(&sh))?;
    step_with("workflows", || workflows::ci_check(&sh))?;
    // Last, as it is the slowest when cold (an optimised static build of both
    // Lambdas): hadolint, the offline image build, push to a local registry, run.
    println!("==> images");
    let images_started = Instant::now();
    images::ci_check(&sh).context("xtask ci: images failed")?;
    println!(
        "==> images: ok in {:.0} s",
        images_started.elapsed().as_secs_f64()
    );
    println!(
        "xtask ci: all checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What CI needs beyond cargo: the rustup components, the build's apt
/// packages, the Python tools (on `PATH`, moto as `MOTO_SERVER`) and the IAM
/// policy simulator.
fn install_ci_tools(sh: &Shell) -> Result<()> {
    let components = cmd!(sh, "rustup component list --installed")
        .read()
        .unwrap_or_default();
    for component in ["rustfmt", "clippy"] {
        if !components.lines().any(|line| line.starts_with(component)) {
            cmd!(sh, "rustup component add {component}").run()?;
        }
    }

    // libjpeg-turbo (the pipeline's JPEG codec) is built from source by the
    // turbojpeg crate: cmake drives its build, nasm assembles its SIMD code.
    apt::ensure_installed(
        sh,
        "the build (libjpeg-turbo) and the app tests (a CJK font)",
        BUILD_APT_PACKAGES,
    )?;

    // The real parts the tests run against: moto (S3/SQS API server),
    // cargo-lambda (the Lambda Runtime API emulator) and the AWS CLI (which
    // `deploy` drives), from PyPI.
    let venv_bin = venv::ensure(sh, &target_dir().join("ci-venv"), CI_PYTHON_PINS)?;
    sh.set_var("PATH", venv::path_with(&venv_bin)?);
    sh.set_var("MOTO_SERVER", venv_bin.join("moto_server"));
    // The IAM policy simulator (npm) the IAM test evaluates the rendered policies with.
    sh.set_var(tools::IAM_SIMULATOR_ENV, tools::ensure_iam_simulator(sh)?);
    // A second S3 implementation (crates.io) for the client's custom mode.
    sh.set_var(tools::S3S_FS_ENV, tools::ensure_s3s_fs(sh)?);
    Ok(())
}

/// The whole test suite: cargo-nextest when present (faster, one process per
/// test) and the doc tests, else `cargo test`.
fn run_tests(sh: &Shell) -> Result<()> {
    let nextest = cmd!(sh, "cargo nextest --version")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    if nextest {
        step("tests (nextest)", || {
            cmd!(sh, "cargo nextest run --workspace --locked --no-fail-fast").run()
        })?;
        step("doc tests", || {
            cmd!(sh, "cargo test --workspace --locked --doc").run()
        })?;
    } else {
        step("tests", || {
            cmd!(sh, "cargo test --workspace --locked --no-fail-fast").run()
        })?;
    }
    Ok(())
}

/// What building the workspace needs beyond Rust, as `(package, file it provides)`.
const BUILD_APT_PACKAGES: &[(&str, &str)] = &[
    ("cmake", "/usr/bin/cmake"),
    ("nasm", "/usr/bin/nasm"),
    // The desktop app's fallback fonts are the system's (fontconfig finds
    // them); its tests draw a CJK name and need one CJK font.
    ("fontconfig", "/usr/bin/fc-list"),
    (
        "fonts-droid-fallback",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    ),
];

/// Below this much free space where the target dir lives, `ci` starts from a clean
/// target dir. A shared CI target dir only grows (every change of a workspace crate
/// leaves new test binaries of 100-600 MB), and a build that fills the disk fails
/// with linker bus errors; a cold build is slower (19 min on 2 idle cores) but passes.
const MIN_FREE_DISK_GIB: u64 = 25;

fn clean_when_disk_is_low(sh: &Shell) -> Result<()> {
    let target = target_dir();
    if !cfg!(unix) || !target.exists() {
        return Ok(());
    }
    // `df -Pk`: POSIX output, 1 KiB blocks; the 4th field of the 2nd line is free.
    let df = cmd!(sh, "df -Pk {target}").read().unwrap_or_default();
    let Some(free_kib) = df
        .lines()
        .nth(1)
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|field| field.parse::<u64>().ok())
    else {
        return Ok(());
    };
    let free_gib = free_kib / (1024 * 1024);
    if free_gib < MIN_FREE_DISK_GIB {
        println!(
            "==> {free_gib} GiB free (< {MIN_FREE_DISK_GIB}): removing {} for a clean build",
            target.display()
        );
        cmd!(sh, "cargo clean").run()?;
    }
    Ok(())
}

/// PyPI tools the tests use, pinned.
/// (awscli: `cargo xtask deploy` calls it.
/// datasets, webdataset and pillow: the CLI's export test loads its exports
/// with them, as users do; 42 s to install, 0.4 GiB, in a fresh venv.)
const CI_PYTHON_PINS: &[&str] = &[
    "moto[server]==5.2.5",
    "cargo-lambda==1.9.2",
    "awscli==1.45.11",
    "datasets==5.2.0",
    "webdataset==1.0.2",
    "pillow==13.0.0",
];

/// A CI step whose errors are already `anyhow` (the task modules' checks).
fn step_with(name: &str, run: impl FnOnce() -> Result<()>) -> Result<()> {
    println!("==> {name}");
    let started = Instant::now();
    run().with_context(|| format!("xtask ci: {name} failed"))?;
    println!("==> {name}: ok in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn step(name: &str, run: impl FnOnce() -> xshell::Result<()>) -> Result<()> {
    println!("==> {name}");
    let started = Instant::now();
    run().with_context(|| format!("xtask ci: {name} failed"))?;
    println!("==> {name}: ok in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
