//! [`TokenStore`]: where cached tokens live, and who may refresh them.
//!
//! The contract is small enough for a store shared by many processes (Redis) to
//! implement: `get` and `put` a token under a key, and a *lease* on the key so that
//! only one holder refreshes at a time.
//!
//! - A lease carries a fencing number that grows with every lease granted. `put`
//!   writes only under the current lease: a holder whose lease ran out and was granted
//!   to someone else is refused with [`Error::LeaseLost`], so a slow holder cannot
//!   overwrite the newer token of the one that took over. `renew` extends a lease
//!   while its fetch runs; `release` with a stale lease does nothing.
//! - A stored token lives as long as what it needs to be renewed: a token with a
//!   refresh token until the refresh token's expiry when known (else with no time to
//!   live, or a store's configured maximum), a token without one until its own expiry.
//!   An expired access token in the store still carries the newest refresh token.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::{Error, Token};

/// The key a token is stored under, for example `shop:client:my-app`.
///
/// Parts are joined with `:`, and every `%` and `:` inside a part is written as `%25`
/// and `%3A`, so distinct lists of parts always give distinct keys:
/// `["shop", "acme:b", "c@x"]` is `shop:acme%3Ab:c@x` and
/// `["shop", "acme", "b:c@x"]` is `shop:acme:b%3Ac@x`.
///
/// ```
/// use auth_core::StoreKey;
///
/// let a = StoreKey::new(["shop", "acme:b", "c@x"]);
/// let b = StoreKey::new(["shop", "acme", "b:c@x"]);
/// assert_ne!(a, b);
/// assert_eq!(a.as_str(), "shop:acme%3Ab:c@x");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey(String);

impl StoreKey {
    /// A key from its parts, each escaped and joined with `:`.
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
            for c in part.as_ref().chars() {
                match c {
                    '%' => key.push_str("%25"),
                    ':' => key.push_str("%3A"),
                    c => key.push(c),
                }
            }
        }
        Self(key)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first part, as escaped: by convention the crate or API the token is for
    /// (it names the `token_fetch` span's `vendor` field).
    pub fn namespace(&self) -> &str {
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

    /// Stores `token` under `key`, replacing what was there, if `lease` is still the
    /// current lease on `key`; [`Error::LeaseLost`] (and nothing written) otherwise.
    /// The check and the write are one atomic step.
    async fn put(&self, key: &StoreKey, token: &Token, lease: Lease) -> Result<(), Error>;

    /// Removes the token under `key`.
    async fn remove(&self, key: &StoreKey) -> Result<(), Error>;

    /// Takes the lease on `key` for `ttl` if nobody holds it; `None` if someone does.
    async fn try_lease(&self, key: &StoreKey, ttl: Duration) -> Result<Option<Lease>, Error>;

    /// Extends `lease` to `ttl` from now if it is still the current lease on `key`;
    /// `false` if it was superseded or ran out.
    async fn renew(&self, key: &StoreKey, lease: Lease, ttl: Duration) -> Result<bool, Error>;

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

impl Entry {
    fn holds(&self, lease: Lease, now: Instant) -> bool {
        self.lease
            .is_some_and(|(held, until)| held == lease && until > now)
    }
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

    async fn put(&self, key: &StoreKey, token: &Token, lease: Lease) -> Result<(), Error> {
        let mut entries = self.entries();
        let entry = entries.entry(key.clone()).or_default();
        if !entry.holds(lease, Instant::now()) {
            return Err(Error::LeaseLost);
        }
        entry.token = Some(token.clone());
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

    async fn renew(&self, key: &StoreKey, lease: Lease, ttl: Duration) -> Result<bool, Error> {
        let now = Instant::now();
        let mut entries = self.entries();
        match entries.get_mut(key) {
            Some(entry) if entry.holds(lease, now) => {
                entry.lease = Some((lease, now + ttl));
                Ok(true)
            }
            _ => Ok(false),
        }
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
    fn put_is_fenced_by_the_current_lease() {
        let store = InMemoryTokenStore::new();
        let key = StoreKey::new(["k"]);
        let token = Token::bearer("t", UNIX_EPOCH);
        let stale = run(store.try_lease(&key, Duration::ZERO)).unwrap().unwrap();
        let current = run(store.try_lease(&key, Duration::from_secs(60)))
            .unwrap()
            .unwrap();
        assert!(matches!(
            run(store.put(&key, &token, stale)),
            Err(Error::LeaseLost)
        ));
        assert!(!run(store.renew(&key, stale, Duration::from_secs(60))).unwrap());
        assert!(run(store.get(&key)).unwrap().is_none());
        assert!(run(store.renew(&key, current, Duration::from_secs(60))).unwrap());
        run(store.put(&key, &token, current)).unwrap();
        run(store.release(&key, current)).unwrap();
        assert!(matches!(
            run(store.put(&key, &token, current)),
            Err(Error::LeaseLost)
        ));
    }

    #[test]
    fn keys_escape_their_separator() {
        assert_ne!(
            StoreKey::new(["shop", "acme:b", "c@x"]),
            StoreKey::new(["shop", "acme", "b:c@x"])
        );
        assert_ne!(StoreKey::new(["a%3Ab"]), StoreKey::new(["a:b"]));
        assert_eq!(StoreKey::new(["a%", ":"]).as_str(), "a%25:%3A");
    }

    proptest::proptest! {
        #[test]
        fn distinct_part_lists_give_distinct_keys(
            a in proptest::collection::vec("[a:%b]{0,4}", 0..4),
            b in proptest::collection::vec("[a:%b]{0,4}", 0..4),
        ) {
            // `[]` and `[""]` are both the empty key: the one collision, by design of
            // an empty list (no caller builds a key from no parts).
            proptest::prop_assume!(!(a.is_empty() && b == [""] || b.is_empty() && a == [""]));
            if a != b {
                proptest::prop_assert_ne!(StoreKey::new(&a), StoreKey::new(&b));
            }
        }
    }

    #[test]
    fn put_get_remove() {
        let store = InMemoryTokenStore::new();
        let key = StoreKey::new(["k"]);
        assert!(run(store.get(&key)).unwrap().is_none());
        let lease = run(store.try_lease(&key, Duration::from_secs(60)))
            .unwrap()
            .unwrap();
        run(store.put(&key, &Token::bearer("t", UNIX_EPOCH), lease)).unwrap();
        assert!(run(store.get(&key)).unwrap().is_some());
        run(store.remove(&key)).unwrap();
        assert!(run(store.get(&key)).unwrap().is_none());
    }
}
