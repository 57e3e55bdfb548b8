//! One upload read from the bucket for an export: its source's facts (from the
//! processed image's metadata; for outputs made before provenance was recorded,
//! from the original: the upload's own hash in its metadata, else its bytes),
//! its split, and the outputs that split gets, with their bytes.

use std::sync::Arc;

use augment_pipeline::contract::UPLOAD_EXTENSIONS;
use augment_pipeline::limits::{MAX_OUTPUT_BYTES, MAX_UPLOAD_BYTES};
use augment_pipeline::outputs::Output;
use augment_pipeline::provenance::{Provenance, is_sha256_hex, sha256_hex};
use augment_pipeline::steps::SOURCE_KEY_METADATA;
use augment_pipeline::{Angle, UploadKey};

use super::label::split_label;
use super::split::SplitSpec;
use crate::dedupe::SHA256_METADATA;
use crate::error::{ClientError, ErrorKind};
use crate::names::upload_key_for;
use crate::remote::Remote;
use crate::retry::{self, RETRY_BUDGET};

/// The choices of an export that decide what each upload becomes.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) splits: SplitSpec,
    pub(crate) seed: u64,
    pub(crate) all_angles: bool,
    pub(crate) label_depth: usize,
}

/// An upload ready to be written.
#[derive(Debug)]
pub(crate) struct Exported {
    pub(crate) name: String,
    pub(crate) label: Option<String>,
    /// The name after its label's folders.
    pub(crate) rest: String,
    pub(crate) split: String,
    pub(crate) group: String,
    pub(crate) source_key: Option<String>,
    pub(crate) source_sha256: Option<String>,
    pub(crate) provenance: Provenance,
    /// In [`Output::ROTATIONS`] order.
    pub(crate) outputs: Vec<OutputBytes>,
}

#[derive(Debug)]
pub(crate) struct OutputBytes {
    pub(crate) angle: Angle,
    pub(crate) key: String,
    pub(crate) bytes: Vec<u8>,
    pub(crate) sha256: String,
}

/// What reading one upload came to.
#[derive(Debug)]
pub(crate) enum Fetched {
    Ready(Exported),
    /// Outputs the export needs are not there (the pipeline may still be at it).
    Incomplete {
        name: String,
        missing: Vec<String>,
    },
    /// Deleted since it was listed.
    Gone,
    Failed {
        name: String,
        error: ClientError,
    },
}

const UPRIGHT: Output = Output::Rotation(Angle::Deg360);

impl Remote {
    pub(crate) async fn fetch_for_export(&self, name: String, plan: Arc<Plan>) -> Fetched {
        match self.fetch_upload(&name, &plan).await {
            Ok(fetched) => fetched,
            Err(error) => Fetched::Failed { name, error },
        }
    }

    async fn fetch_upload(&self, name: &str, plan: &Plan) -> Result<Fetched, ClientError> {
        let upload = upload_key_for(name)?;
        let Some(metadata) = self.metadata_of(&Output::Processed.key(&upload)).await? else {
            return Ok(Fetched::Gone);
        };
        let provenance = Provenance::recorded_in(&metadata);
        let source_key = match recorded_source(&metadata, name) {
            Some(key) => Some(key),
            None => self.original_of(name).await?,
        };
        let source_sha256 = match (&provenance.source_sha256, &source_key) {
            (Some(sha), _) => Some(sha.clone()),
            (None, Some(key)) => self.hash_of_original(key).await?,
            (None, None) => None,
        };
        let Some(upright) = self.output_bytes(&upload, UPRIGHT).await? else {
            return Ok(incomplete(name, &upload, &[UPRIGHT]));
        };
        let group = source_sha256.as_ref().map_or_else(
            || format!("upright-sha256:{}", upright.sha256),
            |sha| format!("sha256:{sha}"),
        );
        let split = plan.splits.assign(plan.seed, &group).to_owned();
        let mut outputs = Vec::with_capacity(4);
        if plan.all_angles || split == plan.splits.training() {
            let mut missing = Vec::new();
            for output in &Output::ROTATIONS[..3] {
                match self.output_bytes(&upload, *output).await? {
                    Some(bytes) => outputs.push(bytes),
                    None => missing.push(*output),
                }
            }
            if !missing.is_empty() {
                return Ok(incomplete(name, &upload, &missing));
            }
        }
        outputs.push(upright);
        let (label, rest) = split_label(name, plan.label_depth);
        Ok(Fetched::Ready(Exported {
            name: name.to_owned(),
            label: label.map(str::to_owned),
            rest: rest.to_owned(),
            split,
            group,
            source_key,
            source_sha256,
            provenance,
            outputs,
        }))
    }

    /// An object's user metadata, `None` when there is no object; retried.
    pub(crate) async fn metadata_of(
        &self,
        key: &str,
    ) -> Result<Option<Vec<(String, String)>>, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        retry::until(deadline, &self.inner.retried, || async move {
            self.inner
                .store
                .head_metadata(key)
                .await
                .map_err(|err| self.error(err))
        })
        .await
    }

    /// The original of `name` when its outputs do not say: a head of each
    /// usual spelling of the extensions first (one request each, where a
    /// listing of the name's folder costs the folder's size, per upload), then
    /// the listing for the rare `.Jpg`.
    async fn original_of(&self, name: &str) -> Result<Option<String>, ClientError> {
        for ext in UPLOAD_EXTENSIONS
            .iter()
            .flat_map(|ext| [(*ext).to_owned(), ext.to_ascii_uppercase()])
        {
            let Ok(upload) = UploadKey::from_name(name, &ext) else {
                continue;
            };
            if self.metadata_of(upload.as_str()).await?.is_some() {
                return Ok(Some(upload.as_str().to_owned()));
            }
        }
        Ok(self.originals_of(name).await?.into_iter().next())
    }

    /// The SHA-256 of an original: the one its upload recorded, else of its
    /// bytes; `None` when it is gone.
    async fn hash_of_original(&self, key: &str) -> Result<Option<String>, ClientError> {
        let Some(metadata) = self.metadata_of(key).await? else {
            return Ok(None);
        };
        if let Some((_, sha)) = metadata
            .iter()
            .find(|(name, value)| name == SHA256_METADATA && is_sha256_hex(value))
        {
            return Ok(Some(sha.clone()));
        }
        match self.get(key, MAX_UPLOAD_BYTES).await {
            Ok(bytes) => Ok(Some(sha256_hex(&bytes))),
            Err(err) if matches!(err.kind, ErrorKind::NotFound | ErrorKind::Rejected(_)) => {
                Ok(None)
            }
            Err(err) => Err(err),
        }
    }

    /// An output's bytes and hash, `None` when it is not there.
    pub(crate) async fn output_bytes(
        &self,
        upload: &UploadKey,
        output: Output,
    ) -> Result<Option<OutputBytes>, ClientError> {
        let key = output.key(upload);
        match self.get(&key, MAX_OUTPUT_BYTES).await {
            Ok(bytes) => Ok(Some(OutputBytes {
                angle: output.angle().unwrap_or(Angle::Deg360),
                sha256: sha256_hex(&bytes),
                key,
                bytes,
            })),
            Err(err) if err.kind == ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// The source key the processed image records, if it is an upload of this name
/// (the bucket is not trusted).
fn recorded_source(metadata: &[(String, String)], name: &str) -> Option<String> {
    metadata
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(SOURCE_KEY_METADATA))
        .and_then(|(_, key)| UploadKey::parse(key).ok())
        .filter(|upload| upload.name() == name)
        .map(|upload| upload.as_str().to_owned())
}

fn incomplete(name: &str, upload: &UploadKey, missing: &[Output]) -> Fetched {
    Fetched::Incomplete {
        name: name.to_owned(),
        missing: missing.iter().map(|output| output.key(upload)).collect(),
    }
}
