//! The dataset jobs: *Download all…* and *Export dataset…* over the client's
//! `download` and `export`, one at a time, cancellable. The job is kept on
//! disk (`dataset-job.json` beside the saved queue) from its start to its end,
//! so a quit or a crash resumes it at the next start: a download fetches only
//! what it lacks, an export continues (files already written kept).

use std::time::{Duration, Instant};

use augment_client::dataset::{DEFAULT_SHARD_BYTES, ExportEvent, ExportRequest};
use augment_client::download::DOWNLOAD_JOBS;
use augment_client::{Area, DownloadEvent, DownloadRequest, NameFilter, Remote};

use super::core::{Sender, Worker, lock};
use crate::command::{DatasetCommand, DatasetEvent};
use crate::dataset_job::{DatasetJob, JobKind};
use crate::format::fold;

/// Uploads an export reads at once.
const EXPORT_JOBS: usize = 8;

/// Progress events at most this often: a smooth bar without an event per file.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

impl Worker {
    pub(super) fn handle_dataset(&self, command: DatasetCommand) {
        match command {
            DatasetCommand::PickFolder => self.pick_dataset_folder(),
            DatasetCommand::Start(job) => self.start_dataset_job(job),
            DatasetCommand::Cancel => {
                if let Some(task) = lock(&self.dataset.running).take() {
                    task.abort();
                    self.dataset.forget();
                    self.events.send(DatasetEvent::Cancelled);
                }
            }
        }
    }

    /// At start-up: the job a quit left, started again.
    pub(super) fn resume_dataset_job(&self) {
        if let Some(job) = self.dataset.left_over() {
            tracing::info!("resuming the {:?} into {}", job.kind, job.dest.display());
            self.start_dataset_job(job);
        }
    }

    fn pick_dataset_folder(&self) {
        let events = self.events.clone();
        tokio::task::spawn_blocking(move || {
            let chosen = crate::file_dialog::ask(|| {
                rfd::FileDialog::new()
                    .set_title("Choose a folder")
                    .pick_folder()
            });
            match chosen {
                Ok(Some(folder)) => events.send(DatasetEvent::FolderChosen(folder)),
                Ok(None) => {}
                Err(why) => events.send(DatasetEvent::NoFolderDialog(why)),
            }
        });
    }

    fn start_dataset_job(&self, job: DatasetJob) {
        let mut running = lock(&self.dataset.running);
        if running.as_ref().is_some_and(|task| !task.is_finished()) {
            // The menu is off while a job runs; a resumed one got here first.
            return;
        }
        self.dataset.keep(&job);
        self.events.send(DatasetEvent::Started(job.clone()));
        let this = self.clone();
        let task = tokio::spawn(async move {
            let remote = this.connected().await;
            let event = match job.kind {
                JobKind::Download => DatasetEvent::Downloaded(
                    remote
                        .download(&download_request(&job), progress(&this.events))
                        .await,
                ),
                JobKind::Export => {
                    DatasetEvent::Exported(export(&remote, &job, &this.events).await)
                }
            };
            // Ended (well or not): nothing to resume. Cancel took the handle.
            if lock(&this.dataset.running).take().is_some() {
                this.dataset.forget();
                this.events.send(event);
            }
        });
        *running = Some(task.abort_handle());
    }
}

async fn export(
    remote: &Remote,
    job: &DatasetJob,
    events: &Sender,
) -> Result<augment_client::dataset::ExportSummary, augment_client::ClientError> {
    let request = export_request(job)?;
    remote.export(&request, progress(events)).await
}

fn name_filter(text: &str) -> NameFilter {
    if text.is_empty() {
        return NameFilter::default();
    }
    let wanted = fold(text);
    NameFilter::new(text, move |name| fold(name).contains(&wanted))
}

fn download_request(job: &DatasetJob) -> DownloadRequest {
    DownloadRequest {
        dest: job.dest.clone(),
        areas: if job.everything {
            Area::ALL.to_vec()
        } else {
            Area::RESULTS.to_vec()
        },
        name_prefix: String::new(),
        name_filter: name_filter(&job.filter),
        jobs: DOWNLOAD_JOBS,
    }
}

fn export_request(job: &DatasetJob) -> Result<ExportRequest, augment_client::ClientError> {
    let choices = &job.export;
    let splits = choices.splits.parse().map_err(|why| {
        augment_client::ClientError::new(
            augment_client::ErrorKind::InvalidSettings,
            format!("The splits cannot be used: {why}."),
        )
    })?;
    Ok(ExportRequest {
        dest: job.dest.clone(),
        format: choices.format.format(),
        splits,
        seed: choices.seed,
        all_angles: choices.all_angles,
        label_depth: choices.label_depth,
        shard_bytes: DEFAULT_SHARD_BYTES,
        name_prefix: String::new(),
        name_filter: name_filter(&job.filter),
        jobs: EXPORT_JOBS,
    })
}

/// What either job reports, counted the same way.
trait Step {
    /// `(listed, through, failed)` this event adds.
    fn counts(&self) -> (Option<u64>, u64, u64);
}

impl Step for DownloadEvent {
    fn counts(&self) -> (Option<u64>, u64, u64) {
        match self {
            Self::Listed { objects, .. } => (Some(*objects), 0, 0),
            Self::Fetched { .. } | Self::UpToDate { .. } | Self::Gone { .. } => (None, 1, 0),
            Self::Failed { .. } => (None, 1, 1),
        }
    }
}

impl Step for ExportEvent {
    fn counts(&self) -> (Option<u64>, u64, u64) {
        match self {
            Self::Listed { uploads } => (Some(*uploads), 0, 0),
            Self::Exported { .. } => (None, 1, 0),
            Self::Incomplete { .. } | Self::Failed { .. } => (None, 1, 1),
        }
    }
}

/// A job's event callback: counts, sent as progress at most every
/// [`PROGRESS_INTERVAL`] (and when the count is complete).
fn progress<E: Step>(events: &Sender) -> impl FnMut(&E) + use<E> {
    let events = events.clone();
    let (mut total, mut done, mut failed) = (None::<u64>, 0, 0);
    let mut last = Instant::now();
    move |event: &E| {
        let (listed, through, bad) = event.counts();
        if let Some(listed) = listed {
            total = Some(total.unwrap_or(0) + listed);
        }
        done += through;
        failed += bad;
        if last.elapsed() >= PROGRESS_INTERVAL || total == Some(done) {
            last = Instant::now();
            events.send(DatasetEvent::Progress {
                done,
                total,
                failed,
            });
        }
    }
}
