//! [`Bindeo`]: the client, its machine provider and user sessions.

use std::fmt;
use std::sync::Arc;

use auth_core::reqwest::HttpClient;
use auth_core::{
    AuthRequest, Authorize, CachingProvider, Clock, CredentialProvider, SecretString, StoreKey,
};
use auth_oauth2::{ClientAuth, ClientCredentials, GrantParams, OAuth2Client, RefreshToken};
use url::Url;

use crate::Error;

/// Production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.bindeo.com/";

/// A Bindeo client's settings.
#[derive(Clone)]
pub struct BindeoConfig {
    client_id: String,
    client_secret: SecretString,
    base_url: String,
}

impl fmt::Debug for BindeoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindeoConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("base_url", &self.base_url)
            .finish()
    }
}

impl BindeoConfig {
    /// A client id and secret, against [`DEFAULT_BASE_URL`].
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            base_url: DEFAULT_BASE_URL.to_owned(),
        }
    }

    /// Another base URL (a staging API, or a test server).
    pub fn with_base_url(mut self, base: &str) -> Result<Self, Error> {
        let mut url =
            Url::parse(base).map_err(|_| Error::Config(format!("{base:?} is not a URL")))?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        self.base_url = url.into();
        Ok(self)
    }

    fn access_token_url(&self) -> Result<Url, Error> {
        Url::parse(&self.base_url)
            .and_then(|base| base.join("access_token"))
            .map_err(|_| Error::Config("the base URL cannot take a path".into()))
    }
}

/// A Bindeo client: one OAuth 2.0 client at `POST /access_token` that sends every
/// grant as a JSON body with `client_id` and `client_secret` in it.
#[derive(Debug, Clone)]
pub struct Bindeo {
    client: OAuth2Client,
}

/// Machine-to-machine tokens (client_credentials), cached and renewed.
pub type MachineProvider = CachingProvider<ClientCredentials>;

/// A signed-in user's tokens: the first from the password grant, the next ones from
/// refreshes (rotated refresh tokens kept). The password is not kept.
#[derive(Debug)]
pub struct UserSession {
    inner: CachingProvider<RefreshToken>,
}

impl UserSession {
    /// The current access token, renewed if it is due.
    pub async fn token(&self) -> Result<Arc<auth_core::CachedToken>, Error> {
        self.inner.token().await.map_err(Error::from)
    }
}

/// Delegates to the caching provider, so a cached token costs no allocation. Errors
/// stay core errors (a refused refresh is `auth_core::Error::SignInRequired`, which
/// generic code understands); `auth_bindeo::Error::from` sorts them.
impl CredentialProvider for UserSession {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.inner.authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.inner.invalidate(request)
    }
}

impl Bindeo {
    /// A client with the default HTTP policy.
    pub fn new(config: BindeoConfig, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        Self::with_http(config, HttpClient::with_defaults()?, clock)
    }

    /// A client sharing an HTTP client. Refuses a plain `http://` base URL that is not
    /// on loopback.
    pub fn with_http(
        config: BindeoConfig,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let client = OAuth2Client::builder(
            config.client_id.clone(),
            config.access_token_url()?.as_str(),
        )
        .secret(config.client_secret.clone())
        .auth(ClientAuth::JsonBody)
        .http(http)
        .clock(clock)
        .build()
        .map_err(Error::from_grant)?;
        Ok(Self { client })
    }

    /// The OAuth 2.0 client underneath.
    pub fn oauth2(&self) -> &OAuth2Client {
        &self.client
    }

    /// A provider of machine tokens (client_credentials).
    pub fn machine(&self) -> MachineProvider {
        CachingProvider::builder(ClientCredentials::new(
            self.client.clone(),
            GrantParams::default(),
        ))
        .key(StoreKey::new([
            "bindeo",
            self.client.client_id(),
            "machine",
        ]))
        .shared_clock(Arc::clone(self.client.clock()))
        .build()
    }

    /// Signs a user in with the password grant and returns the session. The password
    /// is dropped when this returns; a wrong one is [`Error::InvalidCredentials`].
    pub async fn sign_in(
        &self,
        username: &str,
        password: SecretString,
    ) -> Result<UserSession, Error> {
        let first = self
            .client
            .password(username, &password, None, &[])
            .await
            .map_err(Error::from_grant)?;
        drop(password);
        let source =
            RefreshToken::starting_with(self.client.clone(), &first, GrantParams::default())
                .map_err(Error::from_grant)?;
        Ok(UserSession {
            inner: CachingProvider::builder(source)
                .key(StoreKey::new([
                    "bindeo",
                    self.client.client_id(),
                    "user",
                    username,
                ]))
                .shared_clock(Arc::clone(self.client.clock()))
                .build(),
        })
    }
}
