//! [`RedisStore`]: tokens, refresh leases and request counters in Redis.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use auth_core::{Clock, Lease, QuotaStore, StoreKey, SystemClock, Token, TokenStore};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script, SetExpiry, SetOptions};

use crate::{Error, codec, scripts};

/// Builds a [`RedisStore`].
#[derive(Debug)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    pause_after_failure: Duration,
    clock: Arc<dyn Clock>,
}

impl RedisStoreBuilder {
    /// The prefix of every key (default `auth`): one per application sharing a Redis.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a connection attempt or a command may take (default 250 ms): when
    /// Redis is unreachable, this is what a token request waits before going on
    /// without it.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// After a failed connection attempt, how long calls fail at once without trying
    /// again (default 1 s).
    #[must_use]
    pub fn pause_after_failure(mut self, pause: Duration) -> Self {
        self.pause_after_failure = pause;
        self
    }

    /// The clock token expiries are measured against (default: the system clock; the
    /// providers' clock when they use another).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The store. Nothing is connected until the first call.
    pub fn build(self) -> Result<RedisStore, Error> {
        let client = redis::Client::open(self.url.as_str())
            .map_err(|e| Error::Url(format!("{:?}", e.kind())))?;
        Ok(RedisStore {
            client,
            prefix: self.prefix,
            timeout: self.timeout,
            pause_after_failure: self.pause_after_failure,
            clock: self.clock,
            connection: tokio::sync::Mutex::new(None),
            down_until: Mutex::new(None),
            try_lease: Script::new(scripts::TRY_LEASE),
            release: Script::new(scripts::RELEASE),
            take: Script::new(scripts::TAKE),
            exhaust: Script::new(scripts::EXHAUST),
        })
    }
}

/// Tokens, refresh leases and request counters in Redis; see the crate documentation.
pub struct RedisStore {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    pause_after_failure: Duration,
    clock: Arc<dyn Clock>,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    down_until: Mutex<Option<Instant>>,
    try_lease: Script,
    release: Script,
    take: Script,
    exhaust: Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: only where it points.
        let info = self.client.get_connection_info();
        f.debug_struct("RedisStore")
            .field("addr", &info.addr().to_string())
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn store_error(what: &str, error: &redis::RedisError) -> auth_core::Error {
    auth_core::Error::Store(format!("redis {what} failed ({:?})", error.kind()))
}

fn millis_since_epoch(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl RedisStore {
    /// A builder for the Redis at `url` (`redis://[:password@]host:port/db`, or
    /// `rediss://` for TLS).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "auth".into(),
            timeout: Duration::from_millis(250),
            pause_after_failure: Duration::from_secs(1),
            clock: Arc::new(SystemClock),
        }
    }

    fn key(&self, kind: &str, key: &StoreKey) -> String {
        format!("{}:{kind}:{}", self.prefix, key.as_str())
    }

    fn down_until(&self) -> MutexGuard<'_, Option<Instant>> {
        self.down_until.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The shared connection, made on first use and again after Redis was away.
    async fn connection(&self) -> Result<ConnectionManager, auth_core::Error> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        if self
            .down_until()
            .is_some_and(|until| Instant::now() < until)
        {
            return Err(auth_core::Error::Store(
                "redis unreachable (waiting before the next attempt)".into(),
            ));
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(self.pause_after_failure);
        let attempt = tokio::time::timeout(
            self.timeout * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await;
        match attempt {
            Ok(Ok(connection)) => {
                *self.down_until() = None;
                *slot = Some(connection.clone());
                tracing::debug!("connected to redis");
                Ok(connection)
            }
            Ok(Err(e)) => {
                *self.down_until() = Some(Instant::now() + self.pause_after_failure);
                Err(store_error("connect", &e))
            }
            Err(_) => {
                *self.down_until() = Some(Instant::now() + self.pause_after_failure);
                Err(auth_core::Error::Store("redis connect timed out".into()))
            }
        }
    }

    /// Runs `op` on the connection within the timeout.
    async fn run<T, F, Fut>(&self, what: &str, op: F) -> Result<T, auth_core::Error>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.connection().await?;
        match tokio::time::timeout(self.timeout, op(connection)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(store_error(what, &e)),
            Err(_) => Err(auth_core::Error::Store(format!("redis {what} timed out"))),
        }
    }

    fn counter_key(&self, key: &StoreKey, window_end: SystemTime) -> String {
        format!(
            "{}:{}",
            self.key("quota", key),
            millis_since_epoch(window_end) / 1000
        )
    }
}

#[async_trait]
impl TokenStore for RedisStore {
    async fn get(&self, key: &StoreKey) -> Result<Option<Token>, auth_core::Error> {
        let name = self.key("token", key);
        let text: Option<String> = self
            .run("get", |mut c| async move { c.get(name).await })
            .await?;
        Ok(text.as_deref().and_then(codec::decode))
    }

    async fn put(&self, key: &StoreKey, token: &Token) -> Result<(), auth_core::Error> {
        let now = self.clock.now();
        let ttl = match token.expiry() {
            Some(expiry) => match expiry.duration_since(now) {
                Ok(left) if !left.is_zero() => Some(left),
                // Already expired: nobody could use it.
                _ => return Ok(()),
            },
            None => None,
        };
        let value = codec::encode(token)
            .map_err(|e| auth_core::Error::Store(format!("cannot encode the token: {e}")))?;
        let name = self.key("token", key);
        self.run("put", |mut c| async move {
            match ttl {
                Some(ttl) => {
                    let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
                    let options = SetOptions::default().with_expiration(SetExpiry::PX(ms));
                    c.set_options::<_, _, ()>(name, value, options).await
                }
                None => c.set::<_, _, ()>(name, value).await,
            }
        })
        .await
    }

    async fn remove(&self, key: &StoreKey) -> Result<(), auth_core::Error> {
        let name = self.key("token", key);
        self.run("remove", |mut c| async move { c.del::<_, ()>(name).await })
            .await
    }

    async fn try_lease(
        &self,
        key: &StoreKey,
        ttl: Duration,
    ) -> Result<Option<Lease>, auth_core::Error> {
        let lease = self.key("lease", key);
        let fence = format!("{}:fence", self.prefix);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let script = &self.try_lease;
        let granted: u64 = self
            .run("lease", |mut c| async move {
                script
                    .key(lease)
                    .key(fence)
                    .arg(ms)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok((granted > 0).then_some(Lease { fence: granted }))
    }

    async fn release(&self, key: &StoreKey, lease: Lease) -> Result<(), auth_core::Error> {
        let name = self.key("lease", key);
        let script = &self.release;
        self.run("release", |mut c| async move {
            script
                .key(name)
                .arg(lease.fence)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(drop)
    }
}

/// The counters behind [`QuotaStore`]: `{prefix}:quota:{key}:{window}`, counted by
/// one Lua script (so never past the limit however many processes take at once) and
/// expiring when the window ends.
#[async_trait]
impl QuotaStore for RedisStore {
    async fn take(
        &self,
        key: &StoreKey,
        limit: u32,
        window_end: SystemTime,
    ) -> Result<Option<u32>, auth_core::Error> {
        let counter = self.counter_key(key, window_end);
        let end = millis_since_epoch(window_end);
        let script = &self.take;
        let used: i64 = self
            .run("take", |mut c| async move {
                script
                    .key(counter)
                    .arg(limit)
                    .arg(end)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(u32::try_from(used).ok())
    }

    async fn exhaust(
        &self,
        key: &StoreKey,
        limit: u32,
        window_end: SystemTime,
    ) -> Result<(), auth_core::Error> {
        let counter = self.counter_key(key, window_end);
        let end = millis_since_epoch(window_end);
        let script = &self.exhaust;
        self.run("exhaust", |mut c| async move {
            script
                .key(counter)
                .arg(limit)
                .arg(end)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(drop)
    }

    async fn used(&self, key: &StoreKey, window_end: SystemTime) -> Result<u32, auth_core::Error> {
        let counter = self.counter_key(key, window_end);
        let used: Option<u32> = self
            .run("read", |mut c| async move { c.get(counter).await })
            .await?;
        Ok(used.unwrap_or(0))
    }
}
