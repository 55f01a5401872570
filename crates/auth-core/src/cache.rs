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
//!   holder fetches; the others wait for its token, and try for the lease again if it
//!   goes away. The holder renews the lease while it fetches, refreshes from the
//!   newest token the store holds (an expired one still carries the newest refresh
//!   token; this process's own token only when the store is empty, and the source's
//!   configured credentials only when both are), and writes fenced by the lease.
//! - **Store outages.** A store that fails is logged and bypassed by sources that can
//!   fetch safely on their own (client credentials). A source whose refresh
//!   invalidates everyone else's token ([`TokenSource::invalidates_previous`]: rotating
//!   refresh tokens) serves its cached token while it lasts and then fails with the
//!   retryable [`Error::StoreUnavailable`], rather than spend a refresh token that
//!   another process may also hold.
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
use thread_local::ThreadLocal;

use crate::{
    AuthRequest, Authorize, Clock, CredentialProvider, Error, InMemoryTokenStore, Lease,
    RefreshPolicy, Renewal, StoreKey, SystemClock, Token, TokenSource, TokenStore,
};

/// After a background refresh fails, the next one waits at least this long.
const BACKGROUND_RETRY_PAUSE: Duration = Duration::from_secs(1);
/// How often a process that does not hold the lease looks for the holder's token.
const LEASE_POLL: Duration = Duration::from_millis(20);
/// How many lease lifetimes a caller waits for another holder's token at most.
const MAX_LEASE_WAITS: u32 = 4;

/// A token as cached: the token, its prebuilt `Authorization` header value and the
/// time it is due for renewal.
///
/// Each thread that authorizes with it gets a copy of the header value of its own, made
/// on that thread's first use: cloning a `HeaderValue` counts a reference in its
/// buffer, and one buffer shared by every thread would make that count a shared write
/// on the hot path (measured: 1.7x the one-thread cost per call on two threads).
#[derive(Debug)]
pub struct CachedToken {
    token: Token,
    header: HeaderValue,
    per_thread: ThreadLocal<HeaderValue>,
    refresh_at: Option<SystemTime>,
}

impl CachedToken {
    fn new(token: Token, policy: &RefreshPolicy) -> Result<Self, Error> {
        let header = token.authorization_header()?;
        let refresh_at = policy.refresh_at(&token, rand::random::<f64>());
        Ok(Self {
            token,
            header,
            per_thread: ThreadLocal::new(),
            refresh_at,
        })
    }

    /// The header value, from this thread's own copy (see the type documentation).
    fn header_here(&self) -> HeaderValue {
        self.per_thread
            .get_or(|| {
                let mut copy = HeaderValue::from_bytes(self.header.as_bytes())
                    .unwrap_or_else(|_| self.header.clone());
                copy.set_sensitive(true);
                copy
            })
            .clone()
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
/// let provider = CachingProvider::builder(source).clock(Arc::new(clock.clone())).build();
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
    /// The key the provider's private store and its traces use (default `default`).
    /// A shared store takes its key with [`store`](Self::store).
    #[must_use]
    pub fn key(mut self, key: StoreKey) -> Self {
        self.key = key;
        self
    }

    /// A store, maybe shared with other providers and processes, and the key this
    /// provider's token lives under in it (default: a private [`InMemoryTokenStore`]).
    /// The two come together so that two providers on one store cannot share a
    /// default key by accident.
    #[must_use]
    pub fn store(mut self, store: Arc<dyn TokenStore>, key: StoreKey) -> Self {
        self.store = Some(store);
        self.key = key;
        self
    }

    /// The clock (default: [`SystemClock`]), shared with the rest of the application
    /// (`Arc::new(ManualClock::new())` in a test that moves time).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// When tokens are renewed (default: [`RefreshPolicy::default`]).
    #[must_use]
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// How long a refresh lease lasts unless renewed (default 30 s). The holder renews it
    /// every third of that while its fetch runs, so a fetch may take longer; a holder
    /// that dies leaves the lease to run out, and another takes it then.
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

    /// Fetches under the store's lease, so that one holder of a shared store refreshes
    /// and the others take its token; see the module documentation.
    async fn fetch_coordinated(&self) -> Outcome {
        let started = Instant::now();
        // Waiting on another holder ends, at the latest, this long after it began: by
        // then that holder's lease has run out (it stopped renewing) or been renewed for
        // a fetch that is taking far longer than any HTTP policy allows.
        let give_up = started + self.lease_ttl.saturating_mul(MAX_LEASE_WAITS);
        loop {
            let stored = match self.store.get(&self.key).await {
                Ok(stored) => stored,
                Err(error) => return self.without_store(&error, started).await,
            };
            if let Some(fresh) = self.usable(stored.as_ref()) {
                tracing::debug!(key = %self.key, "token taken from the store");
                return Ok(fresh);
            }
            let lease = match self.store.try_lease(&self.key, self.lease_ttl).await {
                Ok(lease) => lease,
                Err(error) => return self.without_store(&error, started).await,
            };
            let Some(lease) = lease else {
                // Someone else is refreshing: wait for their token, then look again
                // (and try for the lease again if they went away without writing).
                if Instant::now() >= give_up {
                    return Err(Error::StoreUnavailable {
                        reason: "another holder kept the refresh lease without writing a token"
                            .into(),
                    });
                }
                tokio::time::sleep(LEASE_POLL).await;
                continue;
            };
            return self.fetch_leased(lease, started).await;
        }
    }

    /// Holding `lease`: reads the store once more (a holder that finished between our
    /// read and our lease has written its token), fetches from the newest token the
    /// store holds, and writes the result fenced by the lease.
    async fn fetch_leased(&self, lease: Lease, started: Instant) -> Outcome {
        let stored = match self.store.get(&self.key).await {
            Ok(stored) => stored,
            Err(error) => {
                self.release(lease).await;
                return self.without_store(&error, started).await;
            }
        };
        if let Some(fresh) = self.usable(stored.as_ref()) {
            tracing::debug!(key = %self.key, "token written to the store just before the lease");
            self.release(lease).await;
            return Ok(fresh);
        }
        // The newest token wins: the store's (another process may have rotated the
        // refresh token), else this process's own (an emptied store), else none (the
        // source's configured credentials seed the store).
        let memory = self.current.load_full();
        let previous = stored.or_else(|| memory.as_ref().map(|c| c.token.clone()));
        let fetch = self.fetch_from_source(previous.as_ref(), started);
        let outcome = self.renewing(lease, fetch).await;
        if let Ok(cached) = &outcome {
            self.renewing(lease, self.write(lease, &cached.token)).await;
        }
        self.release(lease).await;
        outcome
    }

    /// Writes a fetched token under `lease`. For a source whose fetch invalidated the
    /// previous token, the store holds a spent refresh token until this write lands, so
    /// a failed write is tried again (every [`LEASE_POLL`]) for as long as the lease
    /// lasts: an outage shorter than that loses nothing. The fence ends the attempts
    /// once another holder has the lease.
    async fn write(&self, lease: Lease, token: &Token) {
        let deadline = Instant::now() + self.lease_ttl;
        loop {
            match self.store.put(&self.key, token, lease).await {
                Ok(()) => return,
                Err(Error::LeaseLost) => {
                    tracing::warn!(key = %self.key, "refresh lease superseded during the fetch; token not stored");
                    return;
                }
                Err(error) => {
                    if !self.source.invalidates_previous() || Instant::now() >= deadline {
                        tracing::warn!(key = %self.key, %error, "could not write the token to the store");
                        return;
                    }
                    tracing::debug!(key = %self.key, %error, "token write failed; trying again");
                    tokio::time::sleep(LEASE_POLL).await;
                }
            }
        }
    }

    /// Runs `fetch` while renewing `lease` every third of its time to live (and every
    /// [`LEASE_POLL`] after a failed renewal), so that a fetch slower than the lease
    /// (timeouts × attempts + backoff) keeps it, and so does a store outage shorter
    /// than two thirds of the lease.
    async fn renewing<F>(&self, lease: Lease, fetch: F) -> F::Output
    where
        F: std::future::Future,
    {
        let every = (self.lease_ttl / 3).max(Duration::from_millis(1));
        let renew = async {
            let mut pause = every;
            loop {
                tokio::time::sleep(pause).await;
                match self.store.renew(&self.key, lease, self.lease_ttl).await {
                    Ok(true) => pause = every,
                    Ok(false) => {
                        tracing::warn!(key = %self.key, "refresh lease lost during the fetch");
                        return;
                    }
                    Err(error) => {
                        // Try again soon: the lease lasts until its time runs out, and
                        // a renewal as soon as the store is back keeps it.
                        tracing::warn!(key = %self.key, %error, "could not renew the refresh lease");
                        pause = LEASE_POLL;
                    }
                }
            }
        };
        let fetch = std::pin::pin!(fetch);
        let renew = std::pin::pin!(renew);
        match futures_util::future::select(fetch, renew).await {
            futures_util::future::Either::Left((outcome, _)) => outcome,
            futures_util::future::Either::Right(((), fetch)) => fetch.await,
        }
    }

    /// The store failed. A source whose fetch invalidates the token others hold does
    /// not fetch on its own: the cached token while it lasts, then
    /// [`Error::StoreUnavailable`]. Any other source fetches in the process, from its
    /// own token, and writes nothing.
    async fn without_store(&self, error: &Error, started: Instant) -> Outcome {
        let memory = self.current.load_full();
        if self.source.invalidates_previous() {
            let now = self.clock.now();
            if let Some(cached) = memory.filter(|c| !c.token.is_expired(now)) {
                tracing::warn!(key = %self.key, %error, "token store unavailable; serving the cached token");
                return Ok(cached);
            }
            tracing::warn!(key = %self.key, %error, "token store unavailable; not refreshing without it");
            return Err(Error::StoreUnavailable {
                reason: error.to_string(),
            });
        }
        tracing::warn!(key = %self.key, %error, "token store unavailable; fetching without it");
        let previous = memory.as_ref().map(|c| c.token.clone());
        self.fetch_from_source(previous.as_ref(), started).await
    }

    async fn release(&self, lease: Lease) {
        if let Err(error) = self.store.release(&self.key, lease).await {
            tracing::warn!(key = %self.key, %error, "could not release the refresh lease");
        }
    }

    async fn fetch_from_source(&self, previous: Option<&Token>, started: Instant) -> Outcome {
        let span = tracing::debug_span!(
            "token_fetch",
            vendor = self.key.namespace(),
            grant = self.source.grant(),
            renewal = previous.is_some(),
            outcome = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let result =
            crate::trace::record_outcome(&span, started, self.source.fetch(previous)).await;
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

    /// `stored`, if it can be handed out as it is: not due for renewal, not expired and
    /// not the one last rejected. A token that fails this is still the newest the
    /// store holds, and the next refresh starts from it.
    fn usable(&self, stored: Option<&Token>) -> Option<Arc<CachedToken>> {
        let token = stored?;
        let now = self.clock.now();
        // The earliest renewal time any holder could have drawn for it.
        let earliest_due = self.policy.refresh_at(token, 1.0);
        if earliest_due.is_some_and(|due| now >= due) || token.is_expired(now) {
            return None;
        }
        if fingerprint(token) == self.rejected.load(Ordering::Relaxed) {
            return None;
        }
        CachedToken::new(token.clone(), &self.policy)
            .ok()
            .map(Arc::new)
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
                    .insert(AUTHORIZATION, cached.header_here());
                return Authorize::ready(Ok(()));
            }
        }
        Authorize::new(async move {
            let cached = self.inner.get().await?;
            request
                .headers_mut()
                .insert(AUTHORIZATION, cached.header_here());
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
