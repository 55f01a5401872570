//! [`Bookingtime`], the entry type, and its [`BookingtimeBuilder`].

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use auth_core::http::{HttpClient, Repeat};
use auth_core::{
    BoundedCache, CacheLimits, CachingProvider, Clock, ExposeSecret, RefreshPolicy, StoreKey,
    SystemClock, TokenSource, TokenStore,
};
use auth_oauth2::oidc::PendingAuthorization;
use auth_oauth2::{ClientAuth, OAuth2Client};
use url::Url;

use crate::provider::{Access, Api, DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_IDLE};
use crate::tokens::{RefreshTokens, refresh_token_of};
use crate::{AuthorizationOptions, BookingtimeConfig, Error};

/// A bookingtime client: one app or module, its authorization server and App API.
/// Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Bookingtime {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Authenticates as configured (stage one, code exchange).
    client: OAuth2Client,
    /// Sends the client ID alone (stage two, as documented).
    exchange: OAuth2Client,
    api: Api,
    caching: Caching,
    app: Access,
}

/// How this client's tokens are cached: its clock, store and policy, and the limits
/// of each access's organizations.
#[derive(Debug, Clone)]
pub(crate) struct Caching {
    clock: Arc<dyn Clock>,
    store: Option<Arc<dyn TokenStore>>,
    policy: Option<RefreshPolicy>,
    limits: CacheLimits,
}

impl Caching {
    /// A caching provider over `source`, its token under `key`.
    pub(crate) fn provider<S: TokenSource>(&self, source: S, key: StoreKey) -> CachingProvider<S> {
        let mut builder = CachingProvider::builder(source).clock(Arc::clone(&self.clock));
        builder = match &self.store {
            Some(store) => builder.store(Arc::clone(store), key),
            None => builder.key(key),
        };
        if let Some(policy) = self.policy {
            builder = builder.policy(policy);
        }
        builder.build()
    }

    /// An empty cache of organizations, under the configured limits.
    pub(crate) fn organizations<K: Eq + Hash + Clone, V>(&self) -> BoundedCache<K, V> {
        BoundedCache::new(self.limits, Arc::clone(&self.clock))
    }
}

/// Builds a [`Bookingtime`]: the transport, clock, token store and refresh policy.
#[derive(Debug)]
#[must_use]
pub struct BookingtimeBuilder {
    config: BookingtimeConfig,
    http: Option<HttpClient>,
    clock: Option<Arc<dyn Clock>>,
    store: Option<Arc<dyn TokenStore>>,
    policy: Option<RefreshPolicy>,
    cache: CacheLimits,
}

impl BookingtimeBuilder {
    /// The HTTP client: the workspace's policy over any transport, the application's
    /// own client (default: reqwest with the default policy, with the `reqwest`
    /// feature).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// The clock tokens are timed by (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Where refresh and access tokens are cached, maybe shared by a fleet of
    /// processes (default: each provider's own in-memory store, gone with the
    /// provider). Keys are `bookingtime/{client_id}/{app|user}/refresh` and
    /// `bookingtime/{client_id}/{app|user}/{organization_id}`. With a store, an
    /// organization that left the [bounded cache](Self::cache_capacity) gets its
    /// stored token back on the next call, with no new exchange.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Keeps at most `capacity` organizations not in use per [`Access`] (the app's,
    /// each signed-in user's; default 10,000; 0 is taken as 1). Past it the least
    /// used go; an [`Organization`](crate::Organization) that is held stays whatever
    /// the capacity. An organization that went is made again on the next call: its
    /// token comes back from the [`store`](Self::store) if there is one, else from one
    /// new exchange (stage two; the refresh token stays). Each costs about 2.1 KB
    /// with its token.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache = self.cache.with_capacity(capacity);
        self
    }

    /// Drops an organization once [`organization`](Access::organization) has not been
    /// called for it for `idle` and no [`Organization`](crate::Organization) holds it
    /// (default: 5 minutes, the life of an access token, so what goes is a token that
    /// has ended). Idle entries are swept from calls to `organization`, at most every
    /// eighth of `idle`.
    pub fn cache_idle(mut self, idle: Duration) -> Self {
        self.cache = self.cache.with_idle(idle);
        self
    }

    /// When tokens are renewed (default: [`RefreshPolicy::default`], which renews a
    /// 5-minute token between 4 min 15 s and 4 min 30 s after issue).
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Builds the client. Refuses plain `http://` URLs that are not on loopback, and,
    /// without the `reqwest` feature, a builder without [`http`](Self::http).
    pub fn build(self) -> Result<Bookingtime, Error> {
        let config = self.config;
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::try_default()?,
        };
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let token_url = config.token_url()?;
        let root = config.api_root()?;
        http.check_url(&root)?;
        let mut builder = OAuth2Client::builder(config.client_id(), token_url.as_str())
            .auth(ClientAuth::FormBody)
            .http(http.clone())
            .clock(Arc::clone(&clock));
        if let Some(secret) = config.client_secret() {
            builder = builder.secret(secret.clone());
        }
        let client = builder.build()?;
        // The exchange presents the refresh token that the document gives 30 days and
        // exchanges again for every organization and every 5-minute token (no rotation):
        // sending it again after a 5xx spends nothing.
        let exchange = OAuth2Client::builder(config.client_id(), token_url.as_str())
            .auth(ClientAuth::FormBody)
            .http(http.clone())
            .clock(Arc::clone(&clock))
            .repeat_refresh(Repeat::Safe)
            .build()?;
        let api = Api { http, root };
        let caching = Caching {
            clock,
            store: self.store,
            policy: self.policy,
            limits: self.cache,
        };
        let app = Access::new(
            RefreshTokens::app(client.clone()),
            exchange.clone(),
            api.clone(),
            caching.clone(),
            "app",
        );
        Ok(Bookingtime {
            inner: Arc::new(Shared {
                client,
                exchange,
                api,
                caching,
                app,
            }),
        })
    }
}

impl Bookingtime {
    /// A client with the system clock and the default transport (reqwest).
    #[cfg(feature = "reqwest")]
    pub fn new(config: BookingtimeConfig) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder: transport, clock, token store, refresh policy and the organizations'
    /// cache ([`cache_capacity`](BookingtimeBuilder::cache_capacity),
    /// [`cache_idle`](BookingtimeBuilder::cache_idle)).
    pub fn builder(config: BookingtimeConfig) -> BookingtimeBuilder {
        BookingtimeBuilder {
            config,
            http: None,
            clock: None,
            store: None,
            policy: None,
            cache: CacheLimits::new(DEFAULT_CACHE_CAPACITY, DEFAULT_CACHE_IDLE),
        }
    }

    /// App authentication (client_credentials): one refresh token for the app,
    /// shared by every organization.
    pub fn app(&self) -> &Access {
        &self.inner.app
    }

    /// User authentication, step 1: the authorization code request to send the
    /// user's browser to, plain OAuth 2.0 (RFC 6749 §4.1.1): `response_type=code`,
    /// `client_id`, `redirect_uri`, `state` and PKCE (S256); no `scope` and no
    /// `nonce`, since the document names the Authorization Code Flow (line 14) and
    /// nothing of OpenID Connect. For a scope, OpenID Connect or other parameters,
    /// see [`authorization_request_with`](Self::authorization_request_with).
    ///
    /// The documentation gives no URL for the authorization endpoint, so
    /// `authorize_url` is the caller's: the one bookingtime gives the app. It must be
    /// HTTPS (or HTTP on loopback).
    pub fn authorization_request(
        &self,
        authorize_url: &Url,
        redirect_uri: &str,
    ) -> Result<PendingAuthorization, Error> {
        self.authorization_request_with(authorize_url, redirect_uri, &AuthorizationOptions::new())
    }

    /// [`authorization_request`](Self::authorization_request) with `options`: a
    /// `scope`, OpenID Connect's `openid` scope and `nonce`
    /// ([`AuthorizationOptions::openid_connect`]), extra parameters. Without
    /// OpenID Connect, [`PendingAuthorization::nonce`] is `None`: none is sent.
    pub fn authorization_request_with(
        &self,
        authorize_url: &Url,
        redirect_uri: &str,
        options: &AuthorizationOptions,
    ) -> Result<PendingAuthorization, Error> {
        self.inner.api.http.check_url(authorize_url)?;
        Ok(options.request(authorize_url, self.inner.client.client_id(), redirect_uri))
    }

    /// User authentication, step 2: checks the redirect (`state`, errors), exchanges
    /// the code for the user's refresh token at `oauth/token` and returns the user's
    /// access. When that refresh token ends, calls fail with
    /// [`Error::SignInRequired`].
    pub async fn sign_in(
        &self,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<Access, Error> {
        let code = pending.code_from(redirect)?;
        let client = &self.inner.client;
        let response = client
            .exchange_code(
                code.expose_secret(),
                pending.verifier(),
                pending.redirect_uri(),
                &[],
            )
            .await?;
        let first = refresh_token_of(client, &response)?;
        Ok(Access::new(
            RefreshTokens::user(client.clone(), first),
            self.inner.exchange.clone(),
            self.inner.api.clone(),
            self.inner.caching.clone(),
            "user",
        ))
    }

    /// The HTTP client every request goes through, for an
    /// [`AuthorizedClient`](auth_core::http::AuthorizedClient) of your own.
    pub fn http(&self) -> &HttpClient {
        &self.inner.api.http
    }

    /// The OAuth 2.0 client underneath (stage one and the code exchange).
    pub fn oauth2(&self) -> &OAuth2Client {
        &self.inner.client
    }
}
