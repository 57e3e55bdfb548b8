//! The pipeline's two steps, written once for every backend: the image processor
//! Lambda, the rotation worker Lambda and local mode all call these.

use crate::contract::{FailedRecord, KeyError, RotationTask, UploadKey};
use crate::imaging;
use crate::limits::{MAX_OUTPUT_BYTES, MAX_UPLOAD_BYTES};
use crate::ports::{ObjectStore, PutObject, QueueError, StoreError, TaskQueue};
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
}

/// A step failed for a reason that is not the input's fault.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The processed image a task points at cannot be read as an image.
    #[error("the processed image cannot be rotated ({rejection}): {key}")]
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
/// twice writes the same objects and queues the same tasks.
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

    let processed = match read_upload(store, &upload).await? {
        Read::Gone => return skipped(SkipReason::Gone),
        Read::Rejected(rejection) => Err(rejection),
        Read::Bytes(bytes) => imaging::process_upload_bytes(&bytes),
    };
    let jpeg = match processed {
        Ok(jpeg) => jpeg,
        Err(rejection) => return reject(store, upload, rejection).await,
    };

    let processed_key = upload.processed_key();
    store
        .put(PutObject {
            key: processed_key.clone(),
            body: jpeg,
            content_type: JPEG,
            metadata: vec![(SOURCE_KEY_METADATA, upload.to_string())],
            on_sent: None,
        })
        .await?;
    queue.send_batch(&upload.tasks(bucket)).await?;
    Ok(UploadOutcome::Processed {
        upload,
        processed_key,
    })
}

/// Records a final verdict on an upload: writes `failed/<name>.json`. Used by
/// [`process_upload`], and by callers that know the verdict before a download
/// (the processor Lambda, from the size in the S3 event).
pub async fn reject<S: ObjectStore>(
    store: &S,
    upload: UploadKey,
    rejection: Rejection,
) -> Result<UploadOutcome, StepError> {
    let record = FailedRecord::new(&upload, &rejection);
    store
        .put(PutObject {
            key: upload.failed_key(),
            body: record.to_json(),
            content_type: JSON,
            metadata: vec![(SOURCE_KEY_METADATA, upload.to_string())],
            on_sent: None,
        })
        .await?;
    Ok(UploadOutcome::Rejected { upload, rejection })
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
pub async fn make_rotation<S: ObjectStore>(
    store: &S,
    task: &RotationTask,
) -> Result<(), StepError> {
    let bytes = store.get(&task.processed_key, MAX_OUTPUT_BYTES).await?;
    let rotated = imaging::rotate_jpeg_bytes(&bytes, task.angle).map_err(|rejection| {
        StepError::BadProcessedImage {
            key: task.processed_key.clone(),
            rejection,
        }
    })?;
    store
        .put(PutObject {
            key: task.output_key.clone(),
            body: rotated,
            content_type: JPEG,
            metadata: vec![(SOURCE_KEY_METADATA, task.source_key.clone())],
            on_sent: None,
        })
        .await?;
    Ok(())
}
