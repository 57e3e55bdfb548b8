//! Telling a second upload of the same file from a new one: every upload carries
//! the SHA-256 of its bytes in its user metadata ([`SHA256_METADATA`], so
//! `x-amz-meta-sha256` on S3, and the folder store's side file in local mode),
//! and [`Remote::uploaded_copy`] compares a file's hash with the uploads already
//! under its name.

use sha2::{Digest as _, Sha256};

use crate::names::split_file_name;
use crate::retry::{self, RETRY_BUDGET};
use crate::{ClientError, Remote};

/// The user-metadata name of an upload's content hash (lowercase hex SHA-256).
pub const SHA256_METADATA: &str = "sha256";

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let digest = Sha256::digest(bytes);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

impl Remote {
    /// The key of an upload already in the bucket under `file_name`'s name (any
    /// upload extension, any case) with these very bytes (`sha256`, from
    /// [`sha256_hex`]), if there is one. Uploads made before hashes were stored
    /// carry none and never match. One list and one `HEAD` per original; a
    /// transient error asks again with backoff within [`RETRY_BUDGET`].
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
            let metadata = self
                .inner
                .store
                .head_metadata(&key)
                .await
                .map_err(|err| self.error(err))?;
            let same = metadata.is_some_and(|metadata| {
                metadata
                    .iter()
                    .any(|(field, value)| field == SHA256_METADATA && value == sha256)
            });
            if same {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
