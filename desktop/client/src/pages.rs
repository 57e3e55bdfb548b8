//! The bucket's listing one page at a time, each page's request tried again
//! after a transient error: what download, export and verify walk, so their
//! memory stays flat in the number of objects.

use std::fmt;
use std::sync::Arc;

use augment_pipeline::contract::PROCESSED_PREFIX;
use augment_pipeline::outputs::{BucketKey, Output};
use augment_pipeline::{ListRequest, ObjectInfo};

use crate::error::ClientError;
use crate::remote::Remote;
use crate::retry::{self, RETRY_BUDGET};

/// Objects per listing page (S3's `ListObjectsV2` returns at most 1,000).
pub const LIST_PAGE_KEYS: usize = 1000;

/// One page of a listing: its objects, sorted by key, and where the next starts.
#[derive(Debug, Clone, Default)]
pub(crate) struct Listed {
    pub(crate) objects: Vec<ObjectInfo>,
    pub(crate) next: Option<String>,
}

impl Remote {
    /// The page of `prefix` after `cursor`, at most `keys` long; a transient
    /// error asks again with backoff within [`RETRY_BUDGET`].
    pub(crate) async fn page(
        &self,
        prefix: &str,
        cursor: Option<&str>,
        keys: usize,
    ) -> Result<Listed, ClientError> {
        let deadline = tokio::time::Instant::now() + RETRY_BUDGET;
        let page = retry::until(deadline, &self.inner.retried, || async move {
            self.inner
                .store
                .list_page(ListRequest::new(prefix, cursor, keys))
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

/// A listing walked from its start, a page at a time:
/// `while let Some(objects) = pages.next(remote).await? { … }`.
#[derive(Debug, Clone)]
pub(crate) struct Pages {
    prefix: String,
    cursor: Option<String>,
    done: bool,
    /// The next page's length: [`LIST_PAGE_KEYS`] but for a short first page.
    keys: usize,
}

impl Pages {
    pub(crate) fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            cursor: None,
            done: false,
            keys: LIST_PAGE_KEYS,
        }
    }

    /// The same walk with a first page of at most `keys` objects (the pages
    /// after it full): the first answer comes back sooner, so work on it can
    /// start while the rest is listed.
    pub(crate) fn short_first(self, keys: usize) -> Self {
        Self { keys, ..self }
    }

    /// `processed/<name_prefix>`: one entry per image the pipeline made.
    pub(crate) fn processed(name_prefix: &str) -> Self {
        Self::new(format!("{PROCESSED_PREFIX}{name_prefix}"))
    }

    /// The next page's objects; `None` after the last.
    pub(crate) async fn next(
        &mut self,
        remote: &Remote,
    ) -> Result<Option<Vec<ObjectInfo>>, ClientError> {
        if self.done {
            return Ok(None);
        }
        let page = remote
            .page(&self.prefix, self.cursor.as_deref(), self.keys)
            .await?;
        self.keys = LIST_PAGE_KEYS;
        self.done = page.next.is_none();
        self.cursor = page.next;
        Ok(Some(page.objects))
    }
}

/// The `<name>` of a processed image's key (`processed/<name>_256x256.jpg`);
/// `None` for anything else.
pub(crate) fn processed_name(key: &str) -> Option<&str> {
    match BucketKey::parse(key) {
        BucketKey::Output {
            name,
            output: Output::Processed,
        } => Some(name),
        _ => None,
    }
}

/// Which uploads a download or an export takes, by `<name>` (the app's gallery
/// filter: its own rule of case and accents); every one by default.
#[derive(Clone, Default)]
pub struct NameFilter(Option<(String, Matcher)>);

type Matcher = Arc<dyn Fn(&str) -> bool + Send + Sync>;

impl NameFilter {
    /// Only the names `matches` lets through; `label` says which in words
    /// (the filter's text), and tells one filter from another.
    pub fn new(
        label: impl Into<String>,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self(Some((label.into(), Arc::new(matches))))
    }

    pub fn matches(&self, name: &str) -> bool {
        self.0.as_ref().is_none_or(|(_, matches)| matches(name))
    }

    /// Whether it lets every name through.
    pub fn is_all(&self) -> bool {
        self.0.is_none()
    }

    /// The filter in words; empty for all.
    pub fn label(&self) -> &str {
        self.0.as_ref().map_or("", |(label, _)| label)
    }
}

impl fmt::Debug for NameFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameFilter({:?})", self.label())
    }
}
