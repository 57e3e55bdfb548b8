//! The dataset room's state: the dialog's draft, the job running, the report
//! of the last one.

use std::path::PathBuf;
use std::time::Instant;

use augment_client::DownloadSummary;
use augment_client::dataset::{ExportSummary, SplitSpec};

use crate::command::DatasetEvent;
use crate::dataset_job::{DatasetJob, ExportChoices, JobKind};
use crate::format::error_words;

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
