//! [`Session`]: a signed-in user, and the [`CredentialProvider`] for REST calls that
//! counts each attempt against the organization's daily quota.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use auth_core::http::{AuthorizedClient, HttpResponse};
use auth_core::{
    AuthRequest, Authorize, CachedToken, CachingProvider, CredentialProvider, Error as CoreError,
    ExposeSecret, SecretString, StoreKey, Token, TokenSource,
};
use auth_oauth2::RefreshToken;
use auth_oauth2::oidc::{IdTokenClaims, OidcProvider};
use bytes::Bytes;
use url::Url;

use crate::client::Shared;
use crate::quota::DailyQuota;
use crate::{Error, UserProfile};

/// Where a session's access tokens come from.
#[derive(Debug)]
pub(crate) enum SessionTokens {
    /// Refreshed with the refresh token of the code exchange.
    Refreshing(RefreshToken),
    /// One token and no refresh token: when it ends, the user signs in again.
    Once(Mutex<Option<Token>>),
}

impl SessionTokens {
    pub(crate) fn once(token: Token) -> Self {
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
/// calls that counts each attempt against the organization's daily quota and refuses
/// past it. Cheap to clone; clones share the token.
#[derive(Clone)]
pub struct Session {
    pub(crate) shared: Arc<Shared>,
    oidc: OidcProvider,
    auth: Arc<SessionAuth>,
    client: AuthorizedClient,
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
    pub(crate) fn new(
        shared: Arc<Shared>,
        oidc: OidcProvider,
        tokens: SessionTokens,
        id_token: SecretString,
        claims: IdTokenClaims,
    ) -> Self {
        let key = StoreKey::new(["beproduct", shared.client_id.as_str(), claims.sub.as_str()]);
        let mut tokens = CachingProvider::builder(tokens)
            .clock(Arc::clone(&shared.clock))
            .policy(shared.policy);
        tokens = match &shared.store {
            Some(store) => tokens.store(Arc::clone(store), key),
            None => tokens.key(key),
        };
        let auth = Arc::new(SessionAuth {
            tokens: tokens.build(),
            quota: Arc::clone(&shared.quota),
            in_query: shared.token_in_query,
        });
        let client = AuthorizedClient::new(shared.http.clone(), auth.clone());
        Self {
            shared,
            oidc,
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
        let claims = self.oidc.userinfo(token.token().access_token()).await?;
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
        Ok(self.oidc.end_session_url(
            Some(self.id_token.expose_secret()),
            post_logout_redirect_uri,
            None,
        )?)
    }

    /// Sends any REST request ([`call`](Self::call) builds JSON ones), authorized and counted
    /// against the daily quota, attempt by attempt: every attempt is authorized
    /// afresh and so counted, retries included (past the limit
    /// [`Error::QuotaExceeded`] and nothing sent; a retry past it is not sent either,
    /// and the answer that called for it is returned). Reads (`GET`, `PUT`, `DELETE`)
    /// are retried after a 5xx or 429; writes (`POST`, `PATCH`) are sent again only
    /// when they never reached the server. A final 429 uses the day up, here and in
    /// a shared store.
    ///
    /// Any status is returned as a response: sort it with
    /// [`HttpResponse::api_answer`]. [`ApiCall`](crate::ApiCall) sends through here.
    pub async fn send(&self, request: http::Request<Bytes>) -> Result<HttpResponse, Error> {
        let response = self.client.send(request).await?;
        self.shared.quota.settle(&response).await;
        Ok(response)
    }

    /// The authorized HTTP client [`send`](Self::send) uses: requests sent with it
    /// directly are counted the same way, attempt by attempt, but a final 429 does not
    /// end the day here; prefer [`send`](Self::send).
    pub fn authorized_client(&self) -> &AuthorizedClient {
        &self.client
    }
}

/// Authorizes any REST request: the cached token (refreshed when due), counted
/// against the daily quota ([`Error::QuotaExceeded`] past it, nothing sent). This
/// counts one request per authorization, as [`AuthorizedClient`] authorizes every
/// attempt; a client that retries without authorizing again sends more than it
/// counts, so prefer [`Session::send`].
impl CredentialProvider for Session {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.auth.authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.auth.invalidate(request)
    }
}
