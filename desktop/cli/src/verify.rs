//! `augment verify`: an export, a download or the bucket itself checked: every
//! rotation exact, every hash matching, nothing listed missing.

use std::path::PathBuf;
use std::process::ExitCode;

use augment_client::ClientError;
use augment_client::dataset::{VerifyReport, verify_folder};

use crate::exit;
use crate::remote::{self, RemoteArgs};

/// Images checked at once in the bucket by default.
const DEFAULT_VERIFY_JOBS: u16 = 8;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  augment verify downloaded-results\n  augment verify dataset\n  augment verify --remote\n  augment verify --bucket my-bucket --prefix cats/"
)]
pub struct Args {
    /// A folder made by `augment export` or `augment download`.
    #[arg(value_name = "PATH", required_unless_present_any = ["remote", "local", "bucket", "endpoint_url"])]
    path: Option<PathBuf>,
    /// Check the configured bucket (or data folder) instead of a folder; any
    /// of the bucket flags implies it.
    #[arg(long, conflicts_with = "path")]
    remote: bool,
    /// In the bucket: only images whose name starts with this.
    #[arg(long, value_name = "NAME", default_value = "")]
    prefix: String,
    /// In the bucket: images checked at once.
    #[arg(long, short, value_name = "N", default_value_t = DEFAULT_VERIFY_JOBS, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    #[command(flatten)]
    bucket: RemoteArgs,
}

pub fn run(args: &Args) -> ExitCode {
    let report = match &args.path {
        Some(path) if !args.remote && !args.bucket.any() => verify_folder(path),
        _ => match verify_bucket(args) {
            Ok(report) => report,
            Err(code) => return code,
        },
    };
    match remote::ended(report) {
        Ok(report) => print(&report),
        Err(code) => code,
    }
}

fn verify_bucket(args: &Args) -> Result<Result<VerifyReport, ClientError>, ExitCode> {
    let settings = args.bucket.settings()?;
    remote::runtime()?.block_on(async {
        let remote = remote::connect(&settings).await?;
        Ok(remote
            .verify_bucket(&args.prefix, usize::from(args.jobs))
            .await)
    })
}

fn print(report: &VerifyReport) -> ExitCode {
    for problem in &report.problems {
        println!(
            "{}: {}: {}",
            problem.kind.as_str(),
            problem.file,
            problem.detail
        );
    }
    println!(
        "{} files checked, {} problems",
        report.files,
        report.problems.len()
    );
    if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        exit::some_failed()
    }
}
