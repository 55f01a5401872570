//! [`BeProduct`] (the identity server, the client and the organization's quota) and
//! its [`BeProductBuilder`].

use std::sync::Arc;

use auth_core::http::HttpClient;
use auth_core::{
    Clock, Error as CoreError, ExposeSecret, RefreshPolicy, StoreKey, SystemClock, Token,
    TokenStore,
};
use auth_oauth2::oidc::{AuthorizationRequest, OidcProvider, PendingAuthorization};
use auth_oauth2::{ClientAuth, GrantParams, OAuth2Client, RefreshToken};
use tokio::sync::OnceCell;
use url::Url;

use crate::provider::SessionTokens;
use crate::quota::DailyQuota;
use crate::{BeProductConfig, ClientId, Error, Session};

/// A BeProduct client: the identity server (its discovery document and keys, read on
/// first use and kept), the OAuth 2.0 client, the REST base, and the organization's
/// daily quota, which every [`Session`] made here draws from. Cheap to clone.
///
/// The documentation lists the identity server's `connect/authorize`, `connect/token`,
/// `connect/userinfo` and `connect/endsession`, but not where its signing keys are,
/// and an ID token cannot be validated without them: so the endpoints come from the
/// issuer's discovery document (`{identity_url}/.well-known/openid-configuration`,
/// OpenID Connect Discovery), read once, on the first sign-in step, and never guessed.
#[derive(Debug, Clone)]
pub struct BeProduct {
    inner: Arc<Shared>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) client_id: ClientId,
    client_secret: auth_core::SecretString,
    redirect_uri: String,
    scopes: String,
    identity_url: String,
    pub(crate) token_in_query: bool,
    discovered: OnceCell<Discovered>,
    pub(crate) quota: Arc<DailyQuota>,
    pub(crate) api_url: Url,
    pub(crate) http: HttpClient,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) store: Option<Arc<dyn TokenStore>>,
    pub(crate) policy: RefreshPolicy,
}

/// What the discovery document gives: the provider and the OAuth 2.0 client at its
/// token endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Discovered {
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

    /// Checks the base URLs against the HTTP policy (HTTPS, or HTTP on loopback) and
    /// builds the client. Nothing is sent: the discovery document is read on first use.
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
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let quota = DailyQuota::new(
            config.daily_limit(),
            config.day_offset_seconds,
            Arc::clone(&clock),
            StoreKey::new(["beproduct", config.client_id.as_str(), "daily"]),
            config.quota_store.clone(),
        );
        Ok(BeProduct {
            inner: Arc::new(Shared {
                client_id: config.client_id,
                client_secret: config.client_secret,
                redirect_uri: config.redirect_uri,
                scopes: config.scopes,
                identity_url: config.identity_url,
                token_in_query: config.token_in_query,
                discovered: OnceCell::new(),
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

    /// The identity server's discovery document and the OAuth 2.0 client, read on the
    /// first call (one read for concurrent callers) and kept; a failed read is tried
    /// again on the next call.
    async fn discovered(&self) -> Result<&Discovered, Error> {
        let s = &self.inner;
        s.discovered
            .get_or_try_init(|| async {
                let oidc =
                    OidcProvider::discover(&s.identity_url, s.http.clone(), Arc::clone(&s.clock))
                        .await?;
                let client = oidc.client(
                    s.client_id.as_str(),
                    Some(s.client_secret.clone()),
                    ClientAuth::Basic,
                )?;
                Ok::<_, Error>(Discovered { oidc, client })
            })
            .await
    }

    /// Sign-in, step 1 (the recommended path): an authorization code request with
    /// PKCE (S256), `state` and `nonce`. Send the user's browser to its `url` and
    /// keep it for [`sign_in`](Self::sign_in). The first call reads the identity
    /// server's discovery document.
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
        Ok(self
            .discovered()
            .await?
            .oidc
            .authorization_request(s.client_id.as_str(), &s.redirect_uri)
            .scope(&s.scopes))
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
        let discovered = self.discovered().await?;
        let response = discovered
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
        let claims = discovered
            .oidc
            .id_token_verifier(self.inner.client_id.as_str())
            .verify(id_token.expose_secret(), Some(pending.nonce()))
            .await?;
        let tokens = if response.refresh_token.is_some() {
            SessionTokens::Refreshing(RefreshToken::starting_with(
                discovered.client.clone(),
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
            discovered.oidc.clone(),
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
        let discovered = self.discovered().await?;
        let claims = discovered
            .oidc
            .id_token_verifier(self.inner.client_id.as_str())
            .verify_with_access_token(
                answer.id_token.expose_secret(),
                pending.nonce(),
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
            discovered.oidc.clone(),
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

    /// The OpenID provider (discovery document, keys, userinfo), read on the first
    /// call and kept.
    pub async fn oidc(&self) -> Result<&OidcProvider, Error> {
        Ok(&self.discovered().await?.oidc)
    }
}
