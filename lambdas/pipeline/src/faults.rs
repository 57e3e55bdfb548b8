//! A fault-injecting wrapper of any [`ObjectStore`]: a seeded share of its calls
//! fail the way S3 fails under load (503 `SlowDown`, or the connection cut after a
//! write was stored), deterministically, so a chaos test fails the same way twice.
//! Each call's fate is a hash of the seed, the operation, the key and how many
//! times that operation was asked of that key before: it does not depend on the
//! order in which concurrent tasks happen to run.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::contract::KeyRules;
use crate::ports::{
    BoxError, Failure, ListPage, ListRequest, ObjectInfo, ObjectStore, PutObject, StoreError,
    StoreFuture,
};

/// Which calls may fail, and how often (per mille, so 100 is 10 %).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FaultPlan {
    pub seed: u64,
    pub per_mille: u32,
    pub heads: bool,
    pub gets: bool,
    pub puts: bool,
    pub lists: bool,
}

/// The wrapped store with [`FaultPlan`] applied, counting what it injected.
#[derive(Debug)]
pub struct FaultyStore<S> {
    inner: S,
    plan: FaultPlan,
    /// Calls so far per (operation, key): the fate of the next one depends on it.
    calls: Mutex<HashMap<(&'static str, String), u64>>,
    injected: AtomicU64,
}

impl<S> FaultyStore<S> {
    pub fn new(inner: S, plan: FaultPlan) -> Self {
        Self {
            inner,
            plan,
            calls: Mutex::new(HashMap::new()),
            injected: AtomicU64::new(0),
        }
    }

    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Faults returned so far (counted as each is returned, so a call dropped
    /// before it ended counts nothing).
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Whether this call fails: `Some(after_write)` when it does; a put fault
    /// happens before the write or, for every other one, after it (the object is
    /// stored, the reply lost).
    fn fate(&self, op: &'static str, enabled: bool, key: &str) -> Option<bool> {
        if !enabled || self.plan.per_mille == 0 {
            return None;
        }
        let nth = {
            let mut calls = self
                .calls
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = calls.entry((op, key.to_owned())).or_insert(0);
            *count += 1;
            *count
        };
        let mut hash = self.plan.seed ^ 0xcbf2_9ce4_8422_2325;
        for byte in op.bytes().chain(key.bytes()).chain(nth.to_le_bytes()) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        let hash = splitmix(hash);
        (hash % 1000 < u64::from(self.plan.per_mille)).then_some(hash & (1 << 32) != 0)
    }

    /// The error a faulty call returns, counted as it is returned.
    fn fault(&self, op: &'static str, key: &str, after_write: bool) -> StoreError {
        self.injected.fetch_add(1, Ordering::SeqCst);
        let (failure, what) = if after_write {
            (
                Failure::NoAnswer,
                "injected: connection reset after the request was handled",
            )
        } else {
            (
                Failure::Service {
                    code: Some("SlowDown".into()),
                    status: Some(503),
                },
                "injected: 503 Slow Down",
            )
        };
        StoreError::Backend {
            op,
            key: key.to_owned(),
            failure,
            transient: true,
            source: BoxError::from(what),
        }
    }
}

impl<S: ObjectStore> FaultyStore<S> {
    /// A write through `write`, faulted as a put: before it, or after it was
    /// done (the reply lost).
    fn put_with<'s, T: Send + 's>(
        &'s self,
        object: PutObject,
        write: impl Fn(PutObject) -> StoreFuture<'s, T> + Send + 's,
    ) -> StoreFuture<'s, T> {
        match self.fate("put", self.plan.puts, &object.key) {
            None => write(object),
            Some(after_write) => Box::pin(async move {
                let key = object.key.clone();
                if after_write {
                    write(object).await?;
                }
                Err(self.fault("put", &key, after_write))
            }),
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl<S: ObjectStore> ObjectStore for FaultyStore<S> {
    fn head<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<ObjectInfo>> {
        if self.fate("head", self.plan.heads, key).is_some() {
            return Box::pin(async move { Err(self.fault("head", key, false)) });
        }
        self.inner.head(key)
    }

    fn get<'a>(&'a self, key: &'a str, max_bytes: u64) -> StoreFuture<'a, Vec<u8>> {
        match self.fate("get", self.plan.gets, key) {
            None => self.inner.get(key, max_bytes),
            // A body cut mid-download: the bytes read so far are thrown away.
            Some(cut) => Box::pin(async move {
                if cut {
                    let _ = self.inner.get(key, max_bytes).await;
                }
                Err(self.fault("get", key, cut))
            }),
        }
    }

    fn put(&self, object: PutObject) -> StoreFuture<'_, ()> {
        self.put_with(object, |object| self.inner.put(object))
    }

    fn put_if_absent(&self, object: PutObject) -> StoreFuture<'_, bool> {
        self.put_with(object, |object| self.inner.put_if_absent(object))
    }

    fn list_page<'a>(&'a self, request: ListRequest<'a>) -> StoreFuture<'a, ListPage> {
        if self.fate("list", self.plan.lists, request.prefix).is_some() {
            return Box::pin(async move { Err(self.fault("list", request.prefix, false)) });
        }
        self.inner.list_page(request)
    }

    fn list<'a>(&'a self, prefix: &'a str) -> StoreFuture<'a, Vec<ObjectInfo>> {
        if self.fate("list", self.plan.lists, prefix).is_some() {
            return Box::pin(async move { Err(self.fault("list", prefix, false)) });
        }
        self.inner.list(prefix)
    }

    fn delete<'a>(&'a self, key: &'a str) -> StoreFuture<'a, ()> {
        self.inner.delete(key)
    }

    fn head_metadata<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        if self.fate("head", self.plan.heads, key).is_some() {
            return Box::pin(async move { Err(self.fault("head", key, false)) });
        }
        self.inner.head_metadata(key)
    }

    fn object_tags<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<Vec<(String, String)>>> {
        if self.fate("head", self.plan.heads, key).is_some() {
            return Box::pin(async move { Err(self.fault("tagging", key, false)) });
        }
        self.inner.object_tags(key)
    }

    fn key_rules(&self) -> KeyRules {
        self.inner.key_rules()
    }
}
