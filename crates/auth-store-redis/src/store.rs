//! [`RedisStore`]: tokens, refresh leases and request counters in Redis.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use auth_core::{Clock, Lease, QuotaStore, StoreKey, SystemClock, Token, TokenStore};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, ConnectionAddr, IntoConnectionInfo, Script, TlsCertificates};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

use crate::{Error, codec, scripts};

/// Builds a [`RedisStore`].
#[derive(Debug)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    pause_after_failure: Duration,
    clock: Arc<dyn Clock>,
    max_ttl: Option<Duration>,
    root_certificate: Option<Vec<u8>>,
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

    /// The longest a token is kept (default: no limit).
    ///
    /// A token is kept as long as [`Token::keep_until`] says: until its refresh token
    /// expires when the server said when, else, for a token with a refresh token,
    /// with no time to live at all (a rotating refresh token lost from the store
    /// would make the next process refresh with an older, spent one). This caps both:
    /// with a cap, a token whose refresh token has no known expiry is dropped from
    /// Redis after `max_ttl` (and signed in again for), and no token is kept longer
    /// than `max_ttl` after it was written.
    #[must_use]
    pub fn max_ttl(mut self, max_ttl: Duration) -> Self {
        self.max_ttl = Some(max_ttl);
        self
    }

    /// Trusts only this CA (PEM: one certificate or more) for a `rediss://` URL,
    /// instead of the built-in web PKI roots: for a Redis whose certificate an
    /// in-house or cloud provider's CA signed. [`build`](Self::build) fails with
    /// [`Error::Tls`] if it holds no certificate or the URL is not `rediss://`.
    #[must_use]
    pub fn root_certificate_pem(mut self, pem: &[u8]) -> Self {
        self.root_certificate = Some(pem.to_vec());
        self
    }

    /// The store. Nothing is connected until the first call.
    ///
    /// A plain `redis://` URL to a host that is not loopback logs a warning (once per
    /// process): tokens would cross the network in clear; use `rediss://`.
    pub fn build(self) -> Result<RedisStore, Error> {
        let info = self
            .url
            .as_str()
            .into_connection_info()
            .map_err(|e| url_error(&e))?;
        let tls = match info.addr() {
            ConnectionAddr::TcpTls { insecure: true, .. } => {
                let why = "`#insecure` is not supported: certificates are always checked";
                return Err(Error::Tls(why.into()));
            }
            ConnectionAddr::TcpTls { .. } => true,
            ConnectionAddr::Tcp(host, _) => {
                if !is_loopback(host) {
                    warn_cleartext(host);
                }
                false
            }
            _ => false,
        };
        let client = match self.root_certificate {
            None => redis::Client::open(info).map_err(|e| url_error(&e))?,
            Some(_) if !tls => {
                return Err(Error::Tls(
                    "a root certificate needs a rediss:// URL".into(),
                ));
            }
            Some(pem) => {
                check_pem(&pem)?;
                let certificates = TlsCertificates {
                    client_tls: None,
                    root_cert: Some(pem),
                };
                redis::Client::build_with_tls(info, certificates).map_err(|e| {
                    Error::Tls(format!("the root certificate was refused ({:?})", e.kind()))
                })?
            }
        };
        if tls {
            ensure_crypto_provider();
        }
        Ok(RedisStore {
            client,
            prefix: self.prefix,
            timeout: self.timeout,
            pause_after_failure: self.pause_after_failure,
            clock: self.clock,
            max_ttl: self.max_ttl,
            connection: tokio::sync::Mutex::new(None),
            down_until: Mutex::new(None),
            try_lease: Script::new(scripts::TRY_LEASE),
            put: Script::new(scripts::PUT),
            renew: Script::new(scripts::RENEW),
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
    max_ttl: Option<Duration>,
    connection: tokio::sync::Mutex<Option<ConnectionManager>>,
    down_until: Mutex<Option<Instant>>,
    try_lease: Script,
    put: Script,
    renew: Script,
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
            .field("max_ttl", &self.max_ttl)
            .finish_non_exhaustive()
    }
}

/// The URL's error by its kind only: the client's message may quote the URL.
fn url_error(error: &redis::RedisError) -> Error {
    Error::Url(format!("{:?}", error.kind()))
}

/// Whether `host` (as the Redis URL names it) is this machine.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Warns, once per process, that a plain `redis://` URL sends tokens in clear.
fn warn_cleartext(host: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            host,
            "plain redis:// to a host that is not loopback: access and refresh tokens \
             cross the network in clear; use rediss:// (TLS)"
        );
    }
}

/// At least one certificate, and nothing that is not PEM.
fn check_pem(pem: &[u8]) -> Result<(), Error> {
    let mut count = 0;
    for certificate in CertificateDer::pem_slice_iter(pem) {
        certificate.map_err(|_| Error::Tls("the root certificate is not valid PEM".into()))?;
        count += 1;
    }
    if count == 0 {
        return Err(Error::Tls(
            "the root certificate PEM holds no certificate".into(),
        ));
    }
    Ok(())
}

/// The redis client builds its TLS configuration on rustls's process-wide crypto
/// provider. When none was installed, rustls picks the one its features name, and
/// panics if they name two (ring and aws-lc-rs both enabled somewhere in the graph):
/// install ring, the provider the workspace's reqwest uses, before that can happen.
/// An application that installs its own provider first keeps it.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may install one between the check and here: theirs stays.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// How long a token is kept in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keep {
    /// Nobody could use it any more: not written.
    Nothing,
    /// For this long.
    For(Duration),
    /// With no time to live.
    Forever,
}

/// Redis refuses a time to live that overflows when added to its clock: longer ones
/// (`Duration::MAX` as a cap) are kept for 2^50 ms, some 35,000 years.
const LONGEST_MS: u64 = 1 << 50;

/// A time to live in ms for `PX` and `PEXPIRE`: at least 1, at most [`LONGEST_MS`].
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, LONGEST_MS)
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
            max_ttl: None,
            root_certificate: None,
        }
    }

    /// How long to keep `token`: as [`Token::keep_until`] says, capped by `max_ttl`.
    fn keep(&self, token: &Token) -> Keep {
        let left = match token.keep_until() {
            Some(until) => match until.duration_since(self.clock.now()) {
                Ok(left) if !left.is_zero() => Some(left),
                _ => return Keep::Nothing,
            },
            None => None,
        };
        match (left, self.max_ttl) {
            (Some(left), Some(max)) => Keep::For(left.min(max)),
            (Some(left), None) => Keep::For(left),
            (None, Some(max)) => Keep::For(max),
            (None, None) => Keep::Forever,
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

    /// Writes the token and its time to live in one script, only while `lease` is
    /// the one on the key's lease; a token nobody could use any more (past
    /// [`Token::keep_until`]) is not written, and that is not an error.
    async fn put(
        &self,
        key: &StoreKey,
        token: &Token,
        lease: Lease,
    ) -> Result<(), auth_core::Error> {
        let ttl_ms = match self.keep(token) {
            Keep::Nothing => return Ok(()),
            Keep::For(ttl) => millis(ttl),
            Keep::Forever => 0,
        };
        let value = codec::encode(token)
            .map_err(|e| auth_core::Error::Store(format!("cannot encode the token: {e}")))?;
        let lease_key = self.key("lease", key);
        let name = self.key("token", key);
        let script = &self.put;
        let written: i64 = self
            .run("put", |mut c| async move {
                script
                    .key(lease_key)
                    .key(name)
                    .arg(lease.fence)
                    .arg(value)
                    .arg(ttl_ms)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        if written == 1 {
            Ok(())
        } else {
            Err(auth_core::Error::LeaseLost)
        }
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
        let ms = millis(ttl);
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

    async fn renew(
        &self,
        key: &StoreKey,
        lease: Lease,
        ttl: Duration,
    ) -> Result<bool, auth_core::Error> {
        let name = self.key("lease", key);
        let ms = millis(ttl);
        let script = &self.renew;
        let renewed: i64 = self
            .run("renew", |mut c| async move {
                script
                    .key(name)
                    .arg(lease.fence)
                    .arg(ms)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(renewed == 1)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_told_apart_from_the_network() {
        for host in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.5",
            "redis.internal",
            "::ffff:10.0.0.1",
            "localhost.example",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn a_token_is_kept_as_long_as_its_refresh_token_capped_by_max_ttl() {
        let clock: Arc<dyn Clock> = Arc::new(auth_core::ManualClock::starting_at_unix(1_000_000));
        let now = clock.now();
        let store = |max: Option<Duration>| {
            let mut builder = RedisStore::builder("redis://127.0.0.1:1/").clock(Arc::clone(&clock));
            if let Some(max) = max {
                builder = builder.max_ttl(max);
            }
            builder.build().unwrap()
        };
        let (plain, capped) = (store(None), store(Some(Duration::from_secs(60))));
        let access_only = Token::bearer("a", now).expires_in(Duration::from_secs(300));
        let rotating = access_only.clone().with_refresh_token("r");
        let bounded = rotating
            .clone()
            .refresh_expires_at(now + Duration::from_secs(30));
        let spent = rotating.clone().refresh_expires_at(now);
        assert_eq!(
            plain.keep(&access_only),
            Keep::For(Duration::from_secs(300))
        );
        assert_eq!(plain.keep(&rotating), Keep::Forever);
        assert_eq!(plain.keep(&bounded), Keep::For(Duration::from_secs(30)));
        assert_eq!(plain.keep(&spent), Keep::Nothing);
        assert_eq!(
            capped.keep(&access_only),
            Keep::For(Duration::from_secs(60))
        );
        assert_eq!(capped.keep(&rotating), Keep::For(Duration::from_secs(60)));
        assert_eq!(capped.keep(&bounded), Keep::For(Duration::from_secs(30)));
        assert_eq!(capped.keep(&spent), Keep::Nothing);
        let expired =
            Token::bearer("e", now - Duration::from_secs(10)).expires_in(Duration::from_secs(5));
        assert_eq!(capped.keep(&expired), Keep::Nothing);
        assert_eq!(millis(Duration::MAX), LONGEST_MS);
        assert_eq!(millis(Duration::ZERO), 1);
    }
}
