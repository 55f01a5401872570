//! [`CachingProvider`]: a [`CredentialProvider`] over any [`TokenSource`].
//!
//! - **Lock-free reads.** The current token lives in an [`ArcSwapOption`]; the hot
//!   path is one atomic load, one clock read and a header insert.
//! - **Single flight.** Every fetch runs as one shared future; any number of callers
//!   that find the cache empty or expired wait on that one future and get its outcome,
//!   success or error. The future is spawned, so a caller that gives up (drops its
//!   future) cannot stall the others.
//! - **Proactive refresh.** Past [`RefreshPolicy::refresh_at`] and before expiry, the
//!   caller gets the still valid token at once and a refresh starts in the background.
//! - **Stores.** Before fetching, the provider looks in its [`TokenStore`] (another
//!   process may have refreshed already), and takes the store's lease so that only one
//!   holder fetches. A store that fails is logged and bypassed: the provider falls
//!   back to fetching on its own.
//! - **No poisoned state.** A failed fetch leaves the cache as it was; the next caller
//!   that needs a token starts a new fetch.

use std::collections::hash_map::DefaultHasher;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use http::HeaderValue;
use http::header::AUTHORIZATION;
use secrecy::ExposeSecret;

use crate::{
    AuthRequest, Authorize, Clock, CredentialProvider, Error, InMemoryTokenStore, Lease,
    RefreshPolicy, Renewal, StoreKey, SystemClock, Token, TokenSource, TokenStore,
};

/// After a background refresh fails, the next one waits at least this long.
const BACKGROUND_RETRY_PAUSE: Duration = Duration::from_secs(1);
/// How often a process that does not hold the lease looks for the holder's token.
const LEASE_POLL: Duration = Duration::from_millis(20);

/// A token as cached: the token, its prebuilt `Authorization` header value and the
/// time it is due for renewal.
#[derive(Debug)]
pub struct CachedToken {
    token: Token,
    header: HeaderValue,
    refresh_at: Option<SystemTime>,
}

impl CachedToken {
    fn new(token: Token, policy: &RefreshPolicy) -> Result<Self, Error> {
        let header = token.authorization_header()?;
        let refresh_at = policy.refresh_at(&token, rand::random::<f64>());
        Ok(Self {
            token,
            header,
            refresh_at,
        })
    }

    /// The token.
    pub fn token(&self) -> &Token {
        &self.token
    }

    /// The `Authorization` header value, marked sensitive.
    pub fn header(&self) -> &HeaderValue {
        &self.header
    }

    /// When a background renewal starts, if the token expires.
    pub fn refresh_at(&self) -> Option<SystemTime> {
        self.refresh_at
    }

    fn is_due(&self, now: SystemTime) -> bool {
        self.refresh_at.is_some_and(|r| now >= r)
    }
}

type Outcome = Result<Arc<CachedToken>, Error>;
type Flight = Shared<BoxFuture<'static, Outcome>>;

/// Caches the tokens of a [`TokenSource`] and puts them on requests as
/// `Authorization: <scheme> <token>`. See the module documentation for its guarantees.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
/// use async_trait::async_trait;
/// use auth_core::{AuthRequest, CachingProvider, Clock, CredentialProvider, Error,
///                 ManualClock, Token, TokenSource};
///
/// #[derive(Debug)]
/// struct Counter { clock: ManualClock, fetches: AtomicU32 }
///
/// #[async_trait]
/// impl TokenSource for Counter {
///     async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
///         let n = self.fetches.fetch_add(1, Ordering::SeqCst);
///         Ok(Token::bearer(format!("token-{n}"), self.clock.now())
///             .expires_in(Duration::from_secs(300)))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// let clock = ManualClock::new();
/// let source = Counter { clock: clock.clone(), fetches: AtomicU32::new(0) };
/// let provider = CachingProvider::builder(source).clock(clock.clone()).build();
///
/// let mut request = AuthRequest::new(Default::default());
/// provider.authorize(&mut request).await?;
/// provider.authorize(&mut request).await?;
/// assert_eq!(request.headers()["authorization"], "Bearer token-0");
/// assert_eq!(provider.source().fetches.load(Ordering::SeqCst), 1);
///
/// clock.advance(Duration::from_secs(301));
/// provider.authorize(&mut request).await?;
/// assert_eq!(request.headers()["authorization"], "Bearer token-1");
/// # Ok(()) }
/// ```
pub struct CachingProvider<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    source: S,
    key: StoreKey,
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    policy: RefreshPolicy,
    lease_ttl: Duration,
    current: ArcSwapOption<CachedToken>,
    flight: Mutex<Option<Flight>>,
    /// Unix nanoseconds before which no background refresh starts (after a failure).
    background_not_before: AtomicU64,
    /// Fingerprint of the last access token a server rejected; never taken from the
    /// store again.
    rejected: AtomicU64,
}

/// Builds a [`CachingProvider`].
#[derive(Debug)]
pub struct CachingProviderBuilder<S> {
    source: S,
    key: StoreKey,
    store: Option<Arc<dyn TokenStore>>,
    clock: Arc<dyn Clock>,
    policy: RefreshPolicy,
    lease_ttl: Duration,
}

impl<S: TokenSource> CachingProviderBuilder<S> {
    /// The key under which the token is stored (default `default`). Providers sharing a
    /// store need distinct keys.
    #[must_use]
    pub fn key(mut self, key: StoreKey) -> Self {
        self.key = key;
        self
    }

    /// The store (default: a private [`InMemoryTokenStore`]).
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The clock (default: [`SystemClock`]).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The clock, shared.
    #[must_use]
    pub fn shared_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// When tokens are renewed (default: [`RefreshPolicy::default`]).
    #[must_use]
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How long a refresh lease is held at most (default 30 s): how long other
    /// holders of a shared store wait for the leader's token before fetching their own.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// The provider.
    pub fn build(self) -> CachingProvider<S> {
        CachingProvider {
            inner: Arc::new(Inner {
                source: self.source,
                key: self.key,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(InMemoryTokenStore::new())),
                clock: self.clock,
                policy: self.policy,
                lease_ttl: self.lease_ttl,
                current: ArcSwapOption::empty(),
                flight: Mutex::new(None),
                background_not_before: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            }),
        }
    }
}

impl<S: TokenSource> CachingProvider<S> {
    /// A builder over `source`.
    pub fn builder(source: S) -> CachingProviderBuilder<S> {
        CachingProviderBuilder {
            source,
            key: StoreKey::new(["default"]),
            store: None,
            clock: Arc::new(SystemClock),
            policy: RefreshPolicy::default(),
            lease_ttl: Duration::from_secs(30),
        }
    }

    /// A provider over `source` with the defaults.
    pub fn new(source: S) -> Self {
        Self::builder(source).build()
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// A valid token: the cached one, or a fresh one (fetched once for all
    /// concurrent callers).
    pub async fn token(&self) -> Result<Arc<CachedToken>, Error> {
        self.inner.get().await
    }

    /// The cached token without fetching, if any.
    pub fn peek(&self) -> Option<Arc<CachedToken>> {
        self.inner.current.load_full()
    }

    /// Drops `rejected` if it is still the cached token: for a token another server
    /// refused (a refresh token whose exchange was refused, say). Callers that saw the
    /// same refusal drop it once; a newer token fetched meanwhile stays.
    pub fn discard(&self, rejected: &Arc<CachedToken>) {
        let current = self.inner.current.load();
        if let Some(cached) = current.as_ref()
            && Arc::ptr_eq(cached, rejected)
        {
            self.inner.remember_rejected(&cached.token);
            self.inner.current.compare_and_swap(&*current, None);
        }
    }

    /// Drops the cached token unconditionally.
    pub fn clear(&self) {
        if let Some(old) = self.inner.current.swap(None) {
            self.inner.remember_rejected(&old.token);
        }
    }
}

impl<S: TokenSource> Inner<S> {
    async fn get(self: &Arc<Self>) -> Outcome {
        let now = self.clock.now();
        {
            let current = self.current.load();
            if let Some(cached) = current.as_ref() {
                if !cached.is_due(now) {
                    return Ok(Arc::clone(cached));
                }
                if !cached.token.is_expired(now) && self.policy.renewal == Renewal::Background {
                    self.refresh_in_background(now);
                    return Ok(Arc::clone(cached));
                }
            }
        }
        self.join_or_start().await
    }

    fn flight_slot(&self) -> MutexGuard<'_, Option<Flight>> {
        // Each critical section is a single read or assignment: poison is harmless.
        self.flight.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refresh_in_background(self: &Arc<Self>, now: SystemTime) {
        if unix_nanos(now) < self.background_not_before.load(Ordering::Relaxed) {
            return;
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return; // nothing to run it on; the caller refreshes when the token expires
        }
        drop(self.join_or_start());
    }

    /// The fetch in flight, or a new one. The future is spawned when a runtime is
    /// present, so it completes even if every caller goes away.
    fn join_or_start(self: &Arc<Self>) -> Flight {
        let mut slot = self.flight_slot();
        if let Some(flight) = slot.as_ref() {
            return flight.clone();
        }
        let inner = Arc::clone(self);
        let future: BoxFuture<'static, Outcome> = Box::pin(async move {
            let outcome = inner.fetch_coordinated().await;
            match &outcome {
                Ok(cached) => inner.current.store(Some(Arc::clone(cached))),
                Err(_) => {
                    let pause = inner.clock.now() + BACKGROUND_RETRY_PAUSE;
                    inner
                        .background_not_before
                        .store(unix_nanos(pause), Ordering::Relaxed);
                }
            }
            *inner.flight_slot() = None;
            outcome
        });
        let flight = future.shared();
        *slot = Some(flight.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(flight.clone());
        }
        flight
    }

    async fn fetch_coordinated(&self) -> Outcome {
        let started = Instant::now();
        let previous = self.current.load_full();
        if let Some(stored) = self.fresh_from_store().await {
            tracing::debug!(key = %self.key, "token taken from the store");
            return Ok(stored);
        }
        let lease = match self.store.try_lease(&self.key, self.lease_ttl).await {
            Ok(lease) => lease,
            Err(error) => {
                tracing::warn!(key = %self.key, %error, "token store unavailable; fetching without it");
                return self.fetch_from_source(previous.as_deref(), started).await;
            }
        };
        let Some(lease) = lease else {
            // Someone else is refreshing: wait for their token rather than fetch another.
            let deadline = Instant::now() + self.lease_ttl;
            while Instant::now() < deadline {
                tokio::time::sleep(LEASE_POLL).await;
                if let Some(stored) = self.fresh_from_store().await {
                    return Ok(stored);
                }
            }
            tracing::warn!(key = %self.key, "lease holder wrote no token in time; fetching");
            return self.fetch_from_source(previous.as_deref(), started).await;
        };
        // The store was read before the lease was taken: a holder that finished in
        // between has written its token and released the lease, so read once more.
        if let Some(stored) = self.fresh_from_store().await {
            tracing::debug!(key = %self.key, "token written to the store just before the lease");
            self.release(lease).await;
            return Ok(stored);
        }
        let outcome = self.fetch_from_source(previous.as_deref(), started).await;
        if let Ok(cached) = &outcome
            && let Err(error) = self.store.put(&self.key, &cached.token).await
        {
            tracing::warn!(key = %self.key, %error, "could not write the token to the store");
        }
        self.release(lease).await;
        outcome
    }

    async fn release(&self, lease: Lease) {
        if let Err(error) = self.store.release(&self.key, lease).await {
            tracing::warn!(key = %self.key, %error, "could not release the refresh lease");
        }
    }

    async fn fetch_from_source(&self, previous: Option<&CachedToken>, started: Instant) -> Outcome {
        let span = tracing::debug_span!(
            "token_fetch",
            vendor = self.key.vendor(),
            grant = self.source.grant(),
            renewal = previous.is_some(),
            outcome = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let result = crate::trace::record_outcome(
            &span,
            started,
            self.source.fetch(previous.map(|c| &c.token)),
        )
        .await;
        match result {
            Ok(token) => {
                tracing::debug!(parent: &span, key = %self.key, "token fetched");
                Ok(Arc::new(CachedToken::new(token, &self.policy)?))
            }
            Err(error) => {
                tracing::debug!(parent: &span, key = %self.key, %error, "token fetch failed");
                Err(error)
            }
        }
    }

    /// A token in the store that is not due for renewal, not expired and not the one
    /// last rejected.
    async fn fresh_from_store(&self) -> Option<Arc<CachedToken>> {
        let token = match self.store.get(&self.key).await {
            Ok(token) => token?,
            Err(error) => {
                tracing::warn!(key = %self.key, %error, "token store unavailable");
                return None;
            }
        };
        let now = self.clock.now();
        // The earliest renewal time any holder could have drawn for it.
        let earliest_due = self.policy.refresh_at(&token, 1.0);
        if earliest_due.is_some_and(|due| now >= due) || token.is_expired(now) {
            return None;
        }
        if fingerprint(&token) == self.rejected.load(Ordering::Relaxed) {
            return None;
        }
        CachedToken::new(token, &self.policy).ok().map(Arc::new)
    }

    fn remember_rejected(&self, token: &Token) {
        self.rejected.store(fingerprint(token), Ordering::Relaxed);
    }
}

fn fingerprint(token: &Token) -> u64 {
    let mut h = DefaultHasher::new();
    token.access_token().expose_secret().hash(&mut h);
    h.finish()
}

fn unix_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl<S: TokenSource> CredentialProvider for CachingProvider<S> {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        // Coarse is enough here: renewal starts a margin (seconds) before expiry.
        let now = self.inner.clock.now_coarse();
        {
            let current = self.inner.current.load();
            if let Some(cached) = current.as_ref()
                && !cached.is_due(now)
            {
                request
                    .headers_mut()
                    .insert(AUTHORIZATION, cached.header.clone());
                return Authorize::ready(Ok(()));
            }
        }
        Authorize::new(async move {
            let cached = self.inner.get().await?;
            request
                .headers_mut()
                .insert(AUTHORIZATION, cached.header.clone());
            Ok(())
        })
    }

    /// Drops the cached token if it is the one on `request`, so a token that another
    /// caller has already renewed is not thrown away. Either way the next request
    /// carries another token, so a retry can succeed.
    fn invalidate(&self, request: &AuthRequest) -> bool {
        let Some(sent) = request.headers().get(AUTHORIZATION) else {
            return true;
        };
        let current = self.inner.current.load();
        if let Some(cached) = current.as_ref()
            && cached.header.as_bytes() == sent.as_bytes()
        {
            self.inner.remember_rejected(&cached.token);
            self.inner.current.compare_and_swap(&*current, None);
            tracing::debug!(key = %self.inner.key, "cached token dropped after rejection");
        }
        true
    }
}

impl<S: fmt::Debug> fmt::Debug for CachingProvider<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingProvider")
            .field("source", &self.inner.source)
            .field("key", &self.inner.key)
            .field("store", &self.inner.store)
            .field("policy", &self.inner.policy)
            .field("cached", &self.inner.current.load().is_some())
            .finish()
    }
}

impl<S> Clone for CachingProvider<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}
