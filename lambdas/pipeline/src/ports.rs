//! The two narrow ports the steps run over. AWS adapters (S3, SQS) and local
//! adapters (a folder, a channel: [`crate::local`]) implement them.

use std::error::Error as StdError;
use std::future::Future;

use crate::contract::RotationTask;

pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// What `head` and `list` know of an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size_bytes: u64,
}

/// An object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutObject {
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// User metadata (`x-amz-meta-*` on S3), e.g. the source key of an output.
    pub metadata: Vec<(&'static str, String)>,
}

/// Get, head, put, list, delete: all the pipeline needs of a bucket.
pub trait ObjectStore: Send + Sync {
    /// `Ok(None)` when there is no object at `key`.
    fn head(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectInfo>, StoreError>> + Send;

    /// The whole object, refusing ([`StoreError::TooLarge`]) to read more than
    /// `max_bytes` whatever the object's stated size.
    fn get(
        &self,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send;

    /// Writes the object whole or not at all: readers never see a partial object.
    fn put(&self, object: PutObject) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every object whose key starts with `prefix`, sorted by key.
    fn list(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ObjectInfo>, StoreError>> + Send;

    /// Deleting a missing object succeeds, as on S3.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send;
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
impl<T: ObjectStore> ObjectStore for &T {
    fn head(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectInfo>, StoreError>> + Send {
        (**self).head(key)
    }

    fn get(
        &self,
        key: &str,
        max_bytes: u64,
    ) -> impl Future<Output = Result<Vec<u8>, StoreError>> + Send {
        (**self).get(key, max_bytes)
    }

    fn put(&self, object: PutObject) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).put(object)
    }

    fn list(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ObjectInfo>, StoreError>> + Send {
        (**self).list(prefix)
    }

    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).delete(key)
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
