//! [`Bynder`]: the temporary-token handshake, and providers for permanent and
//! temporary tokens.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_core::http::HttpPolicy;
use auth_core::reqwest::{AuthorizedClient, HttpClient};
use auth_core::{Clock, SecretString};
use auth_oauth1::{Flow, FlowEndpoints, TokenCredentials};
use url::Url;

use crate::{BynderConfig, BynderProvider, Error};

/// Step 1's path.
pub const REQUEST_TOKEN_PATH: &str = "api/v4/oauth/request_token/";
/// Step 2's path, opened in the user's browser.
pub const AUTHORISE_PATH: &str = "api/v4/oauth/authorise/";
/// Step 3's path.
pub const ACCESS_TOKEN_PATH: &str = "api/v4/oauth/access_token/";
/// How long a request token lives, per Bynder's guide.
pub const REQUEST_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a temporary access token lives, per Bynder's guide.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// A request token from step 1, valid for 10 minutes from the moment it was asked for.
#[derive(Debug, Clone)]
pub struct RequestToken {
    credentials: TokenCredentials,
    expires_at: SystemTime,
}

impl RequestToken {
    /// The public token (`oauth_token`).
    pub fn token(&self) -> &str {
        self.credentials.token()
    }

    /// When it stops being accepted (measured from before the request was sent, so
    /// never later than Bynder's own limit).
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }
}

/// Access token credentials: permanent (made in the portal) or temporary (from the
/// handshake, 30 days).
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub(crate) credentials: TokenCredentials,
    pub(crate) expires_at: Option<SystemTime>,
}

impl AccessToken {
    /// A permanent token.
    pub fn permanent(token: impl Into<String>, secret: SecretString) -> Self {
        Self {
            credentials: TokenCredentials::new(token, secret),
            expires_at: None,
        }
    }

    /// A temporary token restored from storage, with the expiry it was issued with.
    pub fn temporary(
        token: impl Into<String>,
        secret: SecretString,
        expires_at: SystemTime,
    ) -> Self {
        Self {
            credentials: TokenCredentials::new(token, secret),
            expires_at: Some(expires_at),
        }
    }

    /// The public token (`oauth_token`).
    pub fn token(&self) -> &str {
        self.credentials.token()
    }

    /// The token secret, to store it.
    pub fn secret(&self) -> &SecretString {
        self.credentials.secret()
    }

    /// When a temporary token expires; `None` for a permanent one.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }
}

/// A Bynder portal for one consumer: the handshake, and providers that sign API calls.
pub struct Bynder {
    config: BynderConfig,
    flow: Flow,
    http: HttpClient,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for Bynder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bynder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Bynder {
    /// A client with its own HTTP client (the `policy`'s timeouts, body cap, no
    /// redirects, HTTPS except on loopback).
    pub fn new(
        config: BynderConfig,
        policy: HttpPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        Self::with_http(config, HttpClient::new(policy)?, clock)
    }

    /// A client sharing an HTTP client. Refuses a plain `http://` portal that is not
    /// on loopback.
    pub fn with_http(
        config: BynderConfig,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let endpoints = FlowEndpoints {
            temporary: config.api_url(REQUEST_TOKEN_PATH)?,
            authorize: config.api_url(AUTHORISE_PATH)?,
            token: config.api_url(ACCESS_TOKEN_PATH)?,
        };
        // Bynder speaks OAuth 1.0 before revision A: no oauth_callback at step 1 (the
        // callback is a parameter of the authorise URL), no oauth_callback_confirmed,
        // no verifier at step 3.
        let flow = Flow::new(
            config.consumer.clone(),
            endpoints,
            http.clone(),
            Arc::clone(&clock),
        )?
        .oauth_1_0();
        Ok(Self {
            config,
            flow,
            http,
            clock,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &BynderConfig {
        &self.config
    }

    /// The HTTP client, to send the calls a provider signs.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Step 1: `POST /api/v4/oauth/request_token/`, signed with the consumer only.
    pub async fn request_token(&self) -> Result<RequestToken, Error> {
        let asked = self.clock.now();
        let answer = self.flow.temporary_credentials(None).await?;
        Ok(RequestToken {
            credentials: answer.credentials,
            expires_at: asked + REQUEST_TOKEN_LIFETIME,
        })
    }

    /// Step 2: the URL to open in the user's browser,
    /// `/api/v4/oauth/authorise/?oauth_token=...&callback=...`.
    ///
    /// The guide's parameter table names the token parameter `auth_token` while its
    /// example URL says `oauth_token`; this follows the example, which is also what
    /// OAuth 1.0 servers read.
    pub fn authorise_url(&self, request: &RequestToken, callback: Option<&str>) -> Url {
        match callback {
            Some(callback) => self
                .flow
                .authorize_url(&request.credentials, &[("callback", callback)]),
            None => self.flow.authorize_url(&request.credentials, &[]),
        }
    }

    /// Step 3: `POST /api/v4/oauth/access_token/`, signed with the consumer and the
    /// request token, once the user has authorised it. Bynder spends the request token
    /// at once; the access token lives 30 days.
    ///
    /// An expired request token is refused here, before anything is sent.
    pub async fn access_token(&self, request: &RequestToken) -> Result<AccessToken, Error> {
        let asked = self.clock.now();
        if asked >= request.expires_at {
            return Err(Error::RequestTokenExpired);
        }
        let answer = self
            .flow
            .token_credentials(&request.credentials, None)
            .await?;
        Ok(AccessToken {
            credentials: answer.credentials,
            expires_at: Some(asked + ACCESS_TOKEN_LIFETIME),
        })
    }

    /// A provider that signs with the configured permanent token.
    pub fn permanent_provider(&self) -> Result<BynderProvider, Error> {
        let token = self
            .config
            .permanent
            .clone()
            .ok_or_else(|| Error::Config("no permanent token is configured".into()))?;
        self.provider(AccessToken {
            credentials: token,
            expires_at: None,
        })
    }

    /// A provider that signs with `token` (permanent or temporary). A temporary token
    /// past its expiry makes every call fail with [`Error::AccessTokenExpired`] before
    /// it is sent.
    pub fn provider(&self, token: AccessToken) -> Result<BynderProvider, Error> {
        BynderProvider::new(self.config.consumer.clone(), token, Arc::clone(&self.clock))
    }

    /// An HTTP client that signs every request with `token`.
    pub fn authorized_client(&self, token: AccessToken) -> Result<AuthorizedClient, Error> {
        Ok(AuthorizedClient::new(
            self.http.clone(),
            Arc::new(self.provider(token)?),
        ))
    }
}
