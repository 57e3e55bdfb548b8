//! The worker: every disk and network job the app starts runs here, on a tokio
//! runtime off the UI thread. The UI sends [`Command`]s; the worker sends
//! [`Event`]s back and asks for a repaint, so the UI never waits on anything.
//!
//! `core.rs` holds the worker's shared state, `transfer.rs` a row's way from
//! the checks to its upload (with the duplicate question, retry, resume),
//! `upload.rs` the upload and the watch, `jobs.rs` the settings, gallery and
//! desktop jobs, `dataset.rs` downloading everything and exporting a dataset.

mod core;
mod dataset;
mod dataset_jobs;
mod jobs;
mod plans;
mod status;
mod transfer;
mod upload;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

pub use self::core::{MAX_AWAITING_PIPELINE, MAX_PARALLEL_UPLOADS, WATCH_TIMEOUT};
use self::core::{Sender, Worker};
pub use self::dataset_jobs::DATASET_JOB_FILE;
use crate::command::{Command, Event};

/// The UI's end: send commands, drain events.
pub struct WorkerHandle {
    pub(super) commands: tokio::sync::mpsc::UnboundedSender<Command>,
    pub(super) events: mpsc::Receiver<Event>,
    /// Keeps the runtime alive as long as the app.
    pub(super) _runtime: tokio::runtime::Runtime,
}

impl WorkerHandle {
    /// Starts the runtime and the command loop. `ctx` is asked to repaint
    /// whenever an event is sent.
    pub fn spawn(ctx: egui::Context) -> std::io::Result<Self> {
        Self::spawn_with(ctx, WATCH_TIMEOUT, None)
    }

    /// [`WorkerHandle::spawn`] with another watch time-out (tests), keeping
    /// the queue in `queue_file` (see [`super::journal`]) and resuming what it
    /// holds.
    pub fn spawn_with(
        ctx: egui::Context,
        watch_timeout: Duration,
        queue_file: Option<PathBuf>,
    ) -> std::io::Result<Self> {
        // One thread per core, at least two: in local mode the pipeline processes
        // images on all of the runtime's threads but one (the other keeps uploads,
        // polls and thumbnails moving), so a fixed 2 would process one at a time.
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("augment-worker")
            .on_thread_start(below(niceness_of_this_thread()))
            .enable_all()
            .build()?;
        let (commands, mut command_rx) = tokio::sync::mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::channel();
        let dataset = dataset_jobs::DatasetJobs::beside(queue_file.as_deref());
        let resumed = queue_file.map(|path| (super::journal::load(&path), path));
        let mut worker = Worker::new(
            Sender {
                tx: event_tx,
                ctx,
                journal: None,
            },
            watch_timeout,
        );
        worker.dataset = std::sync::Arc::new(dataset);
        if let Some((rows, path)) = resumed {
            worker.resume(rows, path);
        }
        runtime.spawn(async move {
            worker.start_resumed();
            worker.resume_dataset_job();
            while let Some(command) = command_rx.recv().await {
                worker.handle(command);
            }
        });
        Ok(Self {
            commands,
            events,
            _runtime: runtime,
        })
    }

    pub fn send(&self, command: Command) {
        // Only fails when the runtime is gone, i.e. the app is closing.
        let _ = self.commands.send(command);
    }

    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }
}

impl Worker {
    /// Starts the work for one command; never waits for it. Each area has its
    /// handler.
    pub(super) fn handle(&self, command: Command) {
        match command {
            Command::Settings(command) => self.handle_settings(command),
            Command::Gallery(command) => self.handle_gallery(command),
            Command::Transfer(command) => self.handle_transfer(command),
            Command::Desktop(command) => self.handle_desktop(command),
            Command::Status(command) => self.handle_status(command),
            Command::Dataset(command) => self.handle_dataset(command),
        }
    }
}

/// How much lower than the UI thread the worker's threads run: added to the
/// nice value they start with (the UI's; 0 is normal), up to [`LOWEST_NICENESS`].
pub const WORKER_NICENESS: i32 = 10;

/// The lowest priority there is (the highest nice value).
const LOWEST_NICENESS: i32 = 19;

/// The calling thread's nice value (0 where there is none to read).
fn niceness_of_this_thread() -> i32 {
    #[cfg(target_os = "linux")]
    {
        rustix::process::getpriority_process(None).unwrap_or(0)
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// What each worker thread runs as it starts (the runtime's, and its blocking
/// pool's: the local pipeline, thumbnail decoding, file checks): it goes below
/// `ui`, the nice value of the UI thread that built the runtime, by
/// [`WORKER_NICENESS`], so a batch on every core never keeps the window from
/// repainting: the scheduler hands the UI thread a core as soon as it wakes. An
/// app started with `nice` keeps its worker below its window, never above it.
/// Set whole, not added to what a thread has: a thread spawned by a worker
/// thread starts at the worker's level. On Linux the nice value is per thread;
/// elsewhere the threads keep the normal priority.
fn below(ui: i32) -> impl Fn() + Send + Sync + 'static {
    let level = (ui + WORKER_NICENESS).min(LOWEST_NICENESS);
    move || {
        #[cfg(target_os = "linux")]
        if let Err(err) = rustix::process::setpriority_process(None, level) {
            tracing::debug!("worker thread priority unchanged: {err}");
        }
        #[cfg(not(target_os = "linux"))]
        let _ = level;
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_worker_thread_runs_below_the_ui_thread() {
        let ui = niceness_of_this_thread();
        let start = below(ui);
        let (worker, spawned_by_worker) = std::thread::spawn(move || {
            start();
            // A blocking-pool thread a worker thread spawns starts there too.
            let again = std::thread::spawn(move || {
                start();
                niceness_of_this_thread()
            });
            (niceness_of_this_thread(), again.join().unwrap())
        })
        .join()
        .unwrap();
        assert_eq!(spawned_by_worker, worker);
        assert_eq!(worker, (ui + WORKER_NICENESS).min(LOWEST_NICENESS));
        // The thread that asked keeps its own priority.
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), ui);
    }
}
