//! `augment download`: the results in the bucket (or the data folder) into a
//! local folder, in the bucket's layout, incremental and resumable.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use augment_client::download::DOWNLOAD_JOBS;
use augment_client::{Area, DownloadEvent, DownloadRequest, Remote};
use indicatif::HumanBytes;

use crate::remote::{self, RemoteArgs};

/// Where `augment download` writes without DEST: the original guide's folder.
const DEFAULT_DEST: &str = "downloaded-results";

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  augment download\n  augment download results --only augmented-images\n  augment download cats --prefix cats/ --originals --failed\n  augment download out --endpoint-url http://localhost:9000 --bucket test"
)]
pub struct Args {
    /// The folder to write into (made if missing); a second run fetches only
    /// what is new or changed.
    #[arg(value_name = "DEST", default_value = DEFAULT_DEST)]
    dest: PathBuf,
    /// Only these parts of the bucket (comma-separated): processed,
    /// augmented-images, original-uploads, failed [default: processed,augmented-images].
    #[arg(long, value_name = "AREAS", value_delimiter = ',', value_parser = parse_area)]
    only: Vec<Area>,
    /// Also the originals (original-uploads/).
    #[arg(long)]
    originals: bool,
    /// Also the failed records (failed/): why uploads were rejected.
    #[arg(long)]
    failed: bool,
    /// Only images whose name starts with this (e.g. a class folder, `cats/`).
    #[arg(long, value_name = "NAME", default_value = "")]
    prefix: String,
    /// Files fetched at once. Without it the number adapts to the link, as
    /// uploads do: 16 to start, one more after each round without a retry,
    /// half on a throttle or a retried fault, at most 64.
    #[arg(long, short, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    /// No progress bar and no summary line; failures are still reported.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

fn parse_area(name: &str) -> Result<Area, String> {
    Area::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Area::ALL.iter().map(|area| area.name()).collect();
        format!("not a part of the bucket; one of {}", names.join(", "))
    })
}

pub fn run(args: &Args) -> ExitCode {
    let mut areas = if args.only.is_empty() {
        Area::RESULTS.to_vec()
    } else {
        args.only.clone()
    };
    areas.extend(args.originals.then_some(Area::Originals));
    areas.extend(args.failed.then_some(Area::Failed));
    areas.sort_unstable();
    areas.dedup();
    let request = DownloadRequest {
        dest: args.dest.clone(),
        areas,
        name_prefix: args.prefix.clone(),
        name_filter: augment_client::NameFilter::default(),
        jobs: args.jobs.map(usize::from).or(DOWNLOAD_JOBS),
    };
    // The check beside the download: its first listing need not wait a round
    // trip, and a file lands whole or not at all if the check stops it.
    remote::run_checked_alongside(&args.remote, |remote| download(remote, request, args.quiet))
}

async fn download(remote: Remote, request: DownloadRequest, quiet: bool) -> ExitCode {
    let bar = remote::progress_bar(
        quiet,
        "{spinner} [{bar:30}] {pos}/{len} files  {per_sec}  ETA {eta}  {wide_msg}",
        Some(0),
    );
    let started = Instant::now();
    let mut fetched_bytes = 0;
    let result = remote
        .download(&request, |event| match event {
            DownloadEvent::Listed { objects, .. } => bar.inc_length(*objects),
            DownloadEvent::Fetched { bytes, .. } => {
                fetched_bytes += bytes;
                bar.set_message(format!("{} fetched", HumanBytes(fetched_bytes)));
                bar.inc(1);
            }
            DownloadEvent::UpToDate { .. } | DownloadEvent::Gone { .. } => bar.inc(1),
            DownloadEvent::Failed { key, error } => {
                bar.inc(1);
                bar.suspend(|| eprintln!("failed: {key}: {}", remote::words(error)));
            }
        })
        .await;
    remote::finish(&bar, result, quiet, started, &request.dest, |summary| {
        summary.failed > 0
    })
}
