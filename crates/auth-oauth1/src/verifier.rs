//! [`Verifier`]: checks a signed request, for servers and tests.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::internal::constant_time_eq;
use auth_core::{Clock, SystemClock, unix_seconds};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http::Uri;

use crate::{
    AuthorizationHeader, Error, SignatureMethod, VerifyingKey, base_string, is_form_urlencoded,
};

/// Remembers nonces so a request cannot be replayed.
pub trait NonceStore: Send + Sync + fmt::Debug {
    /// Records the nonce; `false` if the same consumer, token, timestamp and nonce
    /// were seen before.
    fn remember(
        &self,
        consumer_key: &str,
        token: Option<&str>,
        timestamp: u64,
        nonce: &str,
    ) -> bool;
}

/// What identifies a nonce's use: consumer key, token, timestamp, nonce.
type NonceUse = (String, Option<String>, u64, String);

/// Nonces in memory. A nonce is forgotten once its timestamp is more than `window`
/// older than the newest one seen: the [`Verifier`] refuses such timestamps before it
/// asks the store, so forgetting them cannot let a replay through as long as this
/// window is at least the verifier's (the default, 10 minutes, is twice the
/// verifier's default).
#[derive(Debug)]
pub struct InMemoryNonceStore {
    window: u64,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    uses: HashSet<NonceUse>,
    newest: u64,
}

/// Above this many remembered nonces, old ones are pruned on insert.
const PRUNE_ABOVE: usize = 1024;

impl Default for InMemoryNonceStore {
    fn default() -> Self {
        Self::with_window(Duration::from_secs(600))
    }
}

impl InMemoryNonceStore {
    /// An empty store with a 10-minute window.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that forgets nonces `window` older than the newest.
    pub fn with_window(window: Duration) -> Self {
        Self {
            window: window.as_secs(),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// Nonces remembered now.
    pub fn len(&self) -> usize {
        self.lock().uses.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl NonceStore for InMemoryNonceStore {
    fn remember(
        &self,
        consumer_key: &str,
        token: Option<&str>,
        timestamp: u64,
        nonce: &str,
    ) -> bool {
        let mut seen = self.lock();
        seen.newest = seen.newest.max(timestamp);
        if seen.uses.len() > PRUNE_ABOVE {
            let oldest = seen.newest.saturating_sub(self.window);
            seen.uses.retain(|(_, _, ts, _)| *ts >= oldest);
        }
        seen.uses.insert((
            consumer_key.to_owned(),
            token.map(str::to_owned),
            timestamp,
            nonce.to_owned(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_nonces_are_forgotten_recent_ones_are_not() {
        let store = InMemoryNonceStore::with_window(Duration::from_secs(600));
        for i in 0..=PRUNE_ABOVE as u64 {
            assert!(store.remember("ck", None, 1_000, &format!("n{i}")));
        }
        assert!(
            !store.remember("ck", None, 1_000, "n0"),
            "a replay is refused"
        );
        // Much later: the next insert prunes everything outside the window.
        assert!(store.remember("ck", None, 1_000 + 601, "fresh"));
        assert_eq!(store.len(), 1);
        assert!(!store.remember("ck", None, 1_000 + 601, "fresh"));
    }
}

/// What a verified request carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// `oauth_consumer_key`.
    pub consumer_key: String,
    /// `oauth_token`, if any.
    pub token: Option<String>,
    /// The signature method.
    pub method: SignatureMethod,
    /// `oauth_timestamp` (0 for PLAINTEXT requests without one).
    pub timestamp: u64,
    /// `oauth_nonce` (empty for PLAINTEXT requests without one).
    pub nonce: String,
    /// `oauth_callback`, if any.
    pub callback: Option<String>,
    /// `oauth_verifier`, if any.
    pub verifier: Option<String>,
    /// `realm`, if any.
    pub realm: Option<String>,
}

/// The request a [`Verifier`] checks.
#[derive(Debug, Clone, Copy)]
pub struct IncomingRequest<'a> {
    /// The method.
    pub method: &'a str,
    /// The full URI as the client addressed it (scheme and host included).
    pub uri: &'a Uri,
    /// The `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
    /// The `Authorization` header value.
    pub authorization: &'a str,
}

/// Verifies OAuth 1.0a signatures: parses the `Authorization` header, looks up the
/// keys, recomputes the signature and compares it in constant time, then checks the
/// timestamp window and the nonce (in that order, so that unsigned requests cannot
/// fill the nonce store).
#[derive(Debug, Clone)]
pub struct Verifier {
    clock: Arc<dyn Clock>,
    window: Duration,
    nonces: Option<Arc<dyn NonceStore>>,
    methods: Vec<SignatureMethod>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    /// A verifier with a 5-minute timestamp window, HMAC and RSA methods allowed
    /// (PLAINTEXT only when allowed explicitly), no nonce store.
    pub fn new() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            window: Duration::from_secs(300),
            nonces: None,
            methods: vec![
                SignatureMethod::HmacSha1,
                SignatureMethod::HmacSha256,
                SignatureMethod::HmacSha512,
                SignatureMethod::RsaSha256,
            ],
        }
    }

    /// The clock timestamps are checked against.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How far a timestamp may be from now, either way.
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Detects replayed nonces with `store`.
    #[must_use]
    pub fn nonce_store(mut self, store: Arc<dyn NonceStore>) -> Self {
        self.nonces = Some(store);
        self
    }

    /// The signature methods accepted.
    #[must_use]
    pub fn methods(mut self, methods: &[SignatureMethod]) -> Self {
        self.methods = methods.to_vec();
        self
    }

    /// Verifies `request`; `keys` returns the key for a consumer key and token.
    pub fn verify(
        &self,
        request: &IncomingRequest<'_>,
        keys: impl FnOnce(&str, Option<&str>) -> Option<VerifyingKey>,
    ) -> Result<VerifiedRequest, Error> {
        let header = AuthorizationHeader::parse(request.authorization)?;
        let get = |name| header.get(name);
        let consumer_key =
            get("oauth_consumer_key").ok_or(Error::MissingParameter("oauth_consumer_key"))?;
        let method_name = get("oauth_signature_method")
            .ok_or(Error::MissingParameter("oauth_signature_method"))?;
        let method = SignatureMethod::parse(method_name)
            .filter(|m| self.methods.contains(m))
            .ok_or_else(|| {
                Error::UnsupportedSignatureMethod(method_name.chars().take(32).collect())
            })?;
        let signature = get("oauth_signature").ok_or(Error::MissingParameter("oauth_signature"))?;
        if get("oauth_version").is_some_and(|v| v != "1.0") {
            return Err(Error::UnsupportedVersion);
        }
        let needs_nonce = method != SignatureMethod::Plaintext;
        let timestamp = match get("oauth_timestamp") {
            Some(t) => t
                .parse::<u64>()
                .map_err(|_| Error::MalformedHeader("oauth_timestamp is not a number"))?,
            None if needs_nonce => return Err(Error::MissingParameter("oauth_timestamp")),
            None => 0,
        };
        let nonce = match get("oauth_nonce") {
            Some(n) if !n.is_empty() => n,
            _ if needs_nonce => return Err(Error::MissingParameter("oauth_nonce")),
            _ => "",
        };
        let token = get("oauth_token");
        let key = keys(consumer_key, token).ok_or(Error::UnknownCredentials)?;

        let is_form = is_form_urlencoded(request.content_type);
        let protocol = header.protocol_pairs();
        let base = base_string(
            request.method,
            request.uri,
            is_form.then_some(request.body),
            &protocol,
        )?;
        if !key.verify(method, base.as_bytes(), signature) {
            return Err(Error::InvalidSignature);
        }
        if let Some(claimed) = get("oauth_body_hash") {
            use sha1::Digest as _;
            let actual = STANDARD.encode(sha1::Sha1::digest(request.body));
            if is_form || !constant_time_eq(actual.as_bytes(), claimed.as_bytes()) {
                return Err(Error::InvalidSignature);
            }
        }
        if needs_nonce {
            let now = unix_seconds(self.clock.now());
            if now.abs_diff(timestamp) > self.window.as_secs() {
                return Err(Error::TimestampOutOfWindow);
            }
            if let Some(store) = &self.nonces
                && !store.remember(consumer_key, token, timestamp, nonce)
            {
                return Err(Error::NonceReplayed);
            }
        }
        Ok(VerifiedRequest {
            consumer_key: consumer_key.to_owned(),
            token: token.map(str::to_owned),
            method,
            timestamp,
            nonce: nonce.to_owned(),
            callback: get("oauth_callback").map(str::to_owned),
            verifier: get("oauth_verifier").map(str::to_owned),
            realm: header.realm.clone(),
        })
    }
}
