//! The token lifecycle across "processes" (each its own `RedisStore` connection and
//! `CachingProvider`) on a real redis-server, against a strict authorization server:
//! refresh tokens rotate, and a rotated-away one presented again revokes the family
//! (RFC 9700 §4.14.2). Every scenario ends with no reuse detected, no family revoked
//! and no `SignInRequired`.
//!
//! (A refresh answered 502 after the server rotated it is in auth-oauth2's
//! `tests/single_use.rs`: it is sent once and the caller gets the 502.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_core::{
    CachingProvider, Clock, Error, ExposeSecret, SecretString, StoreKey, SystemClock, TokenStore,
};
use auth_oauth2::{GrantParams, OAuth2Client, RefreshToken};
use auth_store_redis::RedisStore;
use auth_testkit::oauth2::{AuthServer, AuthServerConfig, TOKEN_PATH};
use auth_testkit::redis::RedisServer;

const ID: &str = "lifecycle-app";
const SECRET: &str = "lifecycle-secret";
const REDIRECT: &str = "https://app.example/callback";
const LIFETIME: Duration = Duration::from_secs(2);

struct World {
    redis: RedisServer,
    auth: AuthServer,
    /// The refresh token in every process's configuration: the first one issued.
    configured: String,
}

impl World {
    async fn start() -> Option<Self> {
        let redis = RedisServer::start_persistent()?;
        let auth = AuthServer::start(
            AuthServerConfig::new(ID, SECRET)
                .clock(Arc::new(SystemClock))
                .strict(true)
                .access_lifetime(LIFETIME),
        )
        .unwrap();
        let code = auth.code_for(ID, REDIRECT, None).await.unwrap();
        let first = client(&auth)
            .exchange_code(&code, None, REDIRECT, &[])
            .await
            .unwrap();
        let configured = first.refresh_token.unwrap().expose_secret().to_owned();
        Some(Self {
            redis,
            auth,
            configured,
        })
    }

    /// A new process: its own Redis connection, its own cache, the configured token.
    fn process(&self, lease: Duration) -> CachingProvider<RefreshToken> {
        let store = RedisStore::builder(self.redis.url())
            .timeout(Duration::from_millis(300))
            .pause_after_failure(Duration::from_millis(100))
            .build()
            .unwrap();
        let source = RefreshToken::new(
            client(&self.auth),
            SecretString::from(self.configured.clone()),
            GrantParams::default(),
        );
        CachingProvider::builder(source)
            .store(
                Arc::new(store) as Arc<dyn TokenStore>,
                StoreKey::new(["lifecycle", ID, "user-1"]),
            )
            .lease_ttl(lease)
            .build()
    }

    fn assert_family_intact(&self) {
        assert_eq!(
            self.auth.reuse_detections(),
            0,
            "a refresh token was reused"
        );
        assert_eq!(self.auth.revoked_families(), 0, "the family was revoked");
    }
}

fn client(auth: &AuthServer) -> OAuth2Client {
    OAuth2Client::builder(ID, auth.token_url().as_str())
        .secret(SecretString::from(SECRET))
        .clock(Arc::new(SystemClock) as Arc<dyn Clock>)
        .build()
        .unwrap()
}

async fn token(p: &CachingProvider<RefreshToken>) -> Result<String, Error> {
    Ok(p.token()
        .await?
        .token()
        .access_token()
        .expose_secret()
        .to_owned())
}

/// Lets a background renewal that a call just started finish.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Waits until a token issued now is due for renewal (half its lifetime at most).
async fn until_due() {
    tokio::time::sleep(LIFETIME / 2 + Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_process_refreshes_from_the_newest_token_after_others_rotated_it() {
    let Some(world) = World::start().await else {
        return;
    };
    let a = world.process(Duration::from_secs(5));
    let b = world.process(Duration::from_secs(5));
    // B takes a token once, then idles while A rotates the refresh token three times.
    token(&b).await.unwrap();
    for _ in 0..3 {
        until_due().await;
        token(&a).await.unwrap();
    }
    settle().await;
    let rotations = world.auth.refreshes();
    assert!(rotations >= 3, "A rotated {rotations} times");
    // Every access token has expired by now; the stored token (and its refresh token)
    // must still be in Redis.
    tokio::time::sleep(LIFETIME + Duration::from_millis(500)).await;
    let fresh = token(&b).await.unwrap();
    assert_eq!(world.auth.refreshes(), rotations + 1, "B refreshed once");
    assert!(world.auth.access_checker().check_token(&fresh).is_some());
    world.assert_family_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_process_and_a_late_joiner_start_from_the_store_not_the_configuration() {
    let Some(world) = World::start().await else {
        return;
    };
    let a = world.process(Duration::from_secs(5));
    for _ in 0..2 {
        token(&a).await.unwrap();
        until_due().await;
    }
    token(&a).await.unwrap();
    settle().await;
    let before = world.auth.refreshes();
    // A late joiner with a fresh token in the store takes it without a request.
    let late = world.process(Duration::from_secs(5));
    assert_eq!(token(&late).await.unwrap(), token(&a).await.unwrap());
    assert_eq!(world.auth.refreshes(), before);
    // A restart after the token expired: the configured refresh token is long spent;
    // the stored one is the one to use.
    drop(a);
    tokio::time::sleep(LIFETIME + Duration::from_millis(300)).await;
    let restarted = world.process(Duration::from_secs(5));
    token(&restarted).await.unwrap();
    assert_eq!(world.auth.refreshes(), before + 1);
    world.assert_family_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_slower_than_the_lease_keeps_it_and_is_the_only_one() {
    let Some(world) = World::start().await else {
        return;
    };
    // Leases of 300 ms, a token endpoint that takes a second: the holder renews its
    // lease; the others wait for its token instead of refreshing beside it.
    let processes: Vec<_> = (0..3)
        .map(|_| Arc::new(world.process(Duration::from_millis(300))))
        .collect();
    world
        .auth
        .server()
        .slow_down(TOKEN_PATH, Duration::from_secs(1), 1);
    let calls: Vec<_> = processes
        .iter()
        .map(|p| {
            let p = Arc::clone(p);
            tokio::spawn(async move { token(&p).await })
        })
        .collect();
    let mut seen = Vec::new();
    for call in calls {
        seen.push(call.await.unwrap().unwrap());
    }
    assert!(seen.iter().all(|t| t == &seen[0]), "one token for all");
    assert_eq!(world.auth.refreshes(), 1, "one refresh");
    world.assert_family_intact();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_a_rotating_grant_serves_its_token_then_store_unavailable() {
    let Some(mut world) = World::start().await else {
        return;
    };
    let a = world.process(Duration::from_secs(5));
    let b = world.process(Duration::from_secs(5));
    let held = token(&a).await.unwrap();
    token(&b).await.unwrap();
    let refreshes = world.auth.refreshes();
    world.redis.stop();
    // Due but not expired: the cached token, no refresh.
    until_due().await;
    assert_eq!(token(&a).await.unwrap(), held);
    // Expired: a typed, retryable refusal, not a refresh of its own.
    tokio::time::sleep(LIFETIME).await;
    for p in [&a, &b] {
        let error = token(p).await.unwrap_err();
        assert!(matches!(error, Error::StoreUnavailable { .. }), "{error:?}");
        assert!(error.is_transient());
    }
    assert_eq!(world.auth.refreshes(), refreshes, "nobody refreshed alone");
    // Back, with its data: one refresh from the newest token, for both.
    world.redis.start_again().unwrap();
    let mut again = None;
    for _ in 0..50 {
        match token(&a).await {
            Ok(t) => {
                again = Some(t);
                break;
            }
            Err(Error::StoreUnavailable { .. }) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    let again = again.expect("the store came back");
    let mut from_b = None;
    for _ in 0..50 {
        if let Ok(t) = token(&b).await {
            from_b = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(from_b.unwrap(), again);
    assert_eq!(world.auth.refreshes(), refreshes + 1);
    world.assert_family_intact();
}

/// Commands the server has executed, from its own statistics (`INFO commandstats`),
/// without the `INFO` calls that read them.
async fn commands_executed(url: &str) -> u64 {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let stats: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(&mut connection)
        .await
        .unwrap();
    stats
        .lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
        .filter_map(|l| {
            l.split(['=', ','])
                .nth(1)
                .and_then(|calls| calls.parse::<u64>().ok())
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_authorize_makes_no_redis_round_trip() {
    use auth_core::{AuthRequest, CredentialProvider};
    let Some(world) = World::start().await else {
        return;
    };
    let process = world.process(Duration::from_secs(5));
    token(&process).await.unwrap();
    settle().await;
    let before = commands_executed(&world.redis.url()).await;
    for _ in 0..10_000 {
        let mut request = AuthRequest::new(Default::default());
        process.authorize(&mut request).await.unwrap();
    }
    let after = commands_executed(&world.redis.url()).await;
    eprintln!(
        "10,000 cached authorize() calls: {} Redis commands",
        after - before
    );
    assert!(
        before > 0,
        "the statistics count the first fetch's commands"
    );
    assert_eq!(after, before, "no Redis command for a cached token");
}
