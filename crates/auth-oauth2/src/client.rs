//! [`OAuth2Client`]: one client at one token endpoint, and the grant requests of
//! RFC 6749 and RFC 7009.

use std::fmt;
use std::sync::Arc;

use auth_core::http::HttpClient;
use auth_core::http::Repeat;
use auth_core::{Clock, ExposeSecret, SecretString, SystemClock};
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use url::Url;

use crate::client_auth::endpoint_request;
use crate::{ClientAuth, Error, PkceVerifier, TokenResponse, parse_token_response};

/// What a token to revoke is (RFC 7009 §2.1 `token_type_hint`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
}

impl TokenTypeHint {
    fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }
}

/// A client registered at an authorization server: its identifier and secret, how it
/// authenticates, and the endpoints it calls. Cheap to clone.
///
/// Endpoints must be HTTPS (plain `http://` only on loopback); no request follows a
/// redirect.
#[derive(Clone)]
pub struct OAuth2Client {
    inner: Arc<Inner>,
}

struct Inner {
    client_id: String,
    secret: Option<SecretString>,
    auth: ClientAuth,
    token_url: Url,
    revocation_url: Option<Url>,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    refresh_repeat: Repeat,
}

impl fmt::Debug for OAuth2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Client")
            .field("client_id", &self.inner.client_id)
            .field("secret", &self.inner.secret.as_ref().map(|_| "[REDACTED]"))
            .field("auth", &self.inner.auth)
            .field("token_url", &self.inner.token_url.as_str())
            .finish_non_exhaustive()
    }
}

/// Builds an [`OAuth2Client`].
#[derive(Debug)]
pub struct OAuth2ClientBuilder {
    client_id: String,
    secret: Option<SecretString>,
    auth: ClientAuth,
    token_url: String,
    revocation_url: Option<String>,
    http: Option<HttpClient>,
    clock: Option<Arc<dyn Clock>>,
    refresh_repeat: Repeat,
}

impl OAuth2ClientBuilder {
    /// The client secret. Without one (or with an empty one) the client is public.
    #[must_use]
    pub fn secret(mut self, secret: SecretString) -> Self {
        self.secret = Some(secret);
        self
    }

    /// How the client authenticates (default [`ClientAuth::Basic`]).
    #[must_use]
    pub fn auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The RFC 7009 revocation endpoint.
    #[must_use]
    pub fn revocation_url(mut self, url: &str) -> Self {
        self.revocation_url = Some(url.to_owned());
        self
    }

    /// The HTTP client: the policy over the application's transport (default: reqwest
    /// with the workspace's defaults, with the `reqwest` feature).
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock tokens are timed with (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Whether a `refresh_token` grant may be sent again after it may have reached the
    /// server (default [`Repeat::Unsent`]: a rotating refresh token is single-use, and
    /// a server with reuse detection revokes the whole token family when it sees one
    /// twice). Set [`Repeat::Safe`] only for a server known to accept a repeat (a
    /// refresh-token grace period, or no rotation).
    #[must_use]
    pub fn repeat_refresh(mut self, repeat: Repeat) -> Self {
        self.refresh_repeat = repeat;
        self
    }

    /// Checks the endpoints (HTTPS, or HTTP on loopback) and builds the client.
    pub fn build(self) -> Result<OAuth2Client, Error> {
        if self.client_id.is_empty() {
            return Err(Error::Config("the client_id is empty".into()));
        }
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::try_default()?,
        };
        let parse = |u: &str| -> Result<Url, Error> {
            let url = Url::parse(u).map_err(|_| Error::Config(format!("{u:?} is not a URL")))?;
            http.check_url(&url)?;
            Ok(url)
        };
        let token_url = parse(&self.token_url)?;
        let revocation_url = self.revocation_url.as_deref().map(parse).transpose()?;
        Ok(OAuth2Client {
            inner: Arc::new(Inner {
                client_id: self.client_id,
                secret: self.secret,
                auth: self.auth,
                token_url,
                revocation_url,
                http,
                clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
                refresh_repeat: self.refresh_repeat,
            }),
        })
    }
}

impl OAuth2Client {
    /// A client `client_id` at the token endpoint `token_url`.
    pub fn builder(client_id: impl Into<String>, token_url: &str) -> OAuth2ClientBuilder {
        OAuth2ClientBuilder {
            client_id: client_id.into(),
            secret: None,
            auth: ClientAuth::Basic,
            token_url: token_url.to_owned(),
            revocation_url: None,
            http: None,
            clock: None,
            refresh_repeat: Repeat::Unsent,
        }
    }

    /// The client identifier.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.inner.token_url
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.inner.http
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Sends any grant to the token endpoint: `params` must include `grant_type`; the
    /// client's credentials are added as configured.
    ///
    /// Which grants are sent again after a 5xx or 429 ([`Repeat`]):
    ///
    /// | grant | sent again on |
    /// | --- | --- |
    /// | `client_credentials` | connect errors, 5xx, 429 |
    /// | `refresh_token` | connect errors only, unless [`OAuth2ClientBuilder::repeat_refresh`] says the server tolerates a repeat |
    /// | `authorization_code`, `password`, any other grant | connect errors only |
    ///
    /// A code is single-use and a rotated refresh token is spent by the first request
    /// that reaches the server, so once a request may have been acted on the caller
    /// gets the failure that happened (a `502` as [`auth_core::Error::Status`]), not the
    /// `invalid_grant` a repeat would earn. A password grant sent twice would leave a
    /// second token family behind, so it is not repeated either.
    ///
    /// Traced as a `token_request` span: the grant type, the client ID, the outcome and
    /// the latency; never a parameter's value.
    pub async fn token_request(&self, params: &[(&str, &str)]) -> Result<TokenResponse, Error> {
        let grant = params
            .iter()
            .find(|(name, _)| *name == "grant_type")
            .map_or("", |(_, value)| known_grant(value));
        let span = tracing::debug_span!(
            "token_request",
            grant,
            client_id = %self.inner.client_id,
            outcome = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
        );
        let repeat = match grant {
            "client_credentials" => Repeat::Safe,
            "refresh_token" => self.inner.refresh_repeat,
            _ => Repeat::Unsent,
        };
        auth_core::internal::record_outcome(&span, std::time::Instant::now(), async {
            let response = self.post(&self.inner.token_url, params, repeat).await?;
            Ok(parse_token_response(
                response.status,
                &response.headers,
                &response.body,
            )?)
        })
        .await
    }

    /// `client_credentials` (§4.4).
    pub async fn client_credentials(
        &self,
        scope: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<TokenResponse, Error> {
        let mut params = vec![("grant_type", "client_credentials")];
        params.extend(scope.map(|s| ("scope", s)));
        params.extend_from_slice(extra);
        self.token_request(&params).await
    }

    /// `password` (§4.3).
    pub async fn password(
        &self,
        username: &str,
        password: &SecretString,
        scope: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<TokenResponse, Error> {
        let mut params = vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password.expose_secret()),
        ];
        params.extend(scope.map(|s| ("scope", s)));
        params.extend_from_slice(extra);
        self.token_request(&params).await
    }

    /// `refresh_token` (§6).
    pub async fn refresh(
        &self,
        refresh_token: &SecretString,
        scope: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Result<TokenResponse, Error> {
        let mut params = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        params.extend(scope.map(|s| ("scope", s)));
        params.extend_from_slice(extra);
        self.token_request(&params).await
    }

    /// `authorization_code` (§4.1.3) with the PKCE verifier (RFC 7636 §4.5).
    pub async fn exchange_code(
        &self,
        code: &str,
        verifier: Option<&PkceVerifier>,
        redirect_uri: &str,
        extra: &[(&str, &str)],
    ) -> Result<TokenResponse, Error> {
        let mut params = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(v) = verifier {
            params.push(("code_verifier", v.secret().expose_secret()));
        }
        params.extend_from_slice(extra);
        self.token_request(&params).await
    }

    /// Revokes a token (RFC 7009). A `200` is success whether or not the token was
    /// known (§2.2); an error body is typed.
    pub async fn revoke(
        &self,
        token: &SecretString,
        hint: Option<TokenTypeHint>,
    ) -> Result<(), Error> {
        let url = self
            .inner
            .revocation_url
            .as_ref()
            .ok_or(Error::NoEndpoint("revocation"))?;
        let mut params = vec![("token", token.expose_secret())];
        params.extend(hint.map(|h| ("token_type_hint", h.as_str())));
        // Revoking twice is revoking once (RFC 7009 §2.2): safe to repeat.
        crate::error_for_status(self.post(url, &params, Repeat::Safe).await?)?;
        Ok(())
    }

    async fn post(
        &self,
        url: &Url,
        params: &[(&str, &str)],
        repeat: Repeat,
    ) -> Result<auth_core::http::HttpResponse, Error> {
        let inner = &self.inner;
        let request = endpoint_request(inner.auth, &inner.client_id, inner.secret.as_ref(), params);
        let mut builder = http::Request::post(url.as_str())
            .header(CONTENT_TYPE, request.content_type)
            .header(ACCEPT, "application/json");
        if let Some(authorization) = request.authorization {
            builder = builder.header(AUTHORIZATION, authorization);
        }
        let request = builder
            .body(Bytes::from(request.body))
            .map_err(|e| auth_core::Error::Request(format!("cannot build the request: {e}")))?;
        Ok(inner.http.send_as(request, repeat).await?)
    }
}

/// A grant type as it may appear in a trace: the registered names, else `extension`
/// (an extension grant's URI is the caller's own text).
fn known_grant(grant: &str) -> &'static str {
    match grant {
        "authorization_code" => "authorization_code",
        "client_credentials" => "client_credentials",
        "password" => "password",
        "refresh_token" => "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code" => "device_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => "jwt-bearer",
        "urn:ietf:params:oauth:grant-type:token-exchange" => "token-exchange",
        _ => "extension",
    }
}
