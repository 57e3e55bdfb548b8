//! The one way this crate takes a lock.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A mutex's guard, poisoned or not: every value behind these locks stays valid
/// whatever a panicking holder left undone.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
