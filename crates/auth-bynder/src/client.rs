//! [`Bynder`] and [`BynderBuilder`]: the temporary-token handshake, and providers
//! that sign API calls with permanent or temporary tokens.

use std::fmt;
use std::sync::Arc;

use auth_core::http::{AuthorizedClient, HttpClient};
use auth_core::{Clock, SystemClock};
use auth_oauth1::{Flow, FlowEndpoints};
use url::Url;

use crate::token::{ACCESS_TOKEN_LIFETIME, REQUEST_TOKEN_LIFETIME};
use crate::{AccessToken, BynderConfig, BynderProvider, Error, RequestToken};

/// Step 1's path: "Endpoint/api/v4/oauth/request_token/", method POST
/// (`vendor-docs/003_d1adedb5d9e863b8.txt`, lines 69-70).
pub const REQUEST_TOKEN_PATH: &str = "api/v4/oauth/request_token/";
/// Step 2's path, opened in the user's browser: "Endpoint/api/v4/oauth/authorise/",
/// method GET (lines 86-87).
pub const AUTHORISE_PATH: &str = "api/v4/oauth/authorise/";
/// Step 3's path: "Endpoint/api/v4/oauth/access_token/", method POST (lines
/// 104-105).
pub const ACCESS_TOKEN_PATH: &str = "api/v4/oauth/access_token/";

/// A Bynder portal for one consumer: the handshake, and providers that sign API calls.
///
/// Bynder speaks OAuth 1.0 before revision A, as its guide shows: no `oauth_callback`
/// at step 1 ("Parameters-", line 72; the callback is a parameter of the authorise
/// URL, line 92), no `oauth_callback_confirmed` (the answer on line 74), no verifier
/// at step 3 ("Parameters-", line 107).
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

/// Builds a [`Bynder`]: [`Bynder::builder`]. Bynder's tokens are not renewed (a
/// permanent token never expires, a temporary one ends with a new handshake), so
/// there is no token store or refresh policy to set.
#[derive(Debug)]
#[must_use]
pub struct BynderBuilder {
    config: BynderConfig,
    http: Option<HttpClient>,
    clock: Arc<dyn Clock>,
}

impl BynderBuilder {
    /// Sends through `http` (any transport, the application's own client). Without
    /// it, [`build`](Self::build) uses the default transport (reqwest, with the
    /// `reqwest` feature).
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Times tokens and signatures by `clock` (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The client. Refuses a plain `http://` portal that is not on loopback.
    pub fn build(self) -> Result<Bynder, Error> {
        let http = match self.http {
            Some(http) => http,
            None => HttpClient::try_default()?,
        };
        let config = self.config;
        let endpoints = FlowEndpoints {
            temporary: config.api_url(REQUEST_TOKEN_PATH)?,
            authorize: config.api_url(AUTHORISE_PATH)?,
            token: config.api_url(ACCESS_TOKEN_PATH)?,
        };
        let flow = Flow::new(
            config.consumer.clone(),
            endpoints,
            http.clone(),
            Arc::clone(&self.clock),
        )?
        .oauth_1_0();
        Ok(Bynder {
            config,
            flow,
            http,
            clock: self.clock,
        })
    }
}

impl Bynder {
    /// A client with the system clock and the default transport (reqwest) under the
    /// default HTTP policy (timeouts, 1 MiB body cap, no redirects, HTTPS except on
    /// loopback).
    #[cfg(feature = "reqwest")]
    pub fn new(config: BynderConfig) -> Result<Self, Error> {
        Self::builder(config).build()
    }

    /// A builder for the transport and the clock.
    pub fn builder(config: BynderConfig) -> BynderBuilder {
        BynderBuilder {
            config,
            http: None,
            clock: Arc::new(SystemClock),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BynderConfig {
        &self.config
    }

    /// The HTTP client, to send the calls a provider signs.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Step 1: `POST /api/v4/oauth/request_token/`, "generated authorization header by
    /// using only the consumer key/secret pair", no parameters (lines 69-72); the
    /// request token "is valid for 10 minutes" (line 66), counted from before the
    /// request is sent.
    pub async fn request_token(&self) -> Result<RequestToken, Error> {
        let asked = self.clock.now();
        let answer = self.flow.temporary_credentials(None).await?;
        Ok(RequestToken {
            credentials: answer.credentials,
            expires_at: asked + REQUEST_TOKEN_LIFETIME,
        })
    }

    /// Step 2: the URL to open in the user's browser,
    /// `/api/v4/oauth/authorise/?oauth_token=…&auth_token=…&callback=…`.
    ///
    /// The document names the token parameter twice, differently: its parameter table
    /// says `auth_token`, required ("auth_tokenauth_token retrieved from previous
    /// requestYes", line 91), its example URL `oauth_token` (line 97, also RFC 5849
    /// §2.2's name). Both carry the request token, so a portal that reads either name
    /// finds it; `callback` ("prefered-redirection-url", not required, line 92) is
    /// added when given. Without a callback "the request responds with the token"
    /// (line 93).
    pub fn authorise_url(&self, request: &RequestToken, callback: Option<&str>) -> Url {
        let token = request.credentials.token();
        let mut extra = vec![("auth_token", token)];
        if let Some(callback) = callback {
            extra.push(("callback", callback));
        }
        self.flow.authorize_url(&request.credentials, &extra)
    }

    /// Step 3: `POST /api/v4/oauth/access_token/`, signed "by using the consumer and
    /// the request token key/secret pairs", no parameters (lines 104-107), once the
    /// user has authorised it. "the Request Token is immediately expired" (line 101);
    /// the access token "is valid for 30 days" (line 66).
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

    /// The provider for the user of the configured permanent token
    /// ([`BynderConfig::with_permanent_token`]).
    pub fn permanent_user(&self) -> Result<BynderProvider, Error> {
        let token = self
            .config
            .permanent
            .clone()
            .ok_or_else(|| Error::Config("no permanent token is configured".into()))?;
        self.user(AccessToken {
            credentials: token,
            expires_at: None,
        })
    }

    /// The provider for the user `token` is bound to (permanent or temporary): it
    /// signs every call with the consumer and `token`. A temporary token past its
    /// expiry makes every call fail with [`Error::AccessTokenExpired`] before it is
    /// sent.
    pub fn user(&self, token: AccessToken) -> Result<BynderProvider, Error> {
        BynderProvider::new(self.config.consumer.clone(), token, Arc::clone(&self.clock))
    }

    /// An HTTP client that signs every request (every attempt afresh) as the user
    /// `token` is bound to.
    pub fn authorized_client(&self, token: AccessToken) -> Result<AuthorizedClient, Error> {
        Ok(AuthorizedClient::new(
            self.http.clone(),
            Arc::new(self.user(token)?),
        ))
    }
}
