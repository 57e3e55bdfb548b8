//! `augment process`: files through the local pipeline into a folder laid out
//! like the bucket.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use augment_client::batch::{self, FileResult, Summary};
use augment_client::inputs::{self, Input};

use crate::{exit, remote};

#[derive(Debug, clap::Args)]
pub struct Args {
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
}

pub fn run(args: &Args) -> ExitCode {
    let inputs = match inputs::collect(&args.paths, Some(&args.out)) {
        Ok(inputs) => inputs,
        Err(err) => {
            eprintln!("error: {err}");
            return exit::usage();
        }
    };
    let jobs = args.jobs.map_or_else(
        || std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        usize::from,
    );
    let bar = remote::progress_bar(
        args.quiet,
        "{spinner} [{bar:30}] {pos}/{len} images  {elapsed}  {wide_msg}",
        Some(inputs.len() as u64),
    );
    let started = Instant::now();
    let summary = batch::run(&inputs, &args.out, jobs, |input, result| {
        bar.inc(1);
        bar.set_message(input.path.display().to_string());
        if let Some(line) = said(input, result) {
            bar.suspend(|| eprintln!("{line}"));
        }
    });
    bar.finish_and_clear();
    let summary = match summary {
        Ok(summary) => summary,
        Err(err) => {
            eprintln!("error: could not start the pipeline: {err}");
            return exit::some_failed();
        }
    };
    if !args.quiet {
        println!(
            "{} in {:.1} s → {}",
            totals(&summary),
            started.elapsed().as_secs_f64(),
            args.out.display()
        );
    }
    if summary.all_done() {
        ExitCode::SUCCESS
    } else {
        exit::some_failed()
    }
}

/// The line said for a file that did not end well.
fn said(input: &Input, result: &FileResult) -> Option<String> {
    let path = input.path.display();
    match result {
        FileResult::Done => None,
        FileResult::Rejected(rejection) => Some(format!(
            "rejected {}: {path}: {}",
            rejection.code, rejection.message
        )),
        FileResult::Failed(message) => Some(format!("failed: {path}: {message}")),
    }
}

/// "3 done, 1 rejected, 2 failed".
fn totals(summary: &Summary) -> String {
    let mut line = format!("{} done, {} rejected", summary.done, summary.rejected);
    if summary.failed > 0 {
        line.push_str(&format!(", {} failed", summary.failed));
    }
    line
}
