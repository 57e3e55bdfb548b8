//! `augment`: the image augmentation pipeline from the command line.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use augment_desktop::batch::{self, FileResult};
use augment_desktop::inputs;
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

/// Exit code when any input was rejected or failed.
const EXIT_SOME_FAILED: u8 = 1;
/// Exit code for a usage error (clap uses it too).
const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "augment", version, about, long_about = None)]
/// Fit images onto a white 256×256 canvas and make their 90/180/270/360° rotations.
struct Cli {
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Process {
            paths,
            out,
            jobs,
            quiet,
        } => process(&paths, &out, jobs, quiet),
    }
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
