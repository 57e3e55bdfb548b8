//! Running a built image: its entrypoint in the image's own rootfs, and the
//! binary's start-up time against a stand-in Runtime API.

use std::fs;
use std::io::{ErrorKind, Read as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use xshell::{Shell, cmd};

use super::oci::Storage;
use super::stage::{BOOTSTRAP, CA_BUNDLE};

/// What one image came to: its sizes and its start-up.
pub(super) struct Report {
    pub(super) function: String,
    pub(super) binary_bytes: u64,
    pub(super) unpacked_bytes: u64,
    pub(super) compressed_bytes: Option<u64>,
    pub(super) startup_median: Duration,
    pub(super) startup_fastest: Duration,
}

/// What `lambda_runtime` says when the Runtime API address is missing: a binary that
/// gets this far has started, loaded its config and built its AWS clients.
const MISSING_API_PANIC: &str = "Missing AWS_LAMBDA_RUNTIME_API env var";
/// Exit status of a Rust program whose main thread panicked (panic = "unwind").
const PANIC_EXIT_CODE: i32 = 101;
pub(super) const STARTUP_RUNS: usize = 20;

/// Creates a container from `image` (pulling it when it is remote), checks its
/// entrypoint is /bootstrap, runs it in the image's own rootfs (chroot: no libc but
/// what the binary carries) without a Runtime API address, and expects
/// `lambda_runtime`'s missing-env panic. Then times start-up of that same binary.
pub(super) fn run_entrypoint(
    sh: &Shell,
    storage: &Storage,
    image: &str,
    function: &str,
) -> Result<Report> {
    let storage_args = &storage.args;
    let container = cmd!(
        sh,
        "buildah {storage_args...} from --quiet --tls-verify=false {image}"
    )
    .read()?;
    let result = (|| {
        let inspect = cmd!(sh, "buildah {storage_args...} inspect {container}").read()?;
        check_image_config(image, &inspect)?;
        let env: Vec<String> = lambda_env(function)
            .into_iter()
            .flat_map(|(key, value)| ["--env".to_owned(), format!("{key}={value}")])
            .collect();
        let output = cmd!(
            sh,
            "buildah {storage_args...} run --isolation chroot {env...} {container} -- {BOOTSTRAP}"
        )
        .ignore_status()
        .output()?;
        check_missing_api_exit(function, &output)?;
        println!(
            "{image}: {BOOTSTRAP} ran in the image and stopped as expected: {MISSING_API_PANIC}"
        );

        let rootfs = PathBuf::from(cmd!(sh, "buildah {storage_args...} mount {container}").read()?);
        let unpacked_bytes = tree_bytes(&rootfs)?;
        let bootstrap = rootfs.join(BOOTSTRAP.trim_start_matches('/'));
        let ca_bundle = rootfs.join(CA_BUNDLE.trim_start_matches('/'));
        let (startup_median, startup_fastest) =
            startup_time(&bootstrap, function, Some(&ca_bundle))?;
        Ok(Report {
            function: function.to_owned(),
            binary_bytes: fs::metadata(&bootstrap)?.len(),
            unpacked_bytes,
            compressed_bytes: None,
            startup_median,
            startup_fastest,
        })
    })();
    cmd!(sh, "buildah {storage_args...} rm {container}")
        .quiet()
        .ignore_stdout()
        .run()?;
    result
}

/// The image's entrypoint is /bootstrap and its environment names the CA bundle.
fn check_image_config(image: &str, inspect: &str) -> Result<()> {
    let inspect: serde_json::Value =
        serde_json::from_str(inspect).context("buildah inspect: the output is not JSON")?;
    let config = &inspect["OCIv1"]["config"];
    ensure!(
        config["Entrypoint"] == serde_json::json!([BOOTSTRAP]),
        "{image}: the entrypoint is {}, expected [\"{BOOTSTRAP}\"]",
        config["Entrypoint"]
    );
    let ssl_cert_file = format!("SSL_CERT_FILE={CA_BUNDLE}");
    ensure!(
        config["Env"]
            .as_array()
            .is_some_and(|env| env.iter().any(|var| *var == *ssl_cert_file)),
        "{image}: the environment has no {ssl_cert_file}: {}",
        config["Env"]
    );
    Ok(())
}

/// The binary must have started and stopped where `lambda_runtime` looks for the
/// Runtime API: exit status 101 and its message.
pub(super) fn check_missing_api_exit(function: &str, output: &std::process::Output) -> Result<()> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        output.status.code() == Some(PANIC_EXIT_CODE) && stderr.contains(MISSING_API_PANIC),
        "{function}: expected exit status {PANIC_EXIT_CODE} and `{MISSING_API_PANIC}`, got {}:\n{}{stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
    );
    Ok(())
}

/// The environment Lambda gives a function, less `AWS_LAMBDA_RUNTIME_API`, plus
/// what our functions need to get as far as the runtime: a region (so the SDK asks
/// no metadata service), dummy credentials (never used: no event comes) and
/// image-processor's `QUEUE_URL`.
pub(super) fn lambda_env(function: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "xtask".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "xtask".to_owned()),
        ("QUEUE_URL", "http://127.0.0.1:9/queue".to_owned()),
    ]
}

/// Process start -> first Runtime API request (`GET .../invocation/next`): the part
/// of a cold start the binary controls. Median and fastest of `STARTUP_RUNS`, each
/// against a listener that stands in for the Runtime API. `ca_bundle` is the image's
/// `SSL_CERT_FILE`: the SDK reads it while building its clients.
pub(super) fn startup_time(
    binary: &Path,
    function: &str,
    ca_bundle: Option<&Path>,
) -> Result<(Duration, Duration)> {
    let mut times = Vec::with_capacity(STARTUP_RUNS);
    for _ in 0..STARTUP_RUNS {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let api = listener.local_addr()?.to_string();
        let started = Instant::now();
        let mut child = Command::new(binary)
            .env_clear()
            .envs(lambda_env(function))
            .env("AWS_LAMBDA_RUNTIME_API", &api)
            .envs(ca_bundle.map(|file| ("SSL_CERT_FILE", file)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;
        let elapsed = first_request(&listener, &mut child, started);
        // Stopping our own child; it may already have exited.
        let _ = child.kill();
        let _ = child.wait();
        times.push(elapsed.with_context(|| format!("timing {}", binary.display()))?);
    }
    times.sort();
    Ok((times[STARTUP_RUNS / 2], times[0]))
}

fn first_request(listener: &TcpListener, child: &mut Child, started: Instant) -> Result<Duration> {
    let deadline = started + Duration::from_secs(10);
    loop {
        match listener.accept() {
            Ok((mut stream, _)) => {
                let elapsed = started.elapsed();
                stream.set_nonblocking(false)?;
                stream.set_read_timeout(Some(Duration::from_secs(5)))?;
                let mut head = [0; 128];
                let read = stream.read(&mut head)?;
                let head = String::from_utf8_lossy(&head[..read]);
                ensure!(
                    head.starts_with("GET /2018-06-01/runtime/invocation/next"),
                    "the first request was not for the next event: {head}"
                );
                return Ok(elapsed);
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait()? {
                    let mut stderr = String::new();
                    if let Some(pipe) = child.stderr.as_mut() {
                        pipe.read_to_string(&mut stderr)?;
                    }
                    bail!("exited ({status}) before asking for an event:\n{stderr}");
                }
                ensure!(
                    Instant::now() < deadline,
                    "no Runtime API request within 10 s"
                );
                std::thread::sleep(Duration::from_micros(100));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn tree_bytes(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += tree_bytes(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}
