//! `augment export`: a training-ready dataset straight from the bucket or the
//! data folder.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use augment_client::dataset::{DEFAULT_SHARD_BYTES, ExportEvent, ExportRequest, Format, SplitSpec};
use augment_client::{NameFilter, Remote};

use crate::remote::{self, RemoteArgs};

/// Uploads read at once by default (each is a few small requests).
const DEFAULT_EXPORT_JOBS: u16 = 8;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum FormatArg {
    /// `<split>/<label>/<name>_<angle>.jpg` and a metadata.jsonl per split
    /// (torchvision image folders, Hugging Face imagefolder).
    Imagefolder,
    /// Tar shards per split, a sample per output: .jpg, .cls, .json.
    Webdataset,
    /// manifest.csv and manifest.jsonl only, pointing into the bucket.
    Manifest,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  augment export dataset --format imagefolder\n  augment export shards --format webdataset --shard-size 512MiB --seed 7\n  augment export rows --format manifest --split train=0.9,test=0.1 --all-angles"
)]
pub struct Args {
    /// A new or empty folder.
    #[arg(value_name = "DEST")]
    dest: PathBuf,
    #[arg(long, value_enum)]
    format: FormatArg,
    /// Splits and their fractions. Every upload, its outputs and every upload
    /// with the same bytes land in one split (grouped by the source's SHA-256).
    #[arg(
        long,
        value_name = "SPEC",
        default_value = "train=0.8,val=0.1,test=0.1"
    )]
    split: SplitSpec,
    /// The same seed gives the same splits.
    #[arg(long, value_name = "N", default_value_t = 0)]
    seed: u64,
    /// Every split gets every angle (by default only train gets the rotations;
    /// the other splits the upright, 360, image alone).
    #[arg(long)]
    all_angles: bool,
    /// How many folders under original-uploads/ make the label (0: no labels).
    #[arg(long, value_name = "N", default_value_t = 1)]
    label_depth: usize,
    /// For webdataset: the largest shard (bytes, or with KiB, MiB, GiB).
    #[arg(long, value_name = "SIZE", default_value_t = DEFAULT_SHARD_BYTES, value_parser = parse_size)]
    shard_size: u64,
    /// Only images whose name starts with this (e.g. a class folder, `cats/`).
    #[arg(long, value_name = "NAME", default_value = "")]
    prefix: String,
    /// Uploads read at once.
    #[arg(long, short, value_name = "N", default_value_t = DEFAULT_EXPORT_JOBS, value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: u16,
    /// No progress bar and no summary line; uploads left out are still reported.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    remote: RemoteArgs,
}

/// `1048576`, `512KiB`, `128MiB`, `2GiB` (also `K`, `M`, `G`, all powers of 1,024).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = augment_client::ops::number_and_unit(text)
        .ok_or_else(|| format!("not a size: {text:?}"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return Err(format!("not a size: {text:?} (use KiB, MiB or GiB)")),
    };
    number
        .checked_mul(1 << shift)
        .filter(|bytes| *bytes > 0)
        .ok_or_else(|| format!("not a size: {text:?}"))
}

pub fn run(args: &Args) -> ExitCode {
    let request = ExportRequest {
        dest: args.dest.clone(),
        format: match args.format {
            FormatArg::Imagefolder => Format::ImageFolder,
            FormatArg::Webdataset => Format::WebDataset,
            FormatArg::Manifest => Format::Manifest,
        },
        splits: args.split.clone(),
        seed: args.seed,
        all_angles: args.all_angles,
        label_depth: args.label_depth,
        shard_bytes: args.shard_size,
        name_prefix: args.prefix.clone(),
        name_filter: NameFilter::default(),
        jobs: usize::from(args.jobs),
    };
    remote::run_connected(&args.remote, |remote| export(remote, request, args.quiet))
}

/// The export's progress: images done of those listed, the name last read.
const BAR_TEMPLATE: &str =
    "{spinner} [{bar:30}] {pos}/{len} images  {per_sec}  ETA {eta}  {wide_msg}";

async fn export(remote: Remote, request: ExportRequest, quiet: bool) -> ExitCode {
    let started = Instant::now();
    let bar = remote::progress_bar(quiet, BAR_TEMPLATE, Some(0));
    let result = remote
        .export(&request, |event| {
            if let ExportEvent::Listed { uploads } = event {
                bar.set_length(*uploads);
                return;
            }
            bar.inc(1);
            match event {
                ExportEvent::Listed { .. } => {}
                ExportEvent::Exported { name, .. } => bar.set_message(name.clone()),
                ExportEvent::Incomplete { name, missing } => bar.suspend(|| {
                    eprintln!(
                        "left out: {name}: its outputs are not all there yet (missing {})",
                        missing.join(", ")
                    );
                }),
                ExportEvent::Failed { name, error } => {
                    bar.suspend(|| eprintln!("failed: {name}: {}", remote::words(error)));
                }
            }
        })
        .await;
    remote::finish(&bar, result, quiet, started, &request.dest, |summary| {
        summary.incomplete + summary.failed > 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("512KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("128MiB"), Ok(128 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        for bad in ["", "0", "MiB", "1.5GiB", "12 parsecs", "99999999999999GiB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
