//! [`LocalPipeline`]: the two steps reacting to uploads in this process, as S3
//! events and SQS do in AWS.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use augment_pipeline::Output;
use augment_pipeline::contract::{RotationTask, UPLOAD_PREFIX, UploadKey};
use augment_pipeline::ports::{ObjectStore, StoreError};
use augment_pipeline::steps::{self, StepError, UploadOutcome};

use crate::queue::ChannelQueue;
use crate::store::FolderStore;

/// The bucket name local tasks carry.
pub const LOCAL_BUCKET: &str = "local";

/// What local mode reports as work finishes, in completion order.
#[derive(Debug)]
pub enum PipelineEvent {
    Upload {
        key: String,
        result: Result<UploadOutcome, StepError>,
    },
    Rotation {
        task: RotationTask,
        result: Result<(), StepError>,
    },
}

/// Tries of one step before a transient error (a 503 from the store, a full
/// queue) is reported: as Lambda retries an event and SQS redelivers a task. At
/// [`STEP_FIRST_DELAY`] doubling to [`STEP_MAX_DELAY`], about 6 s in all.
pub const STEP_ATTEMPTS: u32 = 10;
/// The pause after a step's first transient failure; each later one doubles.
pub const STEP_FIRST_DELAY: Duration = Duration::from_millis(20);
/// The longest pause between two tries of a step.
pub const STEP_MAX_DELAY: Duration = Duration::from_secs(1);
/// Rotation tasks queued or running at once: a new upload waits beyond it, so
/// a batch of any size holds a bounded backlog (each task is a few hundred
/// bytes; without the bound, uploads fed faster than rotations piled them up).
pub const MAX_QUEUED_ROTATIONS: usize = 64;

/// The whole pipeline on this machine: uploads are processed as they are
/// announced, and their tasks are run by a worker loop, at most `jobs` steps at a
/// time; a step that fails transiently is tried again (up to
/// [`STEP_ATTEMPTS`]), without holding a slot while it waits. Must be started
/// inside a Tokio runtime with at least `jobs` worker threads (image work runs
/// on them). Nothing is kept but in the store: after a crash,
/// [`LocalPipeline::resume`] finds the unfinished uploads there.
///
/// Local mode keeps no order between two uploads of one key, as the S3 sequencer
/// does in AWS: a notification names only a key and carries no sequencer to
/// record, and local clients never write an upload key twice (a new
/// file of the same name gets `-2`). The processor reads the file as it is when
/// its turn comes, so a repeated notification processes the newest bytes.
#[derive(Debug)]
pub struct LocalPipeline<S = FolderStore> {
    store: Arc<S>,
    queue: ChannelQueue,
    permits: Arc<Semaphore>,
    events: mpsc::UnboundedSender<PipelineEvent>,
    retried: Arc<AtomicU64>,
    /// One permit per rotation that may be queued: an announced upload takes
    /// four, each rotation gives one back as it ends.
    backlog: Arc<Semaphore>,
}

impl<S> Clone for LocalPipeline<S> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            queue: self.queue.clone(),
            permits: self.permits.clone(),
            events: self.events.clone(),
            retried: self.retried.clone(),
            backlog: self.backlog.clone(),
        }
    }
}

impl LocalPipeline {
    pub fn start(
        root: impl Into<PathBuf>,
        jobs: usize,
    ) -> (Self, mpsc::UnboundedReceiver<PipelineEvent>) {
        Self::start_on(Arc::new(FolderStore::new(root)), jobs)
    }
}

impl<S: ObjectStore + 'static> LocalPipeline<S> {
    /// The pipeline over any store (a fault-injecting one, in tests).
    pub fn start_on(store: Arc<S>, jobs: usize) -> (Self, mpsc::UnboundedReceiver<PipelineEvent>) {
        let (queue, mut tasks) = ChannelQueue::new();
        let permits = Arc::new(Semaphore::new(jobs.max(1)));
        let (events, event_receiver) = mpsc::unbounded_channel();
        let this = Self {
            store,
            queue,
            permits,
            events,
            retried: Arc::new(AtomicU64::new(0)),
            backlog: Arc::new(Semaphore::new(MAX_QUEUED_ROTATIONS)),
        };

        let worker = this.clone();
        tokio::spawn(async move {
            let mut images = ImageTasks::default();
            while let Some(group) = images.next(&mut tasks).await {
                let Ok(permit) = worker.permits.clone().acquire_owned().await else {
                    break;
                };
                tokio::spawn(worker.clone().rotate(permit, group));
            }
        });
        (this, event_receiver)
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// Transient step failures tried again so far.
    pub fn retried(&self) -> u64 {
        self.retried.load(Ordering::SeqCst)
    }

    /// Announces an object now in the store, as S3's event does. Waits first for
    /// room in the rotation backlog ([`MAX_QUEUED_ROTATIONS`]) and for a free
    /// slot, so rotations already queued go ahead of new uploads.
    pub async fn notify_upload(&self, key: String) {
        let rotations = Output::ROTATIONS.len();
        let Ok(room) = self.backlog.acquire_many(rotations as u32).await else {
            return;
        };
        // Given back by the rotations as they end, or below if none is queued.
        room.forget();
        let Ok(permit) = self.permits.clone().acquire_owned().await else {
            return;
        };
        tokio::spawn(self.clone().process(permit, key));
    }

    /// One upload in its slot, reported as it ends; the backlog's room it took
    /// given back unless its rotations were queued.
    async fn process(self, permit: OwnedSemaphorePermit, key: String) {
        let result = self
            .with_retries(permit, || {
                steps::process_upload(self.store.as_ref(), &self.queue, LOCAL_BUCKET, &key)
            })
            .await;
        // What a person is shown is the rejection's plain message; the decoder's
        // own words are for the log only.
        if let Ok(UploadOutcome::Rejected { rejection, .. }) = &result
            && let Some(detail) = &rejection.detail
        {
            tracing::info!(key, code = %rejection.code, detail, "upload rejected");
        }
        if !matches!(result, Ok(UploadOutcome::Processed { .. })) {
            self.backlog.add_permits(Output::ROTATIONS.len());
        }
        let _ = self.events.send(PipelineEvent::Upload { key, result });
    }

    /// Announces again every upload in the store whose work is not finished (no
    /// failed record, and the processed image or a rotation missing), as after a
    /// crash; returns how many. The steps are idempotent, so finishing an upload
    /// twice writes the same objects.
    pub async fn resume(&self) -> Result<usize, StoreError> {
        let uploads = self.store.list(UPLOAD_PREFIX).await?;
        let mut announced = 0;
        for info in uploads {
            let Ok(upload) = UploadKey::parse(&info.key) else {
                continue;
            };
            if self.finished(&upload).await? {
                continue;
            }
            self.notify_upload(info.key).await;
            announced += 1;
        }
        Ok(announced)
    }

    async fn finished(&self, upload: &UploadKey) -> Result<bool, StoreError> {
        if self.store.head(&upload.failed_key()).await?.is_some() {
            return Ok(true);
        }
        for key in upload.output_keys() {
            if self.store.head(&key).await?.is_none() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Runs a step, and again after a pause when it fails transiently, up to
    /// [`STEP_ATTEMPTS`]; the slot is given back while it waits.
    async fn with_retries<T, F, Fut>(
        &self,
        permit: OwnedSemaphorePermit,
        mut step: F,
    ) -> Result<T, StepError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, StepError>>,
    {
        let mut permit = Some(permit);
        let mut delay = STEP_FIRST_DELAY;
        let mut attempt = 1;
        loop {
            let result = step().await;
            match result {
                Err(err) if err.is_transient() && attempt < STEP_ATTEMPTS => {
                    self.retried.fetch_add(1, Ordering::SeqCst);
                    drop(permit.take());
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(STEP_MAX_DELAY);
                    attempt += 1;
                    let Ok(again) = self.permits.clone().acquire_owned().await else {
                        return Err(err);
                    };
                    permit = Some(again);
                }
                result => return result,
            }
        }
    }
}

impl<S: ObjectStore + 'static> LocalPipeline<S> {
    /// Runs the tasks of one processed image together (one read of it, see
    /// [`steps::make_rotations`]) and reports each; should they fail, each is run
    /// again alone, so each reports its own error.
    async fn rotate(self, permit: OwnedSemaphorePermit, group: Vec<RotationTask>) {
        // Local tasks carry no sequencer: always written.
        let together = self
            .with_retries(permit, || {
                steps::make_rotations(self.store.as_ref(), &group)
            })
            .await;
        for task in group {
            let result = match &together {
                Ok(_) => Ok(()),
                Err(_) => {
                    // No slot only once the pipeline is closing: the task is
                    // left unreported, as a task never started is.
                    let Ok(permit) = self.permits.clone().acquire_owned().await else {
                        return;
                    };
                    self.with_retries(permit, || steps::make_rotation(self.store.as_ref(), &task))
                        .await
                        .map(drop)
                }
            };
            self.backlog.add_permits(1);
            // The receiver is gone only when nobody waits for results.
            let _ = self.events.send(PipelineEvent::Rotation { task, result });
        }
    }
}

/// Takes rotation tasks off the queue a processed image at a time: an upload's
/// tasks are sent as one batch, so they come one after the other.
#[derive(Debug, Default)]
struct ImageTasks {
    /// A task already taken that names the next image.
    next: Option<RotationTask>,
}

impl ImageTasks {
    /// The next image's tasks that are queued (at most an upload's worth), or
    /// `None` when the queue is closed and empty.
    async fn next(
        &mut self,
        tasks: &mut mpsc::UnboundedReceiver<RotationTask>,
    ) -> Option<Vec<RotationTask>> {
        let first = match self.next.take() {
            Some(task) => task,
            None => tasks.recv().await?,
        };
        let mut group = vec![first];
        while group.len() < Output::ROTATIONS.len() {
            match tasks.try_recv() {
                Ok(task) if task.processed_key == group[0].processed_key => group.push(task),
                Ok(task) => {
                    self.next = Some(task);
                    break;
                }
                Err(_) => break,
            }
        }
        Some(group)
    }
}
