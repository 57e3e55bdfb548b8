//! The pipeline's two steps, written once for every backend: the image processor
//! Lambda, the rotation worker Lambda and local mode all call these.

use crate::contract::{
    FailedRecord, KeyError, RotationTask, SEQUENCER_METADATA, Sequencer, UploadKey,
};
use crate::imaging;
use crate::limits::{MAX_OUTPUT_BYTES, MAX_UPLOAD_BYTES};
use crate::ports::{ObjectStore, PutObject, QueueError, StoreError, TaskQueue};
use crate::provenance::Provenance;
use crate::reject::Rejection;

/// Metadata key linking an output to the upload it came from.
pub const SOURCE_KEY_METADATA: &str = "source-key";

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
    /// The processed image is already a newer upload's: that upload's own task
    /// writes this output, and this one writes nothing.
    Superseded,
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
}

impl<'a> UploadEvent<'a> {
    /// An event that says nothing but the key (local mode, tests).
    pub fn key(bucket: &'a str, key: &'a str) -> Self {
        Self {
            bucket,
            key,
            size_bytes: None,
            sequencer: None,
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
    // A verdict on the name alone: every event of this key gets it, so no order
    // to check (and `processed/` could not even be looked up).
    if let Err(rejection) = upload.check_key_length(store.key_rules()) {
        return write_failed(store, upload, rejection, None).await;
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
        Err(rejection) => return reject_event(store, upload, rejection, event.sequencer).await,
    };

    if superseded(store, &upload, event.sequencer).await? {
        return skipped(SkipReason::Superseded);
    }
    let processed_key = upload.processed_key();
    store
        .put(PutObject {
            key: processed_key.clone(),
            body: jpeg,
            content_type: JPEG,
            metadata: output_metadata(&upload, event.sequencer, &provenance),
            on_sent: None,
        })
        .await?;
    let mut tasks = upload.tasks(event.bucket);
    for task in &mut tasks {
        task.sequencer = event.sequencer.map(|s| s.as_str().to_owned());
        task.provenance = Some(provenance.clone());
    }
    queue.send_batch(&tasks).await?;
    clear_failed(store, &upload, event.sequencer).await?;
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
    reject_event(store, upload, rejection, None).await
}

/// [`reject`] for an event with a sequencer: nothing is written when the outputs
/// record a newer upload.
async fn reject_event<S: ObjectStore>(
    store: &S,
    upload: UploadKey,
    rejection: Rejection,
    sequencer: Option<&Sequencer>,
) -> Result<UploadOutcome, StepError> {
    if superseded(store, &upload, sequencer).await? {
        return Ok(UploadOutcome::Skipped {
            key: upload.to_string(),
            reason: SkipReason::Superseded,
        });
    }
    write_failed(store, upload, rejection, sequencer).await
}

async fn write_failed<S: ObjectStore>(
    store: &S,
    upload: UploadKey,
    rejection: Rejection,
    sequencer: Option<&Sequencer>,
) -> Result<UploadOutcome, StepError> {
    let record = FailedRecord::new(&upload, &rejection);
    store
        .put(PutObject {
            key: upload.failed_key(),
            body: record.to_json(),
            content_type: JSON,
            metadata: output_metadata(&upload, sequencer, &Provenance::of_this_pipeline()),
            on_sent: None,
        })
        .await?;
    Ok(UploadOutcome::Rejected { upload, rejection })
}

/// The source key, the sequencer when the event had one, and the provenance
/// (a failed record has no image: the pipeline's version and parameters only).
fn output_metadata(
    upload: &UploadKey,
    sequencer: Option<&Sequencer>,
    provenance: &Provenance,
) -> Vec<(&'static str, String)> {
    let mut metadata = vec![(SOURCE_KEY_METADATA, upload.to_string())];
    if let Some(sequencer) = sequencer {
        metadata.push((SEQUENCER_METADATA, sequencer.as_str().to_owned()));
    }
    metadata.extend(provenance.metadata());
    metadata
}

/// The sequencer recorded at `key`, if there is an object and it records one.
async fn recorded<S: ObjectStore>(store: &S, key: &str) -> Result<Option<Sequencer>, StepError> {
    let metadata = store.head_metadata(key).await?;
    Ok(metadata.and_then(|metadata| Sequencer::recorded_in(&metadata)))
}

/// Whether `processed/` or `failed/` of this name records a newer upload than
/// `sequencer`. Without one there is no order to keep: never.
async fn superseded<S: ObjectStore>(
    store: &S,
    upload: &UploadKey,
    sequencer: Option<&Sequencer>,
) -> Result<bool, StepError> {
    let Some(sequencer) = sequencer else {
        return Ok(false);
    };
    for key in [upload.processed_key(), upload.failed_key()] {
        if recorded(store, &key)
            .await?
            .is_some_and(|newer| newer > *sequencer)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// After a success: the name's `failed/` record is stale, unless a newer upload
/// of the name wrote it.
async fn clear_failed<S: ObjectStore>(
    store: &S,
    upload: &UploadKey,
    sequencer: Option<&Sequencer>,
) -> Result<(), StepError> {
    let failed_key = upload.failed_key();
    let Some(metadata) = store.head_metadata(&failed_key).await? else {
        return Ok(());
    };
    let newer = sequencer
        .is_some_and(|ours| Sequencer::recorded_in(&metadata).is_some_and(|theirs| theirs > *ours));
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
/// Idempotent: the output key and bytes depend only on the task. A task with a
/// sequencer writes nothing when `processed/` already records a newer upload
/// (checked after the rotation, just before the write): that upload's own task
/// makes this output.
pub async fn make_rotation<S: ObjectStore>(
    store: &S,
    task: &RotationTask,
) -> Result<RotationOutcome, StepError> {
    let bytes = store.get(&task.processed_key, MAX_OUTPUT_BYTES).await?;
    let rotated = imaging::rotate_jpeg_bytes(&bytes, task.angle).map_err(|rejection| {
        StepError::BadProcessedImage {
            key: task.processed_key.clone(),
            rejection,
        }
    })?;
    let sequencer = task.sequencer.as_deref().and_then(Sequencer::parse);
    if let Some(ours) = &sequencer
        && recorded(store, &task.processed_key)
            .await?
            .is_some_and(|newer| newer > *ours)
    {
        return Ok(RotationOutcome::Superseded);
    }
    let mut metadata = vec![(SOURCE_KEY_METADATA, task.source_key.clone())];
    if let Some(sequencer) = sequencer {
        metadata.push((SEQUENCER_METADATA, sequencer.as_str().to_owned()));
    }
    if let Some(provenance) = &task.provenance {
        metadata.extend(provenance.metadata());
    }
    store
        .put(PutObject {
            key: task.output_key.clone(),
            body: rotated,
            content_type: JPEG,
            metadata,
            on_sent: None,
        })
        .await?;
    Ok(RotationOutcome::Written)
}
