//! `augment status`: the pipeline at a glance, from the bucket (every mode) and
//! the queues (AWS and custom mode, where the settings name them).

use std::process::ExitCode;
use std::time::Duration;

use augment_client::ops::{
    DESIGN_EXPECTED_SECS, Denied, Operator, PipelineStatus, StatusOptions, parse_since, thousands,
};
use augment_client::{Remote, Settings};

use crate::exit;
use crate::remote::{self, RemoteArgs, failed};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// An upload older than this with neither all its outputs nor a record is
    /// stuck (e.g. 90s, 15m, 1h).
    #[arg(long, value_name = "AGE", default_value = "15m", value_parser = parse_since)]
    pub stuck_after: Duration,
    /// Measure upload → fourth rotation over the last N complete uploads.
    #[arg(long, value_name = "N", default_value_t = augment_client::ops::DEFAULT_TIMING_UPLOADS)]
    pub last: usize,
    /// Print one JSON object (for scripts) instead of the report.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub bucket: RemoteArgs,
}

/// The backend and, in AWS and custom mode, the operator's clients; or the exit
/// code after saying why not.
pub async fn backend(settings: &Settings) -> Result<(Remote, Option<Operator>), ExitCode> {
    let remote = Remote::connect_to_look(settings)
        .await
        .map_err(|err| failed(&err))?;
    remote.check().await.map_err(|err| failed(&err))?;
    let operator = Operator::connect(settings)
        .await
        .map_err(|err| failed(&err))?;
    Ok((remote, operator))
}

/// The settings with the flags on top and a runtime to run the command on.
pub fn prepare(flags: &RemoteArgs) -> Result<(Settings, tokio::runtime::Runtime), ExitCode> {
    Ok((flags.settings()?, remote::runtime()?))
}

/// `body` on the backend the flags name (and the operator's clients), on a
/// runtime of its own; each step that cannot work says why.
pub fn on_backend<T>(
    flags: &RemoteArgs,
    body: impl AsyncFnOnce(Remote, Option<Operator>) -> Result<T, ExitCode>,
) -> Result<T, ExitCode> {
    let (settings, runtime) = prepare(flags)?;
    runtime.block_on(async {
        let (remote, operator) = backend(&settings).await?;
        body(remote, operator).await
    })
}

pub fn run(args: &Args) -> ExitCode {
    let options = StatusOptions {
        stuck_after: args.stuck_after,
        timing_uploads: args.last,
        ..StatusOptions::default()
    };
    let status = on_backend(&args.bucket, async |remote, operator| {
        let status = remote.status(operator.as_ref(), options).await;
        status
            .map(|s| (remote.describe(), s))
            .map_err(|err| failed(&err))
    });
    let (place, status) = match status {
        Ok(found) => found,
        Err(code) => return code,
    };
    if args.json {
        match serde_json::to_string_pretty(&status) {
            Ok(json) => println!("{json}"),
            Err(err) => {
                eprintln!("error: cannot write the status as JSON: {err}");
                return exit::usage();
            }
        }
    } else {
        print(&place, &status, args);
    }
    if status.is_healthy() {
        ExitCode::SUCCESS
    } else {
        exit::some_failed()
    }
}

fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "? (not allowed to list)".to_owned(), thousands)
}

fn print(place: &str, status: &PipelineStatus, args: &Args) {
    let stages = &status.stages;
    println!("Pipeline: {place}");
    println!("  uploads     {}", count(stages.uploads));
    println!("  processed   {}", count(stages.processed));
    println!("  complete    {}", count(stages.complete));
    println!("  rejected    {}", count(stages.rejected));
    println!(
        "  stuck       {}  (older than {} s with neither all outputs nor a record)",
        count(stages.stuck),
        args.stuck_after.as_secs()
    );
    for stuck in &status.stuck {
        println!(
            "    {}  {} s old, missing: {}",
            stuck.key,
            stuck.age_secs,
            stuck.missing.join(", ")
        );
    }
    if !status.queues.is_empty() {
        println!("Queues:");
    }
    for queue in &status.queues {
        println!(
            "  {:<19} {} waiting, {} in flight",
            queue.role.label(),
            thousands(queue.waiting),
            thousands(queue.in_flight)
        );
    }
    let (low, high) = DESIGN_EXPECTED_SECS;
    match &status.timing {
        Some(t) => println!(
            "Upload to fourth rotation (last {} complete): median {:.2} s, p95 {:.2} s (the original design expects {low}–{high} s)",
            t.uploads,
            t.median_ms as f64 / 1000.0,
            t.p95_ms as f64 / 1000.0
        ),
        None => println!("Upload to fourth rotation: no complete upload to measure yet"),
    }
    print_denied(&status.denied);
}

/// What the credentials could not see or do, and the statement that allows it.
pub fn print_denied(denied: &[Denied]) {
    if denied.is_empty() {
        return;
    }
    println!(
        "Not allowed with these credentials (add to their policy, or attach the stack's operator_policy_json):"
    );
    for note in denied {
        println!("  {}: {}", note.what, note.statement);
    }
}
