//! A row's state and how it reads; the queue's own state beside the rows.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use augment_client::Mode;
use augment_pipeline::{Landed, Output, UploadKey};
use egui::TextureHandle;

use super::clock::BatchClock;
use super::outcome::FailureCode;
use crate::command::{BatchId, TransferId};
use crate::format::{format_rate, percent};
use crate::worker::WATCH_TIMEOUT;

/// Rate is shown once this much of the upload has been seen: before that the
/// estimate jumps about.
pub(super) const RATE_WARMUP: Duration = Duration::from_millis(300);

/// Where one file is.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Reading the file: size, type by content.
    Checking,
    /// Passed the checks, waiting for an upload slot (or the connection).
    Queued,
    /// The same bytes are already uploaded or queued (`existing` says where):
    /// waiting for Skip or Keep both.
    Duplicate {
        existing: String,
    },
    Uploading {
        sent_bytes: u64,
        total_bytes: u64,
        started: Instant,
    },
    /// Uploaded; waiting for the pipeline's rotations.
    Processing,
    Done,
    /// Not uploaded, or not processed: `reason` in words, `code` for the report
    /// (`too_large`, `timed_out`, `offline`…). `retry` when trying again can help.
    Failed {
        reason: String,
        code: FailureCode,
        retry: bool,
    },
    /// Not uploaded: a duplicate, and the person said to skip those.
    Skipped {
        existing: String,
    },
    Cancelled,
    /// Done, then deleted from the bucket (here or from the gallery).
    Deleted,
}

impl State {
    /// Still moving: can be cancelled, and holds the screenshot back.
    pub fn is_active(&self) -> bool {
        matches!(
            self,
            Self::Checking
                | Self::Queued
                | Self::Duplicate { .. }
                | Self::Uploading { .. }
                | Self::Processing
        )
    }

    pub fn is_failed(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }

    /// Trying again can help (a transient failure, a cancelled row).
    pub fn can_retry(&self) -> bool {
        matches!(self, Self::Failed { retry: true, .. } | Self::Cancelled)
    }

    /// The state's one word in the report.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Checking => "checking",
            Self::Queued => "queued",
            Self::Duplicate { .. } => "duplicate",
            Self::Uploading { .. } => "uploading",
            Self::Processing => "processing",
            Self::Done => "done",
            Self::Failed { .. } => "failed",
            Self::Skipped { .. } => "skipped",
            Self::Cancelled => "cancelled",
            Self::Deleted => "deleted",
        }
    }

    /// What the status line says.
    pub fn describe(&self) -> String {
        match self {
            Self::Checking => "Checking…".to_owned(),
            Self::Queued => "Queued".to_owned(),
            Self::Duplicate { existing } => format!("Duplicate, {existing}: skip or keep both?"),
            Self::Uploading {
                sent_bytes,
                total_bytes,
                started,
            } => {
                if sent_bytes >= total_bytes {
                    // Sent; the store is writing it. No rate or time left here.
                    return "Uploaded, finishing…".to_owned();
                }
                let mut text = format!("Uploading {} %", percent(*sent_bytes, *total_bytes));
                let elapsed = started.elapsed();
                if elapsed >= RATE_WARMUP && *sent_bytes > 0 {
                    let rate = *sent_bytes as f64 / elapsed.as_secs_f64();
                    text.push_str(&format!(" · {}", format_rate(rate)));
                }
                text
            }
            Self::Processing => "Processing…".to_owned(),
            Self::Done => "Done".to_owned(),
            Self::Failed { reason, .. } => reason.clone(),
            Self::Skipped { existing } => format!("Skipped: {existing}"),
            Self::Cancelled => "Cancelled".to_owned(),
            Self::Deleted => "Deleted from the bucket".to_owned(),
        }
    }
}

/// One file in the queue.
pub struct Transfer {
    pub id: TransferId,
    /// The run it belongs to ([`QueueView::run`]): the summary counts one run.
    pub run: u64,
    /// The drop (or dialog, or command line) it came with.
    pub batch: BatchId,
    /// The upload name (`trip/beach.jpg`).
    pub name: String,
    pub path: PathBuf,
    pub size_bytes: Option<u64>,
    pub thumb: Option<TextureHandle>,
    pub state: State,
    /// `original-uploads/…`, once uploaded (kept after it is done).
    pub upload_key: Option<String>,
    /// What of the upload's outputs has landed (the outputs model says when
    /// that is all of them).
    pub landed: Landed,
    /// The keys of the outputs that have landed; their textures live in the
    /// gallery's bounded cache, loaded when shown.
    pub outputs: BTreeMap<Output, String>,
}

impl Transfer {
    /// A row just added: being checked, in `run`.
    pub fn new(
        id: TransferId,
        run: u64,
        batch: BatchId,
        name: String,
        path: PathBuf,
        size_bytes: Option<u64>,
    ) -> Self {
        Self {
            id,
            run,
            batch,
            name,
            path,
            size_bytes,
            thumb: None,
            state: State::Checking,
            upload_key: None,
            landed: Landed::default(),
            outputs: BTreeMap::new(),
        }
    }

    /// The image's name in the bucket contract (`trip/beach`), once uploaded.
    pub fn image_name(&self) -> Option<String> {
        let key = UploadKey::parse(self.upload_key.as_deref()?).ok()?;
        Some(key.name().to_owned())
    }
}

/// Which rows the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Failed,
}

/// The queue's own state beside the rows: the view, the expanded rows, pause,
/// the batch clock and the duplicate questions waiting for an answer.
#[derive(Default)]
pub struct QueueView {
    pub filter: Filter,
    pub expanded: HashSet<TransferId>,
    pub paused: bool,
    pub clock: BatchClock,
    /// Per batch: how many files are duplicates, and the first one's words.
    pub questions: BTreeMap<BatchId, (usize, String)>,
    /// Batches whose question is answered: a duplicate found while the answer
    /// was on its way does not ask again.
    pub answered: HashSet<BatchId>,
    /// The run the summary counts: rows added while the queue was idle start
    /// the next one, and so does *Clear finished*.
    pub run: u64,
    /// What the last *Clear finished* removed, in words, until the next run.
    pub cleared: Option<String>,
}

impl QueueView {
    /// The run a row added now belongs to: the next one when nothing in the
    /// list is still moving.
    pub fn run_for_new_row(&mut self, transfers: &[Transfer]) -> u64 {
        if !transfers.iter().any(|t| t.state.is_active()) {
            self.run += 1;
            self.cleared = None;
        }
        self.run
    }

    /// *Clear finished*: removes the finished rows that did not fail, says how
    /// many, and starts a new run (what is kept belongs to the old one).
    pub fn clear_finished(&mut self, transfers: &mut Vec<Transfer>) {
        let before = transfers.len();
        transfers.retain(|t| !clears(&t.state));
        let removed = before - transfers.len();
        let kept = transfers.iter().filter(|t| t.state.is_failed()).count();
        let rows = |n: usize| if n == 1 { "row" } else { "rows" };
        let mut text = format!("Cleared {removed} finished {}", rows(removed));
        if kept > 0 {
            text.push_str(&format!("; kept {kept} {} that failed", rows(kept)));
        }
        // Rows still moving carry on in the new run; the kept failures stay
        // in the old one.
        self.run += 1;
        for transfer in transfers.iter_mut().filter(|t| t.state.is_active()) {
            transfer.run = self.run;
        }
        self.cleared = Some(text);
    }
    /// A row of `batch` waits for the duplicate question.
    pub fn ask(&mut self, batch: BatchId, name: &str, existing: &str) {
        if self.answered.contains(&batch) {
            return;
        }
        let question = self
            .questions
            .entry(batch)
            .or_insert_with(|| (0, format!("{name} is {existing}.")));
        question.0 += 1;
    }
}

/// The message when the pipeline did not answer in time: what to check, in
/// the words of the mode in use (no build commands; CloudWatch only on AWS).
pub fn timeout_message(mode: Mode) -> String {
    let secs = WATCH_TIMEOUT.as_secs();
    let advice = match mode {
        Mode::Local => {
            "The local pipeline may have stopped: restart the app, then Retry (it keeps watching the same upload)."
        }
        Mode::Aws => {
            "Retry keeps watching the same upload. If it still does not come, check in the AWS console that the bucket's upload trigger and the two Lambdas are deployed, and look at the Lambdas' CloudWatch logs."
        }
        Mode::Custom => {
            "Retry keeps watching the same upload. This endpoint must run the processing pipeline on each upload (an S3 event or webhook to the image processor): ask whoever runs it whether that is set up."
        }
    };
    format!("Uploaded, but no rotations appeared within {secs} s. {advice}")
}

/// "Clear finished" removes these: finished, and not failed.
pub(super) fn clears(state: &State) -> bool {
    !state.is_active() && !state.is_failed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_reads_percent_and_rate_and_never_100_with_time_left() {
        let state = State::Uploading {
            sent_bytes: 2 * 1024 * 1024,
            total_bytes: 8 * 1024 * 1024,
            started: Instant::now() - Duration::from_secs(2),
        };
        let text = state.describe();
        assert!(text.starts_with("Uploading 25 % · "), "{text}");
        assert!(text.ends_with("/s"), "{text}");
        let early = State::Uploading {
            sent_bytes: 10,
            total_bytes: 100,
            started: Instant::now(),
        };
        assert_eq!(early.describe(), "Uploading 10 %");
        let sent = State::Uploading {
            sent_bytes: 100,
            total_bytes: 100,
            started: Instant::now() - Duration::from_secs(2),
        };
        assert_eq!(sent.describe(), "Uploaded, finishing…");
    }

    #[test]
    fn the_timeout_message_fits_the_mode() {
        for mode in [Mode::Local, Mode::Aws, Mode::Custom] {
            let text = timeout_message(mode);
            assert!(!text.contains("cargo"), "{text}");
            assert_eq!(text.contains("CloudWatch"), mode == Mode::Aws, "{text}");
            assert!(text.contains("Retry"), "{text}");
        }
        assert!(timeout_message(Mode::Local).contains("restart the app"));
    }
}
