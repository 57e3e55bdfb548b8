//! `augment logs`: both functions' log lines in time order, readable.

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use augment_client::ops::{LogFilter, Operator, parse_since};

use crate::exit;
use crate::remote::{RemoteArgs, failed};
use crate::status::{prepare, print_denied};

/// How often `--follow` asks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_secs(2);
/// How far back `--follow` looks again each time: CloudWatch Logs may take a
/// few seconds to make a line searchable.
const FOLLOW_OVERLAP: Duration = Duration::from_secs(30);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep printing new lines until interrupted (Ctrl+C).
    #[arg(long, short)]
    pub follow: bool,
    /// How far back to start (e.g. 90s, 15m, 1h, 2d).
    #[arg(long, value_name = "AGE", default_value = "1h", value_parser = parse_since)]
    pub since: Duration,
    /// Only lines about this key (an upload's, or an output's for the worker).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Only lines with this outcome (processed, rejected, skipped, rotated, failed…).
    #[arg(long, value_name = "OUTCOME")]
    pub outcome: Option<String>,
    /// One JSON object a line (for scripts).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub bucket: RemoteArgs,
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub fn run(args: &Args) -> ExitCode {
    let (settings, runtime) = match prepare(&args.bucket) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    runtime.block_on(async {
        let operator = match Operator::connect(&settings).await {
            Ok(Some(operator)) => operator,
            Ok(None) => {
                eprintln!("error: local mode has no function logs: the pipeline runs inside augment itself (use --verbose)");
                return exit::usage();
            }
            Err(err) => return failed(&err),
        };
        follow(&operator, args).await
    })
}

async fn follow(operator: &Operator, args: &Args) -> ExitCode {
    let filter = LogFilter {
        key: args.key.clone(),
        outcome: args.outcome.clone(),
    };
    let mut start = millis(
        SystemTime::now()
            .checked_sub(args.since)
            .unwrap_or(UNIX_EPOCH),
    );
    let mut shown: HashSet<String> = HashSet::new();
    loop {
        let (lines, denied) = match operator.log_lines(start, &filter).await {
            Ok(found) => found,
            Err(err) => return failed(&err),
        };
        for line in lines.iter().filter(|l| shown.insert(l.event_id.clone())) {
            if args.json {
                println!("{}", serde_json::to_string(line).unwrap_or_default());
            } else {
                println!("{line}");
            }
        }
        print_denied(&denied);
        if !args.follow {
            return if denied.is_empty() {
                ExitCode::SUCCESS
            } else {
                exit::some_failed()
            };
        }
        // Ask again from a little before the newest line; ids already shown are
        // skipped, and forgotten once they fall before the window.
        let newest = lines.last().map_or(start, |l| l.time_ms);
        start = start.max(newest - i64::try_from(FOLLOW_OVERLAP.as_millis()).unwrap_or(0));
        if shown.len() > 100_000 {
            shown.clear();
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}
