//! The TokenStore contract in use: providers that share a store fetch once between
//! them (the lease), and a store that fails is bypassed without losing a request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    AuthRequest, CachingProvider, Clock, CredentialProvider, Error, InMemoryTokenStore, Lease,
    RefreshPolicy, SecretString, StoreKey, Token, TokenStore,
};
use auth_testkit::Fault;
use auth_testkit::generic::{GenericTokenServer, GenericTokenSource, TOKEN_PATH};
use common::{CLIENT_ID, CLIENT_SECRET, policy};

fn provider(
    server: &GenericTokenServer,
    clock: &Arc<dyn Clock>,
    store: Arc<dyn TokenStore>,
) -> Arc<dyn CredentialProvider> {
    let source = GenericTokenSource::new(
        policy(),
        server.token_url(),
        CLIENT_ID,
        SecretString::from(CLIENT_SECRET),
        Arc::clone(clock),
    )
    .expect("source");
    Arc::new(
        CachingProvider::builder(source)
            .clock(Arc::clone(clock))
            .store(store, StoreKey::new(["generic", CLIENT_ID]))
            .policy(RefreshPolicy::default())
            .build(),
    )
}

/// A manual clock and a generic token server issuing 1-hour tokens by it.
fn start() -> (Arc<dyn Clock>, GenericTokenServer) {
    let clock: Arc<dyn Clock> = Arc::new(auth_core::ManualClock::starting_at_unix(1_750_000_000));
    let server = GenericTokenServer::start(
        Arc::clone(&clock),
        CLIENT_ID,
        CLIENT_SECRET,
        Duration::from_secs(3600),
    )
    .expect("server");
    (clock, server)
}

async fn header(p: &Arc<dyn CredentialProvider>) -> Result<String, Error> {
    let mut request = AuthRequest::new(Default::default());
    p.authorize(&mut request).await?;
    Ok(request.headers()["authorization"]
        .to_str()
        .expect("ascii")
        .to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_sharing_a_store_fetch_once_between_them() {
    let (clock, server) = start();
    let store: Arc<dyn TokenStore> = Arc::new(InMemoryTokenStore::new());
    // Four "processes": each its own provider and cache, one store between them.
    let providers: Vec<_> = (0..4)
        .map(|_| provider(&server, &clock, Arc::clone(&store)))
        .collect();
    // The leader's fetch is slow, so the others find the lease taken and wait for it.
    server
        .server()
        .slow_down(TOKEN_PATH, Duration::from_millis(200), 1);
    let mut tasks = Vec::new();
    for p in &providers {
        for _ in 0..50 {
            let p = Arc::clone(p);
            tasks.push(tokio::spawn(async move { header(&p).await }));
        }
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.expect("task").expect("token"));
    }
    assert!(
        seen.iter().all(|h| h == &seen[0]),
        "everyone got the leader's token"
    );
    assert_eq!(server.server().requests(TOKEN_PATH), 1);
}

/// A store that is down.
#[derive(Debug)]
struct Down;

#[async_trait]
impl TokenStore for Down {
    async fn get(&self, _: &StoreKey) -> Result<Option<Token>, Error> {
        Err(Error::Store("connection refused".into()))
    }
    async fn put(&self, _: &StoreKey, _: &Token, _: Lease) -> Result<(), Error> {
        Err(Error::Store("connection refused".into()))
    }
    async fn renew(&self, _: &StoreKey, _: Lease, _: Duration) -> Result<bool, Error> {
        Err(Error::Store("connection refused".into()))
    }
    async fn remove(&self, _: &StoreKey) -> Result<(), Error> {
        Err(Error::Store("connection refused".into()))
    }
    async fn try_lease(&self, _: &StoreKey, _: Duration) -> Result<Option<Lease>, Error> {
        Err(Error::Store("connection refused".into()))
    }
    async fn release(&self, _: &StoreKey, _: Lease) -> Result<(), Error> {
        Err(Error::Store("connection refused".into()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_store_is_bypassed() {
    let (clock, server) = start();
    let p = provider(&server, &clock, Arc::new(Down));
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let p = Arc::clone(&p);
        tasks.push(tokio::spawn(async move { header(&p).await }));
    }
    for t in tasks {
        t.await.expect("task").expect("token despite the store");
    }
    // In-process single flight still holds without the store.
    assert_eq!(server.server().requests(TOKEN_PATH), 1);
    // And a server failure is still a typed error, not a store error.
    server
        .server()
        .inject_on(TOKEN_PATH, Fault::HtmlPage(http::StatusCode::FORBIDDEN), 1);
    let fresh = provider(&server, &clock, Arc::new(Down));
    assert!(matches!(
        header(&fresh).await,
        Err(Error::InvalidResponse { .. })
    ));
}

/// A store whose first reads answer "empty": a read made just before another process
/// wrote its token, seen as it arrives.
#[derive(Debug)]
struct ReadBeforeTheWrite {
    inner: Arc<InMemoryTokenStore>,
    stale_reads: std::sync::atomic::AtomicUsize,
}

#[async_trait]
impl TokenStore for ReadBeforeTheWrite {
    async fn get(&self, key: &StoreKey) -> Result<Option<Token>, Error> {
        use std::sync::atomic::Ordering;
        let stale = self
            .stale_reads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if stale {
            return Ok(None);
        }
        self.inner.get(key).await
    }
    async fn put(&self, key: &StoreKey, token: &Token, lease: Lease) -> Result<(), Error> {
        self.inner.put(key, token, lease).await
    }
    async fn renew(&self, key: &StoreKey, lease: Lease, ttl: Duration) -> Result<bool, Error> {
        self.inner.renew(key, lease, ttl).await
    }
    async fn remove(&self, key: &StoreKey) -> Result<(), Error> {
        self.inner.remove(key).await
    }
    async fn try_lease(&self, key: &StoreKey, ttl: Duration) -> Result<Option<Lease>, Error> {
        self.inner.try_lease(key, ttl).await
    }
    async fn release(&self, key: &StoreKey, lease: Lease) -> Result<(), Error> {
        self.inner.release(key, lease).await
    }
}

/// The interleaving behind a fleet that once made two token requests on an empty
/// store: B reads (nothing yet), A fetches, writes and releases the lease, B takes the
/// free lease. B must read again under its lease and use A's token.
#[tokio::test]
async fn a_token_written_between_the_read_and_the_lease_is_used() {
    let (clock, server) = start();
    let memory = Arc::new(InMemoryTokenStore::new());
    let a = provider(&server, &clock, Arc::clone(&memory) as Arc<dyn TokenStore>);
    let b = provider(
        &server,
        &clock,
        Arc::new(ReadBeforeTheWrite {
            inner: Arc::clone(&memory),
            stale_reads: 1.into(),
        }),
    );
    let from_a = header(&a).await.unwrap();
    let from_b = header(&b).await.unwrap();
    assert_eq!(from_b, from_a, "B uses the token A wrote");
    assert_eq!(server.server().requests(TOKEN_PATH), 1, "one token request");
}
