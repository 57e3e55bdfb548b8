//! An object store and a task queue in memory, with switches to make them fail
//! the way S3 and SQS do. For fast tests of anything generic over the ports.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::contract::{KeyRules, RotationTask};
use crate::ports::{
    BoxError, Failure, ListPage, ListRequest, ObjectInfo, ObjectStore, PutObject, QueueError,
    StoreError, StoreFuture, TaskQueue,
};

/// A bucket in a map.
#[derive(Debug)]
pub struct MemoryStore {
    objects: Mutex<BTreeMap<String, PutObject>>,
    gets: AtomicUsize,
    /// Keys whose every request fails with a transient (503 Slow Down) error.
    pub flaky_keys: Mutex<Vec<String>>,
    /// Size `head` reports instead of the real one (a lying `Content-Length`).
    pub head_size_override: Mutex<Option<u64>>,
    /// The keys it holds: S3's rule by default, a folder's to stand in for one.
    pub key_rules: Mutex<KeyRules>,
    /// Answer a read of a missing key with 403 `AccessDenied`, as S3 does to a
    /// caller without `s3:ListBucket` (listing still works).
    pub missing_is_forbidden: AtomicBool,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self {
            objects: Mutex::default(),
            gets: AtomicUsize::default(),
            flaky_keys: Mutex::default(),
            head_size_override: Mutex::default(),
            key_rules: Mutex::new(KeyRules::S3),
            missing_is_forbidden: AtomicBool::new(false),
        }
    }
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain data behind: still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl MemoryStore {
    /// The name-value pairs `field` picks of the object at `key` (its metadata,
    /// its tags), or `None` where there is none, with the faults `op` has.
    fn pairs(
        &self,
        op: &'static str,
        key: &str,
        field: impl Fn(&PutObject) -> &[(&'static str, String)],
    ) -> Result<Option<Vec<(String, String)>>, StoreError> {
        self.fault(op, key)?;
        let found = locked(&self.objects).get(key).map(|object| {
            field(object)
                .iter()
                .map(|(name, value)| ((*name).to_owned(), value.clone()))
                .collect()
        });
        if found.is_none() {
            self.missing(op, key)?;
        }
        Ok(found)
    }

    pub fn with(key: &str, body: Vec<u8>) -> Self {
        let store = Self::default();
        store.insert(key, body);
        store
    }

    pub fn insert(&self, key: &str, body: Vec<u8>) {
        let object = PutObject {
            key: key.into(),
            body,
            content_type: "application/octet-stream",
            metadata: vec![],
            tags: Vec::new(),
            on_sent: None,
        };
        locked(&self.objects).insert(key.into(), object);
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        locked(&self.objects).keys().cloned().collect()
    }

    pub fn object(&self, key: &str) -> Option<PutObject> {
        locked(&self.objects).get(key).cloned()
    }

    /// The user metadata `name` of the object at `key`, if both exist.
    pub fn metadata(&self, key: &str, name: &str) -> Option<String> {
        locked(&self.objects)
            .get(key)?
            .metadata
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value.clone())
    }

    /// How many `get`s were made (to prove a download did not happen).
    pub fn get_count(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }

    pub fn make_flaky(&self, key: &str) {
        locked(&self.flaky_keys).push(key.into());
    }

    /// The read of a missing `key`: `Ok(())` to answer "none", or the 403 of a
    /// caller that may not list.
    fn missing(&self, op: &'static str, key: &str) -> Result<(), StoreError> {
        if !self.missing_is_forbidden.load(Ordering::SeqCst) {
            return Ok(());
        }
        Err(StoreError::Backend {
            op,
            key: key.into(),
            failure: Failure::Service {
                code: Some("AccessDenied".into()),
                status: Some(403),
            },
            transient: false,
            source: BoxError::from("403 Access Denied"),
        })
    }

    fn fault(&self, op: &'static str, key: &str) -> Result<(), StoreError> {
        if locked(&self.flaky_keys).iter().any(|k| k == key) {
            return Err(StoreError::Backend {
                op,
                key: key.into(),
                failure: Failure::Service {
                    code: Some("SlowDown".into()),
                    status: Some(503),
                },
                transient: true,
                source: BoxError::from("503 Slow Down"),
            });
        }
        Ok(())
    }
}

impl ObjectStore for MemoryStore {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        Box::pin(async move {
            self.fault("head", key)?;
            let size = locked(&self.objects).get(key).map(|o| o.body.len() as u64);
            if size.is_none() {
                self.missing("head", key)?;
            }
            let size = size.map(|real| locked(&self.head_size_override).unwrap_or(real));
            Ok(size.map(|size_bytes| ObjectInfo {
                key: key.into(),
                size_bytes,
                last_modified: None,
            }))
        })
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move {
            self.gets.fetch_add(1, Ordering::SeqCst);
            self.fault("get", key)?;
            let body = locked(&self.objects).get(key).map(|o| o.body.clone());
            match body {
                None => {
                    self.missing("get", key)?;
                    Err(StoreError::NotFound { key: key.into() })
                }
                Some(body) if body.len() as u64 > max_bytes => Err(StoreError::TooLarge {
                    key: key.into(),
                    limit_bytes: max_bytes,
                }),
                Some(body) => Ok(body),
            }
        })
    }

    fn put(&self, mut object: PutObject) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.fault("put", &object.key)?;
            // Handed over at once: the start and the whole.
            if let Some(on_sent) = object.on_sent.take() {
                on_sent.report(0);
                on_sent.report(object.body.len() as u64);
            }
            locked(&self.objects).insert(object.key.clone(), object);
            Ok(())
        })
    }

    /// Atomic, as S3's conditional write: the look and the write under one lock.
    fn put_if_absent(&self, mut object: PutObject) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            self.fault("put", &object.key)?;
            let mut objects = locked(&self.objects);
            if objects.contains_key(&object.key) {
                return Ok(false);
            }
            if let Some(on_sent) = object.on_sent.take() {
                on_sent.report(0);
                on_sent.report(object.body.len() as u64);
            }
            objects.insert(object.key.clone(), object);
            Ok(true)
        })
    }

    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        Box::pin(async move {
            let found = locked(&self.objects)
                .values()
                .filter(|o| o.key.starts_with(request.prefix))
                .map(|o| ObjectInfo {
                    key: o.key.clone(),
                    size_bytes: o.body.len() as u64,
                    last_modified: None,
                })
                .collect();
            Ok(request.page_of(found))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.fault("delete", key)?;
            locked(&self.objects).remove(key);
            Ok(())
        })
    }

    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move { self.pairs("head", key, |object| &object.metadata) })
    }

    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        Box::pin(async move { self.pairs("tagging", key, |object| &object.tags) })
    }

    fn key_rules(&self) -> KeyRules {
        *locked(&self.key_rules)
    }
}

/// What a [`Hooked`] store does before it hands a `get` or a `put` to its
/// [`MemoryStore`]: a test's way to make something happen at that moment (a
/// delete racing a write, a read that takes its time). Each does nothing unless
/// overridden; an error ends the call with it.
pub trait Hook: Send + Sync {
    fn before_get<'a>(&'a self, _inner: &'a MemoryStore, _key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }

    fn before_put<'a>(&'a self, _inner: &'a MemoryStore, _key: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// A [`MemoryStore`] whose reads and writes run a [`Hook`] first; every other
/// call goes straight to the store.
pub struct Hooked<H> {
    pub inner: MemoryStore,
    pub hook: H,
}

impl<H: Hook> ObjectStore for Hooked<H> {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        self.inner.head(key)
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        Box::pin(async move {
            self.hook.before_get(&self.inner, key).await?;
            self.inner.get(key, max_bytes).await
        })
    }

    fn put(&self, object: PutObject) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            self.hook.before_put(&self.inner, &object.key).await?;
            self.inner.put(object).await
        })
    }

    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        self.inner.list_page(request)
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.inner.delete(key)
    }

    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        self.inner.head_metadata(key)
    }

    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        self.inner.object_tags(key)
    }

    fn key_rules(&self) -> KeyRules {
        self.inner.key_rules()
    }
}

/// Every key under `prefix`, in the store's order ([`ObjectStore::list`]).
pub async fn keys(store: &dyn ObjectStore, prefix: &str) -> Result<Vec<String>, StoreError> {
    Ok(store
        .list(prefix)
        .await?
        .into_iter()
        .map(|o| o.key)
        .collect())
}

/// The keys under `prefix` as [`ObjectStore::list_page`] hands them out,
/// `max_keys` a page, following each page's cursor: for tests of a store's paging.
pub async fn keys_by_page(
    store: &dyn ObjectStore,
    prefix: &str,
    max_keys: usize,
) -> Result<Vec<Vec<String>>, StoreError> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let request = ListRequest::new(prefix, cursor.as_deref(), max_keys);
        let page = store.list_page(request).await?;
        pages.push(page.objects.into_iter().map(|o| o.key).collect());
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(pages),
        }
    }
}

/// A queue that records every batch.
#[derive(Debug, Default)]
pub struct MemoryQueue {
    batches: Mutex<Vec<Vec<RotationTask>>>,
    /// Fail every send with a transient partial failure (SQS throttling).
    pub fail: bool,
}

impl MemoryQueue {
    pub fn failing() -> Self {
        Self {
            fail: true,
            ..Self::default()
        }
    }

    pub fn batches(&self) -> Vec<Vec<RotationTask>> {
        locked(&self.batches).clone()
    }
}

impl TaskQueue for MemoryQueue {
    async fn send_batch(&self, tasks: &[RotationTask]) -> Result<(), QueueError> {
        if self.fail {
            return Err(QueueError::Partial {
                sent: tasks.len(),
                failed: tasks.len(),
                detail: "ThrottlingException".into(),
                transient: true,
            });
        }
        locked(&self.batches).push(tasks.to_vec());
        Ok(())
    }
}
