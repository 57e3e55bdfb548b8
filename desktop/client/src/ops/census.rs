//! One pass over the bucket, a listing page at a time: what landed for each name
//! (kept as a 64-bit hash of the name and a few bytes, never the keys), the
//! records, then the uploads judged against them. Memory grows by about 40 bytes
//! a name; the pages themselves are dropped as they are read.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use augment_pipeline::contract::{FAILED_PREFIX, UPLOAD_PREFIX};
use augment_pipeline::limits::MAX_FAILED_RECORD_BYTES;
use augment_pipeline::{BucketKey, FailedRecord, Landed, ObjectInfo, Output, UploadKey};

use super::denied::Denied;
use super::options::StatusOptions;
use crate::error::{ClientError, ErrorKind};
use crate::pages::Pages;
use crate::remote::Remote;

/// Counts per stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stages {
    /// Objects under `original-uploads/`.
    pub uploads: Option<u64>,
    /// Processed images.
    pub processed: Option<u64>,
    /// Names with every output ([`augment_pipeline::Landed::is_complete`]).
    pub complete: Option<u64>,
    /// `failed/` records.
    pub rejected: Option<u64>,
    /// Uploads older than the threshold, not complete, without a record.
    pub stuck: Option<u64>,
}

/// One stuck upload and what it lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StuckUpload {
    /// `original-uploads/<name>.<ext>`.
    pub key: String,
    pub age_secs: u64,
    /// The missing outputs' codes (`processed`, `90`, …; `Output::code`).
    pub missing: Vec<&'static str>,
    pub size_bytes: u64,
    /// When it was uploaded, as the store says.
    #[serde(skip)]
    pub uploaded: Option<SystemTime>,
}

/// Upload to the fourth rotation, from the objects' last-modified times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// How many uploads were measured.
    pub uploads: usize,
    pub median_ms: u64,
    pub p95_ms: u64,
}

impl Timing {
    /// Median and p95 (nearest rank) of the durations; `None` for none.
    pub fn of(mut durations_ms: Vec<u64>) -> Option<Self> {
        if durations_ms.is_empty() {
            return None;
        }
        durations_ms.sort_unstable();
        let rank = |q: usize| {
            let index = (durations_ms.len() * q).div_ceil(100).max(1) - 1;
            durations_ms[index.min(durations_ms.len() - 1)]
        };
        Some(Self {
            uploads: durations_ms.len(),
            median_ms: rank(50),
            p95_ms: rank(95),
        })
    }
}

/// What the outputs and records say of one name.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    landed: Landed,
    recorded: bool,
    /// The latest rotation's last-modified time.
    last_rotation: Option<SystemTime>,
}

/// The bucket's side of the status.
#[derive(Debug, Default)]
pub(super) struct Census {
    pub(super) stages: Stages,
    pub(super) stuck: Vec<StuckUpload>,
    pub(super) timing: Option<Timing>,
    pub(super) denied: Vec<Denied>,
}

fn name_hash(name: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    name.hash(&mut hasher);
    hasher.finish()
}

impl Census {
    pub(super) async fn take(
        remote: &Remote,
        options: StatusOptions,
        now: SystemTime,
    ) -> Result<Self, ClientError> {
        let mut census = Self::default();
        let mut seen = HashMap::new();
        let outputs_seen = census.outputs(remote, &mut seen).await?;
        let records_seen = census.records(remote, &mut seen).await?;
        census
            .uploads(remote, &seen, options, now, outputs_seen && records_seen)
            .await?;
        Ok(census)
    }

    /// A denial becomes a note and `false`; any other error stops the status.
    fn allowed(
        &mut self,
        remote: &Remote,
        result: Result<(), ClientError>,
        what: &str,
        action: &str,
        resource: String,
    ) -> Result<bool, ClientError> {
        match result {
            Ok(()) => Ok(true),
            Err(err) if err.kind == ErrorKind::AccessDenied => {
                let bucket = remote.bucket_name();
                let what = format!("{what} of s3://{bucket}");
                self.denied.push(Denied::new(what, &[action], &[resource]));
                Ok(false)
            }
            Err(err) => Err(err),
        }
    }

    /// Every output listed; whether all could be.
    async fn outputs(
        &mut self,
        remote: &Remote,
        seen: &mut HashMap<u64, Seen>,
    ) -> Result<bool, ClientError> {
        let mut all = true;
        let mut processed = 0;
        for output in Output::ALL {
            let mut pages = Pages::new(output.prefix());
            let walked = async {
                while let Some(objects) = pages.next(remote).await? {
                    for object in objects {
                        let Some((name, output)) = Output::parse_key(&object.key) else {
                            continue;
                        };
                        let entry = seen.entry(name_hash(name)).or_default();
                        entry.landed.insert(output);
                        if output == Output::Processed {
                            processed += 1;
                        } else {
                            entry.last_rotation = entry.last_rotation.max(object.last_modified);
                        }
                    }
                }
                Ok(())
            }
            .await;
            let what = format!("the listing of {}", output.prefix());
            let ok = self.allowed(remote, walked, &what, "s3:ListBucket", remote.bucket_arn())?;
            all &= ok;
            if output == Output::Processed && ok {
                self.stages.processed = Some(processed);
            }
        }
        Ok(all)
    }

    /// Every `failed/` record; a short-form key is read for the name it judged.
    async fn records(
        &mut self,
        remote: &Remote,
        seen: &mut HashMap<u64, Seen>,
    ) -> Result<bool, ClientError> {
        let mut pages = Pages::new(FAILED_PREFIX);
        let mut rejected = 0;
        let walked = async {
            while let Some(objects) = pages.next(remote).await? {
                for object in objects {
                    let name = match BucketKey::parse(&object.key) {
                        BucketKey::Failed { name: Some(name) } => name.to_owned(),
                        BucketKey::Failed { name: None } => {
                            let body = remote.get(&object.key, MAX_FAILED_RECORD_BYTES).await?;
                            let Some(name) = recorded_name(&body) else {
                                continue;
                            };
                            name
                        }
                        _ => continue,
                    };
                    rejected += 1;
                    seen.entry(name_hash(&name)).or_default().recorded = true;
                }
            }
            Ok(())
        }
        .await;
        let resource = format!("{}/{FAILED_PREFIX}*", remote.bucket_arn());
        let ok = self.allowed(
            remote,
            walked,
            "the failed/ records",
            "s3:ListBucket",
            resource,
        )?;
        if ok {
            self.stages.rejected = Some(rejected);
        }
        Ok(ok)
    }

    /// Every upload judged: complete (timed), recorded, stuck or still young.
    async fn uploads(
        &mut self,
        remote: &Remote,
        seen: &HashMap<u64, Seen>,
        options: StatusOptions,
        now: SystemTime,
        judged: bool,
    ) -> Result<(), ClientError> {
        let mut pages = Pages::new(UPLOAD_PREFIX);
        let (mut uploads, mut stuck, mut complete) = (0, 0, 0);
        // The latest uploads' (upload time, duration), the oldest on top.
        let mut latest: BinaryHeap<Reverse<(SystemTime, u64)>> = BinaryHeap::new();
        let walked = async {
            while let Some(objects) = pages.next(remote).await? {
                for object in objects {
                    let BucketKey::Upload(upload) = BucketKey::parse(&object.key) else {
                        continue;
                    };
                    uploads += 1;
                    let state = seen
                        .get(&name_hash(upload.name()))
                        .copied()
                        .unwrap_or_default();
                    if state.landed.is_complete() {
                        complete += 1;
                        if let Some(timed) = duration(&object, state) {
                            latest.push(Reverse(timed));
                            if latest.len() > options.timing_uploads {
                                latest.pop();
                            }
                        }
                        continue;
                    }
                    let age = object
                        .last_modified
                        .and_then(|at| now.duration_since(at).ok())
                        .unwrap_or(Duration::ZERO);
                    if state.recorded || age < options.stuck_after {
                        continue;
                    }
                    stuck += 1;
                    if self.stuck.len() < options.stuck_named {
                        self.stuck.push(stuck_upload(&upload, &object, state, age));
                    }
                }
            }
            Ok(())
        }
        .await;
        let what = format!("the listing of {UPLOAD_PREFIX}");
        if self.allowed(remote, walked, &what, "s3:ListBucket", remote.bucket_arn())? {
            self.stages.uploads = Some(uploads);
            self.stages.complete = Some(complete);
            self.stages.stuck = judged.then_some(stuck);
            self.timing = Timing::of(latest.into_iter().map(|Reverse((_, ms))| ms).collect());
        }
        Ok(())
    }
}

/// (upload time, milliseconds from the upload to its last rotation).
fn duration(upload: &ObjectInfo, state: Seen) -> Option<(SystemTime, u64)> {
    let uploaded = upload.last_modified?;
    let took = state.last_rotation?.duration_since(uploaded).ok()?;
    Some((
        uploaded,
        u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
    ))
}

fn stuck_upload(
    upload: &UploadKey,
    object: &ObjectInfo,
    state: Seen,
    age: Duration,
) -> StuckUpload {
    StuckUpload {
        key: upload.as_str().to_owned(),
        age_secs: age.as_secs(),
        missing: state.landed.missing().map(Output::code).collect(),
        size_bytes: object.size_bytes,
        uploaded: object.last_modified,
    }
}

/// The upload name a record judged, if it is a record at all.
fn recorded_name(body: &[u8]) -> Option<String> {
    let record: FailedRecord = serde_json::from_slice(body).ok()?;
    let upload = UploadKey::parse(&record.source_key).ok()?;
    Some(upload.name().to_owned())
}
