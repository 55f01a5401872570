//! [`QuotaStore`]: request counters per time window, for limits that a vendor sets
//! per organization rather than per process (a vendor's daily request quota).
//!
//! A window is named by the moment it ends: every process that agrees on the
//! window's end counts in the same window, and a counter is forgotten once its
//! window is over.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! use auth_core::{InMemoryQuotaStore, QuotaStore, StoreKey};
//!
//! # futures_util::FutureExt::now_or_never(async {
//! let store = InMemoryQuotaStore::new();
//! let key = StoreKey::new(["vendor", "my-client", "daily"]);
//! let midnight = SystemTime::UNIX_EPOCH + Duration::from_secs(86_400);
//! assert_eq!(store.take(&key, 2, midnight).await?, Some(1));
//! assert_eq!(store.take(&key, 2, midnight).await?, Some(2));
//! assert_eq!(store.take(&key, 2, midnight).await?, None, "the limit is reached");
//! // The next window starts from zero.
//! let next = midnight + Duration::from_secs(86_400);
//! assert_eq!(store.take(&key, 2, next).await?, Some(1));
//! # Ok::<(), auth_core::Error>(()) }).unwrap().unwrap();
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use async_trait::async_trait;

use crate::{Error, StoreKey};

/// Request counters shared by whoever uses the same store (a Redis shared by a
/// fleet, or [`InMemoryQuotaStore`] in one process).
#[async_trait]
pub trait QuotaStore: Send + Sync + fmt::Debug {
    /// Counts one request against `limit` in the window of `key` that ends at
    /// `window_end`: the count after it, or `None` if the limit was already reached
    /// (nothing is counted then). Atomic: concurrent callers never exceed `limit`.
    async fn take(
        &self,
        key: &StoreKey,
        limit: u32,
        window_end: SystemTime,
    ) -> Result<Option<u32>, Error>;

    /// Raises the window's count to `limit`: the vendor said the limit was reached
    /// (clients outside this store count too).
    async fn exhaust(
        &self,
        key: &StoreKey,
        limit: u32,
        window_end: SystemTime,
    ) -> Result<(), Error>;

    /// The requests counted in the window.
    async fn used(&self, key: &StoreKey, window_end: SystemTime) -> Result<u32, Error>;
}

/// Counters in this process: the current window of each key.
#[derive(Debug, Default)]
pub struct InMemoryQuotaStore {
    windows: Mutex<HashMap<StoreKey, (SystemTime, u32)>>,
}

impl InMemoryQuotaStore {
    /// No counts yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The count of `key` in the window ending at `window_end`, started afresh when
    /// the window changed.
    fn with_window<T>(
        &self,
        key: &StoreKey,
        window_end: SystemTime,
        f: impl FnOnce(&mut u32) -> T,
    ) -> T {
        // Each critical section is one read-modify-write of a number: a panic cannot
        // leave it half-written, so poisoning is safe to ignore.
        let mut windows: MutexGuard<'_, _> = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let window = windows.entry(key.clone()).or_insert((window_end, 0));
        if window.0 != window_end {
            *window = (window_end, 0);
        }
        f(&mut window.1)
    }
}

#[async_trait]
impl QuotaStore for InMemoryQuotaStore {
    async fn take(
        &self,
        key: &StoreKey,
        limit: u32,
        window_end: SystemTime,
    ) -> Result<Option<u32>, Error> {
        Ok(self.with_window(key, window_end, |used| {
            (*used < limit).then(|| {
                *used += 1;
                *used
            })
        }))
    }

    async fn exhaust(
        &self,
        key: &StoreKey,
        limit: u32,
        window_end: SystemTime,
    ) -> Result<(), Error> {
        self.with_window(key, window_end, |used| *used = (*used).max(limit));
        Ok(())
    }

    async fn used(&self, key: &StoreKey, window_end: SystemTime) -> Result<u32, Error> {
        Ok(self.with_window(key, window_end, |used| *used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use std::time::{Duration, UNIX_EPOCH};

    fn run<F: std::future::Future>(f: F) -> F::Output {
        f.now_or_never().expect("the in-memory store never waits")
    }

    #[test]
    fn counts_to_the_limit_per_key_and_window_and_exhaust_fills_it() {
        let store = InMemoryQuotaStore::new();
        let a = StoreKey::new(["t", "a"]);
        let b = StoreKey::new(["t", "b"]);
        let end = UNIX_EPOCH + Duration::from_secs(100);
        for n in 1..=3 {
            assert_eq!(run(store.take(&a, 3, end)).unwrap(), Some(n));
        }
        assert_eq!(run(store.take(&a, 3, end)).unwrap(), None);
        assert_eq!(
            run(store.used(&a, end)).unwrap(),
            3,
            "a refusal counts nothing"
        );
        assert_eq!(
            run(store.take(&b, 3, end)).unwrap(),
            Some(1),
            "keys are apart"
        );

        run(store.exhaust(&b, 3, end)).unwrap();
        assert_eq!(run(store.take(&b, 3, end)).unwrap(), None);
        assert_eq!(run(store.used(&b, end)).unwrap(), 3);
        // A lower limit never lowers a count.
        run(store.exhaust(&b, 1, end)).unwrap();
        assert_eq!(run(store.used(&b, end)).unwrap(), 3);

        let next = end + Duration::from_secs(100);
        assert_eq!(run(store.used(&a, next)).unwrap(), 0);
        assert_eq!(run(store.take(&a, 3, next)).unwrap(), Some(1));
    }
}
