//! The dataset room's state: the dialog's draft, the job running, the report
//! of the last one; and the job as the worker runs and saves it.

use std::path::PathBuf;
use std::time::Instant;

use augment_client::DownloadSummary;
use augment_client::dataset::{ExportSummary, Format, SplitSpec};
use serde::{Deserialize, Serialize};

use crate::command::DatasetEvent;
use crate::format::error_words;

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

/// The dialog being filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub kind: JobKind,
    pub folder: String,
    pub filter: String,
    pub everything: bool,
    pub export: ExportChoices,
    /// What is wrong with it, said under the buttons.
    pub problem: Option<String>,
    /// The folder field takes the keyboard's focus on the next frame (the
    /// dialog just opened: typing goes straight into it).
    pub focus_folder: bool,
}

impl Draft {
    /// The job this draft asks for, or what is wrong with it.
    pub fn job(&self) -> Result<DatasetJob, String> {
        let folder = self.folder.trim();
        if folder.is_empty() {
            return Err("Choose a folder to write into.".to_owned());
        }
        if self.kind == JobKind::Export {
            self.export
                .splits
                .parse::<SplitSpec>()
                .map_err(|why| format!("Splits: {why}."))?;
        }
        Ok(DatasetJob {
            kind: self.kind,
            dest: PathBuf::from(folder),
            filter: self.filter.trim().to_owned(),
            everything: self.everything,
            export: self.export.clone(),
        })
    }
}

/// A job on its way.
#[derive(Debug, Clone)]
pub struct Running {
    pub job: DatasetJob,
    /// Images (export) or files (download) through so far, of `total` once known.
    pub done: u64,
    pub total: Option<u64>,
    pub failed: u64,
    pub started: Instant,
    /// Cancel was pressed; the worker has not answered yet.
    pub cancelling: bool,
}

/// How the last job ended, until dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub kind: JobKind,
    pub dest: PathBuf,
    /// What happened, in a sentence or two.
    pub text: String,
    /// It failed or was cancelled (said in the error colour).
    pub failed: bool,
}

/// The room.
#[derive(Debug, Default)]
pub struct Dataset {
    pub draft: Option<Draft>,
    pub running: Option<Running>,
    pub report: Option<Report>,
    /// The last export's choices, offered again.
    remembered: Option<(String, ExportChoices)>,
}

impl Dataset {
    /// Opens the dialog for `kind`, the gallery's filter narrowing it.
    pub fn open(&mut self, kind: JobKind, filter: &str) {
        let (folder, export) = self.remembered.clone().unwrap_or_default();
        self.draft = Some(Draft {
            kind,
            folder,
            filter: filter.trim().to_owned(),
            everything: false,
            export,
            problem: None,
            focus_folder: true,
        });
    }

    /// The draft's job, remembered and the dialog closed; or the draft keeps
    /// its problem.
    pub fn start(&mut self) -> Option<DatasetJob> {
        let draft = self.draft.as_mut()?;
        match draft.job() {
            Ok(job) => {
                self.remembered = Some((draft.folder.clone(), draft.export.clone()));
                self.draft = None;
                Some(job)
            }
            Err(problem) => {
                draft.problem = Some(problem);
                None
            }
        }
    }

    /// The worker's news.
    pub fn apply(&mut self, event: DatasetEvent) {
        match event {
            DatasetEvent::FolderChosen(folder) => {
                if let Some(draft) = &mut self.draft {
                    draft.folder = folder.display().to_string();
                    draft.problem = None;
                }
            }
            DatasetEvent::NoFolderDialog(why) => {
                if let Some(draft) = &mut self.draft {
                    draft.problem = Some(why);
                }
            }
            DatasetEvent::Started(job) => {
                self.report = None;
                self.running = Some(Running {
                    job,
                    done: 0,
                    total: None,
                    failed: 0,
                    started: Instant::now(),
                    cancelling: false,
                });
            }
            DatasetEvent::Progress {
                done,
                total,
                failed,
            } => {
                if let Some(running) = &mut self.running {
                    (running.done, running.total, running.failed) = (done, total, failed);
                }
            }
            DatasetEvent::Downloaded(result) => {
                self.end(
                    result
                        .map(|s| downloaded_text(&s))
                        .map_err(|err| error_words(&err)),
                );
            }
            DatasetEvent::Exported(result) => {
                self.end(
                    result
                        .map(|s| exported_text(&s))
                        .map_err(|err| error_words(&err)),
                );
            }
            DatasetEvent::Cancelled => self.end(Err("Cancelled".to_owned())),
        }
    }

    fn end(&mut self, outcome: Result<String, String>) {
        let Some(running) = self.running.take() else {
            return;
        };
        let where_to = running.job.dest.display().to_string();
        let (text, failed) = match outcome {
            Ok(text) => (format!("{text} · in {where_to}"), false),
            Err(why) if running.job.kind == JobKind::Export => (
                format!(
                    "{why}: the export in {where_to} is unfinished; export again into it with the same choices to continue."
                ),
                true,
            ),
            Err(why) => (
                format!("{why}: {where_to} has what was fetched; download again to continue."),
                true,
            ),
        };
        self.report = Some(Report {
            kind: running.job.kind,
            dest: running.job.dest,
            text,
            failed,
        });
    }
}

/// "Downloaded: 480 fetched (2.1 MiB), 20 up to date".
pub fn downloaded_text(summary: &DownloadSummary) -> String {
    format!("Downloaded: {summary}")
}

/// "Exported 120 images (train 96, val 12, test 12), 408 files".
pub fn exported_text(summary: &ExportSummary) -> String {
    format!("Exported {summary}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_needs_a_folder_and_splits_that_add_up() {
        let mut room = Dataset::default();
        room.open(JobKind::Export, " cat ");
        assert_eq!(room.start(), None);
        let draft = room.draft.as_mut().unwrap();
        assert_eq!(
            draft.problem.as_deref(),
            Some("Choose a folder to write into.")
        );
        draft.folder = "/tmp/out".to_owned();
        draft.export.splits = "train=0.8,val=0.1".to_owned();
        assert_eq!(room.start(), None);
        let draft = room.draft.as_mut().unwrap();
        assert!(draft.problem.as_ref().unwrap().contains("add up to"));
        draft.export.splits = "train=0.9,val=0.1".to_owned();
        let job = room.start().unwrap();
        assert_eq!(
            (job.filter.as_str(), job.dest.to_str()),
            ("cat", Some("/tmp/out"))
        );
        assert!(room.draft.is_none());
        // The next dialog offers the same folder and choices.
        room.open(JobKind::Export, "");
        assert_eq!(
            room.draft.as_ref().unwrap().export.splits,
            "train=0.9,val=0.1"
        );
    }

    #[test]
    fn the_end_of_a_job_is_a_report_that_says_where() {
        let mut room = Dataset::default();
        let job = DatasetJob {
            kind: JobKind::Export,
            dest: PathBuf::from("/data/set"),
            filter: String::new(),
            everything: false,
            export: ExportChoices::default(),
        };
        room.apply(DatasetEvent::Started(job));
        room.apply(DatasetEvent::Progress {
            done: 3,
            total: Some(10),
            failed: 0,
        });
        assert_eq!(room.running.as_ref().unwrap().total, Some(10));
        room.apply(DatasetEvent::Cancelled);
        let report = room.report.as_ref().unwrap();
        assert!(
            report.failed && report.text.contains("unfinished"),
            "{report:?}"
        );
        assert!(room.running.is_none());
    }
}
