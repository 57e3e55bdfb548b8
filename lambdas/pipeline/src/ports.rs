//! The two narrow ports the steps run over. The AWS adapters (`augment-aws`: S3,
//! SQS) and the local ones (`augment-local`: a folder, a channel) implement them,
//! and the desktop client holds one store through [`ObjectStore`] too.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use crate::contract::{KeyRules, RotationTask};

pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What an [`ObjectStore`] call returns. Boxed, so that a client can hold one
/// store whichever it is (`Arc<dyn ObjectStore>`): one allocation per call, nothing
/// next to a disk or network round trip.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// What `head` and `list` know of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size_bytes: u64,
    /// When it was last written, where the store says (S3, a folder).
    pub last_modified: Option<SystemTime>,
}

/// An object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObject {
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// User metadata (`x-amz-meta-*` on S3), e.g. the source key of an output.
    /// Read back with the object's own read permission.
    pub metadata: Vec<(&'static str, String)>,
    /// Object tags (S3's `Tagging`, sent in the same request as the object):
    /// facts that may be read by someone who may not read the object
    /// (`s3:GetObjectTagging`), e.g. an upload's content hash for the duplicate
    /// question. S3 takes at most 10 a object.
    pub tags: Vec<(&'static str, String)>,
    /// Hears the bytes of `body` handed over so far (a progress bar).
    pub on_sent: Option<OnSent>,
}

impl PutObject {
    /// A put of `body` at `key`, with no metadata, no tags and no progress.
    pub fn new(
        key: impl Into<String>,
        body: impl Into<Vec<u8>>,
        content_type: &'static str,
    ) -> Self {
        Self {
            key: key.into(),
            body: body.into(),
            content_type,
            metadata: Vec::new(),
            tags: Vec::new(),
            on_sent: None,
        }
    }
}

/// A callback for [`PutObject::on_sent`]: called with 0 when an attempt starts
/// and then with the running total, so on a retry the count goes back to 0 once
/// and rises again to the body's length. May be called on another thread.
#[derive(Clone)]
pub struct OnSent(Arc<dyn Fn(u64) + Send + Sync>);

impl OnSent {
    pub fn new(report: impl Fn(u64) + Send + Sync + 'static) -> Self {
        Self(Arc::new(report))
    }

    pub fn report(&self, sent_bytes: u64) {
        (self.0)(sent_bytes);
    }
}

impl fmt::Debug for OnSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnSent(..)")
    }
}

/// The same callback, not one that behaves alike.
impl PartialEq for OnSent {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for OnSent {}

/// Which page [`ObjectStore::list_page`] is to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListRequest<'a> {
    /// Keys that start with this.
    pub prefix: &'a str,
    /// The previous page's `next`; `None` for the first page.
    pub cursor: Option<&'a str>,
    /// At most this many objects (a store may cap it: S3 returns at most 1,000).
    pub max_keys: usize,
}

impl<'a> ListRequest<'a> {
    pub const fn new(prefix: &'a str, cursor: Option<&'a str>, max_keys: usize) -> Self {
        Self {
            prefix,
            cursor,
            max_keys,
        }
    }

    /// This page of everything a store found under the prefix, for stores that
    /// read a whole prefix at once (a folder, memory): the cursor is the last key
    /// of the page before.
    pub fn page_of(&self, mut sorted: Vec<ObjectInfo>) -> ListPage {
        if let Some(after) = self.cursor {
            sorted.retain(|info| info.key.as_str() > after);
        }
        let more = sorted.len() > self.max_keys;
        sorted.truncate(self.max_keys);
        let next = more
            .then(|| sorted.last().map(|info| info.key.clone()))
            .flatten();
        ListPage {
            objects: sorted,
            next,
        }
    }
}

/// One page of [`ObjectStore::list_page`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// Sorted by key.
    pub objects: Vec<ObjectInfo>,
    /// Where the next page starts (pass it back as the cursor); `None` on the last.
    pub next: Option<String>,
}

/// Get, head, put, list, delete: all the pipeline (and a client) needs of a bucket.
pub trait ObjectStore: Send + Sync {
    /// `Ok(None)` when there is no object at `key`.
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>>;

    /// The whole object, refusing ([`StoreError::TooLarge`]) to read more than
    /// `max_bytes` whatever the object's stated size.
    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>>;

    /// Writes the object whole or not at all: readers never see a partial object,
    /// and dropping the future before it ends leaves nothing at the key.
    fn put(&self, object: PutObject) -> StoreFuture<'_, ()>;

    /// Writes the object as [`ObjectStore::put`] does, but only if no object is at
    /// its key: `Ok(false)`, and nothing written, when one is. On S3 one
    /// conditional `PutObject` (`If-None-Match: *`), so two writers racing for a
    /// key cannot both win; a store that cannot do that atomically looks first.
    fn put_if_absent(&self, object: PutObject) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            if self.head(&object.key).await?.is_some() {
                return Ok(false);
            }
            self.put(object).await.map(|()| true)
        })
    }

    /// One page of the objects whose key starts with the prefix, sorted by key.
    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage>;

    /// Every object whose key starts with `prefix`, sorted by key: every page.
    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<ObjectInfo>> {
        Box::pin(async move {
            let mut found = Vec::new();
            let mut cursor = None;
            loop {
                let page = self
                    .list_page(ListRequest::new(prefix, cursor.as_deref(), usize::MAX))
                    .await?;
                found.extend(page.objects);
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => return Ok(found),
                }
            }
        })
    }

    /// Deleting a missing object succeeds, as on S3.
    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()>;

    /// The user metadata the object was written with ([`PutObject::metadata`],
    /// S3's `x-amz-meta-*`, names in lower case), or `Ok(None)` when there is no
    /// object at `key`. A store that keeps no metadata answers an empty list.
    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move { Ok(self.head(key).await?.map(|_| Vec::new())) })
    }

    /// The tags the object was written with ([`PutObject::tags`]), or `Ok(None)`
    /// when there is no object at `key`. A store that keeps no tags answers an
    /// empty list.
    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move { Ok(self.head(key).await?.map(|_| Vec::new())) })
    }

    /// Which keys this store can hold: S3's rule unless the store says otherwise.
    fn key_rules(&self) -> KeyRules {
        KeyRules::S3
    }
}

/// Sends rotation tasks to the workers.
pub trait TaskQueue: Send + Sync {
    /// Sends all `tasks` (at most 10, SQS's batch limit) or fails.
    fn send_batch(
        &self,
        tasks: &[RotationTask],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("there is no object at this key: {key}")]
    NotFound { key: String },
    #[error("the object is larger than the {limit_bytes}-byte limit: {key}")]
    TooLarge { key: String, limit_bytes: u64 },
    #[error("this key cannot be stored ({reason}): {key}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("object store {op} failed: {key}")]
    Backend {
        op: &'static str,
        key: String,
        /// What the service said, as far as it said anything.
        failure: Failure,
        /// Worth retrying: throttling, 5xx, timeouts, connection resets.
        transient: bool,
        /// The adapter's own error, whole (an SDK error keeps its causes, such
        /// as a credentials error, for whoever classifies it).
        #[source]
        source: BoxError,
    },
}

/// How a store call failed, kept in structure so that a client can tell a person
/// what to do (bad credentials, no such bucket, offline) without parsing text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The service answered with an error: its code (`AccessDenied`,
    /// `NoSuchBucket`…; none when the answer had no body, as for `HEAD`) and the
    /// HTTP status.
    Service {
        code: Option<String>,
        status: Option<u16>,
    },
    /// No answer: no network, DNS, a refused connection, a timeout.
    NoAnswer,
    /// The request could not be made (an endpoint URL or region that cannot
    /// work, credentials that could not be loaded).
    Request,
    /// Anything else, e.g. a file system error in a folder store.
    Other,
}

impl StoreError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Backend {
                transient: true,
                ..
            }
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the task queue is closed")]
    Closed,
    #[error("{failed} of {sent} tasks were not queued: {detail}")]
    Partial {
        sent: usize,
        failed: usize,
        detail: String,
        transient: bool,
    },
    #[error("sending tasks to the queue failed")]
    Backend {
        transient: bool,
        #[source]
        source: BoxError,
    },
}

impl QueueError {
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Partial {
                transient: true,
                ..
            } | Self::Backend {
                transient: true,
                ..
            }
        )
    }
}

/// A shared reference to a store is a store (handlers take a store per bucket;
/// tests hand out one in-memory store by reference).
impl<T: ObjectStore + ?Sized> ObjectStore for &T {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        (**self).head(key)
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        (**self).get(key, max_bytes)
    }

    fn put(&self, object: PutObject) -> StoreFuture<'_, ()> {
        (**self).put(object)
    }

    fn put_if_absent(&self, object: PutObject) -> StoreFuture<'_, bool> {
        (**self).put_if_absent(object)
    }

    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        (**self).list_page(request)
    }

    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<ObjectInfo>> {
        (**self).list(prefix)
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        (**self).delete(key)
    }

    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        (**self).head_metadata(key)
    }

    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        (**self).object_tags(key)
    }

    fn key_rules(&self) -> KeyRules {
        (**self).key_rules()
    }
}

impl<T: TaskQueue> TaskQueue for &T {
    fn send_batch(
        &self,
        tasks: &[RotationTask],
    ) -> impl Future<Output = Result<(), QueueError>> + Send {
        (**self).send_batch(tasks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(key: &str) -> ObjectInfo {
        ObjectInfo {
            key: key.into(),
            size_bytes: 1,
            last_modified: None,
        }
    }

    #[test]
    fn pages_after_a_cursor_give_every_object_once_in_order() {
        let all: Vec<ObjectInfo> = ["a", "b", "c", "d", "e"].map(info).into();
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = ListRequest::new("", cursor.as_deref(), 2).page_of(all.clone());
            pages += 1;
            assert!(page.objects.len() <= 2, "{page:?}");
            seen.extend(page.objects.into_iter().map(|o| o.key));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"]);
        assert_eq!(pages, 3);
        // A page that ends exactly at the last object says there is no more.
        let after = |cursor| ListRequest::new("", Some(cursor), 2);
        assert_eq!(after("c").page_of(all.clone()).next, None);
        assert_eq!(after("e").page_of(all), ListPage::default());
    }

    /// A client holds a store whichever it is.
    #[test]
    fn the_store_port_is_dyn_compatible() {
        fn holds(_: Option<Arc<dyn ObjectStore>>) {}
        holds(None);
    }
}
