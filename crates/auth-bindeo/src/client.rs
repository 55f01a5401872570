//! [`Bindeo`], the entry type, and its [`BindeoBuilder`].

use std::sync::Arc;

use auth_core::http::HttpClient;
use auth_core::{
    CachingProvider, Clock, RefreshPolicy, SecretString, StoreKey, SystemClock, TokenSource,
    TokenStore,
};
use auth_oauth2::{ClientAuth, ClientCredentials, GrantParams, OAuth2Client, RefreshToken};

use crate::error::password_refused;
use crate::provider::{MachineProvider, SessionRefresh, UserSession};
use crate::{BindeoConfig, Error};

/// A Bindeo client: one OAuth 2.0 client at `POST /access_token` that sends every
/// grant as a JSON body with `client_id` and `client_secret` in it, and the providers
/// it hands out. Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Bindeo {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: OAuth2Client,
    store: Option<Arc<dyn TokenStore>>,
    policy: Option<RefreshPolicy>,
}

/// Builds a [`Bindeo`]: the transport, clock, token store and refresh policy.
#[derive(Debug)]
#[must_use]
pub struct BindeoBuilder {
    config: BindeoConfig,
    http: Option<HttpClient>,
    clock: Option<Arc<dyn Clock>>,
    store: Option<Arc<dyn TokenStore>>,
    policy: Option<RefreshPolicy>,
}

impl BindeoBuilder {
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

    /// Where machine and user tokens are cached, maybe shared by a fleet of processes
    /// (default: each provider's own in-memory store). Keys are
    /// `bindeo/{client_id}/machine` and `bindeo/{client_id}/user/{username}`.
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// When tokens are renewed (default: [`RefreshPolicy::default`], which renews an
    /// hour's token between 51 and 54 minutes).
    pub fn policy(mut self, policy: RefreshPolicy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Builds the client. Refuses a plain `http://` API URL that is not on loopback,
    /// and, without the `reqwest` feature, a builder without [`http`](Self::http).
    pub fn build(self) -> Result<Bindeo, Error> {
        let config = self.config;
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::try_default()?,
        };
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let client = OAuth2Client::builder(config.client_id(), config.access_token_url()?.as_str())
            .secret(config.client_secret().clone())
            .auth(ClientAuth::JsonBody)
            .http(http)
            .clock(clock)
            .build()?;
        Ok(Bindeo {
            inner: Arc::new(Inner {
                client,
                store: self.store,
                policy: self.policy,
            }),
        })
    }
}

impl Bindeo {
    /// A client with the system clock and the default transport (reqwest).
    #[cfg(feature = "reqwest")]
    pub fn new(config: BindeoConfig) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder: transport, clock, token store and refresh policy.
    pub fn builder(config: BindeoConfig) -> BindeoBuilder {
        BindeoBuilder {
            config,
            http: None,
            clock: None,
            store: None,
            policy: None,
        }
    }

    /// The HTTP client the tokens are fetched with, for an
    /// [`AuthorizedClient`](auth_core::http::AuthorizedClient) to the API.
    pub fn http(&self) -> &HttpClient {
        self.inner.client.http()
    }

    /// The OAuth 2.0 client underneath.
    pub fn oauth2(&self) -> &OAuth2Client {
        &self.inner.client
    }

    /// A provider of machine tokens (client_credentials), cached and renewed.
    pub fn machine(&self) -> MachineProvider {
        let client = &self.inner.client;
        self.cache(
            ClientCredentials::new(client.clone(), GrantParams::default()),
            StoreKey::new(["bindeo", client.client_id(), "machine"]),
        )
    }

    /// Signs a user in with the password grant (reference, lines 116-197: `grant_type`
    /// `password`, `client_id`, `client_secret`, `username`, `password`) and returns
    /// the user's session, a provider of the user's tokens that refreshes them. The
    /// password is dropped when this returns; a wrong one is
    /// [`Error::InvalidCredentials`], whether the server answers `invalid_grant` or
    /// `invalid_credentials` (see [`Error`]).
    pub async fn user(&self, username: &str, password: SecretString) -> Result<UserSession, Error> {
        let client = &self.inner.client;
        let first = client
            .password(username, &password, None, &[])
            .await
            .map_err(password_refused)?;
        drop(password);
        let source = SessionRefresh(RefreshToken::starting_with(
            client.clone(),
            &first,
            GrantParams::default(),
        )?);
        let key = StoreKey::new(["bindeo", client.client_id(), "user", username]);
        Ok(UserSession::new(self.cache(source, key)))
    }

    /// A caching provider over `source` with this client's clock, store and policy.
    fn cache<S: TokenSource>(&self, source: S, key: StoreKey) -> CachingProvider<S> {
        let inner = &self.inner;
        let mut builder = CachingProvider::builder(source).clock(Arc::clone(inner.client.clock()));
        builder = match &inner.store {
            Some(store) => builder.store(Arc::clone(store), key),
            None => builder.key(key),
        };
        if let Some(policy) = inner.policy {
            builder = builder.policy(policy);
        }
        builder.build()
    }
}
