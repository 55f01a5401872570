//! [`BeProduct`] (the identity server, the client and the organization's quota) and
//! its [`BeProductBuilder`].

use std::sync::Arc;

use auth_core::http::HttpClient;
use auth_core::{
    Clock, Error as CoreError, ExposeSecret, RefreshPolicy, StoreKey, SystemClock, Token,
    TokenStore,
};
use auth_oauth2::oidc::{
    AuthorizationRequest, OidcProvider, PendingAuthorization, ProviderMetadata, discovery_url,
};
use auth_oauth2::{ClientAuth, GrantParams, OAuth2Client, RefreshToken};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use url::Url;

use crate::provider::SessionTokens;
use crate::quota::DailyQuota;
use crate::{BeProductConfig, ClientId, Error, Session};

/// A BeProduct client: the identity server's endpoints, the OAuth 2.0 client, the
/// REST base, and the organization's daily quota, which every [`Session`] made here
/// draws from. Cheap to clone.
///
/// The endpoints are the document's fixed URLs (l. 56, 62, 73, 98) unless set by
/// hand, or, [when asked](BeProductConfig::with_discovery), the identity server's
/// discovery document's. The document does not say where the signing keys are; an ID
/// token cannot be validated without them, so they are at
/// [`with_jwks_url`](BeProductConfig::with_jwks_url), or else at the `jwks_uri` of the
/// discovery document, read once, when the first ID token arrives.
#[derive(Debug, Clone)]
pub struct BeProduct {
    inner: Arc<Shared>,
}

/// The endpoints used without discovery.
#[derive(Debug, Clone)]
struct Fixed {
    authorize: Url,
    token: Url,
    userinfo: Url,
    end_session: Url,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) client_id: ClientId,
    client_secret: auth_core::SecretString,
    redirect_uri: String,
    scopes: String,
    identity_url: String,
    /// The issuer set by hand.
    issuer: Option<String>,
    /// `None`: every endpoint from the discovery document.
    fixed: Option<Fixed>,
    jwks_url: Option<Url>,
    client_auth: ClientAuth,
    pub(crate) token_in_query: bool,
    resolved: OnceCell<Resolved>,
    pub(crate) quota: Arc<DailyQuota>,
    pub(crate) api_url: Url,
    pub(crate) http: HttpClient,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) policy: RefreshPolicy,
}

/// The provider (endpoints, issuer, keys) and the OAuth 2.0 client at its token
/// endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) oidc: OidcProvider,
    client: OAuth2Client,
}

/// Builds a [`BeProduct`]: the HTTP client (any transport), the clock, the store of
/// the sessions' tokens and when they are renewed.
#[derive(Debug)]
#[must_use]
pub struct BeProductBuilder {
    config: BeProductConfig,
    http: Option<HttpClient>,
    clock: Option<Arc<dyn Clock>>,
    store: Option<Arc<dyn TokenStore>>,
    policy: RefreshPolicy,
}

impl BeProductBuilder {
    /// The HTTP client: the workspace's policy over any transport, the application's
    /// own client included (default: reqwest with the default policy, with the
    /// `reqwest` feature).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock tokens, ID tokens and the quota's day are timed with (default: the
    /// system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where the sessions' access and refresh tokens are kept (default: each
    /// session's own memory), under `beproduct:{client_id}:{sub}`: a shared store lets
    /// processes that signed the same user in refresh one token between them.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// When the sessions' access tokens are renewed (default
    /// [`RefreshPolicy::default`]).
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Checks the base URLs and endpoints against the HTTP policy (HTTPS, or HTTP on
    /// loopback) and builds the client. Nothing is sent.
    pub fn build(self) -> Result<BeProduct, Error> {
        let config = self.config;
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::try_default()?,
        };
        http.check_url(&config.api_url)?;
        let identity = Url::parse(&config.identity_url)
            .map_err(|_| Error::Config(format!("{:?} is not a URL", config.identity_url)))?;
        http.check_url(&identity)?;
        let fixed = if config.discovery {
            None
        } else {
            let fixed = Fixed {
                authorize: config.authorize_url()?,
                token: config.token_url()?,
                userinfo: config.userinfo_url()?,
                end_session: config.end_session_url()?,
            };
            for url in [
                &fixed.authorize,
                &fixed.token,
                &fixed.userinfo,
                &fixed.end_session,
            ] {
                http.check_url(url)?;
            }
            Some(fixed)
        };
        if let Some(jwks) = &config.jwks_url {
            http.check_url(jwks)?;
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let quota = DailyQuota::new(
            config.daily_limit(),
            config.warning_limit(),
            config.day_offset_seconds,
            Arc::clone(&clock),
            StoreKey::new(["beproduct", config.organization.as_str(), "daily"]),
            config.quota_store.clone(),
        );
        Ok(BeProduct {
            inner: Arc::new(Shared {
                client_id: config.client_id,
                client_secret: config.client_secret,
                redirect_uri: config.redirect_uri,
                scopes: config.scopes,
                identity_url: config.identity_url,
                issuer: config.issuer,
                fixed,
                jwks_url: config.jwks_url,
                client_auth: config.client_auth,
                token_in_query: config.token_in_query,
                resolved: OnceCell::new(),
                quota: Arc::new(quota),
                api_url: config.api_url,
                http,
                clock,
                store: self.store,
                policy: self.policy,
            }),
        })
    }
}

impl BeProduct {
    /// A client with the system clock and the default transport (reqwest, with the
    /// default HTTP policy). See [`builder`](Self::builder) for the rest.
    #[cfg(feature = "reqwest")]
    pub fn new(config: BeProductConfig) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder: the HTTP client, the clock, the token store and the refresh policy.
    pub fn builder(config: BeProductConfig) -> BeProductBuilder {
        BeProductBuilder {
            config,
            http: None,
            clock: None,
            store: None,
            policy: RefreshPolicy::default(),
        }
    }

    /// The identity server's discovery document, as JSON.
    async fn discovery_document(&self) -> Result<Value, Error> {
        let s = &self.inner;
        let url = discovery_url(&s.identity_url)?;
        s.http.check_url(&url)?;
        let request = http::Request::get(url.as_str())
            .header(http::header::ACCEPT, "application/json")
            .body(bytes::Bytes::new())
            .map_err(|e| CoreError::Request(format!("cannot build the request: {e}")))?;
        let response = s.http.send(request).await?.error_for_status()?;
        Ok(response.json()?)
    }

    /// The provider and the OAuth 2.0 client, made on the first call (one for
    /// concurrent callers) and kept; a failure is tried again on the next call.
    ///
    /// With discovery: the document's endpoints, its `issuer` equal to the expected
    /// one. Without: the fixed endpoints, the keys at the JWKS URL set by hand or at
    /// the discovery document's `jwks_uri`, and the issuer set by hand, else that
    /// document's `issuer` when it was read, else the identity URL.
    async fn resolved(&self) -> Result<&Resolved, Error> {
        let s = &self.inner;
        s.resolved
            .get_or_try_init(|| async {
                let metadata = match &s.fixed {
                    None => {
                        let document = self.discovery_document().await?;
                        let expected = s.issuer.as_deref().unwrap_or(&s.identity_url);
                        let issuer = document.get("issuer").and_then(Value::as_str);
                        if issuer.map(|i| i.trim_end_matches('/')) != Some(expected) {
                            return Err(Error::from(auth_oauth2::Error::Discovery(
                                "the document's issuer is not the expected issuer".into(),
                            )));
                        }
                        document
                    }
                    Some(fixed) => {
                        let (jwks, found_issuer) = match &s.jwks_url {
                            Some(jwks) => (jwks.clone(), None),
                            None => {
                                let document = self.discovery_document().await?;
                                let jwks = document
                                    .get("jwks_uri")
                                    .and_then(Value::as_str)
                                    .and_then(|u| Url::parse(u).ok())
                                    .ok_or(Error::from(auth_oauth2::Error::NoEndpoint("jwks")))?;
                                let issuer = document
                                    .get("issuer")
                                    .and_then(Value::as_str)
                                    .map(|i| i.trim_end_matches('/').to_owned());
                                (jwks, issuer)
                            }
                        };
                        let issuer = s
                            .issuer
                            .clone()
                            .or(found_issuer)
                            .unwrap_or_else(|| s.identity_url.clone());
                        json!({
                            "issuer": issuer,
                            "authorization_endpoint": fixed.authorize.as_str(),
                            "token_endpoint": fixed.token.as_str(),
                            "userinfo_endpoint": fixed.userinfo.as_str(),
                            "end_session_endpoint": fixed.end_session.as_str(),
                            "jwks_uri": jwks.as_str(),
                        })
                    }
                };
                let metadata: ProviderMetadata = serde_json::from_value(metadata).map_err(|e| {
                    Error::from(auth_oauth2::Error::Discovery(format!(
                        "the provider's endpoints are unusable: {e}"
                    )))
                })?;
                for url in [&metadata.authorization_endpoint, &metadata.jwks_uri]
                    .into_iter()
                    .chain(metadata.token_endpoint.as_ref())
                    .chain(metadata.userinfo_endpoint.as_ref())
                    .chain(metadata.end_session_endpoint.as_ref())
                {
                    s.http.check_url(url)?;
                }
                let oidc =
                    OidcProvider::from_metadata(metadata, s.http.clone(), Arc::clone(&s.clock))?;
                let client = oidc.client(
                    s.client_id.as_str(),
                    Some(s.client_secret.clone()),
                    s.client_auth,
                )?;
                Ok::<_, Error>(Resolved { oidc, client })
            })
            .await
    }

    /// Sign-in, step 1 (the recommended path): an authorization code request with
    /// PKCE (S256), `state` and `nonce`, the configured scopes. Send the user's
    /// browser to its `url` and keep it for [`sign_in`](Self::sign_in). Nothing is
    /// sent, except the discovery document's one read when
    /// [discovery](BeProductConfig::with_discovery) is on.
    pub async fn authorization_request(&self) -> Result<PendingAuthorization, Error> {
        Ok(self.request().await?.code())
    }

    /// Sign-in, step 1, as the documentation's example: `response_type=id_token
    /// token`, the answer in the redirect's fragment. Finish with
    /// [`sign_in_implicit`](Self::sign_in_implicit). No refresh token comes this way.
    pub async fn implicit_request(&self) -> Result<PendingAuthorization, Error> {
        Ok(self.request().await?.id_token_token())
    }

    async fn request(&self) -> Result<AuthorizationRequest, Error> {
        let s = &self.inner;
        let request = match (&s.fixed, s.resolved.get()) {
            // Before the provider is known, its issuer may not be: the callback's
            // `iss` (RFC 9207) is then checked only against an issuer set by hand.
            (Some(fixed), None) => {
                let request = AuthorizationRequest::new(
                    fixed.authorize.clone(),
                    s.client_id.as_str(),
                    &s.redirect_uri,
                );
                match &s.issuer {
                    Some(issuer) => request.issuer(issuer),
                    None => request,
                }
            }
            (None, None) => self
                .resolved()
                .await?
                .oidc
                .authorization_request(s.client_id.as_str(), &s.redirect_uri),
            (_, Some(resolved)) => resolved
                .oidc
                .authorization_request(s.client_id.as_str(), &s.redirect_uri),
        };
        Ok(request.scope(&s.scopes))
    }

    /// Sign-in, step 2: checks the redirect's `state`, exchanges the code (with the
    /// PKCE verifier) at the token endpoint, validates the ID token (signature,
    /// issuer, audience, expiry, `nonce`) and returns the session. Its access token is
    /// refreshed while a refresh token allows: IdentityServer issues one only for the
    /// `offline_access` scope ([`BeProductConfig::with_offline_access`]); without it
    /// the session ends with its first access token.
    pub async fn sign_in(
        &self,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<Session, Error> {
        let code = pending.code_from(redirect)?;
        let resolved = self.resolved().await?;
        let response = resolved
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
        let claims = resolved
            .oidc
            .id_token_verifier(self.inner.client_id.as_str())
            .verify(id_token.expose_secret(), pending.nonce())
            .await?;
        let tokens = if response.refresh_token.is_some() {
            SessionTokens::Refreshing(RefreshToken::starting_with(
                resolved.client.clone(),
                &response,
                GrantParams::default(),
            )?)
        } else {
            let token = response
                .to_token(self.inner.clock.now(), None)
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
            resolved.oidc.clone(),
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
        let resolved = self.resolved().await?;
        let claims = resolved
            .oidc
            .id_token_verifier(self.inner.client_id.as_str())
            .verify_with_access_token(
                answer.id_token.expose_secret(),
                // An `id_token token` request always sends one; an empty one matches no
                // ID token.
                pending.nonce().unwrap_or_default(),
                answer.access_token.expose_secret(),
            )
            .await?;
        let scheme = answer.token_type.clone().unwrap_or_else(|| "Bearer".into());
        let mut token = Token::new(scheme, answer.access_token.clone(), self.inner.clock.now());
        if let Some(lifetime) = answer.expires_in {
            token = token.expires_in(lifetime);
        }
        Ok(Session::new(
            Arc::clone(&self.inner),
            resolved.oidc.clone(),
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

    /// The stricter reading's figure, past which a warning is logged, if any.
    pub fn warning_limit(&self) -> Option<u32> {
        self.inner.quota.warn_at()
    }

    /// The OpenID provider (endpoints, issuer, keys, userinfo), made on the first
    /// call and kept.
    pub async fn oidc(&self) -> Result<&OidcProvider, Error> {
        Ok(&self.resolved().await?.oidc)
    }
}
