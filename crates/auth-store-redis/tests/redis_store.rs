//! The store against a real `redis-server` on a loopback ephemeral port (skipped with a
//! notice where the binary is missing; CI installs it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use auth_core::{
    CachingProvider, Error, ExposeSecret, Lease, QuotaStore, StoreKey, Token, TokenSource,
    TokenStore,
};
use auth_store_redis::RedisStore;
use auth_testkit::redis::RedisServer;

fn store(server: &RedisServer) -> Arc<RedisStore> {
    Arc::new(RedisStore::builder(server.url()).build().unwrap())
}

/// Counts fetches; each takes a moment, as a token endpoint does.
#[derive(Debug, Default)]
struct Counting {
    fetches: AtomicU64,
}

#[async_trait]
impl TokenSource for Counting {
    async fn fetch(&self, _: Option<&Token>) -> Result<Token, Error> {
        let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(Token::bearer(format!("token-{n}"), SystemTime::now())
            .expires_in(Duration::from_secs(300)))
    }
}

/// Whether someone holds the lease on `key` (trying to take it says so).
async fn leased(store: &RedisStore, key: &StoreKey) -> bool {
    store
        .try_lease(key, Duration::from_secs(5))
        .await
        .unwrap()
        .is_none()
}

#[tokio::test]
async fn tokens_expire_with_their_token_and_leases_are_fenced() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server);
    let key = StoreKey::new(["test", "ttl"]);
    let token = Token::bearer("short-lived", SystemTime::now())
        .expires_in(Duration::from_millis(400))
        .with_refresh_token("refresh-1");
    store.put(&key, &token).await.unwrap();
    let back = store.get(&key).await.unwrap().unwrap();
    assert_eq!(back.access_token().expose_secret(), "short-lived");
    assert_eq!(back.refresh_token().unwrap().expose_secret(), "refresh-1");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        store.get(&key).await.unwrap().is_none(),
        "expired with its TTL"
    );

    let lease_key = StoreKey::new(["test", "lease"]);
    let first = store
        .try_lease(&lease_key, Duration::from_millis(500))
        .await
        .unwrap()
        .unwrap();
    assert!(leased(&store, &lease_key).await);
    // Someone else's (stale) fence releases nothing.
    store
        .release(
            &lease_key,
            Lease {
                fence: first.fence + 100,
            },
        )
        .await
        .unwrap();
    assert!(leased(&store, &lease_key).await);
    store.release(&lease_key, first).await.unwrap();
    let second = store
        .try_lease(&lease_key, Duration::from_millis(300))
        .await
        .unwrap()
        .unwrap();
    assert!(second.fence > first.fence, "fences only grow");
    // A lease its holder never releases runs out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let third = store
        .try_lease(&lease_key, Duration::from_secs(5))
        .await
        .unwrap()
        .unwrap();
    // The late holder's release does not free the new one's lease.
    store.release(&lease_key, second).await.unwrap();
    assert!(leased(&store, &lease_key).await);
    store.release(&lease_key, third).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_stores_with_250_callers_each_make_one_fetch() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let source = Arc::new(Counting::default());
    let key = StoreKey::new(["test", "fleet"]);
    let mut callers = Vec::new();
    for _ in 0..4 {
        // One connection and one in-process cache each, as four processes would have.
        let provider = Arc::new(
            CachingProvider::builder(SharedSource(Arc::clone(&source)))
                .key(key.clone())
                .store(store(&server))
                .build(),
        );
        for _ in 0..250 {
            let provider = Arc::clone(&provider);
            callers.push(tokio::spawn(async move {
                provider
                    .token()
                    .await
                    .map(|t| t.token().access_token().expose_secret().to_owned())
            }));
        }
    }
    let mut tokens = std::collections::HashSet::new();
    for caller in callers {
        tokens.insert(caller.await.unwrap().unwrap());
    }
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    assert_eq!(tokens.len(), 1, "every caller got the leader's token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_shared_counter_never_passes_its_limit_and_ends_with_its_window() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let key = StoreKey::new(["test", "quota"]);
    // A window ending in a minute: the counter's key expires with it.
    let window_end = SystemTime::now() + Duration::from_secs(60);
    let mut takers = Vec::new();
    for _ in 0..4 {
        let store = store(&server);
        for _ in 0..50 {
            let store = Arc::clone(&store);
            let key = key.clone();
            takers.push(tokio::spawn(async move {
                store.take(&key, 100, window_end).await.unwrap()
            }));
        }
    }
    let mut granted = Vec::new();
    for taker in takers {
        granted.extend(taker.await.unwrap());
    }
    granted.sort_unstable();
    assert_eq!(granted, (1..=100).collect::<Vec<u32>>(), "each count once");
    let store = store(&server);
    assert_eq!(store.used(&key, window_end).await.unwrap(), 100);

    // Exhausting fills the window; the next window starts from zero.
    let other = StoreKey::new(["test", "quota-429"]);
    assert_eq!(store.take(&other, 10, window_end).await.unwrap(), Some(1));
    store.exhaust(&other, 10, window_end).await.unwrap();
    assert_eq!(store.take(&other, 10, window_end).await.unwrap(), None);
    let next = window_end + Duration::from_secs(60);
    assert_eq!(store.take(&other, 10, next).await.unwrap(), Some(1));

    // A window that already ended leaves nothing behind.
    let ended = SystemTime::now() - Duration::from_secs(1);
    store.take(&other, 10, ended).await.unwrap();
    assert_eq!(store.used(&other, ended).await.unwrap(), 0);
}

#[derive(Debug)]
struct SharedSource(Arc<Counting>);

#[async_trait]
impl TokenSource for SharedSource {
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        self.0.fetch(previous).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_stopped_mid_run_then_started_again() {
    let Some(mut server) = RedisServer::start() else {
        return;
    };
    let source = Arc::new(Counting::default());
    let key = StoreKey::new(["test", "outage"]);
    let provider = |store: Arc<RedisStore>| {
        CachingProvider::builder(SharedSource(Arc::clone(&source)))
            .key(key.clone())
            .store(store)
            .build()
    };
    let a = provider(store(&server));
    a.token().await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 1);

    server.stop();
    // Redis is gone: a fresh process still gets a token (its own), with no panic.
    let b = provider(store(&server));
    let during = b.token().await.unwrap();
    assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    assert_eq!(during.token().access_token().expose_secret(), "token-2");

    server.start_again().unwrap();
    // Back, and empty: the first process to need a token writes it, the next one
    // takes it from Redis rather than fetching.
    let c = provider(store(&server));
    let d = provider(store(&server));
    let written = c
        .token()
        .await
        .unwrap()
        .token()
        .access_token()
        .expose_secret()
        .to_owned();
    // The store may need a moment to reconnect; sharing resumes once it has.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let before = source.fetches.load(Ordering::SeqCst);
        let e = provider(store(&server));
        let got = e.token().await.unwrap();
        if source.fetches.load(Ordering::SeqCst) == before {
            assert_eq!(got.token().access_token().expose_secret(), written);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "sharing did not resume"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(d);
}
