//! The fleet soak's worker: one process that calls a rotating refresh-token grant
//! without pause through one long-lived [`CachingProvider`] on a shared Redis, until
//! its stdin closes (or it is killed).
//!
//! It prints, one per line on stdout:
//! - `ready` once set up;
//! - `fetch-begin` when its provider starts a refresh, and `fetch-end` once that
//!   refresh is over: failed, or its token written to Redis (or refused by the fence).
//!   Between the two, the server may have rotated the refresh token while Redis does
//!   not hold it yet; the soak does not kill a process inside that window (a kill
//!   there loses the rotated token whatever the client does, see the README);
//! - every 100 ms a JSON [`SoakReport`] with this process's running counts.
//!
//! A restarted process starts from its configuration's refresh token, which the fleet
//! has long rotated away: it must take the newest one from Redis.

use std::io::Write;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    CachingProvider, Error, Lease, SecretString, StoreKey, Token, TokenSource, TokenStore,
};
use auth_oauth2::{ClientAuth, GrantParams, OAuth2Client, RefreshToken};
use auth_store_redis::RedisStore;
use serde::{Deserialize, Serialize};

/// What a soak worker is given.
#[derive(Debug, Serialize, Deserialize)]
pub struct Soak {
    /// The Redis URL.
    pub redis: String,
    /// The token endpoint.
    pub token_url: String,
    /// The client ID.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// The refresh token in the configuration (the first one the fleet was given).
    pub refresh_token: String,
    /// Concurrent callers in the process.
    pub callers: usize,
    /// The refresh lease's time to live, in milliseconds.
    pub lease_ms: u64,
}

/// One process's running counts.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct SoakReport {
    /// Calls that got a token.
    pub ok: u64,
    /// Calls refused with `StoreUnavailable` (Redis away and the token expired).
    pub store_unavailable: u64,
    /// Calls that failed otherwise, with the first few messages.
    pub other_failures: u64,
    /// The first messages of those failures.
    pub messages: Vec<String>,
}

const KEY: [&str; 3] = ["fleet", "soak", "rotating"];

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // A closed stdout means the test is gone; the process ends with its stdin.
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The grant, announcing its refreshes.
#[derive(Debug)]
struct Announced(RefreshToken);

#[async_trait]
impl TokenSource for Announced {
    fn grant(&self) -> &'static str {
        self.0.grant()
    }

    fn invalidates_previous(&self) -> bool {
        self.0.invalidates_previous()
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        say("fetch-begin");
        let outcome = self.0.fetch(previous).await;
        if outcome.is_err() {
            say("fetch-end");
        }
        outcome
    }
}

/// The Redis store, announcing the write that ends a refresh.
#[derive(Debug)]
struct AnnouncedStore(Arc<RedisStore>);

#[async_trait]
impl TokenStore for AnnouncedStore {
    async fn get(&self, key: &StoreKey) -> Result<Option<Token>, Error> {
        self.0.get(key).await
    }
    async fn put(&self, key: &StoreKey, token: &Token, lease: Lease) -> Result<(), Error> {
        let outcome = self.0.put(key, token, lease).await;
        // A failed write is tried again while the lease lasts: the refresh is over
        // only once it lands or the lease is gone.
        if !matches!(outcome, Err(Error::Store(_))) {
            say("fetch-end");
        }
        outcome
    }
    async fn remove(&self, key: &StoreKey) -> Result<(), Error> {
        self.0.remove(key).await
    }
    async fn try_lease(&self, key: &StoreKey, ttl: Duration) -> Result<Option<Lease>, Error> {
        self.0.try_lease(key, ttl).await
    }
    async fn renew(&self, key: &StoreKey, lease: Lease, ttl: Duration) -> Result<bool, Error> {
        self.0.renew(key, lease, ttl).await
    }
    async fn release(&self, key: &StoreKey, lease: Lease) -> Result<(), Error> {
        self.0.release(key, lease).await
    }
}

/// Runs the soak worker until stdin closes.
pub async fn run(soak: Soak) -> Result<(), String> {
    let store = RedisStore::builder(&soak.redis)
        .timeout(Duration::from_millis(500))
        .pause_after_failure(Duration::from_millis(200))
        .build()
        .map_err(|e| e.to_string())?;
    let client = OAuth2Client::builder(soak.client_id, &soak.token_url)
        .secret(SecretString::from(soak.client_secret))
        .auth(ClientAuth::Basic)
        .build()
        .map_err(|e| e.to_string())?;
    let source = Announced(RefreshToken::new(
        client,
        SecretString::from(soak.refresh_token),
        GrantParams::default(),
    ));
    let provider = Arc::new(
        CachingProvider::builder(source)
            .store(
                Arc::new(AnnouncedStore(Arc::new(store))),
                StoreKey::new(KEY),
            )
            .lease_ttl(Duration::from_millis(soak.lease_ms))
            .build(),
    );
    let report = Arc::new(Mutex::new(SoakReport::default()));
    let calls = Arc::new(AtomicU64::new(0));
    for _ in 0..soak.callers {
        let (provider, report, calls) = (
            Arc::clone(&provider),
            Arc::clone(&report),
            Arc::clone(&calls),
        );
        tokio::spawn(async move {
            loop {
                let outcome = provider.token().await;
                calls.fetch_add(1, Ordering::Relaxed);
                {
                    let mut report = report.lock().unwrap_or_else(|p| p.into_inner());
                    match outcome {
                        Ok(_) => report.ok += 1,
                        Err(Error::StoreUnavailable { .. }) => report.store_unavailable += 1,
                        Err(other) => {
                            report.other_failures += 1;
                            if report.messages.len() < 5 {
                                report.messages.push(other.to_string());
                            }
                        }
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
    }
    say("ready");
    // The process ends when its stdin closes.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {
            sink.clear();
        }
    });
    tokio::pin!(stdin_closed);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = &mut stdin_closed => return Ok(()),
            _ = tick.tick() => {
                let snapshot = report.lock().unwrap_or_else(|p| p.into_inner()).clone();
                say(&serde_json::to_string(&snapshot).map_err(|e| e.to_string())?);
            }
        }
    }
}
