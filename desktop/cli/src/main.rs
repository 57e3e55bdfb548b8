//! `augment`: the image augmentation pipeline from the command line.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use augment_client::batch::{self, FileResult};
use augment_client::inputs;
use clap::{CommandFactory as _, Parser, Subcommand};

mod download;
mod export;
mod logs;
mod redrive;
mod remote;
mod status;
mod upload;
mod verify;
use indicatif::{ProgressBar, ProgressStyle};

/// Exit code when any input was rejected or failed.
const EXIT_SOME_FAILED: u8 = 1;
/// Exit code for a usage error (clap uses it too).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "augment",
    version,
    disable_version_flag = true,
    about,
    long_about = None,
    arg_required_else_help = true
)]
/// Fit images onto a white 256×256 canvas and make their 90/180/270/360° rotations.
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Log what happens, and each error's technical causes, to stderr
    /// (`RUST_LOG` chooses finer).
    #[arg(long, short, global = true)]
    verbose: bool,
    /// Print the version, then exit; with --verbose also the libjpeg-turbo
    /// built in (the C library that reads every JPEG).
    #[arg(long, short = 'V')]
    version: bool,
    /// Write this program's man page (roff) to stdout, then exit.
    #[arg(long, hide = true)]
    generate_man_page: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the pipeline on this machine (local mode), no AWS account needed.
    ///
    /// Every file is copied to OUT/original-uploads/ and processed exactly as in
    /// AWS: OUT ends up laid out like the bucket, with processed/,
    /// augmented-images/<angle>-degree/ and, for files that are rejected (not a
    /// JPEG or PNG by content, over 10 MiB, corrupt, too many pixels),
    /// failed/<name>.json saying why.
    ///
    /// Exit status: 0 if every file was processed, 1 if any was rejected or
    /// failed, 2 for a usage error.
    #[command(after_help = "Example: augment process ~/Pictures/cats photo.png --out augmented")]
    Process {
        /// Image files, or folders searched recursively for .jpg/.jpeg/.png
        /// (any case). Sub-folders are kept in the output names.
        #[arg(required = true, value_name = "FILES|DIRS")]
        paths: Vec<PathBuf>,
        /// Folder to write the bucket layout into (created if missing).
        #[arg(long, short, value_name = "DIR")]
        out: PathBuf,
        /// Images processed at once [default: number of CPU cores].
        #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
        jobs: Option<u16>,
        /// No progress bar and no summary line; rejections are still reported.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Upload images to the configured bucket (or the local data folder).
    ///
    /// Uses the desktop app's settings (Local, AWS or a custom S3-compatible
    /// endpoint); the flags override them for this run. Every file is checked
    /// first (a JPEG or PNG by content, at most 10 MiB) and a bad one is reported
    /// without stopping the others. Names already in the bucket are never
    /// overwritten: the upload gets `-2`, `-3`…
    ///
    /// In local mode the pipeline runs in this process, so `upload` always waits
    /// for the rotations.
    ///
    /// Exit status: 0 if every file was uploaded (and, with --wait, processed), 1 if
    /// any was rejected or failed or the bucket cannot be reached, 2 for a usage or
    /// settings error.
    #[command(
        after_help = "Examples:\n  augment upload photo.jpg ~/Pictures/cats --wait\n  augment upload cats --bucket my-bucket --region eu-west-1 --out augmented\n  augment upload cat.png --endpoint-url http://localhost:9000 --bucket test"
    )]
    Upload {
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
        #[arg(long, value_name = "WHAT", value_enum, default_value_t = upload::OnDuplicate::Skip)]
        on_duplicate: upload::OnDuplicate,
        /// Seconds to wait for each file's rotations with --wait, in AWS and
        /// custom mode; 0: do not wait. Local mode runs the pipeline in this
        /// program and always waits until each file is processed.
        #[arg(long, value_name = "SECS", default_value_t = DEFAULT_WAIT_SECS)]
        timeout_secs: u64,
        /// Local mode: the data folder on this machine, whatever the settings say.
        #[arg(long, conflicts_with_all = ["bucket", "profile", "region", "endpoint_url"])]
        local: bool,
        /// The bucket (AWS mode, unless --endpoint-url is given).
        #[arg(long, value_name = "NAME")]
        bucket: Option<String>,
        /// A profile from the AWS config files.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// The bucket's region.
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// An S3-compatible endpoint (MinIO, LocalStack, moto): custom mode.
        #[arg(long, value_name = "URL")]
        endpoint_url: Option<String>,
        /// Allow a custom endpoint over plain http:// to another machine: the
        /// signed requests and the images cross the network unencrypted. Not
        /// needed for https:// or this machine (localhost, 127.0.0.0/8, the IPv6 loopback).
        #[arg(long, conflicts_with = "local")]
        allow_http: bool,
        /// No progress bars and no summary line; rejections are still reported.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Download the results from the bucket (or the local data folder) into a
    /// folder, in the bucket's layout.
    ///
    /// By default the processed images and the rotations (processed/ and
    /// augmented-images/); `--only augmented-images` is the original guide's
    /// `aws s3 sync`. Incremental: a second run fetches only what is new or
    /// changed (a file of the same size that is not older than the object is
    /// kept), and an interrupted run continues. Every file is written whole or
    /// not at all.
    ///
    /// Exit status: 0 if every file is in the folder, 1 if any failed or the
    /// bucket cannot be reached, 2 for a usage or settings error.
    Download(download::Args),
    /// Export a training-ready dataset straight from the bucket (or the local
    /// data folder): imagefolder, webdataset or a manifest.
    ///
    /// Labels come from the class folder (the first folder under
    /// original-uploads/). Splits are seeded and grouped by the source's SHA-256:
    /// an image, its rotations and any upload with the same bytes land in one
    /// split. Only the training split gets the rotations unless --all-angles.
    /// Every export has manifest.csv and manifest.jsonl (file, split, label,
    /// angle, keys, SHA-256s, group, pipeline version and parameters).
    ///
    /// Exit status: 0 if every image was exported, 1 if any was left out
    /// (outputs missing, unreadable) or the bucket cannot be reached, 2 for a
    /// usage or settings error (such as a folder that is not empty).
    Export(export::Args),
    /// Check a download, an export or the bucket: every rotation is the exact
    /// lossless rotation of its upright image, every manifest hash matches its
    /// file, nothing listed is missing.
    ///
    /// Exit status: 0 if all is well, 1 if anything is wrong (each problem is
    /// listed) or the bucket cannot be reached, 2 for a usage or settings error.
    Verify(verify::Args),
    /// The pipeline at a glance: uploads, processed, complete, rejected and
    /// stuck (each named with what it lacks), the queues, and the time from
    /// upload to the fourth rotation; what the credentials cannot see, with the
    /// policy statement that would allow it.
    ///
    /// Exit status: 0 if nothing is stuck or waiting in a failure queue, 1
    /// otherwise or if the bucket cannot be reached, 2 for a usage or settings error.
    Status(status::Args),
    /// Both functions' log lines (AWS and custom mode), in time order: time,
    /// function, outcome, milliseconds, key.
    Logs(logs::Args),
    /// Put failed and stuck work back into the pipeline (AWS and custom mode):
    /// the rotation dead letters onto the queue, the processor's failed events
    /// and the stuck uploads to the processor again; counts reported.
    ///
    /// Exit status: 0 if all was re-driven, 1 if a call was not allowed or
    /// failed, 2 for a usage or settings error.
    Redrive(redrive::Args),
}

/// Seconds `--wait` waits per file by default (a cold Lambda start plus four
/// rotations takes a few seconds).
const DEFAULT_WAIT_SECS: u64 = 60;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.generate_man_page {
        return match write_man_page(&mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cannot write the man page: {err}");
                ExitCode::from(EXIT_SOME_FAILED)
            }
        };
    }
    if cli.version {
        println!("augment {}", env!("CARGO_PKG_VERSION"));
        if cli.verbose {
            println!(
                "libjpeg-turbo {}",
                augment_pipeline::imaging::libjpeg_turbo_version()
            );
        }
        return ExitCode::SUCCESS;
    }
    init_logging(cli.verbose);
    let Some(command) = cli.command else {
        // `arg_required_else_help` has shown the help for a bare `augment`.
        return ExitCode::from(EXIT_USAGE);
    };
    match command {
        Command::Process {
            paths,
            out,
            jobs,
            quiet,
        } => process(&paths, &out, jobs, quiet),
        Command::Upload {
            paths,
            wait,
            out,
            jobs,
            on_duplicate,
            timeout_secs,
            local,
            bucket,
            profile,
            region,
            endpoint_url,
            allow_http,
            quiet,
        } => {
            let overrides = upload::Overrides {
                local,
                bucket,
                profile,
                region,
                endpoint_url,
                allow_http,
            };
            let options = upload::Options {
                wait: wait || out.is_some(),
                out,
                jobs: jobs.map(usize::from),
                on_duplicate,
                timeout: std::time::Duration::from_secs(timeout_secs),
                quiet,
            };
            upload::run(&paths, &overrides, &options)
        }
        Command::Download(args) => download::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Logs(args) => logs::run(&args),
        Command::Redrive(args) => redrive::run(&args),
    }
}

/// Logs go to stderr, beside the messages: this program's warnings, or with
/// `--verbose` everything its crates say and the SDK's warnings (`RUST_LOG`
/// overrides both).
fn init_logging(verbose: bool) {
    // The SDK's own warnings (a missing config file…) are noise to a person
    // unless asked for: its errors reach them through the client's messages.
    let default = if verbose {
        "warn,augment=debug,augment_client=debug,augment_local=debug,augment_pipeline=debug,augment_aws=debug"
    } else {
        "error,augment=warn,augment_client=warn,augment_local=warn,augment_pipeline=warn,augment_aws=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// `--generate-man-page`: the page from the clap definitions above (what `--help`
/// says), with each subcommand's synopsis, description and options as a section
/// of its own.
fn write_man_page(out: &mut impl std::io::Write) -> std::io::Result<()> {
    let command = Cli::command();
    clap_mangen::Man::new(command.clone()).render(out)?;
    for sub in command.get_subcommands() {
        let name = format!("augment {}", sub.get_name());
        writeln!(out, ".SH \"{}\"", name.to_uppercase())?;
        let man = clap_mangen::Man::new(sub.clone().bin_name(name));
        man.render_synopsis_section(out)?;
        man.render_description_section(out)?;
        man.render_options_section(out)?;
    }
    Ok(())
}

fn process(paths: &[PathBuf], out: &std::path::Path, jobs: Option<u16>, quiet: bool) -> ExitCode {
    let inputs = match inputs::collect(paths, Some(out)) {
        Ok(inputs) => inputs,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let jobs = jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        usize::from,
    );

    let bar = if quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(inputs.len() as u64).with_style(
            ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} images  {elapsed}  {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        )
    };
    let started = Instant::now();
    let summary = batch::run(&inputs, out, jobs, |input, result| {
        bar.inc(1);
        bar.set_message(input.path.display().to_string());
        let line = match result {
            FileResult::Done => return,
            FileResult::Rejected(rejection) => {
                format!(
                    "rejected {}: {}: {}",
                    rejection.code,
                    input.path.display(),
                    rejection.message
                )
            }
            FileResult::Failed(message) => format!("failed: {}: {message}", input.path.display()),
        };
        bar.suspend(|| eprintln!("{line}"));
    });
    bar.finish_and_clear();

    let summary = match summary {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("error: could not start the pipeline: {err}");
            return ExitCode::from(EXIT_SOME_FAILED);
        }
    };
    if !quiet {
        let mut line = format!("{} done, {} rejected", summary.done, summary.rejected);
        if summary.failed > 0 {
            line.push_str(&format!(", {} failed", summary.failed));
        }
        println!(
            "{line} in {:.1} s → {}",
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    if summary.all_done() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SOME_FAILED)
    }
}
