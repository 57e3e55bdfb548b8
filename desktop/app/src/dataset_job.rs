//! A dataset job as the worker runs it and keeps it on disk until it ends
//! (`dataset-job.json`): which of the two, where, and an export's choices.
//! Nothing here imports the protocol, which carries it.

use std::path::PathBuf;

use augment_client::dataset::Format;
use serde::{Deserialize, Serialize};

/// Which of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobKind {
    /// The bucket's layout into a folder (*Download all…*).
    Download,
    /// A training-ready dataset (*Export dataset…*).
    Export,
}

impl JobKind {
    /// The dialog's title and the menu's item.
    pub fn title(self) -> &'static str {
        match self {
            Self::Download => "Download all",
            Self::Export => "Export dataset",
        }
    }
}

/// An export's layout, as the dialog offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormatChoice {
    ImageFolder,
    WebDataset,
    Manifest,
}

impl FormatChoice {
    pub const ALL: [Self; 3] = [Self::ImageFolder, Self::WebDataset, Self::Manifest];

    pub fn label(self) -> &'static str {
        match self {
            Self::ImageFolder => "Image folders (torchvision, Hugging Face)",
            Self::WebDataset => "WebDataset tar shards",
            Self::Manifest => "Manifest only (CSV and JSONL)",
        }
    }

    pub fn format(self) -> Format {
        match self {
            Self::ImageFolder => Format::ImageFolder,
            Self::WebDataset => Format::WebDataset,
            Self::Manifest => Format::Manifest,
        }
    }
}

/// The choices that decide an export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportChoices {
    pub format: FormatChoice,
    /// `train=0.8,val=0.1,test=0.1`, as `augment export --split` takes it.
    pub splits: String,
    pub seed: u64,
    /// Folders that make the label: 1 the class folder, 0 none.
    pub label_depth: usize,
    /// Every split gets every angle (by default only training gets rotations).
    pub all_angles: bool,
}

impl Default for ExportChoices {
    fn default() -> Self {
        Self {
            format: FormatChoice::ImageFolder,
            splits: "train=0.8,val=0.1,test=0.1".to_owned(),
            seed: 0,
            label_depth: 1,
            all_angles: false,
        }
    }
}

/// A job as the worker runs it and keeps it on disk until it ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetJob {
    pub kind: JobKind,
    pub dest: PathBuf,
    /// The gallery's filter when it started (empty: every image).
    pub filter: String,
    /// Download: the originals and the rejection records too.
    #[serde(default)]
    pub everything: bool,
    /// Export: its choices.
    #[serde(default)]
    pub export: ExportChoices,
}
