//! The store against a real `redis-server` on a loopback ephemeral port (skipped with a
//! notice where the binary is missing; CI installs it, and with `CI=true` a missing
//! server fails the tests instead).
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

/// `PTTL` of a raw Redis key: -1 without a time to live, -2 when absent.
async fn pttl(server: &RedisServer, name: &str) -> i64 {
    let client = redis::Client::open(server.url()).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("PTTL")
        .arg(name)
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Takes the lease on `key`, which must be free.
async fn lease(store: &RedisStore, key: &StoreKey, ttl: Duration) -> Lease {
    store
        .try_lease(key, ttl)
        .await
        .unwrap()
        .expect("the lease is free")
}

fn access_token(token: &Token) -> &str {
    token.access_token().expose_secret()
}

#[tokio::test]
async fn an_access_only_token_expires_with_itself_and_leases_are_fenced() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server);
    let key = StoreKey::new(["test", "ttl"]);
    let token =
        Token::bearer("short-lived", SystemTime::now()).expires_in(Duration::from_millis(400));
    let held = lease(&store, &key, Duration::from_secs(5)).await;
    store.put(&key, &token, held).await.unwrap();
    store.release(&key, held).await.unwrap();
    let back = store.get(&key).await.unwrap().unwrap();
    assert_eq!(access_token(&back), "short-lived");
    assert!(back.refresh_token().is_none());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        store.get(&key).await.unwrap().is_none(),
        "expired with its TTL"
    );

    let lease_key = StoreKey::new(["test", "lease"]);
    let first = lease(&store, &lease_key, Duration::from_millis(500)).await;
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
    let second = lease(&store, &lease_key, Duration::from_millis(300)).await;
    assert!(second.fence > first.fence, "fences only grow");
    // A lease its holder never releases runs out.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let third = lease(&store, &lease_key, Duration::from_secs(5)).await;
    // The late holder's release does not free the new one's lease.
    store.release(&lease_key, second).await.unwrap();
    assert!(leased(&store, &lease_key).await);
    store.release(&lease_key, third).await.unwrap();
}

#[tokio::test]
async fn a_put_under_a_superseded_lease_is_refused_and_the_newer_token_stays() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    // Two processes: the slow one's lease runs out while it fetches.
    let slow = store(&server);
    let fast = store(&server);
    let key = StoreKey::new(["test", "fenced"]);
    let old = lease(&slow, &key, Duration::from_millis(200)).await;
    slow.put(
        &key,
        &Token::bearer("first", SystemTime::now()).expires_in(Duration::from_secs(60)),
        old,
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let new = lease(&fast, &key, Duration::from_secs(5)).await;
    assert!(new.fence > old.fence);
    let newer = Token::bearer("newer", SystemTime::now())
        .expires_in(Duration::from_secs(60))
        .with_refresh_token("refresh-newer");
    fast.put(&key, &newer, new).await.unwrap();

    let stale = Token::bearer("stale", SystemTime::now())
        .expires_in(Duration::from_secs(60))
        .with_refresh_token("refresh-stale");
    let refused = slow.put(&key, &stale, old).await;
    assert!(
        matches!(refused, Err(Error::LeaseLost)),
        "expected LeaseLost, got {refused:?}"
    );
    let kept = fast.get(&key).await.unwrap().unwrap();
    assert_eq!(access_token(&kept), "newer");
    assert_eq!(
        kept.refresh_token().unwrap().expose_secret(),
        "refresh-newer"
    );

    // A fence nobody was granted, and a released lease, write nothing either.
    let forged = Lease {
        fence: new.fence + 1,
    };
    assert!(matches!(
        slow.put(&key, &stale, forged).await,
        Err(Error::LeaseLost)
    ));
    fast.release(&key, new).await.unwrap();
    assert!(matches!(
        fast.put(&key, &stale, new).await,
        Err(Error::LeaseLost)
    ));
    let never = StoreKey::new(["test", "never-leased"]);
    assert!(matches!(
        fast.put(&never, &stale, new).await,
        Err(Error::LeaseLost)
    ));
    assert!(fast.get(&never).await.unwrap().is_none());
    assert_eq!(
        access_token(&fast.get(&key).await.unwrap().unwrap()),
        "newer"
    );
}

#[tokio::test]
async fn renew_keeps_a_lease_past_its_ttl_and_fails_once_superseded() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server);
    let other = self::store(&server);
    let key = StoreKey::new(["test", "renew"]);
    let held = lease(&store, &key, Duration::from_millis(300)).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        store
            .renew(&key, held, Duration::from_secs(2))
            .await
            .unwrap()
    );
    // Past the original 300 ms: still held, and still good for a write.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        leased(&other, &key).await,
        "the renewed lease is still held"
    );
    let ttl = pttl(&server, "auth:lease:test:renew").await;
    assert!((1..=2_000).contains(&ttl), "lease PTTL {ttl}");
    let token = Token::bearer("renewed", SystemTime::now()).expires_in(Duration::from_secs(60));
    store.put(&key, &token, held).await.unwrap();
    // A fence that is not the holder's renews nothing.
    let forged = Lease {
        fence: held.fence + 1,
    };
    assert!(
        !other
            .renew(&key, forged, Duration::from_secs(60))
            .await
            .unwrap()
    );
    store.release(&key, held).await.unwrap();
    assert!(
        !store
            .renew(&key, held, Duration::from_secs(2))
            .await
            .unwrap()
    );

    // A lease that ran out and went to someone else cannot be renewed, and trying
    // leaves the new holder's lease as it was.
    let late = lease(&store, &key, Duration::from_millis(100)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !store
            .renew(&key, late, Duration::from_secs(60))
            .await
            .unwrap()
    );
    let current = lease(&other, &key, Duration::from_secs(3)).await;
    assert!(
        !store
            .renew(&key, late, Duration::from_secs(60))
            .await
            .unwrap()
    );
    let ttl = pttl(&server, "auth:lease:test:renew").await;
    assert!((1..=3_000).contains(&ttl), "the new holder's PTTL {ttl}");
    assert!(
        other
            .renew(&key, current, Duration::from_secs(10))
            .await
            .unwrap()
    );
    assert!(pttl(&server, "auth:lease:test:renew").await > 3_000);
    other.release(&key, current).await.unwrap();
}

#[tokio::test]
async fn a_token_with_a_refresh_token_outlives_its_access_token() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = store(&server);
    // The refresh token's expiry is unknown: kept with no time to live.
    let key = StoreKey::new(["test", "rotating"]);
    let token = Token::bearer("one-second", SystemTime::now())
        .expires_in(Duration::from_secs(1))
        .with_refresh_token("refresh-rotated");
    let held = lease(&store, &key, Duration::from_secs(5)).await;
    store.put(&key, &token, held).await.unwrap();
    store.release(&key, held).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let back = store
        .get(&key)
        .await
        .unwrap()
        .expect("the refresh token is still in Redis after its access token expired");
    assert!(back.is_expired(SystemTime::now()));
    assert_eq!(
        back.refresh_token().unwrap().expose_secret(),
        "refresh-rotated"
    );
    assert_eq!(pttl(&server, "auth:token:test:rotating").await, -1);

    // A known refresh expiry is the time to live, not the access token's lifetime.
    let key = StoreKey::new(["test", "bounded"]);
    let refresh_expiry = SystemTime::now() + Duration::from_secs(30);
    let token = Token::bearer("one-second", SystemTime::now())
        .expires_in(Duration::from_secs(1))
        .with_refresh_token("refresh-bounded")
        .refresh_expires_at(refresh_expiry);
    let held = lease(&store, &key, Duration::from_secs(5)).await;
    store.put(&key, &token, held).await.unwrap();
    let ttl = pttl(&server, "auth:token:test:bounded").await;
    assert!((25_000..=30_000).contains(&ttl), "token PTTL {ttl}");
    let back = store.get(&key).await.unwrap().unwrap();
    let kept = back.refresh_expiry().unwrap();
    let drift = kept
        .duration_since(refresh_expiry)
        .or_else(|e| Ok::<_, ()>(e.duration()))
        .unwrap();
    assert!(drift < Duration::from_millis(1), "refresh expiry kept");

    // One whose refresh token already expired is not written: the one before stays.
    let spent = Token::bearer("spent", SystemTime::now())
        .expires_in(Duration::from_secs(60))
        .with_refresh_token("refresh-spent")
        .refresh_expires_at(SystemTime::now() - Duration::from_secs(1));
    store.put(&key, &spent, held).await.unwrap();
    let still = store.get(&key).await.unwrap().unwrap();
    assert_eq!(
        still.refresh_token().unwrap().expose_secret(),
        "refresh-bounded"
    );
    store.release(&key, held).await.unwrap();
}

#[tokio::test]
async fn max_ttl_caps_how_long_any_token_is_kept() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = Arc::new(
        RedisStore::builder(server.url())
            .max_ttl(Duration::from_secs(5))
            .build()
            .unwrap(),
    );
    let now = SystemTime::now();
    let cases = [
        // No known refresh expiry: the cap instead of no time to live.
        (
            "unknown",
            Token::bearer("a", now)
                .expires_in(Duration::from_secs(1))
                .with_refresh_token("r"),
            4_000..=5_000,
        ),
        // A refresh expiry past the cap: the cap.
        (
            "long",
            Token::bearer("b", now)
                .expires_in(Duration::from_secs(1))
                .with_refresh_token("r")
                .refresh_expires_at(now + Duration::from_secs(86_400)),
            4_000..=5_000,
        ),
        // Kept less than the cap: its own time.
        (
            "short",
            Token::bearer("c", now).expires_in(Duration::from_secs(2)),
            1..=2_000,
        ),
    ];
    for (name, token, expected) in cases {
        let key = StoreKey::new(["test", "max", name]);
        let held = lease(&store, &key, Duration::from_secs(5)).await;
        store.put(&key, &token, held).await.unwrap();
        let ttl = pttl(&server, &format!("auth:token:test:max:{name}")).await;
        assert!(expected.contains(&ttl), "{name}: PTTL {ttl}");
        store.release(&key, held).await.unwrap();
    }

    // A cap too long for Redis still writes (kept for ages rather than refused).
    let ages = RedisStore::builder(server.url())
        .max_ttl(Duration::MAX)
        .build()
        .unwrap();
    let key = StoreKey::new(["test", "max", "ages"]);
    let held = lease(&ages, &key, Duration::MAX).await;
    let rotating = Token::bearer("d", now).with_refresh_token("r");
    ages.put(&key, &rotating, held).await.unwrap();
    assert!(pttl(&server, "auth:token:test:max:ages").await > 86_400_000 * 365 * 1000);
    ages.release(&key, held).await.unwrap();
}

#[tokio::test]
async fn tls_round_trip_with_a_custom_root_certificate() {
    let Some(server) = RedisServer::start_tls() else {
        return;
    };
    let url = server.url();
    assert!(url.starts_with("rediss://127.0.0.1:"), "{url}");
    let ca = server.ca_pem().unwrap().as_bytes();
    let store = RedisStore::builder(url.clone())
        .root_certificate_pem(ca)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let key = StoreKey::new(["test", "tls"]);
    assert!(store.get(&key).await.unwrap().is_none());
    let held = lease(&store, &key, Duration::from_secs(5)).await;
    assert!(
        store
            .renew(&key, held, Duration::from_secs(5))
            .await
            .unwrap()
    );
    let token = Token::bearer("over-tls", SystemTime::now())
        .expires_in(Duration::from_secs(60))
        .with_refresh_token("refresh-over-tls");
    store.put(&key, &token, held).await.unwrap();
    let back = store.get(&key).await.unwrap().unwrap();
    assert_eq!(access_token(&back), "over-tls");
    assert_eq!(
        back.refresh_token().unwrap().expose_secret(),
        "refresh-over-tls"
    );
    store.release(&key, held).await.unwrap();
    assert!(
        store
            .try_lease(&key, Duration::from_secs(1))
            .await
            .unwrap()
            .is_some()
    );

    // Without the test CA the server's certificate is not trusted: no connection.
    let untrusting = RedisStore::builder(url)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let refused = untrusting.get(&key).await;
    assert!(
        matches!(refused, Err(Error::Store(_))),
        "expected a store error, got {refused:?}"
    );
}

#[test]
fn tls_settings_are_checked_when_the_store_is_built() {
    use auth_store_redis::Error as BuildError;
    let pem = b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n";
    let garbage = RedisStore::builder("rediss://127.0.0.1:6380/")
        .root_certificate_pem(pem)
        .build();
    assert!(matches!(garbage, Err(BuildError::Tls(_))), "{garbage:?}");
    let empty = RedisStore::builder("rediss://127.0.0.1:6380/")
        .root_certificate_pem(b"")
        .build();
    assert!(matches!(empty, Err(BuildError::Tls(_))), "{empty:?}");
    let plain = RedisStore::builder("redis://:hunter2@127.0.0.1:6379/")
        .root_certificate_pem(b"")
        .build();
    let message = match plain {
        Err(BuildError::Tls(m)) => m,
        other => panic!("expected a TLS error, got {other:?}"),
    };
    assert!(!message.contains("hunter2"));
    let insecure = RedisStore::builder("rediss://127.0.0.1:6380/#insecure").build();
    assert!(matches!(insecure, Err(BuildError::Tls(_))), "{insecure:?}");
    let bad = RedisStore::builder("redis://:hunter2@[not a host/").build();
    let message = bad.unwrap_err().to_string();
    assert!(!message.contains("hunter2"), "{message}");
    // The password never shows in the store's Debug either.
    let store = RedisStore::builder("redis://:hunter2@127.0.0.1:6379/")
        .build()
        .unwrap();
    assert!(!format!("{store:?}").contains("hunter2"));
}

#[tokio::test]
async fn a_persistent_server_keeps_tokens_and_fences_across_a_restart() {
    let Some(mut server) = RedisServer::start_persistent() else {
        return;
    };
    let store = store(&server);
    let key = StoreKey::new(["test", "persistent"]);
    let before = lease(&store, &key, Duration::from_secs(30)).await;
    let token = Token::bearer("kept", SystemTime::now())
        .expires_in(Duration::from_secs(1))
        .with_refresh_token("refresh-kept");
    store.put(&key, &token, before).await.unwrap();

    server.stop();
    assert!(store.get(&key).await.is_err(), "Redis is down");
    server.start_again().unwrap();

    // The store reconnects after its pause; then the token is back, as written.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let back = loop {
        match store.get(&key).await {
            Ok(found) => break found,
            Err(_) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the store did not reconnect: {e}"),
        }
    };
    let back = back.expect("the token survived the restart");
    assert_eq!(access_token(&back), "kept");
    assert_eq!(
        back.refresh_token().unwrap().expose_secret(),
        "refresh-kept"
    );
    // The lease and the fence counter were kept too: the old lease is still held
    // and fences keep growing, so no fence is granted twice.
    assert!(leased(&store, &key).await);
    store.release(&key, before).await.unwrap();
    let after = lease(&store, &key, Duration::from_secs(5)).await;
    assert!(after.fence > before.fence, "{after:?} after {before:?}");
    store.release(&key, after).await.unwrap();
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
                .store(store(&server), key.clone())
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
            .store(store, key.clone())
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
