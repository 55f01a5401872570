//! A Bindeo API as its reference documents it: OAuth 2.0 at `POST /access_token` with
//! JSON bodies only (a form body gets 400), `client_id` and `client_secret` in the
//! body, the client_credentials, password and refresh_token grants, JWT-shaped Bearer
//! tokens of 3600 s, rotating refresh tokens, and a protected `GET /resource`.
//!
//! It is the [`AuthServer`] configured that way.

use std::sync::Arc;
use std::time::Duration;

use auth_core::{Clock, SystemClock};
use url::Url;

use crate::TestServer;
use crate::oauth2::{AuthServer, AuthServerConfig, ClientAuthMethod, TestUser};

/// The token endpoint.
pub const ACCESS_TOKEN_PATH: &str = "/access_token";
/// A protected resource.
pub const RESOURCE_PATH: &str = crate::oauth2::RESOURCE_PATH;

/// What a [`BindeoServer`] knows: one client, its users, and its clock.
#[derive(Debug, Clone)]
pub struct BindeoServerConfig {
    /// The client ID.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Users, as `(username, password)`.
    pub users: Vec<(String, String)>,
    /// The clock tokens are issued by (default: the system clock).
    pub clock: Arc<dyn Clock>,
}

impl BindeoServerConfig {
    /// One client, no users yet, the system clock.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            users: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }

    /// With a user who can sign in with the password grant.
    #[must_use]
    pub fn user(mut self, username: &str, password: &str) -> Self {
        self.users.push((username.into(), password.into()));
        self
    }

    /// With a clock (a [`ManualClock`](crate::ManualClock) to move time in a test).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

/// A running Bindeo API.
#[derive(Debug)]
pub struct BindeoServer {
    inner: AuthServer,
}

impl BindeoServer {
    /// Starts a server for `config`'s client and users.
    pub fn start(config: BindeoServerConfig) -> std::io::Result<Self> {
        let mut server = AuthServerConfig::new(&config.client_id, &config.client_secret)
            .auth(ClientAuthMethod::JsonBody)
            .clock(config.clock);
        server.users = config
            .users
            .iter()
            .map(|(u, p)| TestUser {
                username: u.clone(),
                password: p.clone(),
                email: format!("{u}@example.com"),
            })
            .collect();
        server.paths.token = ACCESS_TOKEN_PATH.into();
        server.json_only = true;
        server.jwt_access_tokens = true;
        server.rotate_refresh_tokens = true;
        server.access_lifetime = Duration::from_secs(3600);
        Ok(Self {
            inner: AuthServer::start(server)?,
        })
    }

    /// The API's base URL (what `https://api.bindeo.com/` is in production).
    pub fn base_url(&self) -> &Url {
        self.inner.server().base_url()
    }

    /// The server, for counters, faults and URLs.
    pub fn server(&self) -> &TestServer {
        self.inner.server()
    }

    /// Successful grants by `grant_type`.
    pub fn grants(&self, grant_type: &str) -> u64 {
        self.inner.grants(grant_type)
    }

    /// Whether a token has been revoked (a rotated refresh token is).
    pub fn is_revoked(&self, token: &str) -> bool {
        self.inner.is_revoked(token)
    }
}
