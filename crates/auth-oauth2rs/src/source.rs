//! The sources: [`ClientCredentialsSource`] and [`RefreshTokenSource`], the `oauth2`
//! crate's grants as [`TokenSource`]s.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use auth_core::http::{HttpClient, Repeat};
use auth_core::{
    Clock, Error, ExposeSecret, Refusal, SecretString, SystemClock, Token, TokenSource,
};
use oauth2::{Scope, TokenResponse};

use crate::error::core_error_with_status;
use crate::http::Recording;
use crate::{BasicTokenClient, OAuth2HttpClient, TokenClient};

/// What every source shares: the client, how it sends, and what it asks for.
struct Grant<C> {
    client: C,
    http: OAuth2HttpClient,
    scopes: Vec<Scope>,
    extra: Vec<(String, String)>,
    clock: Arc<dyn Clock>,
}

impl<C: TokenClient> Grant<C> {
    /// Checks that `client` has a token endpoint the policy of `http` allows.
    fn new(client: C, http: HttpClient, repeat: Repeat) -> Result<Self, Error> {
        let url = client.token_url().ok_or_else(no_token_url)?;
        http.check_url(url.url())?;
        Ok(Self {
            client,
            http: OAuth2HttpClient::new(http).with_repeat(repeat),
            scopes: Vec::new(),
            extra: Vec::new(),
            clock: Arc::new(SystemClock),
        })
    }

    /// The token a response stands for, issued now.
    fn token(&self, response: &C::TokenResponse, fallback_refresh: Option<SecretString>) -> Token {
        let mut issued = Issued::from_response(response, &self.scopes);
        if issued.refresh_token.is_none() {
            issued.refresh_token = fallback_refresh;
        }
        issued.token(self.clock.now())
    }
}

impl<C: fmt::Debug> Grant<C> {
    fn debug_fields(&self, f: &mut fmt::DebugStruct<'_, '_>) {
        f.field("client", &self.client)
            .field("http", &self.http)
            .field("scopes", &self.scopes)
            // Extra parameters by name only: a value may be a credential.
            .field(
                "extra_params",
                &self.extra.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("clock", &self.clock);
    }
}

fn no_token_url() -> Error {
    Error::Config("the oauth2 client has no token URL (`set_token_uri`)".into())
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Builder methods both sources share.
macro_rules! grant_options {
    () => {
        /// With one more scope to ask for (sent as `scope`, space-separated).
        #[must_use]
        pub fn with_scope(mut self, scope: Scope) -> Self {
            self.grant.scopes.push(scope);
            self
        }

        /// With more scopes to ask for.
        #[must_use]
        pub fn with_scopes(mut self, scopes: impl IntoIterator<Item = Scope>) -> Self {
            self.grant.scopes.extend(scopes);
            self
        }

        /// With one more parameter sent with every request (`audience`, `resource`, a
        /// vendor's tenant). Shown by name only in `Debug`.
        #[must_use]
        pub fn with_extra_param(
            mut self,
            name: impl Into<String>,
            value: impl Into<String>,
        ) -> Self {
            self.grant.extra.push((name.into(), value.into()));
            self
        }

        /// With the clock tokens are timed by (default: [`SystemClock`]). Give it the
        /// clock of the [`CachingProvider`](auth_core::CachingProvider), for tests that
        /// move time.
        #[must_use]
        pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
            self.set_clock(clock);
            self
        }

        /// The `oauth2` client.
        pub fn client(&self) -> &C {
            &self.grant.client
        }

        /// The HTTP client the requests go through, with this grant's [`Repeat`] class.
        pub fn http(&self) -> &OAuth2HttpClient {
            &self.grant.http
        }
    };
}

/// The `client_credentials` grant (RFC 6749 §4.4) of an `oauth2` client, as a
/// [`TokenSource`]: wrap it in a [`CachingProvider`](auth_core::CachingProvider).
///
/// Requests are [`Repeat::Safe`]: asking again for a client's token spends nothing, so
/// a 5xx or a 429 is retried within the policy's bounds. Every fetch is a fresh grant
/// with the client's credentials; a refresh token the server may send anyway
/// (RFC 6749 §4.4.3 says it should not) is dropped, since it would never be used and
/// would keep an expired token alive in a shared store.
///
/// ```
/// use auth_core::http::{HttpClient, HttpPolicy};
/// use auth_core::{CachingProvider, TokenSource};
/// use auth_oauth2rs::ClientCredentialsSource;
/// use oauth2::basic::BasicClient;
/// use oauth2::{ClientId, ClientSecret, Scope, TokenUrl};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let client = BasicClient::new(ClientId::new("my-app".into()))
///     .set_client_secret(ClientSecret::new("my-secret".into()))
///     .set_token_uri(TokenUrl::new("https://auth.example.com/oauth/token".into())?);
/// let source = ClientCredentialsSource::new(client, HttpClient::with_defaults()?)?
///     .with_scope(Scope::new("reports:read".into()))
///     .with_extra_param("audience", "https://api.example.com");
/// assert_eq!(source.grant(), "client_credentials");
/// assert!(!format!("{source:?}").contains("my-secret"));
/// let provider = CachingProvider::new(source);
/// # let _ = provider;
///
/// // A plain-HTTP token endpoint is refused (loopback excepted, for tests).
/// let insecure = BasicClient::new(ClientId::new("my-app".into()))
///     .set_token_uri(TokenUrl::new("http://auth.example.com/oauth/token".into())?);
/// assert!(ClientCredentialsSource::new(insecure, HttpClient::with_defaults()?).is_err());
/// # Ok(()) }
/// ```
pub struct ClientCredentialsSource<C = BasicTokenClient> {
    grant: Grant<C>,
}

impl<C: TokenClient> ClientCredentialsSource<C> {
    /// The grant of `client`, sent through `http`. Fails with
    /// [`Error::InsecureUrl`] when the client's token URL is plain HTTP to a host that
    /// is not loopback, and with [`Error::Config`] when the client has no token URL.
    pub fn new(client: C, http: HttpClient) -> Result<Self, Error> {
        Ok(Self {
            grant: Grant::new(client, http, Repeat::Safe)?,
        })
    }

    fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        self.grant.clock = clock;
    }

    grant_options!();
}

impl<C: fmt::Debug> fmt::Debug for ClientCredentialsSource<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("ClientCredentialsSource");
        self.grant.debug_fields(&mut s);
        s.finish()
    }
}

#[async_trait]
impl<C: TokenClient> TokenSource for ClientCredentialsSource<C> {
    fn grant(&self) -> &'static str {
        "client_credentials"
    }

    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
        let g = &self.grant;
        let mut request = g
            .client
            .client_credentials_request()
            .ok_or_else(no_token_url)?
            .add_scopes(g.scopes.iter().cloned());
        for (name, value) in &g.extra {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let http = Recording::new(&g.http);
        let response = request
            .request_async(&http)
            .await
            .map_err(|e| core_error_with_status(e, http.status()))?;
        Ok(Issued::from_response(&response, &g.scopes)
            .without_refresh_token()
            .token(g.clock.now()))
    }
}

/// The `refresh_token` grant (RFC 6749 §6) of an `oauth2` client, as a
/// [`TokenSource`]: a user's tokens from a refresh token the application holds
/// ([`new`](Self::new)) or from the answer of a grant it has just made itself, a code
/// exchange say ([`from_token_response`](Self::from_token_response)).
///
/// - Rotation: each refresh starts from the newest refresh token: the one of the
///   token being replaced when the [`CachingProvider`](auth_core::CachingProvider)
///   passes one (the newest in its store, maybe another process's), else the newest
///   this source has seen. A server that rotates sends a new one, which is attached to
///   the token and kept; one that does not keeps the old one, attached as well.
/// - Requests are [`Repeat::Unsent`]: a rotating refresh token is single use, so a
///   refresh is sent again only when it provably never reached the server.
/// - [`invalidates_previous`](TokenSource::invalidates_previous) is `true`: while a
///   shared store is unreachable, no refresh is made (the cached token is served while
///   it lasts), so that two processes never spend one refresh token.
/// - A refresh refused with `invalid_grant` (revoked, expired, reused) is
///   [`Error::SignInRequired`]: the user must sign in again.
///
/// The refresh token is a [`SecretString`] here; the `oauth2` crate's own copies of
/// it (its `RefreshToken` and the request body) live only for the request, but are
/// not zeroized.
pub struct RefreshTokenSource<C = BasicTokenClient> {
    grant: Grant<C>,
    latest: Mutex<SecretString>,
    first: Mutex<Option<Issued>>,
}

impl<C: TokenClient> RefreshTokenSource<C> {
    /// Tokens from `refresh_token`, by `client` through `http`. The first fetch
    /// refreshes. Fails as [`ClientCredentialsSource::new`] does.
    pub fn new(
        client: C,
        http: HttpClient,
        refresh_token: impl Into<SecretString>,
    ) -> Result<Self, Error> {
        Ok(Self {
            grant: Grant::new(client, http, Repeat::Unsent)?,
            latest: Mutex::new(refresh_token.into()),
            first: Mutex::new(None),
        })
    }

    /// Tokens that start with `response`, the answer of a grant the application made
    /// with `client` (`exchange_code`, `exchange_password`, a device flow): its access
    /// token is the first fetch's, counted from now by the source's clock, and later
    /// fetches refresh with its refresh token. Fails with [`Error::InvalidResponse`]
    /// when `response` has no refresh token.
    pub fn from_token_response(
        client: C,
        http: HttpClient,
        response: &C::TokenResponse,
    ) -> Result<Self, Error> {
        let first = Issued::from_response(response, &[]);
        let refresh = first
            .refresh_token
            .clone()
            .ok_or_else(|| Error::InvalidResponse {
                status: None,
                reason: "the token response has no refresh token".into(),
            })?;
        let mut source = Self::new(client, http, refresh)?;
        source.first = Mutex::new(Some(first.received_at(source.grant.clock.now())));
        Ok(source)
    }

    fn set_clock(&mut self, clock: Arc<dyn Clock>) {
        // A first token not yet handed out counts from now by the new clock.
        let now = clock.now();
        if let Some(first) = locked(&self.first).as_mut() {
            first.issued_at = Some(now);
        }
        self.grant.clock = clock;
    }

    grant_options!();
}

impl<C: fmt::Debug> fmt::Debug for RefreshTokenSource<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("RefreshTokenSource");
        self.grant.debug_fields(&mut s);
        s.field("refresh_token", &"[REDACTED]").finish()
    }
}

#[async_trait]
impl<C: TokenClient> TokenSource for RefreshTokenSource<C> {
    fn grant(&self) -> &'static str {
        "refresh_token"
    }

    /// A rotating server spends the refresh token on use: no refresh without the
    /// shared store.
    fn invalidates_previous(&self) -> bool {
        true
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        let first = locked(&self.first).take();
        if let Some(first) = first {
            let issued_at = first.issued_at.unwrap_or_else(|| self.grant.clock.now());
            return Ok(first.token(issued_at));
        }
        let g = &self.grant;
        let refresh = match previous.and_then(Token::refresh_token) {
            Some(newest) => newest.clone(),
            None => locked(&self.latest).clone(),
        };
        let wire = oauth2::RefreshToken::new(refresh.expose_secret().to_owned());
        let mut request = g
            .client
            .refresh_token_request(&wire)
            .ok_or_else(no_token_url)?
            .add_scopes(g.scopes.iter().cloned());
        for (name, value) in &g.extra {
            request = request.add_extra_param(name.as_str(), value.as_str());
        }
        let http = Recording::new(&g.http);
        let outcome = request
            .request_async(&http)
            .await
            .map_err(|e| core_error_with_status(e, http.status()));
        let response = match outcome {
            Ok(response) => response,
            Err(e) if e.refusal() == Some(Refusal::GrantRejected) => {
                return Err(Error::SignInRequired {
                    reason: "the refresh token was refused (invalid_grant)".into(),
                });
            }
            Err(e) => return Err(e),
        };
        let token = g.token(&response, Some(refresh));
        if let Some(newest) = token.refresh_token() {
            *locked(&self.latest) = newest.clone();
        }
        Ok(token)
    }
}

/// A token response of the `oauth2` crate, copied into secrets.
struct Issued {
    scheme: String,
    access_token: SecretString,
    expires_in: Option<Duration>,
    refresh_token: Option<SecretString>,
    scope: Option<String>,
    /// When a token held for later was received (`None`: at the time it is built).
    issued_at: Option<SystemTime>,
}

impl Issued {
    /// The parts of `response`; its scope, or the `requested` one when it says none
    /// (RFC 6749 §5.1: then it is the scope requested).
    fn from_response<TR: TokenResponse>(response: &TR, requested: &[Scope]) -> Self {
        let scope = match response.scopes() {
            Some(granted) => Some(join(granted)),
            None if !requested.is_empty() => Some(join(requested)),
            None => None,
        };
        Self {
            scheme: scheme(response.token_type()),
            access_token: SecretString::from(response.access_token().secret().as_str()),
            expires_in: response.expires_in(),
            refresh_token: response
                .refresh_token()
                .map(|r| SecretString::from(r.secret().as_str())),
            scope,
            issued_at: None,
        }
    }

    fn received_at(mut self, at: SystemTime) -> Self {
        self.issued_at = Some(at);
        self
    }

    fn without_refresh_token(mut self) -> Self {
        self.refresh_token = None;
        self
    }

    fn token(self, issued_at: SystemTime) -> Token {
        let mut token = Token::new(self.scheme, self.access_token, issued_at);
        if let Some(lifetime) = self.expires_in {
            token = token.expires_in(lifetime);
        }
        if let Some(refresh) = self.refresh_token {
            token = token.with_refresh_token(refresh);
        }
        if let Some(scope) = self.scope {
            token = token.with_scope(scope);
        }
        token
    }
}

fn join(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The authorization scheme for a `token_type`. Both are case-insensitive (RFC 6749
/// §7.1, RFC 9110 §11.1), and the `oauth2` crate lower-cases the type it parses, so
/// the known ones get their registered spelling (`Bearer`, `DPoP`, `MAC`); `Bearer`
/// too when the type is not a string; any other type as it came.
fn scheme<T: serde::Serialize>(token_type: &T) -> String {
    let Ok(serde_json::Value::String(t)) = serde_json::to_value(token_type) else {
        return "Bearer".to_owned();
    };
    let t = t.trim();
    ["Bearer", "DPoP", "MAC"]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(t))
        .map_or_else(
            || if t.is_empty() { "Bearer" } else { t }.to_owned(),
            str::to_owned,
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use oauth2::basic::BasicTokenResponse;
    use std::time::UNIX_EPOCH;

    fn response(json: &str) -> BasicTokenResponse {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn bearer_in_any_case_is_bearer_and_other_types_stay() {
        for (token_type, expected) in [
            ("bearer", "Bearer"),
            ("Bearer", "Bearer"),
            ("BEARER", "Bearer"),
            ("DPoP", "DPoP"),
            ("mac", "MAC"),
            ("N_A", "n_a"),
        ] {
            let r = response(&format!(
                r#"{{"access_token":"a","token_type":"{token_type}"}}"#
            ));
            assert_eq!(scheme(r.token_type()), expected);
        }
    }

    #[test]
    fn a_response_becomes_a_token_with_lifetime_refresh_token_and_scope() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let r = response(
            r#"{"access_token":"acc","token_type":"bearer","expires_in":300,"refresh_token":"ref","scope":"a b"}"#,
        );
        let token = Issued::from_response(&r, &[]).token(at);
        assert_eq!(token.scheme(), "Bearer");
        assert_eq!(token.access_token().expose_secret(), "acc");
        assert_eq!(token.lifetime(), Some(Duration::from_secs(300)));
        assert_eq!(token.refresh_token().unwrap().expose_secret(), "ref");
        assert_eq!(token.scope(), Some("a b"));
        assert_eq!(token.issued_at(), at);

        // No scope in the answer: the one requested (RFC 6749 §5.1).
        let r = response(r#"{"access_token":"acc","token_type":"bearer"}"#);
        let requested = [Scope::new("read".into()), Scope::new("write".into())];
        let token = Issued::from_response(&r, &requested).token(at);
        assert_eq!(token.scope(), Some("read write"));
        assert_eq!(token.expiry(), None);
        assert!(token.refresh_token().is_none());
    }
}
