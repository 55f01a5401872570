//! [`CountingStore`]: an in-memory [`TokenStore`] that counts its reads, for tests that
//! must tell a provider rebuilt (it reads the store first) from one still cached (a
//! cached provider with a valid token never looks).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{Error, InMemoryTokenStore, Lease, StoreKey, Token, TokenStore};

/// An [`InMemoryTokenStore`] that counts `get`s.
#[derive(Debug, Default)]
pub struct CountingStore {
    inner: InMemoryTokenStore,
    gets: AtomicUsize,
}

impl CountingStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The reads so far.
    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TokenStore for CountingStore {
    async fn get(&self, key: &StoreKey) -> Result<Option<Token>, Error> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn put(&self, key: &StoreKey, token: &Token, lease: Lease) -> Result<(), Error> {
        self.inner.put(key, token, lease).await
    }
    async fn remove(&self, key: &StoreKey) -> Result<(), Error> {
        self.inner.remove(key).await
    }
    async fn try_lease(&self, key: &StoreKey, ttl: Duration) -> Result<Option<Lease>, Error> {
        self.inner.try_lease(key, ttl).await
    }
    async fn renew(&self, key: &StoreKey, lease: Lease, ttl: Duration) -> Result<bool, Error> {
        self.inner.renew(key, lease, ttl).await
    }
    async fn release(&self, key: &StoreKey, lease: Lease) -> Result<(), Error> {
        self.inner.release(key, lease).await
    }
}
