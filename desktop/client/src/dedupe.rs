//! Telling a second upload of the same file from a new one: every upload carries
//! the SHA-256 of its bytes as an object tag ([`SHA256_METADATA`]: S3's
//! `x-amz-tagging`, sent with the upload's own `PutObject`, and the folder
//! store's side file in local mode), and [`Remote::uploaded_copy`] compares a
//! file's hash with the uploads already under its name.
//!
//! A tag, not the user metadata (which the upload also carries): reading
//! metadata is a `HEAD`, which S3 authorises as `s3:GetObject`, and with that an
//! app user could download every original in a shared bucket. Reading a tag is
//! `s3:GetObjectTagging` alone, which gives the hash and nothing of the image.
//! Writing it costs no request (it rides on the upload), and reading it only one
//! per original already under the name, found by the listing the name check
//! makes anyway: a new name costs one list and no read at all. (A listing alone
//! cannot carry a hash: `ListObjectsV2` gives the `ETag`, the MD5 of the bytes
//! only without SSE-KMS.)

use crate::error::ClientError;
use crate::names::split_file_name;
use crate::remote::Remote;
use crate::retry::{self, RETRY_BUDGET};

/// The name of an upload's content hash (lowercase hex SHA-256), as its tag and
/// in its user metadata.
pub const SHA256_METADATA: &str = "sha256";

/// The lowercase hex SHA-256 of `bytes`: the pipeline's one spelling of it.
pub use augment_pipeline::provenance::sha256_hex;

impl Remote {
    /// The key of an upload already in the bucket under `file_name`'s name (any
    /// upload extension, any case) with these very bytes (`sha256`, from
    /// [`sha256_hex`]), if there is one. Uploads made before hashes were tagged
    /// carry none and never match. One list and one `GetObjectTagging` per
    /// original; a transient error asks again with backoff within
    /// [`RETRY_BUDGET`].
    pub async fn uploaded_copy(
        &self,
        file_name: &str,
        sha256: &str,
    ) -> Result<Option<String>, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        retry::until(deadline, &self.inner.retried, || {
            self.uploaded_copy_once(file_name, sha256)
        })
        .await
    }

    async fn uploaded_copy_once(
        &self,
        file_name: &str,
        sha256: &str,
    ) -> Result<Option<String>, ClientError> {
        let (name, _ext) = split_file_name(file_name)?;
        for key in self.originals_of(&name).await? {
            if self.has_hash(&key, sha256).await? {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }
}
