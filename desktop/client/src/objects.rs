//! Reading, saving and deleting what the pipeline made.

use std::path::Path;

use augment_local::FolderStore;
use augment_pipeline::limits::MAX_OUTPUT_BYTES;
use augment_pipeline::{ObjectStore, PutObject};

use crate::error::ClientError;
use crate::retry::RETRY_BUDGET;

use crate::names::upload_key_for;
use crate::remote::Remote;
use crate::retry;

impl Remote {
    /// The object at `key`, refusing to read more than `max_bytes`. A transient
    /// error (a body cut mid-download, a 503) is tried again with backoff for up
    /// to [`RETRY_BUDGET`].
    pub async fn get(&self, key: &str, max_bytes: u64) -> Result<Vec<u8>, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        retry::until(deadline, &self.inner.retried, || async move {
            self.inner
                .store
                .get(key, max_bytes)
                .await
                .map_err(|err| self.error(err))
        })
        .await
    }

    /// Downloads each `(key, name)` to `folder/<name>`, written whole or not at
    /// all. `name` becomes a path by the folder store's rules
    /// ([`augment_local::key_path`]), so no key in the bucket can write outside
    /// `folder`, on any OS. Outputs only: at most [`MAX_OUTPUT_BYTES`] each.
    pub async fn save_to_folder(
        &self,
        objects: &[(String, String)],
        folder: &Path,
    ) -> Result<(), ClientError> {
        let target = FolderStore::new(folder);
        for (key, name) in objects {
            let body = self.get(key, MAX_OUTPUT_BYTES).await?;
            target
                .put(PutObject {
                    key: name.clone(),
                    body,
                    content_type: "application/octet-stream",
                    metadata: Vec::new(),
                    tags: Vec::new(),
                    on_sent: None,
                })
                .await
                .map_err(ClientError::from_store)?;
        }
        Ok(())
    }

    /// Deletes an image and everything made from it: its original(s) under
    /// `original-uploads/` (any of the three extensions, any case), the processed
    /// image, the four rotations and the failed record. Missing pieces are fine.
    pub async fn delete_image(&self, name: &str) -> Result<(), ClientError> {
        // `processed/` before the rotations (`Output::ALL` lists it first): a
        // rotation being written meanwhile looks at `processed/` after its write
        // and deletes itself when it is gone (`steps::make_rotation`), so nothing
        // is left behind.
        let key = upload_key_for(name)?;
        let mut keys = self.originals_of(name).await?;
        keys.extend(key.output_keys());
        keys.push(key.failed_key());
        for key in keys {
            self.inner
                .store
                .delete(&key)
                .await
                .map_err(|err| self.error(err))?;
        }
        Ok(())
    }
}
