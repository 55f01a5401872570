//! [`Binokula`] and [`BinokulaBuilder`]: one typed call per endpoint of the developer
//! guide, and the users' SSO tokens.

use std::sync::Arc;
use std::time::Duration;

use auth_apikey::ApiKey;
use auth_core::http::{HttpClient, HttpResponse, Repeat};
use auth_core::{
    CacheLimits, Clock, ExposeSecret, RefreshPolicy, Renewal, SecretString, SystemClock, TokenStore,
};
use bytes::Bytes;
use http::Method;
use serde::Deserialize;
use url::Url;

use crate::error::unquote;
use crate::sso::{DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_IDLE, Sessions, parse_expiry};
use crate::{BinokulaConfig, Email, Error, SsoToken, SsoUrl, SsoUser};

/// A Binokula tenant: the API's calls, and each user's SSO token, cached. Cheap to
/// clone (clones share the cache).
///
/// ```no_run
/// # async fn run() -> Result<(), auth_binokula::Error> {
/// use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, FunctionKey};
///
/// let config = BinokulaConfig::new("acme", ClientSecret::new("s3cret"), FunctionKey::new("fn-key"))?;
/// let binokula = Binokula::new(config)?;
/// let url = binokula.sso_url(&Email::parse("jo@example.com")?).await?;
/// // Redirect the user's browser to `url.expose()`.
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Binokula {
    pub(crate) api: Arc<Api>,
    sessions: Arc<Sessions>,
}

/// What every call needs: the configuration, the HTTP client, the API key and the clock.
#[derive(Debug)]
pub(crate) struct Api {
    pub(crate) config: BinokulaConfig,
    http: HttpClient,
    auth: ApiKey,
    pub(crate) clock: Arc<dyn Clock>,
}

/// Builds a [`Binokula`]: [`Binokula::builder`].
#[derive(Debug)]
#[must_use]
pub struct BinokulaBuilder {
    config: BinokulaConfig,
    http: Option<HttpClient>,
    clock: Arc<dyn Clock>,
    store: Option<Arc<dyn TokenStore>>,
    policy: RefreshPolicy,
    existing_users_only: bool,
    cache: CacheLimits,
}

impl BinokulaBuilder {
    /// Sends through `http` (any transport, the application's own client). Without
    /// it, [`build`](Self::build) uses the default transport (reqwest, with the
    /// `reqwest` feature).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Times tokens by `clock` (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Keeps the users' SSO tokens in `store` (default: in memory, each user's with
    /// the user's provider, gone when the provider leaves the cache). Give every
    /// process of a fleet the same store: Binokula keeps one active token per user, so
    /// the fleet must share it (a token one process issues revokes the others'). With
    /// a store, a user whose provider left the [bounded cache](Self::cache_capacity)
    /// gets the stored token back on the next call, with no new issuance.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Keeps the providers (and cached tokens) of at most `capacity` users not in use
    /// (default 10,000; 0 is taken as 1). Past it the least used go; an [`SsoUser`]
    /// that is held keeps its user's provider whatever the capacity, so no user ever
    /// has two providers, and two issuances, in this process. A user whose provider
    /// went gets a new one on the next call: with a [`store`](Self::store), its token
    /// comes back from there; without one, a new token is issued (which revokes the
    /// old). Size it above the number of users active within
    /// [`cache_idle`](Self::cache_idle); each costs about 1.6 KB with its token.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = self.cache.with_capacity(capacity);
        self
    }

    /// Drops a user's provider once [`user`](Binokula::user) has not been called for
    /// it for `idle` and no [`SsoUser`] holds it (default: one hour, the life of an SSO
    /// token, so what goes is a token that has ended or is due for renewal). Idle
    /// entries are swept from calls to `user`, at most every eighth of `idle`.
    pub fn cache_idle(mut self, idle: Duration) -> Self {
        self.cache = self.cache.with_idle(idle);
        self
    }

    /// When SSO tokens are renewed (default: [`RefreshPolicy::default`], that is when
    /// 90 % of the hour has passed, less up to 5 % jitter). Renewal stays
    /// [`Renewal::Blocking`] whatever `policy` says: a new token revokes the old one,
    /// so a token due for renewal is never handed out.
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy.with_renewal(Renewal::Blocking);
        self
    }

    /// Only issue SSO tokens for users that exist (`existingusersonly=true`); by
    /// default the API creates a user on first use.
    pub fn existing_users_only(mut self, only: bool) -> Self {
        self.existing_users_only = only;
        self
    }

    /// The client.
    pub fn build(self) -> Result<Binokula, Error> {
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::try_default()?,
        };
        let config = &self.config;
        let auth = ApiKey::builder(config.client_secret.0.clone())
            .header("client_secret")
            .map(|b| {
                b.extra_query("tenant", &config.tenant)
                    .extra_secret_query("code", config.function_key.0.clone())
            })
            .and_then(|b| b.build())
            .map_err(|e| Error::Config(e.to_string()))?;
        for url in [&config.api_url, &config.app_url] {
            http.check_url(url)?;
        }
        Ok(Binokula {
            api: Arc::new(Api {
                config: self.config,
                http,
                auth,
                clock: Arc::clone(&self.clock),
            }),
            sessions: Arc::new(Sessions::new(
                self.store,
                self.policy,
                self.existing_users_only,
                self.cache,
                Arc::clone(&self.clock),
            )),
        })
    }
}

/// The two shapes a `200` from `GET /api/Token` may take: the guide's token answer
/// (lines 50-54: `email`, `access_token`, `expiry_date`), or a `message` and no token
/// (the shape of the guide's other answers; what a server that answers every request
/// `200` says when it issues no token). Every member is optional here and checked in
/// [`token_answer`].
#[derive(Deserialize)]
struct TokenWire {
    email: Option<String>,
    access_token: Option<String>,
    expiry_date: Option<String>,
    message: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct MessageWire {
    message: String,
}

impl Binokula {
    /// A client with the system clock, the default transport (reqwest) and its
    /// default HTTP policy, and SSO tokens cached in memory.
    #[cfg(feature = "reqwest")]
    pub fn new(config: BinokulaConfig) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder for the transport, clock, token store, refresh policy and the users'
    /// cache ([`cache_capacity`](BinokulaBuilder::cache_capacity),
    /// [`cache_idle`](BinokulaBuilder::cache_idle)).
    pub fn builder(config: BinokulaConfig) -> BinokulaBuilder {
        BinokulaBuilder {
            config,
            http: None,
            clock: Arc::new(SystemClock),
            store: None,
            policy: RefreshPolicy::default().with_renewal(Renewal::Blocking),
            existing_users_only: false,
            cache: CacheLimits::new(DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_IDLE),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BinokulaConfig {
        &self.api.config
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.api.clock
    }

    /// The provider for `email`'s SSO session: its token, cached (one issuance for
    /// any number of concurrent callers, renewed before its hour ends, never handed
    /// out once replaced), and the `ExternalAccess` parameters on a request. The
    /// provider stays in the bounded cache while an `SsoUser` for it is held, and
    /// otherwise within [`cache_capacity`](BinokulaBuilder::cache_capacity) and
    /// [`cache_idle`](BinokulaBuilder::cache_idle).
    pub fn user(&self, email: &Email) -> SsoUser {
        self.sessions.user(&self.api, email)
    }

    /// `email`'s `ExternalAccess` URL with the user's current token (the cached one,
    /// or a new one): `self.user(email).sso_url()`.
    pub async fn sso_url(&self, email: &Email) -> Result<SsoUrl, Error> {
        self.user(email).sso_url().await
    }

    /// Forgets `email`'s cached token (after disabling or deleting the user).
    pub fn forget(&self, email: &Email) {
        self.sessions.forget(email);
    }

    /// Issues (or renews) `email`'s SSO token: `GET /api/Token` with `email`,
    /// `existingusersonly`, `tenant` and `code` (`vendor-docs/000_027729303c54bc9d.txt`,
    /// lines 32-46), uncached. The user is created unless `existing_users_only`
    /// ("When \"true\" a valid token is only generated for existing users", line 44).
    /// The answer is the guide's `{"email", "access_token", "expiry_date"}` (lines
    /// 50-54), or a `message` without a token ([`Error::UnknownUser`] with
    /// `existing_users_only`, else [`Error::NoToken`]). Issuing a token makes any earlier one
    /// of that user invalid, the one [`user`](Self::user) caches included. An answer
    /// whose `email` is not `email` (ASCII case-insensitively) is
    /// [`Error::EmailMismatch`].
    pub async fn issue_token(
        &self,
        email: &Email,
        existing_users_only: bool,
    ) -> Result<SsoToken, Error> {
        self.api.issue_token(email, existing_users_only).await
    }

    /// The `ExternalAccess` URL for `token`: `https://binokula.app/Account/ExternalAccess`
    /// with `email`, `access_token` and `tenant` (lines 58-64), "URL encoded" (line 71).
    pub fn external_access_url(&self, token: &SsoToken) -> SsoUrl {
        self.api.external_access_url(token)
    }

    /// Registers a user: `PUT /api/User` with `email`, `tenant` and `code` (lines
    /// 83-96). Returns the server's message, unquoted (`Successfully registered …`,
    /// line 102); a `200` is success as far as the guide lets anyone tell.
    ///
    /// Not sent again after a 5xx or 429 although `PUT` is idempotent by method: the
    /// test server answers a second registration of the same address with a conflict
    /// (our assumption; the guide shows no error), so a repeat of a registration the
    /// server did commit could report [`Error::UserExists`] for a user just created.
    pub async fn register_user(&self, email: &Email) -> Result<String, Error> {
        let response = self
            .api
            .call_as(
                Method::PUT,
                "api/User",
                &[("email", email.as_str())],
                Repeat::Unsent,
            )
            .await?;
        parse_message(&response)
    }

    /// Deletes a user: `DELETE /api/User` with `email`, `tenant` and `code` (lines
    /// 106-119). Returns the server's message, unquoted (line 125).
    pub async fn delete_user(&self, email: &Email) -> Result<String, Error> {
        let response = self
            .api
            .call(Method::DELETE, "api/User", &[("email", email.as_str())])
            .await?;
        parse_message(&response)
    }

    /// Enables or disables a user: `POST /api/UserStatus` with `email`, `tenant`,
    /// `status` (`"true"` or `"false"`) and `code` (lines 129-143). Returns the
    /// server's message, unquoted (line 149).
    pub async fn set_user_enabled(&self, email: &Email, enabled: bool) -> Result<String, Error> {
        let status = if enabled { "true" } else { "false" };
        let response = self
            .api
            .call(
                Method::POST,
                "api/UserStatus",
                &[("email", email.as_str()), ("status", status)],
            )
            .await?;
        parse_message(&response)
    }
}

impl Api {
    pub(crate) async fn issue_token(
        &self,
        email: &Email,
        existing_users_only: bool,
    ) -> Result<SsoToken, Error> {
        let existing = if existing_users_only { "true" } else { "false" };
        let response = self
            .call(
                Method::GET,
                "api/Token",
                &[("email", email.as_str()), ("existingusersonly", existing)],
            )
            .await?;
        token_answer(&response, email, existing_users_only)
    }

    pub(crate) fn external_access_url(&self, token: &SsoToken) -> SsoUrl {
        let mut url = self.config.app_url.clone();
        url.set_path(&format!("{}Account/ExternalAccess", url.path()));
        url.query_pairs_mut()
            .append_pair("email", &token.email)
            .append_pair("access_token", token.access_token.expose_secret())
            .append_pair("tenant", &self.config.tenant);
        SsoUrl(SecretString::from(String::from(url)))
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
    ) -> Result<HttpResponse, Error> {
        let repeat = Repeat::for_method(&method);
        self.call_as(method, path, params, repeat).await
    }

    async fn call_as(
        &self,
        method: Method,
        path: &str,
        params: &[(&str, &str)],
        repeat: Repeat,
    ) -> Result<HttpResponse, Error> {
        let mut url: Url = self
            .config
            .api_url
            .join(path)
            .map_err(|e| Error::Config(format!("invalid API URL: {e}")))?;
        url.query_pairs_mut().extend_pairs(params);
        let mut request = http::Request::builder()
            .method(method)
            .uri(url.as_str())
            .body(Bytes::new())
            .map_err(|e| auth_core::Error::Request(format!("cannot build the request: {e}")))?;
        auth_core::CredentialProvider::authorize(&self.auth, &mut request).await?;
        let response = self.http.send_as(request, repeat).await?;
        response.api_answer().map_err(Error::from_api)
    }
}

/// Reads a `200` from `GET /api/Token`: the guide's token answer, or a `message`
/// without a token (see [`Error`]: [`Error::UnknownUser`] when only existing users may
/// have one, line 44, else [`Error::NoToken`]). Anything else is a malformed answer.
fn token_answer(
    response: &HttpResponse,
    email: &Email,
    existing_users_only: bool,
) -> Result<SsoToken, Error> {
    let wire: TokenWire = response.json()?;
    let malformed = |reason: &str| {
        Error::Core(auth_core::Error::InvalidResponse {
            status: Some(response.status),
            reason: reason.into(),
        })
    };
    let Some(access_token) = wire.access_token.filter(|t| !t.is_empty()) else {
        if wire.message.is_none() {
            return Err(malformed(
                "the token answer has no access_token and no message",
            ));
        }
        let message = unquote(&response.api_message());
        return Err(if existing_users_only {
            Error::UnknownUser { message }
        } else {
            Error::NoToken { message }
        });
    };
    let (Some(answered), Some(expiry)) = (wire.email, wire.expiry_date) else {
        return Err(malformed("the token answer lacks email or expiry_date"));
    };
    // The answer names its user: a token for anyone else is not this user's.
    if !email.is(&answered) {
        return Err(Error::EmailMismatch {
            requested: email.as_str().to_owned(),
        });
    }
    Ok(SsoToken {
        email: answered,
        access_token: SecretString::from(access_token),
        expires_at: parse_expiry(&expiry)?,
    })
}

/// `{"message": "\"Successfully registered example@example.com\""}`: the message is a
/// JSON string inside the JSON string; unquoted messages are taken as they are.
fn parse_message(response: &HttpResponse) -> Result<String, Error> {
    let wire: MessageWire = response.json()?;
    Ok(unquote(&wire.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::response;

    mod fixtures {
        use auth_core::http::HttpResponse;
        use http::{HeaderMap, StatusCode};

        pub(super) fn response(status: u16, body: &str) -> HttpResponse {
            HttpResponse {
                status: StatusCode::from_u16(status).unwrap(),
                headers: HeaderMap::new(),
                body: body.to_owned().into_bytes().into(),
                attempts: 1,
            }
        }
    }

    fn sorted(status: u16, body: &str) -> Result<HttpResponse, Error> {
        response(status, body).api_answer().map_err(Error::from_api)
    }

    #[test]
    fn messages_are_unquoted() {
        let quoted = response(
            200,
            r#"{"message": "\"Successfully registered example@example.com\""}"#,
        );
        assert_eq!(
            parse_message(&quoted).unwrap(),
            "Successfully registered example@example.com"
        );
        let plain = response(200, r#"{"message": "User Status set to true"}"#);
        assert_eq!(parse_message(&plain).unwrap(), "User Status set to true");
        assert!(parse_message(&response(200, "<html>")).is_err());
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        // 401 and 403 alike: the guide does not say which credential either means.
        for status in [401, 403] {
            let sorted = sorted(status, r#"{"message":"\"Invalid tenant\""}"#);
            assert!(
                matches!(&sorted, Err(Error::CredentialsRejected { status: s, message })
                    if s.as_u16() == status && message == "Invalid tenant"),
                "{sorted:?}"
            );
        }
        assert!(matches!(sorted(404, "{}"), Err(Error::UnknownUser { .. })));
        assert!(matches!(sorted(409, "{}"), Err(Error::UserExists { .. })));
        assert!(matches!(
            sorted(500, "oops"),
            Err(Error::Core(auth_core::Error::Status { .. }))
        ));
        assert!(matches!(
            sorted(302, ""),
            Err(Error::Core(auth_core::Error::Redirect { .. }))
        ));
        let html = response(403, "<!doctype html><p>proxy</p>");
        assert!(matches!(
            html.api_answer().map_err(Error::from_api),
            Err(Error::Core(auth_core::Error::InvalidResponse { .. }))
        ));
    }

    /// Issue 26, item 7: the guide gives no meaning to a 401. A 401 whose message
    /// says the client secret was wrong is not blamed on the function key, and the
    /// message is kept.
    #[test]
    fn a_401_is_not_blamed_on_the_function_key() {
        let err = sorted(401, r#"{"message":"\"Invalid client secret\""}"#).unwrap_err();
        let shown = err.to_string();
        assert!(
            matches!(&err, Error::CredentialsRejected { message, .. } if message == "Invalid client secret"),
            "{err:?}"
        );
        assert!(shown.contains("Invalid client secret"), "{shown}");
    }

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    /// Issue 26, item 7: a `200` with a `message` and no token is the server saying
    /// why it issued none, not a malformed answer.
    #[test]
    fn a_token_answer_with_only_a_message_is_understood() {
        let ann = email("ann@example.com");
        let answer = response(200, r#"{"message": "\"User ann@example.com not found\""}"#);
        assert!(matches!(
            token_answer(&answer, &ann, true),
            Err(Error::UnknownUser { message }) if message == "User ann@example.com not found"
        ));
        assert!(matches!(
            token_answer(&answer, &ann, false),
            Err(Error::NoToken { message }) if message == "User ann@example.com not found"
        ));
        // The guide's own example answer is a token.
        let token = response(
            200,
            r#"{"email": "ann@example.com", "access_token": "FbyIcycqczD6sT519Clgo2iNoW3wxXupT2uxRbUrGO8=", "expiry_date": "2018-04-26T03:08:03.893495+00:00"}"#,
        );
        let token = token_answer(&token, &ann, true).unwrap();
        assert_eq!(token.email, "ann@example.com");
        // Neither shape: malformed, and the message does not quote the body.
        for body in [
            r#"{"email": "ann@example.com"}"#,
            "[]",
            r#"{"access_token": "t0k3n"}"#,
        ] {
            let err = token_answer(&response(200, body), &ann, false).unwrap_err();
            assert!(
                matches!(err, Error::Core(auth_core::Error::InvalidResponse { .. })),
                "{body}: {err:?}"
            );
            assert!(!format!("{err} {err:?}").contains("t0k3n"));
        }
    }

    #[test]
    fn the_tenants_refused_credentials_are_client_rejected() {
        let core = auth_core::Error::from(Error::CredentialsRejected {
            status: http::StatusCode::UNAUTHORIZED,
            message: String::new(),
        });
        assert_eq!(core.refusal(), Some(auth_core::Refusal::ClientRejected));
        assert!(matches!(
            Error::from_core(core),
            Error::CredentialsRejected { .. }
        ));
    }
}
