//! `augment upload`: files and folders to the configured bucket (or the local
//! data folder) through the client library, with a progress bar per file, then
//! optionally waiting for the pipeline and downloading what it made. One file's
//! way is `upload_file.rs`; this is the batch around it.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use augment_client::inputs::{self, Input};
use augment_client::{Mode, Settings};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget};
use tokio::task::JoinSet;

use crate::exit;
use crate::remote::{self, RemoteArgs};
pub use crate::upload_file::OnDuplicate;
use crate::upload_file::{Batch, Ended, Options, one_file, style, waiting};

/// Most files with a task at once, uploading or waiting for the pipeline: well
/// above the most transfers at once (`limits::MAX_TRANSFER_JOBS`), so waiting
/// files never hold up uploads in practice, and a bound, so a batch of 100,000
/// files costs what one of this many does.
const FILES_IN_FLIGHT: usize = 1024;

/// Redraw interval of the overall bar's spinner and clock, so they move while
/// waiting on the pipeline.
const PROGRESS_TICK: Duration = Duration::from_millis(100);

/// Seconds `--wait` waits per file by default (a cold Lambda start plus four
/// rotations takes a few seconds).
const DEFAULT_WAIT_SECS: u64 = 60;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image files, or folders searched recursively for .jpg/.jpeg/.png
    /// (any case). Sub-folders are kept in the upload names.
    #[arg(required = true, value_name = "FILES|DIRS")]
    paths: Vec<PathBuf>,
    /// Wait until the pipeline has made the four rotations (or rejected the file).
    #[arg(long, short)]
    wait: bool,
    /// Download each image's processed file and rotations into DIR, laid out
    /// like the bucket (implies --wait).
    #[arg(long, short, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Uploads at once. Without it the number adapts to the link: 16 to
    /// start, one more after each round without a retry, half on a throttle
    /// or a retried fault, at most 64.
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    /// A file whose bytes (SHA-256) are already uploaded under its name (any
    /// extension): skip it, upload it again under a new name (`-2`), or
    /// replace the upload (the pipeline runs again).
    #[arg(long, value_name = "WHAT", value_enum, default_value_t = OnDuplicate::Skip)]
    on_duplicate: OnDuplicate,
    /// Seconds to wait for each file's rotations with --wait, in AWS and
    /// custom mode; 0: do not wait. Local mode runs the pipeline in this
    /// program and always waits until each file is processed.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_WAIT_SECS)]
    timeout_secs: u64,
    #[command(flatten)]
    remote: RemoteArgs,
    /// No progress bars and no summary line; rejections are still reported.
    #[arg(long, short)]
    quiet: bool,
}

impl Args {
    fn options(&self) -> Options {
        Options {
            wait: self.wait || self.out.is_some(),
            out: self.out.clone(),
            jobs: self.jobs.map(usize::from),
            on_duplicate: self.on_duplicate,
            timeout: Duration::from_secs(self.timeout_secs),
            quiet: self.quiet,
        }
    }
}

pub fn run(args: &Args) -> ExitCode {
    let settings = match args.remote.settings() {
        Ok(settings) => settings,
        Err(code) => return code,
    };
    let options = args.options();
    if settings.mode != Mode::Local && options.out.is_some() && options.timeout.is_zero() {
        eprintln!(
            "error: --out downloads each file's rotations, so it waits for them: give --timeout-secs more than 0 (0 means do not wait)"
        );
        return exit::usage();
    }
    let inputs = match inputs::collect(&args.paths, options.out.as_deref()) {
        Ok(inputs) => inputs,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::usage();
        }
    };
    match remote::runtime() {
        Ok(runtime) => runtime.block_on(run_async(&settings, inputs, &options)),
        Err(code) => code,
    }
}

async fn run_async(settings: &Settings, inputs: Vec<Input>, options: &Options) -> ExitCode {
    // One clear error before any upload, rather than the same one per file.
    let remote = match remote::connect(settings).await {
        Ok(remote) => remote,
        Err(code) => return code,
    };
    let (wait, timeout) = waiting(settings.mode, options);
    let started = Instant::now();
    let batch = match Batch::start(&remote, &inputs, options, (settings.mode, timeout)).await {
        Ok(batch) => Arc::new(batch),
        Err(err) => return remote::failed(&err),
    };
    let tally = upload_all(&batch, &inputs, options.quiet, wait).await;
    if !options.quiet {
        let target = options
            .out
            .as_ref()
            .map_or_else(|| remote.describe(), |out| out.display().to_string());
        println!(
            "{} in {:.1} s → {target}",
            tally.line(wait),
            started.elapsed().as_secs_f64()
        );
    }
    if tally.rejected == 0 && tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        exit::some_failed()
    }
}

/// Every file's way, at most [`FILES_IN_FLIGHT`] at once (uploading or
/// waiting for the pipeline), so memory stays flat in the batch size; each
/// ending said as it comes.
async fn upload_all(batch: &Arc<Batch>, inputs: &[Input], quiet: bool, wait: bool) -> Tally {
    let bars = if quiet || !std::io::stderr().is_terminal() {
        MultiProgress::with_draw_target(ProgressDrawTarget::hidden())
    } else {
        MultiProgress::new()
    };
    let total = bars.add(ProgressBar::new(inputs.len() as u64).with_style(style(
        "{spinner} {pos}/{len} files  {elapsed}  ETA {eta}  {wide_msg}",
    )));
    total.enable_steady_tick(PROGRESS_TICK);
    let mut pending = inputs.iter().cloned().enumerate();
    let mut running = JoinSet::new();
    let mut spawn_next = |running: &mut JoinSet<(usize, Ended)>| {
        if let Some((index, input)) = pending.next() {
            running.spawn(one_file(batch.clone(), bars.clone(), (index, input), wait));
        }
    };
    for _ in 0..FILES_IN_FLIGHT {
        spawn_next(&mut running);
    }
    let mut tally = Tally::default();
    while let Some(joined) = running.join_next().await {
        spawn_next(&mut running);
        total.inc(1);
        let (index, ended) = match joined {
            Ok(result) => result,
            Err(err) => {
                tally.failed += 1;
                bars.suspend(|| eprintln!("failed: an upload task stopped: {err}"));
                continue;
            }
        };
        let path = inputs[index].path.display().to_string();
        total.set_message(path.clone());
        if let Some(line) = tally.add(ended, &path) {
            bars.suspend(|| eprintln!("{line}"));
        }
    }
    total.finish_and_clear();
    tally
}

/// How the files of a run ended, counted.
#[derive(Debug, Default)]
struct Tally {
    done: usize,
    skipped: usize,
    rejected: usize,
    failed: usize,
}

impl Tally {
    /// Counts one file's ending; the line to say for it, if any.
    fn add(&mut self, ended: Ended, path: &str) -> Option<String> {
        match ended {
            Ended::Done => self.done += 1,
            Ended::Skipped => self.skipped += 1,
            Ended::Rejected { code, message } => {
                self.rejected += 1;
                return Some(format!("rejected {code}: {path}: {message}"));
            }
            Ended::Failed(message) => {
                self.failed += 1;
                return Some(format!("failed: {path}: {message}"));
            }
        }
        None
    }

    /// "3 done, 1 rejected, 2 skipped (already uploaded), 1 failed".
    fn line(&self, waited: bool) -> String {
        let verb = if waited { "done" } else { "uploaded" };
        let mut line = format!("{} {verb}, {} rejected", self.done, self.rejected);
        if self.skipped > 0 {
            line.push_str(&format!(", {} skipped (already uploaded)", self.skipped));
        }
        if self.failed > 0 {
            line.push_str(&format!(", {} failed", self.failed));
        }
        line
    }
}
