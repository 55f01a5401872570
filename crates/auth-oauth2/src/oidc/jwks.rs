//! [`JwksCache`]: the provider's signing keys, fetched once and again only when a
//! token names a key the cache does not have, at most once per interval.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use auth_core::Clock;
use auth_core::http::HttpClient;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use serde_json::Value;
use url::Url;

use crate::{Error, IdTokenError};

/// One usable key.
pub(crate) struct CachedKey {
    pub(crate) alg: Option<String>,
    pub(crate) key: DecodingKey,
}

#[derive(Default)]
struct KeySet {
    keys: Vec<Arc<CachedKey>>,
    by_kid: HashMap<String, usize>,
    fetched: Option<SystemTime>,
    /// When a miss last caused a re-fetch (the first fill does not count).
    refetched: Option<SystemTime>,
}

/// A cached JWKS. Lookups are lock-free. The first lookup fills the cache; a later
/// miss (the provider rotated its keys) re-fetches once, shared by callers that miss
/// at the same time, and such re-fetches happen at most once per
/// [interval](Self::with_min_refetch_interval), so that tokens with made-up `kid`s
/// cannot make the client hammer the provider.
pub struct JwksCache {
    url: Url,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    min_refetch: Duration,
    set: ArcSwap<KeySet>,
    fetch: tokio::sync::Mutex<()>,
}

impl fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwksCache")
            .field("url", &self.url.as_str())
            .field("keys", &self.set.load().keys.len())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache for the JWKS at `url`; nothing is fetched until a key is needed.
    pub fn new(url: Url, http: HttpClient, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        http.check_url(&url)?;
        Ok(Self {
            url,
            http,
            clock,
            min_refetch: Duration::from_secs(60),
            set: ArcSwap::from_pointee(KeySet::default()),
            fetch: tokio::sync::Mutex::new(()),
        })
    }

    /// The shortest time between two fetches caused by an unknown `kid` (default 60 s).
    #[must_use]
    pub fn with_min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }

    /// Keys currently cached.
    pub fn len(&self) -> usize {
        self.set.load().keys.len()
    }

    /// Whether no key is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The key for `kid` and `alg`, from the cache or after one fetch.
    pub(crate) async fn key(&self, kid: Option<&str>, alg: &str) -> Result<Arc<CachedKey>, Error> {
        if let Some(k) = find(&self.set.load(), kid, alg) {
            return Ok(k);
        }
        let seen = self.set.load().fetched;
        let _guard = self.fetch.lock().await;
        // Another caller may have fetched while this one waited.
        let current = self.set.load_full();
        if current.fetched != seen {
            return find(&current, kid, alg).ok_or(Error::IdToken(IdTokenError::UnknownKey));
        }
        let now = self.clock.now();
        if let Some(at) = current.refetched
            && now < at + self.min_refetch
        {
            tracing::debug!("unknown kid; JWKS re-fetch rate-limited");
            return Err(Error::IdToken(IdTokenError::UnknownKey));
        }
        let mut fresh = self.download().await?;
        if current.fetched.is_some() {
            fresh.refetched = Some(now);
        }
        let found = find(&fresh, kid, alg);
        self.set.store(Arc::new(fresh));
        found.ok_or(Error::IdToken(IdTokenError::UnknownKey))
    }

    async fn download(&self) -> Result<KeySet, Error> {
        let request = http::Request::get(self.url.as_str())
            .header(http::header::ACCEPT, "application/json")
            .body(bytes::Bytes::new())
            .map_err(|e| auth_core::Error::Request(format!("cannot build the request: {e}")))?;
        let response = self.http.send(request).await?.error_for_status()?;
        let mut set = parse_key_set(Some(response.status), &response.body)?;
        set.fetched = Some(self.clock.now());
        tracing::debug!(keys = set.keys.len(), "JWKS fetched");
        Ok(set)
    }

    /// Fills the cache from a JWKS document in hand (keys pinned in configuration or
    /// read from a file) and returns how many usable signing keys it holds. The
    /// document counts as a fetch: a later unknown `kid` re-fetches from the URL no
    /// sooner than the [re-fetch interval](Self::with_min_refetch_interval).
    ///
    /// Keys this client cannot use (encryption keys, unknown key types, malformed
    /// members) are skipped; a document that is not a JWKS is an error.
    pub fn load_document(&self, document: &[u8]) -> Result<usize, Error> {
        let mut set = parse_key_set(None, document)?;
        let now = self.clock.now();
        set.fetched = Some(now);
        set.refetched = Some(now);
        let count = set.keys.len();
        self.set.store(Arc::new(set));
        Ok(count)
    }
}

/// The usable signing keys of a JWKS document.
fn parse_key_set(status: Option<http::StatusCode>, body: &[u8]) -> Result<KeySet, Error> {
    let invalid = |reason: &str| auth_core::Error::InvalidResponse {
        status,
        reason: reason.into(),
    };
    let document: Value =
        serde_json::from_slice(body).map_err(|_| invalid("the JWKS is not JSON"))?;
    let keys = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("the JWKS has no keys array"))?;
    let mut set = KeySet::default();
    for value in keys {
        // Keys this client cannot use (encryption keys, unknown types) are skipped,
        // not fatal: providers publish them alongside signing keys.
        if value
            .get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
            continue;
        };
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        let kid = value.get("kid").and_then(Value::as_str).map(str::to_owned);
        if let Some(kid) = &kid {
            set.by_kid.insert(kid.clone(), set.keys.len());
        }
        set.keys.push(Arc::new(CachedKey {
            alg: value.get("alg").and_then(Value::as_str).map(str::to_owned),
            key,
        }));
    }
    Ok(set)
}

/// The key named `kid`; without a `kid`, the only key that suits `alg`.
fn find(set: &KeySet, kid: Option<&str>, alg: &str) -> Option<Arc<CachedKey>> {
    let suits = |k: &CachedKey| k.alg.as_deref().is_none_or(|a| a == alg);
    match kid {
        Some(kid) => set
            .by_kid
            .get(kid)
            .map(|&i| &set.keys[i])
            .filter(|k| suits(k))
            .cloned(),
        None => {
            let mut candidates = set.keys.iter().filter(|k| suits(k));
            match (candidates.next(), candidates.next()) {
                (Some(only), None) => Some(Arc::clone(only)),
                _ => None,
            }
        }
    }
}
