//! The bucket's listing one page at a time, each page's request tried again
//! after a transient error: what download, export and verify walk, so their
//! memory stays flat in the number of objects.

use augment_pipeline::{ListRequest, ObjectInfo};

use crate::retry::{self, RETRY_BUDGET};
use crate::{ClientError, Remote};

/// Objects per listing page (S3's `ListObjectsV2` returns at most 1,000).
pub const LIST_PAGE_KEYS: usize = 1000;

/// One page of a listing: its objects, sorted by key, and where the next starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Listed {
    pub(crate) objects: Vec<ObjectInfo>,
    pub(crate) next: Option<String>,
}

impl Remote {
    /// The page of `prefix` after `cursor`; a transient error asks again with
    /// backoff within [`RETRY_BUDGET`].
    pub(crate) async fn page(
        &self,
        prefix: &str,
        cursor: Option<&str>,
    ) -> Result<Listed, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        let page = retry::until(deadline, &self.inner.retried, || async move {
            self.inner
                .store
                .list_page(ListRequest::new(prefix, cursor, LIST_PAGE_KEYS))
                .await
                .map_err(|err| self.error(err))
        })
        .await?;
        Ok(Listed {
            objects: page.objects,
            next: page.next,
        })
    }
}
