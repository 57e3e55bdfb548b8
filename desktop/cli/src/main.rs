//! `augment`: the image augmentation pipeline from the command line.

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

mod download;
mod exit;
mod export;
mod logs;
mod process;
mod redrive;
mod remote;
mod status;
mod upload;
mod upload_file;
mod verify;

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
    Process(process::Args),
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
    Upload(upload::Args),
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(code) = print_and_exit(&cli) {
        return code;
    }
    init_logging(cli.verbose);
    let Some(command) = cli.command else {
        // `arg_required_else_help` has shown the help for a bare `augment`.
        return exit::usage();
    };
    match command {
        Command::Process(args) => process::run(&args),
        Command::Upload(args) => upload::run(&args),
        Command::Download(args) => download::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Verify(args) => verify::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Logs(args) => logs::run(&args),
        Command::Redrive(args) => redrive::run(&args),
    }
}

/// `--generate-man-page` and `--version`: what they print, and the exit code;
/// `None` for a command to run.
fn print_and_exit(cli: &Cli) -> Option<ExitCode> {
    if cli.generate_man_page {
        return Some(match write_man_page(&mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: cannot write the man page: {err}");
                exit::some_failed()
            }
        });
    }
    if !cli.version {
        return None;
    }
    println!("augment {}", env!("CARGO_PKG_VERSION"));
    if cli.verbose {
        println!(
            "libjpeg-turbo {}",
            augment_pipeline::imaging::libjpeg_turbo_version()
        );
    }
    Some(ExitCode::SUCCESS)
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
