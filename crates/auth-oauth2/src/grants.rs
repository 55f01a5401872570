//! The grants as [`TokenSource`]s, so that the core [`CachingProvider`] gives them
//! caching, single-flight and proactive refresh, and storage.
//!
//! Each source refreshes with the previous token's refresh token when there is one,
//! keeps a rotated refresh token (or the old one when the server does not rotate), and
//! decides what a refused refresh (`invalid_grant`) means:
//!
//! | source | refresh refused |
//! | --- | --- |
//! | [`ClientCredentials`] | fetches anew with the client's credentials |
//! | [`Password`] | fetches anew with the user's password, which it holds |
//! | [`AuthorizationCode`], [`RefreshToken`] | [`auth_core::Error::SignInRequired`] |
//!
//! While a shared store is unreachable ([`TokenSource::invalidates_previous`]):
//!
//! | source | store down |
//! | --- | --- |
//! | [`ClientCredentials`], [`Password`] | fetch in the process (a refused refresh falls back to the client's or the user's credentials, so a rotation elsewhere heals) |
//! | [`AuthorizationCode`], [`RefreshToken`] | serve the cached token until it expires, then [`auth_core::Error::StoreUnavailable`]: a refresh here could spend a refresh token another process holds |
//!
//! A user grant that must not keep the password exchanges it once with
//! [`OAuth2Client::password`] and goes on with [`RefreshToken::starting_with`].
//!
//! [`CachingProvider`]: auth_core::CachingProvider

use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;
use auth_core::{Error as CoreError, SecretString, Token, TokenSource};

use crate::{Error, OAuth2Client, OAuthErrorCode, PkceVerifier, TokenResponse};

/// Scope and extra parameters sent with every request of a grant.
#[derive(Debug, Clone, Default)]
pub struct GrantParams {
    /// `scope`, if any.
    pub scope: Option<String>,
    /// Extra parameters (for example `audience`, `resource`, a vendor's tenant).
    pub extra: Vec<(String, String)>,
}

impl GrantParams {
    /// With a scope.
    #[must_use]
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// With one more extra parameter.
    #[must_use]
    pub fn extra(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.extra
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }
}

fn is_invalid_grant(e: &Error) -> bool {
    e.oauth_code() == Some(&OAuthErrorCode::InvalidGrant)
}

/// Turns a response into a token; a response with only a refresh token is followed by
/// a refresh with it straight away (servers that hand out a refresh token first).
async fn into_token(
    client: &OAuth2Client,
    params: &GrantParams,
    response: TokenResponse,
    previous_refresh: Option<&SecretString>,
) -> Result<Token, Error> {
    let issued_at = client.clock().now();
    if let Some(token) = response.to_token(issued_at, previous_refresh) {
        return Ok(token);
    }
    let Some(refresh) = response.refresh_token else {
        return Err(CoreError::InvalidResponse {
            status: None,
            reason: "the token response has no access token".into(),
        }
        .into());
    };
    let second = client
        .refresh(&refresh, params.scope.as_deref(), &params.pairs())
        .await?;
    let issued_at = client.clock().now();
    second.to_token(issued_at, Some(&refresh)).ok_or_else(|| {
        CoreError::InvalidResponse {
            status: None,
            reason: "the refresh response has no access token".into(),
        }
        .into()
    })
}

/// Refreshes with the previous token's refresh token, if it has one. `Ok(None)`: no
/// refresh token, or the server refused it with `invalid_grant`.
async fn try_refresh(
    client: &OAuth2Client,
    params: &GrantParams,
    previous: Option<&Token>,
) -> Result<Option<Token>, Error> {
    let Some(refresh) = previous.and_then(Token::refresh_token) else {
        return Ok(None);
    };
    match client
        .refresh(refresh, params.scope.as_deref(), &params.pairs())
        .await
    {
        Ok(response) => into_token(client, params, response, Some(refresh))
            .await
            .map(Some),
        Err(e) if is_invalid_grant(&e) => {
            tracing::debug!("refresh token refused (invalid_grant)");
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// The `client_credentials` grant (RFC 6749 §4.4).
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    client: OAuth2Client,
    params: GrantParams,
}

impl ClientCredentials {
    /// The grant for `client`, with `params` on every request.
    pub fn new(client: OAuth2Client, params: GrantParams) -> Self {
        Self { client, params }
    }
}

#[async_trait]
impl TokenSource for ClientCredentials {
    fn grant(&self) -> &'static str {
        "client_credentials"
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, CoreError> {
        if let Some(token) = try_refresh(&self.client, &self.params, previous).await? {
            return Ok(token);
        }
        let response = self
            .client
            .client_credentials(self.params.scope.as_deref(), &self.params.pairs())
            .await?;
        Ok(into_token(&self.client, &self.params, response, None).await?)
    }
}

/// The resource owner `password` grant (RFC 6749 §4.3).
///
/// When a refresh is refused, the source signs in again with the password it holds:
/// that is what a user asked to sign in would do, and the password grant exists for
/// clients trusted with it. A wrong password then surfaces as `invalid_grant`.
pub struct Password {
    client: OAuth2Client,
    username: String,
    password: SecretString,
    params: GrantParams,
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Password")
            .field("client", &self.client)
            .field("username", &self.username)
            .field("password", &"[REDACTED]")
            .field("params", &self.params)
            .finish()
    }
}

impl Password {
    /// The grant for `username`.
    pub fn new(
        client: OAuth2Client,
        username: impl Into<String>,
        password: SecretString,
        params: GrantParams,
    ) -> Self {
        Self {
            client,
            username: username.into(),
            password,
            params,
        }
    }
}

#[async_trait]
impl TokenSource for Password {
    fn grant(&self) -> &'static str {
        "password"
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, CoreError> {
        if let Some(token) = try_refresh(&self.client, &self.params, previous).await? {
            return Ok(token);
        }
        let response = self
            .client
            .password(
                &self.username,
                &self.password,
                self.params.scope.as_deref(),
                &self.params.pairs(),
            )
            .await?;
        Ok(into_token(&self.client, &self.params, response, None).await?)
    }
}

/// A user's tokens from a refresh token: a stored one ([`RefreshToken::new`]) or the
/// answer of a first grant ([`RefreshToken::starting_with`], for example a password
/// exchange whose password is then dropped). The latest refresh token is kept, rotated
/// or not; a refused refresh is [`auth_core::Error::SignInRequired`].
pub struct RefreshToken {
    client: OAuth2Client,
    first: Mutex<Option<Token>>,
    latest: Mutex<SecretString>,
    params: GrantParams,
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("client", &self.client)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl RefreshToken {
    /// Tokens from `refresh_token`.
    pub fn new(client: OAuth2Client, refresh_token: SecretString, params: GrantParams) -> Self {
        Self {
            client,
            first: Mutex::new(None),
            latest: Mutex::new(refresh_token),
            params,
        }
    }

    /// Tokens that start with `first`, the answer of a grant already made (its access
    /// token is handed out first), and go on by refreshing. `first` must carry a
    /// refresh token.
    pub fn starting_with(
        client: OAuth2Client,
        first: &TokenResponse,
        params: GrantParams,
    ) -> Result<Self, Error> {
        let refresh = first.refresh_token.clone().ok_or_else(|| {
            Error::Core(CoreError::InvalidResponse {
                status: None,
                reason: "the first token response has no refresh token".into(),
            })
        })?;
        let token = first.to_token(client.clock().now(), None);
        Ok(Self {
            client,
            first: Mutex::new(token),
            latest: Mutex::new(refresh),
            params,
        })
    }
}

/// A refresh for a user grant: a refused refresh token means the user must sign in
/// again.
async fn refresh_for_user(
    client: &OAuth2Client,
    params: &GrantParams,
    refresh: &SecretString,
) -> Result<Token, CoreError> {
    match client
        .refresh(refresh, params.scope.as_deref(), &params.pairs())
        .await
    {
        Ok(response) => Ok(into_token(client, params, response, Some(refresh)).await?),
        Err(e) if is_invalid_grant(&e) => Err(CoreError::SignInRequired {
            reason: "the refresh token was refused (invalid_grant)".into(),
        }),
        Err(e) => Err(e.into()),
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[async_trait]
impl TokenSource for RefreshToken {
    fn grant(&self) -> &'static str {
        "refresh_token"
    }

    /// A rotating server spends the refresh token on use: no refresh without the
    /// shared store.
    fn invalidates_previous(&self) -> bool {
        true
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, CoreError> {
        if let Some(first) = locked(&self.first).take() {
            return Ok(first);
        }
        // The latest refresh token: the previous token's (rotation), else the last one
        // this source saw.
        let refresh = match previous.and_then(Token::refresh_token) {
            Some(r) => r.clone(),
            None => locked(&self.latest).clone(),
        };
        let token = refresh_for_user(&self.client, &self.params, &refresh).await?;
        if let Some(r) = token.refresh_token() {
            *locked(&self.latest) = r.clone();
        }
        Ok(token)
    }
}

/// The `authorization_code` grant (RFC 6749 §4.1) with PKCE: the first fetch exchanges
/// the code (once: codes are single-use), later fetches refresh. A refused refresh, or
/// a token needed again with no refresh token, is
/// [`auth_core::Error::SignInRequired`].
pub struct AuthorizationCode {
    client: OAuth2Client,
    pending: Mutex<Option<PendingCode>>,
    redirect_uri: String,
    params: GrantParams,
}

struct PendingCode {
    code: SecretString,
    verifier: Option<PkceVerifier>,
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("client", &self.client)
            .field("redirect_uri", &self.redirect_uri)
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl AuthorizationCode {
    /// The grant for a `code` the redirect delivered, with the PKCE verifier of the
    /// authorization request and its `redirect_uri`.
    pub fn new(
        client: OAuth2Client,
        code: SecretString,
        verifier: Option<PkceVerifier>,
        redirect_uri: impl Into<String>,
        params: GrantParams,
    ) -> Self {
        Self {
            client,
            pending: Mutex::new(Some(PendingCode { code, verifier })),
            redirect_uri: redirect_uri.into(),
            params,
        }
    }
}

#[async_trait]
impl TokenSource for AuthorizationCode {
    fn grant(&self) -> &'static str {
        "authorization_code"
    }

    /// Refreshes may rotate, and a spent code cannot be had again: no refresh without
    /// the shared store.
    fn invalidates_previous(&self) -> bool {
        true
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, CoreError> {
        let pending = locked(&self.pending).take();
        if let Some(pending) = pending {
            use auth_core::ExposeSecret as _;
            let response = self
                .client
                .exchange_code(
                    pending.code.expose_secret(),
                    pending.verifier.as_ref(),
                    &self.redirect_uri,
                    &self.params.pairs(),
                )
                .await?;
            return Ok(into_token(&self.client, &self.params, response, None).await?);
        }
        let Some(refresh) = previous.and_then(Token::refresh_token) else {
            return Err(CoreError::SignInRequired {
                reason: "the code was used and no refresh token was issued".into(),
            });
        };
        refresh_for_user(&self.client, &self.params, refresh).await
    }
}
