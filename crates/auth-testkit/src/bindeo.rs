//! A Bindeo API as its reference documents it: OAuth 2.0 at `POST /access_token` with
//! JSON bodies only (a form body gets 400), `client_id` and `client_secret` in the
//! body, the client_credentials, password and refresh_token grants, JWT-shaped Bearer
//! tokens of 3600 s, rotating refresh tokens, and a protected `GET /resource`.
//!
//! It is the [`AuthServer`] configured that way.

use std::sync::Arc;
use std::time::Duration;

use auth_core::Clock;
use url::Url;

use crate::TestServer;
use crate::oauth2::{AuthServer, AuthServerConfig, ClientAuthMethod, TestUser};

/// The token endpoint.
pub const ACCESS_TOKEN_PATH: &str = "/access_token";
/// A protected resource.
pub const RESOURCE_PATH: &str = crate::oauth2::RESOURCE_PATH;

/// A running Bindeo API.
#[derive(Debug)]
pub struct BindeoServer {
    inner: AuthServer,
}

impl BindeoServer {
    /// Starts a server for one client and the given users (`(username, password)`).
    pub fn start(
        clock: Arc<dyn Clock>,
        client_id: &str,
        client_secret: &str,
        users: &[(&str, &str)],
    ) -> std::io::Result<Self> {
        let mut config = AuthServerConfig::new(client_id, client_secret)
            .auth(ClientAuthMethod::JsonBody)
            .clock(clock);
        config.users = users
            .iter()
            .map(|(u, p)| TestUser {
                username: (*u).into(),
                password: (*p).into(),
                email: format!("{u}@example.com"),
            })
            .collect();
        config.paths.token = ACCESS_TOKEN_PATH.into();
        config.json_only = true;
        config.jwt_access_tokens = true;
        config.rotate_refresh_tokens = true;
        config.access_lifetime = Duration::from_secs(3600);
        Ok(Self {
            inner: AuthServer::start(config)?,
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
