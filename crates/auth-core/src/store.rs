//! [`TokenStore`]: where cached tokens live, and who may refresh them.
//!
//! The contract is small enough for a store shared by many processes (Redis) to
//! implement: `get` and `put` a token under a key, and a *lease* on the key so that
//! only one holder refreshes at a time. A lease carries a fencing number; `release`
//! with a stale lease does nothing.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{Error, Token};

/// The key a token is stored under, for example `bindeo:client:my-app`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey(String);

impl StoreKey {
    /// A key from its parts, joined with `:`.
    pub fn new<I, S>(parts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut key = String::new();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                key.push(':');
            }
            key.push_str(part.as_ref());
        }
        Self(key)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first part: by convention the vendor (`bindeo`, `bookingtime`).
    pub fn vendor(&self) -> &str {
        self.0.split(':').next().unwrap_or_default()
    }
}

impl fmt::Display for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The right to refresh one key, until its time to live runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    /// A number that grows with every lease granted on the store; a holder whose
    /// lease expired and was granted again to someone else can be told apart.
    pub fence: u64,
}

/// Where cached tokens live. See the module documentation for the contract.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The token under `key`, if any (it may have expired; callers check).
    async fn get(&self, key: &StoreKey) -> Result<Option<Token>, Error>;

    /// Stores `token` under `key`, replacing what was there.
    async fn put(&self, key: &StoreKey, token: &Token) -> Result<(), Error>;

    /// Removes the token under `key`.
    async fn remove(&self, key: &StoreKey) -> Result<(), Error>;

    /// Takes the lease on `key` for `ttl` if nobody holds it; `None` if someone does.
    async fn try_lease(&self, key: &StoreKey, ttl: Duration) -> Result<Option<Lease>, Error>;

    /// Gives the lease back. Does nothing if `lease` is no longer the current one.
    async fn release(&self, key: &StoreKey, lease: Lease) -> Result<(), Error>;
}

/// The default store: a map in this process.
#[derive(Debug, Default)]
pub struct InMemoryTokenStore {
    entries: Mutex<HashMap<StoreKey, Entry>>,
    fences: AtomicU64,
}

#[derive(Debug, Default)]
struct Entry {
    token: Option<Token>,
    lease: Option<(Lease, Instant)>,
}

impl InMemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<StoreKey, Entry>> {
        // A panic while holding this lock cannot leave an entry half-written (each
        // critical section is a single assignment), so poisoning is safe to ignore.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[async_trait]
impl TokenStore for InMemoryTokenStore {
    async fn get(&self, key: &StoreKey) -> Result<Option<Token>, Error> {
        Ok(self.entries().get(key).and_then(|e| e.token.clone()))
    }

    async fn put(&self, key: &StoreKey, token: &Token) -> Result<(), Error> {
        self.entries().entry(key.clone()).or_default().token = Some(token.clone());
        Ok(())
    }

    async fn remove(&self, key: &StoreKey) -> Result<(), Error> {
        if let Some(e) = self.entries().get_mut(key) {
            e.token = None;
        }
        Ok(())
    }

    async fn try_lease(&self, key: &StoreKey, ttl: Duration) -> Result<Option<Lease>, Error> {
        let now = Instant::now();
        let mut entries = self.entries();
        let entry = entries.entry(key.clone()).or_default();
        if entry.lease.is_some_and(|(_, until)| until > now) {
            return Ok(None);
        }
        let lease = Lease {
            fence: self.fences.fetch_add(1, Ordering::SeqCst) + 1,
        };
        entry.lease = Some((lease, now + ttl));
        Ok(Some(lease))
    }

    async fn release(&self, key: &StoreKey, lease: Lease) -> Result<(), Error> {
        if let Some(e) = self.entries().get_mut(key)
            && e.lease.is_some_and(|(held, _)| held == lease)
        {
            e.lease = None;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use std::time::UNIX_EPOCH;

    fn run<F: std::future::Future>(f: F) -> F::Output {
        f.now_or_never().expect("the in-memory store never waits")
    }

    #[test]
    fn lease_is_exclusive_and_fenced() {
        let store = InMemoryTokenStore::new();
        let key = StoreKey::new(["a", "b"]);
        assert_eq!(key.as_str(), "a:b");
        let first = run(store.try_lease(&key, Duration::from_secs(60)))
            .unwrap()
            .unwrap();
        assert!(
            run(store.try_lease(&key, Duration::from_secs(60)))
                .unwrap()
                .is_none()
        );
        run(store.release(
            &key,
            Lease {
                fence: first.fence + 7,
            },
        ))
        .unwrap();
        assert!(
            run(store.try_lease(&key, Duration::from_secs(60)))
                .unwrap()
                .is_none()
        );
        run(store.release(&key, first)).unwrap();
        let second = run(store.try_lease(&key, Duration::from_secs(60)))
            .unwrap()
            .unwrap();
        assert!(second.fence > first.fence);
    }

    #[test]
    fn expired_leases_can_be_taken() {
        let store = InMemoryTokenStore::new();
        let key = StoreKey::new(["k"]);
        run(store.try_lease(&key, Duration::ZERO)).unwrap().unwrap();
        assert!(
            run(store.try_lease(&key, Duration::from_secs(1)))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn put_get_remove() {
        let store = InMemoryTokenStore::new();
        let key = StoreKey::new(["k"]);
        assert!(run(store.get(&key)).unwrap().is_none());
        run(store.put(&key, &Token::bearer("t", UNIX_EPOCH))).unwrap();
        assert!(run(store.get(&key)).unwrap().is_some());
        run(store.remove(&key)).unwrap();
        assert!(run(store.get(&key)).unwrap().is_none());
    }
}
