//! What an export is asked ([`ExportRequest`]) and what it reports, upload by
//! upload ([`ExportEvent`]) and in total ([`ExportSummary`]).

use std::path::PathBuf;

use super::source::Plan;
use super::split::SplitSpec;
use crate::error::ClientError;
use crate::pages::NameFilter;

/// The labels of a labelled export, one a line; a label's index (`WebDataset`'s
/// `.cls`) is its line number from 0, as torchvision numbers sorted classes.
pub const CLASSES_TXT: &str = "classes.txt";

/// Largest `WebDataset` shard by default.
pub const DEFAULT_SHARD_BYTES: u64 = 128 * 1024 * 1024;

/// What an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<split>/<label>/<name>_<angle>.jpg` and a `metadata.jsonl` per split.
    ImageFolder,
    /// Tar shards per split, a sample per output.
    WebDataset,
    /// The manifest alone (CSV and JSONL), pointing into the bucket.
    Manifest,
}

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// A new or empty folder.
    pub dest: PathBuf,
    pub format: Format,
    pub splits: SplitSpec,
    pub seed: u64,
    /// Every split gets every angle (by default only the training split gets the
    /// rotations; the others the upright, 360, image alone).
    pub all_angles: bool,
    /// How many folders make the label (1: the class folder; 0: no labels).
    pub label_depth: usize,
    /// `WebDataset`: the largest shard, in bytes.
    pub shard_bytes: u64,
    /// Only uploads whose name starts with this.
    pub name_prefix: String,
    /// Only the uploads it lets through (the app's gallery filter).
    pub name_filter: NameFilter,
    /// Uploads read at once.
    pub jobs: usize,
}

impl ExportRequest {
    pub(super) fn plan(&self) -> Plan {
        Plan {
            splits: self.splits.clone(),
            seed: self.seed,
            all_angles: self.all_angles,
            label_depth: self.label_depth,
        }
    }
}

/// What became of one upload, and how many there are.
#[derive(Debug, Clone)]
pub enum ExportEvent {
    /// The uploads the export will look at (before the first is read).
    Listed { uploads: u64 },
    Exported {
        name: String,
        split: String,
        /// `None`: no class folder (a flat upload, or no labels asked for).
        label: Option<String>,
        files: usize,
    },
    /// Left out: outputs it needs are missing (these keys).
    Incomplete { name: String, missing: Vec<String> },
    /// Left out: it could not be read.
    Failed { name: String, error: ClientError },
}

/// The totals of an export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub uploads: u64,
    pub files: u64,
    /// Uploads per split.
    pub splits: std::collections::BTreeMap<String, u64>,
    pub incomplete: u64,
    pub failed: u64,
    /// Uploads exported without a class folder (a flat upload in a labelled
    /// export: see the layouts for where they go).
    pub unlabeled: u64,
    /// This run continued an interrupted export…
    pub resumed: bool,
    /// …and kept this many of the files it had written.
    pub kept: u64,
}

impl ExportSummary {
    pub(super) fn count(&mut self, event: &ExportEvent) {
        match event {
            ExportEvent::Exported {
                split,
                files,
                label,
                ..
            } => {
                self.uploads += 1;
                self.unlabeled += u64::from(label.is_none());
                self.files += *files as u64;
                *self.splits.entry(split.clone()).or_default() += 1;
            }
            ExportEvent::Listed { .. } => {}
            ExportEvent::Incomplete { .. } => self.incomplete += 1,
            ExportEvent::Failed { .. } => self.failed += 1,
        }
    }
}

/// "1000 images (test 100, train 807, val 93), 3421 files", and what was left
/// out, had no class folder, or was kept from an interrupted run: what the CLI
/// prints and the app reports.
impl std::fmt::Display for ExportSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let splits: Vec<String> = self
            .splits
            .iter()
            .map(|(split, uploads)| format!("{split} {uploads}"))
            .collect();
        write!(
            f,
            "{} images ({}), {} files",
            self.uploads,
            splits.join(", "),
            self.files
        )?;
        let left_out = self.incomplete + self.failed;
        if left_out > 0 {
            write!(f, ", {left_out} left out (not finished or unreadable)")?;
        }
        if self.unlabeled > 0 && self.unlabeled < self.uploads {
            write!(f, ", {} with no class folder", self.unlabeled)?;
        }
        if self.resumed {
            write!(
                f,
                " (continued an interrupted export: {} files kept)",
                self.kept
            )?;
        }
        Ok(())
    }
}
