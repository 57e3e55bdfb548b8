//! The pipeline's two steps, written once for every backend: the image processor
//! Lambda, the rotation worker Lambda and local mode all call these.

use crate::contract::{
    EVENT_TIME_METADATA, EventTime, FailedRecord, KeyError, RotationTask, SEQUENCER_METADATA,
    Sequencer, UploadKey, UploadOrder,
};
use crate::imaging;
use crate::limits::{MAX_OUTPUT_BYTES, MAX_UPLOAD_BYTES};
use crate::ports::{
    Failure, ListRequest, ObjectStore, PutObject, QueueError, StoreError, TaskQueue,
};
use crate::provenance::Provenance;
use crate::reject::Rejection;

/// Metadata key linking an output to the upload it came from: the contract's,
/// named here too for the crates that take it from `steps`.
pub use crate::contract::SOURCE_KEY_METADATA;

const JPEG: &str = "image/jpeg";
const JSON: &str = "application/json";

/// What processing an upload came to. Only transient faults are errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadOutcome {
    /// `processed/…` written and four rotation tasks queued.
    Processed {
        upload: UploadKey,
        processed_key: String,
    },
    /// Bad input, final: `failed/<name>.json` written.
    Rejected {
        upload: UploadKey,
        rejection: Rejection,
    },
    /// Not work for the pipeline.
    Skipped { key: String, reason: SkipReason },
}

impl UploadOutcome {
    /// Why the upload was skipped, if it was.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            Self::Skipped { reason, .. } => Some(*reason),
            Self::Processed { .. } | Self::Rejected { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Outside `original-uploads/`: the pipeline never feeds itself.
    NotAnUpload,
    /// A folder marker (`original-uploads/dir/`).
    Folder,
    /// Deleted between the event and now (events are delivered late, and twice).
    Gone,
    /// The outputs already record a newer upload of the same key (a late, older
    /// event): writing would put old results over new ones.
    Superseded,
}

/// What a rotation task came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RotationOutcome {
    /// The output is written.
    Written,
    /// The processed image is already a newer upload's (of this key, or of
    /// another key with the same name): that upload's own task writes this output,
    /// and this one writes nothing.
    Superseded,
    /// The processed image is gone (the image was deleted): nothing to rotate, and
    /// nothing left behind (an output written just as it went is deleted again).
    Gone,
}

/// One upload event, as the processor receives it.
#[derive(Debug, Clone, Copy)]
pub struct UploadEvent<'a> {
    /// The bucket the tasks name.
    pub bucket: &'a str,
    /// The decoded key.
    pub key: &'a str,
    /// The size the event states: over the limit is rejected without a download.
    pub size_bytes: Option<u64>,
    /// The event's order among the key's events; `None` where there is none
    /// (local mode), and then no order is checked.
    pub sequencer: Option<&'a Sequencer>,
    /// The event's time (S3's `eventTime`): the order among uploads of different
    /// keys that share outputs (`cat.jpg`, `cat.png`); `None` where there is none.
    pub event_time: Option<&'a EventTime>,
}

impl<'a> UploadEvent<'a> {
    /// An event that says nothing but the key (local mode, tests).
    pub fn key(bucket: &'a str, key: &'a str) -> Self {
        Self {
            bucket,
            key,
            size_bytes: None,
            sequencer: None,
            event_time: None,
        }
    }

    /// Where this event stands among those that write the same outputs.
    fn order(&self) -> UploadOrder {
        UploadOrder {
            key: self.key.to_owned(),
            sequencer: self.sequencer.cloned(),
            time: self.event_time.cloned(),
        }
    }
}

/// A step failed for a reason that is not the input's fault.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The processed image a task points at cannot be read as an image.
    #[error(
        "the processed image cannot be rotated ({rejection}{}): {key}",
        rejection.detail.as_deref().map(|d| format!("; {d}")).unwrap_or_default()
    )]
    BadProcessedImage { key: String, rejection: Rejection },
}

impl StepError {
    /// Worth retrying (throttling, 5xx, timeouts); anything else will fail again.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Store(err) => err.is_transient(),
            Self::Queue(err) => err.is_transient(),
            Self::BadProcessedImage { .. } => false,
        }
    }
}

/// *Process an upload*: get → validate → fit → put `processed/` → queue four
/// tasks; or, for bad input, write `failed/<name>.json`. Idempotent: running it
/// twice writes the same objects and queues the same tasks. For an event with
/// its size and sequencer, see [`process_upload_event`].
pub async fn process_upload<S, Q>(
    store: &S,
    queue: &Q,
    bucket: &str,
    key: &str,
) -> Result<UploadOutcome, StepError>
where
    S: ObjectStore,
    Q: TaskQueue,
{
    process_upload_event(store, queue, UploadEvent::key(bucket, key)).await
}

/// [`process_upload`] for an event that may state the upload's size and order:
/// - a name whose outputs the store cannot hold is refused (`name_too_long`)
///   before anything is read;
/// - with a sequencer, nothing is written when `processed/` or `failed/` already
///   records a newer one (checked just before the write), and what is written
///   records this one (metadata [`SEQUENCER_METADATA`]), as do the tasks;
/// - a success deletes the name's `failed/` record, unless a newer upload wrote it.
pub async fn process_upload_event<S, Q>(
    store: &S,
    queue: &Q,
    event: UploadEvent<'_>,
) -> Result<UploadOutcome, StepError>
where
    S: ObjectStore,
    Q: TaskQueue,
{
    let key = event.key;
    let skipped = |reason| {
        Ok(UploadOutcome::Skipped {
            key: key.to_owned(),
            reason,
        })
    };
    let upload = match UploadKey::parse(key) {
        Ok(upload) => upload,
        Err(KeyError::Folder(_)) => return skipped(SkipReason::Folder),
        Err(KeyError::NotAnUpload(_) | KeyError::BadEncoding(_)) => {
            return skipped(SkipReason::NotAnUpload);
        }
    };
    // A verdict on the name alone: every event of this key gets it, so the
    // record carries no order to check (and `processed/` could not even be
    // looked up).
    if let Err(rejection) = upload.check_key_length(store.key_rules()) {
        let unordered = UploadEvent::key(event.bucket, key);
        return reject_event(store, upload, rejection, &unordered).await;
    }

    let read = match event.size_bytes {
        Some(size) if size > MAX_UPLOAD_BYTES => Read::Rejected(Rejection::too_large(size)),
        _ => read_upload(store, &upload).await?,
    };
    let (processed, provenance) = match read {
        Read::Gone => return skipped(SkipReason::Gone),
        Read::Rejected(rejection) => (Err(rejection), Provenance::default()),
        Read::Bytes(bytes) => (
            imaging::process_upload_bytes(&bytes),
            Provenance::of_source(&bytes),
        ),
    };
    let jpeg = match processed {
        Ok(jpeg) => jpeg,
        Err(rejection) => return reject_event(store, upload, rejection, &event).await,
    };
    if superseded(store, &upload, &event).await? {
        return skipped(SkipReason::Superseded);
    }
    write_processed(store, queue, upload, jpeg, &provenance, &event).await
}

/// The processed image written, its rotation tasks sent and the name's stale
/// `failed/` record cleared.
async fn write_processed<S, Q>(
    store: &S,
    queue: &Q,
    upload: UploadKey,
    jpeg: Vec<u8>,
    provenance: &Provenance,
    event: &UploadEvent<'_>,
) -> Result<UploadOutcome, StepError>
where
    S: ObjectStore,
    Q: TaskQueue,
{
    let processed_key = upload.processed_key();
    store
        .put(PutObject {
            metadata: output_metadata(&upload, event, provenance),
            ..PutObject::new(processed_key.clone(), jpeg, JPEG)
        })
        .await?;
    let mut tasks = upload.tasks(event.bucket);
    for task in &mut tasks {
        task.sequencer = event.sequencer.map(|s| s.as_str().to_owned());
        task.provenance = Some(provenance.clone());
    }
    queue.send_batch(&tasks).await?;
    clear_failed(store, &upload, event).await?;
    Ok(UploadOutcome::Processed {
        upload,
        processed_key,
    })
}

/// Records a final verdict on an upload: writes `failed/<name>.json`. Used by
/// [`process_upload`], and by callers that know the verdict before a download.
pub async fn reject<S: ObjectStore>(
    store: &S,
    upload: UploadKey,
    rejection: Rejection,
) -> Result<UploadOutcome, StepError> {
    let key = upload.to_string();
    reject_event(store, upload, rejection, &UploadEvent::key("", &key)).await
}

/// [`reject`] for an event: nothing is written when the outputs record a newer
/// upload than an event with an order (one without, never: no look).
async fn reject_event<S: ObjectStore>(
    store: &S,
    upload: UploadKey,
    rejection: Rejection,
    event: &UploadEvent<'_>,
) -> Result<UploadOutcome, StepError> {
    if superseded(store, &upload, event).await? {
        return Ok(UploadOutcome::Skipped {
            key: upload.to_string(),
            reason: SkipReason::Superseded,
        });
    }
    let record = FailedRecord::new(&upload, &rejection);
    store
        .put(PutObject {
            metadata: output_metadata(&upload, event, &Provenance::of_this_pipeline()),
            ..PutObject::new(upload.failed_key(), record.to_json(), JSON)
        })
        .await?;
    Ok(UploadOutcome::Rejected { upload, rejection })
}

/// The source key, the event's sequencer and time when it had them, and the
/// provenance (a failed record has no image: the pipeline's version and
/// parameters only).
fn output_metadata(
    upload: &UploadKey,
    event: &UploadEvent<'_>,
    provenance: &Provenance,
) -> Vec<(&'static str, String)> {
    let mut metadata = vec![(SOURCE_KEY_METADATA, upload.to_string())];
    if let Some(sequencer) = event.sequencer {
        metadata.push((SEQUENCER_METADATA, sequencer.as_str().to_owned()));
    }
    if let Some(time) = event.event_time {
        metadata.push((EVENT_TIME_METADATA, time.as_str().to_owned()));
    }
    metadata.extend(provenance.metadata());
    metadata
}

/// The order recorded at `key`, if there is an object and it records one.
async fn recorded<S: ObjectStore>(store: &S, key: &str) -> Result<Option<UploadOrder>, StepError> {
    let metadata = store.head_metadata(key).await?;
    Ok(metadata.and_then(|metadata| UploadOrder::recorded_in(&metadata)))
}

/// Whether `processed/` or `failed/` of this name records a newer upload than
/// `event` (see [`UploadOrder`]). An event with no order (local mode): never.
async fn superseded<S: ObjectStore>(
    store: &S,
    upload: &UploadKey,
    event: &UploadEvent<'_>,
) -> Result<bool, StepError> {
    if event.sequencer.is_none() && event.event_time.is_none() {
        return Ok(false);
    }
    let ours = event.order();
    for key in [upload.processed_key(), upload.failed_key()] {
        if recorded(store, &key)
            .await?
            .is_some_and(|theirs| ours.is_older_than(&theirs))
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// After a success: the name's `failed/` record is stale, unless a newer upload
/// of the name (this key or another sharing the name) wrote it.
async fn clear_failed<S: ObjectStore>(
    store: &S,
    upload: &UploadKey,
    event: &UploadEvent<'_>,
) -> Result<(), StepError> {
    let failed_key = upload.failed_key();
    let Some(metadata) = store.head_metadata(&failed_key).await? else {
        return Ok(());
    };
    let newer = UploadOrder::recorded_in(&metadata)
        .is_some_and(|theirs| event.order().is_older_than(&theirs));
    if !newer {
        store.delete(&failed_key).await?;
    }
    Ok(())
}

enum Read {
    Bytes(Vec<u8>),
    Rejected(Rejection),
    Gone,
}

/// The size limit is checked before the download (from the stored size) and
/// again while reading.
async fn read_upload<S: ObjectStore>(store: &S, upload: &UploadKey) -> Result<Read, StepError> {
    if let Err(rejection) = upload.check_extension() {
        return Ok(Read::Rejected(rejection));
    }
    let Some(info) = store.head(upload.as_str()).await? else {
        return Ok(Read::Gone);
    };
    if info.size_bytes > MAX_UPLOAD_BYTES {
        return Ok(Read::Rejected(Rejection::too_large(info.size_bytes)));
    }
    match store.get(upload.as_str(), MAX_UPLOAD_BYTES).await {
        Ok(bytes) => Ok(Read::Bytes(bytes)),
        Err(StoreError::NotFound { .. }) => Ok(Read::Gone),
        Err(StoreError::TooLarge { .. }) => Ok(Read::Rejected(Rejection::over_limit())),
        Err(err) => Err(err.into()),
    }
}

/// *Make a rotation*: get the processed image → rotate → put the output.
/// Idempotent: the output key and bytes depend only on the task.
/// - A task whose processed image is gone (its image was deleted, and a late or
///   repeated task came after) is done: [`RotationOutcome::Gone`], not a failure
///   to retry into the dead-letter queue. A missing key is told from a refusal
///   even where S3 answers 403 for it (see [`gone`]).
/// - A task writes nothing when `processed/` now records another upload: a newer
///   one of the same key (by sequencer), or of another key with the same name
///   (the processor writes `processed/` only for the newest): that upload's own
///   task makes this output. Checked after the rotation, just before the write.
/// - Never a write after a delete: the processed image is looked at again after
///   the write, and if it is gone the output is deleted again. The app's Delete…
///   deletes `processed/` before the rotations, so a write that lands after the
///   app deleted the rotation sees `processed/` gone and removes itself. (A check
///   before the write alone would leave the moment between check and write open.)
pub async fn make_rotation<S: ObjectStore>(
    store: &S,
    task: &RotationTask,
) -> Result<RotationOutcome, StepError> {
    let outcomes = make_rotations(store, std::slice::from_ref(task)).await?;
    Ok(outcomes.first().copied().unwrap_or(RotationOutcome::Gone))
}

/// [`make_rotation`] for several tasks of one processed image (local mode runs
/// an upload's four together): the image is read once and looked at once before
/// and once after the writes, instead of once each. Outcomes in the tasks' order.
/// Tasks of different images are made one image at a time.
pub async fn make_rotations<S: ObjectStore>(
    store: &S,
    tasks: &[RotationTask],
) -> Result<Vec<RotationOutcome>, StepError> {
    let mut outcomes = Vec::with_capacity(tasks.len());
    for image in tasks.chunk_by(|a, b| a.processed_key == b.processed_key) {
        outcomes.extend(rotations_of_one_image(store, image).await?);
    }
    Ok(outcomes)
}

/// [`make_rotations`] for tasks that all name the same processed image.
async fn rotations_of_one_image<S: ObjectStore>(
    store: &S,
    tasks: &[RotationTask],
) -> Result<Vec<RotationOutcome>, StepError> {
    let Some(key) = tasks.first().map(|task| &task.processed_key) else {
        return Ok(Vec::new());
    };
    let all_gone = || Ok(vec![RotationOutcome::Gone; tasks.len()]);
    let bytes = match store.get(key, MAX_OUTPUT_BYTES).await {
        Ok(bytes) => bytes,
        Err(err) if gone(store, key, &err).await? => return all_gone(),
        Err(err) => return Err(err.into()),
    };
    let angles: Vec<_> = tasks.iter().map(|task| task.angle).collect();
    let rotated = imaging::rotate_jpeg_bytes_all(&bytes, &angles).map_err(|rejection| {
        StepError::BadProcessedImage {
            key: key.clone(),
            rejection,
        }
    })?;
    let Some(recorded) = processed_metadata(store, key).await? else {
        return all_gone();
    };
    let recorded = UploadOrder::recorded_in(&recorded);
    let mut outcomes = Vec::with_capacity(tasks.len());
    for (task, body) in tasks.iter().zip(rotated) {
        let sequencer = task.sequencer.as_deref().and_then(Sequencer::parse);
        let ours = UploadOrder {
            key: task.source_key.clone(),
            sequencer: sequencer.clone(),
            time: None,
        };
        if recorded
            .as_ref()
            .is_some_and(|theirs| theirs.key != ours.key || ours.is_older_than(theirs))
        {
            outcomes.push(RotationOutcome::Superseded);
            continue;
        }
        store.put(rotation_put(task, sequencer, body)).await?;
        outcomes.push(RotationOutcome::Written);
    }
    let written = tasks.iter().zip(&mut outcomes);
    let written: Vec<_> = written
        .filter(|(_, outcome)| **outcome == RotationOutcome::Written)
        .collect();
    if !written.is_empty() && processed_metadata(store, key).await?.is_none() {
        for (task, outcome) in written {
            store.delete(&task.output_key).await?;
            *outcome = RotationOutcome::Gone;
        }
    }
    Ok(outcomes)
}

/// A rotation's output as written: what it records of its upload.
fn rotation_put(task: &RotationTask, sequencer: Option<Sequencer>, body: Vec<u8>) -> PutObject {
    let mut metadata = vec![(SOURCE_KEY_METADATA, task.source_key.clone())];
    if let Some(sequencer) = sequencer {
        metadata.push((SEQUENCER_METADATA, sequencer.as_str().to_owned()));
    }
    if let Some(provenance) = &task.provenance {
        metadata.extend(provenance.metadata());
    }
    PutObject {
        key: task.output_key.clone(),
        body,
        content_type: JPEG,
        metadata,
        tags: Vec::new(),
        on_sent: None,
    }
}

/// The processed image's metadata, or `None` when it is gone.
async fn processed_metadata<S: ObjectStore>(
    store: &S,
    key: &str,
) -> Result<Option<Vec<(String, String)>>, StepError> {
    match store.head_metadata(key).await {
        Ok(found) => Ok(found),
        Err(err) if gone(store, key, &err).await? => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Whether `err`, from reading `key`, means there is no object there. S3 answers
/// a missing key with 404 only to a caller that may list the bucket, and with
/// 403 `AccessDenied` to any other (so that keys cannot be probed): a 403 is
/// asked again as a one-key listing of the key itself (which the worker's
/// `s3:ListBucket` on its prefix allows), and the key is gone if the listing
/// does not show it. A transient fault is not an answer: it is retried.
async fn gone<S: ObjectStore>(store: &S, key: &str, err: &StoreError) -> Result<bool, StepError> {
    match err {
        StoreError::NotFound { .. } => Ok(true),
        StoreError::Backend {
            failure: Failure::Service {
                status: Some(403), ..
            },
            transient: false,
            ..
        } => {
            let page = store.list_page(ListRequest::new(key, None, 1)).await?;
            Ok(!page.objects.iter().any(|object| object.key == key))
        }
        _ => Ok(false),
    }
}
