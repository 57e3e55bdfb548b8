//! `augment redrive`: failed and stuck work back into the pipeline.

use std::process::ExitCode;
use std::time::Duration;

use augment_client::ops::{StatusOptions, parse_since};

use crate::exit;
use crate::remote::{RemoteArgs, failed};
use crate::status::{on_backend, print_denied};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only count what would be re-driven; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Uploads older than this with neither all outputs nor a record are
    /// re-triggered (e.g. 90s, 15m, 1h).
    #[arg(long, value_name = "AGE", default_value = "15m", value_parser = parse_since)]
    pub stuck_after: Duration,
    /// Print one JSON object (for scripts) instead of the sentence.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub bucket: RemoteArgs,
}

pub fn run(args: &Args) -> ExitCode {
    let options = StatusOptions {
        stuck_after: args.stuck_after,
        ..StatusOptions::default()
    };
    let report = on_backend(&args.bucket, async |remote, operator| {
        let Some(operator) = operator else {
            eprintln!(
                "error: local mode re-drives by itself: every start of augment or the app finishes what a stopped run left"
            );
            return Err(exit::usage());
        };
        remote
            .redrive(&operator, options, args.dry_run)
            .await
            .map_err(|err| failed(&err))
    });
    let report = match report {
        Ok(report) => report,
        Err(code) => return code,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
    } else {
        let verb = if report.dry_run {
            "would re-drive"
        } else {
            "re-drove"
        };
        let how = if report.move_task {
            " (by SQS's message move task)"
        } else {
            ""
        };
        println!(
            "redrive: {verb} {} dead-lettered rotation tasks{how}, {} failed S3 events, {} stuck uploads",
            report.dead_letters, report.failed_events, report.stuck
        );
        if report.left_without_event > 0 {
            println!(
                "redrive: {} failure records hold no S3 event; left in their queue",
                report.left_without_event
            );
        }
        print_denied(&report.denied);
    }
    if report.denied.is_empty() {
        ExitCode::SUCCESS
    } else {
        exit::some_failed()
    }
}
