//! A Bynder portal as its OAuth 1.0a guide describes it: the [`OAuth1Server`] on
//! Bynder's paths, speaking OAuth 1.0 without revision A.
//!
//! - `POST /api/v4/oauth/request_token/`, signed with the consumer only, no
//!   `oauth_callback` needed, answers `oauth_token` and `oauth_token_secret` (no
//!   `oauth_callback_confirmed`); the request token lives 10 minutes.
//! - `GET /api/v4/oauth/authorise/?oauth_token=...&callback=...`: the simulated user
//!   signs in and approves; the browser is redirected to `callback`, or, without one,
//!   shown the token.
//! - `POST /api/v4/oauth/access_token/`, signed with the consumer and the request
//!   token, no verifier needed once the user has approved; the request token is spent at
//!   once and the access token lives 30 days.
//! - `GET /api/v4/media/`, signed with consumer and access token (temporary or
//!   permanent), answers a list of assets.
//!
//! Every request is verified with `auth_oauth1::Verifier`; failures are `401` with an
//! `oauth_problem` form body (see [`crate::oauth1`]).

use std::sync::Arc;
use std::time::Duration;

use auth_core::Clock;
use url::Url;

use crate::TestServer;
use crate::oauth1::{OAuth1Config, OAuth1Server};

/// Step 1: the request token.
pub const REQUEST_TOKEN_PATH: &str = "/api/v4/oauth/request_token/";
/// Step 2: the user's browser.
pub const AUTHORISE_PATH: &str = "/api/v4/oauth/authorise/";
/// Step 3: the access token.
pub const ACCESS_TOKEN_PATH: &str = "/api/v4/oauth/access_token/";
/// A signed resource: the asset list.
pub const MEDIA_PATH: &str = "/api/v4/media/";
/// How long a request token lives.
pub const REQUEST_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a temporary access token lives.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// A [`BynderServer`]'s settings: the one consumer it knows, and the clock its tokens
/// are timed by.
#[derive(Clone)]
pub struct BynderConsumer {
    /// The consumer key.
    pub consumer_key: String,
    /// The consumer secret.
    pub consumer_secret: String,
    /// The clock tokens and timestamps are checked by (default: a new manual clock).
    pub clock: Arc<dyn Clock>,
}

impl BynderConsumer {
    /// A consumer, on a new manual clock.
    pub fn new(consumer_key: &str, consumer_secret: &str) -> Self {
        Self {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            clock: Arc::new(crate::ManualClock::new()),
        }
    }

    /// With a clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl std::fmt::Debug for BynderConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BynderConsumer")
            .field("consumer_key", &self.consumer_key)
            .finish_non_exhaustive()
    }
}

/// A running Bynder portal for one consumer.
#[derive(Debug)]
pub struct BynderServer {
    inner: OAuth1Server,
}

impl BynderServer {
    /// Starts a portal that knows one consumer.
    pub fn start(consumer: BynderConsumer) -> std::io::Result<Self> {
        let BynderConsumer {
            consumer_key,
            consumer_secret,
            clock,
        } = consumer;
        let config = OAuth1Config {
            temporary_path: REQUEST_TOKEN_PATH.into(),
            authorize_path: AUTHORISE_PATH.into(),
            token_path: ACCESS_TOKEN_PATH.into(),
            resource_path: MEDIA_PATH.into(),
            temporary_lifetime: REQUEST_TOKEN_LIFETIME,
            access_lifetime: Some(ACCESS_TOKEN_LIFETIME),
            confirm_callback: false,
            authorize_callback_param: Some("callback".into()),
            require_callback: false,
            require_verifier: false,
            resource_body: Some(serde_json::json!([
                { "id": "4F7A0B3C-1D2E-4A5B-9C8D7E6F5A4B3C2D", "name": "vacation", "type": "image",
                  "extension": ["jpg"] },
                { "id": "8A9B0C1D-2E3F-4051-A2B3C4D5E6F70819", "name": "brand-guide", "type": "document",
                  "extension": ["pdf"] }
            ])),
            ..OAuth1Config::rfc5849(&consumer_key, &consumer_secret)
        };
        Ok(Self {
            inner: OAuth1Server::start(clock, config)?,
        })
    }

    /// The portal's base URL (what a customer knows as `company.bynder.com`).
    pub fn base_url(&self) -> &Url {
        self.inner.server().base_url()
    }

    /// The server, for counters, faults and URLs.
    pub fn server(&self) -> &TestServer {
        self.inner.server()
    }

    /// Registers a permanent token, as an administrator does in `/pysettings`.
    pub fn add_permanent_token(&self, token: &str, secret: &str) {
        self.inner.add_access_token(token, secret, None);
    }

    /// Access tokens issued or registered.
    pub fn access_tokens(&self) -> usize {
        self.inner.access_tokens()
    }
}

/// What the user's browser sees after opening the authorise URL: the simulated user
/// signs in and approves, and the portal answers with a redirect to the callback
/// (returned: the `Location`) or, without a callback, a page with the token (returned:
/// the body). Does not follow the redirect.
pub async fn sign_in_and_approve(authorise_url: &str) -> Result<String, reqwest::Error> {
    auth_core::reqwest::ensure_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client.get(authorise_url).send().await?;
    match response.headers().get(http::header::LOCATION) {
        Some(location) => Ok(location.to_str().unwrap_or_default().to_owned()),
        None => response.text().await,
    }
}
