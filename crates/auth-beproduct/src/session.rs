//! [`BeProduct`] (the discovered identity server, the client and the organization's
//! quota) and the [`Session`] a signed-in user gets.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use auth_core::http::HttpResponse;
use auth_core::reqwest::{AuthorizedClient, HttpClient};
use auth_core::{
    AuthRequest, Authorize, CachedToken, CachingProvider, Clock, CredentialProvider,
    Error as CoreError, ExposeSecret, SecretString, StoreKey, Token, TokenSource,
};
use auth_oauth2::oidc::{IdTokenClaims, OidcProvider, PendingAuthorization};
use auth_oauth2::{ClientAuth, GrantParams, OAuth2Client, RefreshToken};
use url::Url;

use crate::quota::DailyQuota;
use crate::{BeProductConfig, Error, UserProfile};

/// A BeProduct client: the identity server's discovery document and keys, the OAuth
/// 2.0 client, the REST base, and the organization's daily quota, which every
/// [`Session`] made here draws from. Cheap to clone.
#[derive(Debug, Clone)]
pub struct BeProduct {
    inner: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    client_id: String,
    redirect_uri: String,
    scopes: String,
    token_in_query: bool,
    oidc: OidcProvider,
    client: OAuth2Client,
    pub(crate) quota: Arc<DailyQuota>,
    pub(crate) api_base: Url,
    pub(crate) http: HttpClient,
}

impl BeProduct {
    /// Reads the identity server's discovery document; the default HTTP policy.
    pub async fn discover(config: BeProductConfig, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        Self::discover_with(config, HttpClient::with_defaults()?, clock).await
    }

    /// Reads the identity server's discovery document with a shared HTTP client.
    /// Plain `http://` is refused off loopback.
    pub async fn discover_with(
        config: BeProductConfig,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let api_base = config.api_url()?;
        http.check_url(&api_base)?;
        let oidc =
            OidcProvider::discover(&config.identity_base, http.clone(), Arc::clone(&clock)).await?;
        let client = oidc.client(
            &config.client_id,
            Some(config.client_secret.clone()),
            ClientAuth::Basic,
        )?;
        let quota = DailyQuota::new(
            config.daily_limit(),
            config.day_offset_seconds,
            clock,
            StoreKey::new(["beproduct", config.client_id.as_str(), "daily"]),
            config.quota_store.clone(),
        );
        Ok(Self {
            inner: Arc::new(Shared {
                client_id: config.client_id,
                redirect_uri: config.redirect_uri,
                scopes: config.scopes,
                token_in_query: config.token_in_query,
                oidc,
                client,
                quota: Arc::new(quota),
                api_base,
                http,
            }),
        })
    }

    /// Sign-in, step 1 (the recommended path): an authorization code request with
    /// PKCE (S256), `state` and `nonce`. Send the user's browser to its `url` and
    /// keep it for [`sign_in`](Self::sign_in).
    pub fn authorization_request(&self) -> PendingAuthorization {
        self.request().code()
    }

    /// Sign-in, step 1, as the documentation's example: `response_type=id_token
    /// token`, the answer in the redirect's fragment. Finish with
    /// [`sign_in_implicit`](Self::sign_in_implicit). No refresh token comes this way.
    pub fn implicit_request(&self) -> PendingAuthorization {
        self.request().id_token_token()
    }

    fn request(&self) -> auth_oauth2::oidc::AuthorizationRequest {
        let s = &self.inner;
        s.oidc
            .authorization_request(&s.client_id, &s.redirect_uri)
            .scope(&s.scopes)
    }

    /// Sign-in, step 2: checks the redirect's `state`, exchanges the code (with the
    /// PKCE verifier), validates the ID token (signature, issuer, audience, expiry,
    /// `nonce`) and returns the session. Its access token is refreshed while a
    /// refresh token allows.
    pub async fn sign_in(
        &self,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<Session, Error> {
        let code = pending.code_from(redirect)?;
        let s = &self.inner;
        let response = s
            .client
            .exchange_code(
                code.expose_secret(),
                pending.verifier(),
                pending.redirect_uri(),
                &[],
            )
            .await?;
        let id_token = response.id_token.clone().ok_or_else(|| {
            Error::from(CoreError::InvalidResponse {
                status: None,
                reason: "the token response has no id_token".into(),
            })
        })?;
        let claims = s
            .oidc
            .id_token_verifier(&s.client_id)
            .verify(id_token.expose_secret(), Some(pending.nonce()))
            .await?;
        let tokens = if response.refresh_token.is_some() {
            SessionTokens::Refreshing(RefreshToken::starting_with(
                s.client.clone(),
                &response,
                GrantParams::default(),
            )?)
        } else {
            let token = response
                .to_token(s.client.clock().now(), None)
                .ok_or_else(|| {
                    Error::from(CoreError::InvalidResponse {
                        status: None,
                        reason: "the token response has no access token".into(),
                    })
                })?;
            SessionTokens::once(token)
        };
        Ok(Session::new(
            Arc::clone(&self.inner),
            tokens,
            id_token,
            claims,
        ))
    }

    /// Sign-in, step 2 for [`implicit_request`](Self::implicit_request): checks the
    /// fragment's `state`, validates the ID token with the `nonce` and its `at_hash`
    /// against the access token, and returns a session that ends with that token.
    pub async fn sign_in_implicit(
        &self,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<Session, Error> {
        let answer = pending.fragment_from(redirect)?;
        let s = &self.inner;
        let claims = s
            .oidc
            .id_token_verifier(&s.client_id)
            .verify_with_access_token(
                answer.id_token.expose_secret(),
                pending.nonce(),
                answer.access_token.expose_secret(),
            )
            .await?;
        let scheme = answer.token_type.clone().unwrap_or_else(|| "Bearer".into());
        let mut token = Token::new(scheme, answer.access_token.clone(), s.client.clock().now());
        if let Some(lifetime) = answer.expires_in {
            token = token.expires_in(lifetime);
        }
        Ok(Session::new(
            Arc::clone(&self.inner),
            SessionTokens::once(token),
            answer.id_token,
            claims,
        ))
    }

    /// The daily limit in effect.
    pub fn daily_limit(&self) -> u32 {
        self.inner.quota.limit()
    }

    /// REST requests counted today (by the whole fleet when a
    /// [quota store](BeProductConfig::with_quota_store) is shared).
    pub async fn requests_today(&self) -> u32 {
        self.inner.quota.used().await
    }

    /// REST requests left today.
    pub async fn requests_left(&self) -> u32 {
        self.inner.quota.remaining().await
    }

    /// The OpenID provider (discovery document, keys, userinfo).
    pub fn oidc(&self) -> &OidcProvider {
        &self.inner.oidc
    }
}

/// Where a session's access tokens come from.
#[derive(Debug)]
enum SessionTokens {
    /// Refreshed with the refresh token of the code exchange.
    Refreshing(RefreshToken),
    /// One token and no refresh token: when it ends, the user signs in again.
    Once(Mutex<Option<Token>>),
}

impl SessionTokens {
    fn once(token: Token) -> Self {
        SessionTokens::Once(Mutex::new(Some(token)))
    }
}

#[async_trait]
impl TokenSource for SessionTokens {
    fn grant(&self) -> &'static str {
        "refresh_token"
    }

    fn invalidates_previous(&self) -> bool {
        match self {
            SessionTokens::Refreshing(source) => source.invalidates_previous(),
            SessionTokens::Once(_) => false,
        }
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, CoreError> {
        match self {
            SessionTokens::Refreshing(source) => source.fetch(previous).await,
            SessionTokens::Once(first) => first
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .ok_or(CoreError::SignInRequired {
                    reason: "the access token ended and no refresh token was issued".into(),
                }),
        }
    }
}

/// The credential part of a session: the cached token, the quota, the placement.
#[derive(Debug)]
struct SessionAuth {
    tokens: CachingProvider<SessionTokens>,
    quota: Arc<DailyQuota>,
    in_query: bool,
}

impl CredentialProvider for SessionAuth {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        Authorize::new(async move {
            let token = self.tokens.token().await?;
            // Counted last: only a request about to be sent uses the quota.
            self.quota.acquire().await?;
            if self.in_query {
                set_query_token(request, &token)
            } else {
                request
                    .headers_mut()
                    .insert(http::header::AUTHORIZATION, token.header().clone());
                Ok(())
            }
        })
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        if !self.in_query {
            return self.tokens.invalidate(request);
        }
        let sent = query_token(request);
        if let Some(current) = self.tokens.peek()
            && sent.as_deref() == Some(current.token().access_token().expose_secret())
        {
            self.tokens.discard(&current);
        }
        true
    }
}

fn query_token(request: &AuthRequest) -> Option<String> {
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
}

fn set_query_token(request: &mut AuthRequest, token: &CachedToken) -> Result<(), CoreError> {
    let mut url = Url::parse(&request.uri().to_string())
        .map_err(|e| CoreError::Request(format!("cannot add the token to the URL: {e}")))?;
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| k != "access_token")
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair("access_token", token.token().access_token().expose_secret());
    *request.uri_mut() = url
        .as_str()
        .parse()
        .map_err(|e| CoreError::Request(format!("cannot add the token to the URL: {e}")))?;
    Ok(())
}

/// A signed-in user: the validated ID token, and a [`CredentialProvider`] for REST
/// calls that counts each against the organization's daily quota and refuses past
/// it ([`send`](Session::send) also counts the HTTP client's retries). Cheap to clone;
/// clones share the token.
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
    auth: Arc<SessionAuth>,
    pub(crate) client: AuthorizedClient,
    id_token: SecretString,
    claims: Arc<IdTokenClaims>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("sub", &self.claims.sub)
            .field("in_query", &self.auth.in_query)
            .finish_non_exhaustive()
    }
}

impl Session {
    fn new(
        shared: Arc<Shared>,
        tokens: SessionTokens,
        id_token: SecretString,
        claims: IdTokenClaims,
    ) -> Self {
        let key = StoreKey::new(["beproduct", shared.client_id.as_str(), claims.sub.as_str()]);
        let tokens = CachingProvider::builder(tokens)
            .key(key)
            .shared_clock(Arc::clone(shared.client.clock()))
            .build();
        let auth = Arc::new(SessionAuth {
            tokens,
            quota: Arc::clone(&shared.quota),
            in_query: shared.token_in_query,
        });
        let client = AuthorizedClient::new(shared.http.clone(), auth.clone());
        Self {
            shared,
            auth,
            client,
            id_token,
            claims: Arc::new(claims),
        }
    }

    /// The validated ID token's claims.
    pub fn claims(&self) -> &IdTokenClaims {
        &self.claims
    }

    /// The ID token, for [`end_session_url`](Self::end_session_url) or a backend.
    pub fn id_token(&self) -> &SecretString {
        &self.id_token
    }

    /// The current access token, refreshed if it is due.
    pub async fn token(&self) -> Result<Arc<CachedToken>, Error> {
        Ok(self.auth.tokens.token().await?)
    }

    /// The user's profile from `connect/userinfo` (not a REST call: no quota).
    pub async fn userinfo(&self) -> Result<UserProfile, Error> {
        let token = self.token().await?;
        let claims = self
            .shared
            .oidc
            .userinfo(token.token().access_token())
            .await?;
        serde_json::from_value(serde_json::Value::Object(claims)).map_err(|e| {
            Error::from(CoreError::InvalidResponse {
                status: None,
                reason: format!("the userinfo answer is not a profile: {e}"),
            })
        })
    }

    /// The logout URL: `connect/endsession` with `id_token_hint` and, when given,
    /// `post_logout_redirect_uri` (which must be registered for the client).
    pub fn end_session_url(&self, post_logout_redirect_uri: Option<&str>) -> Result<Url, Error> {
        Ok(self.shared.oidc.end_session_url(
            Some(self.id_token.expose_secret()),
            post_logout_redirect_uri,
            None,
        )?)
    }

    /// Sends a REST request the typed helpers do not cover, authorized and counted
    /// against the daily quota: one request when it is authorized (past the limit
    /// [`Error::QuotaExceeded`], nothing sent), plus every retry the HTTP client made
    /// after a 5xx or 429, since each reached the server
    /// ([`HttpResponse::attempts`]). Reads (`GET`, `PUT`, `DELETE`) may be retried so;
    /// writes (`POST`, `PATCH`) are sent again only when they never reached the server,
    /// and then count once. A final 429 uses the day up, here and in a shared store.
    ///
    /// Any status is returned as a response. The [`Records`](crate::Records) helpers
    /// send through here.
    pub async fn send(&self, request: reqwest::Request) -> Result<HttpResponse, Error> {
        let response = self.client.send(request).await?;
        self.shared.quota.settle(&response).await;
        Ok(response)
    }

    /// The authorized HTTP client [`send`](Self::send) uses. Requests sent with it
    /// directly count once per authorization, without the retries; prefer
    /// [`send`](Self::send), which counts those too.
    pub fn authorized_client(&self) -> &AuthorizedClient {
        &self.client
    }
}

/// Authorizes any REST request: the cached token (refreshed when due), counted
/// against the daily quota ([`Error::QuotaExceeded`] past it, nothing sent). This
/// counts one request per authorization; a client that retries without authorizing
/// again sends more than it counts, so prefer [`Session::send`], which counts them.
impl CredentialProvider for Session {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.auth.authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.auth.invalidate(request)
    }
}
