//! A Bynder portal after Bynder's OAuth 1.0a guide
//! (`vendor-docs/003_d1adedb5d9e863b8.txt`): the [`OAuth1Server`] on Bynder's paths,
//! speaking OAuth 1.0 without revision A.
//!
//! What the document specifies, line by line, and what this server does with it:
//! - line 3, "OAuth 1.0 Protocol with header authentication": every request is
//!   verified from the `Authorization` header with `auth_oauth1::Verifier`; the
//!   examples (lines 78, 113) show `oauth_signature_method="HMAC-SHA1"` and
//!   `oauth_version="1.0"`.
//! - lines 19-22, permanent tokens "Do not have expiration date", made in the portal:
//!   [`BynderServer::add_permanent_token`], never expired.
//! - lines 66-74, step 1: `POST /api/v4/oauth/request_token/`, "generated
//!   authorization header by using only the consumer key/secret pair", "Parameters -"
//!   (no `oauth_callback` needed), answers
//!   `oauth_token=...&oauth_token_secret=...` (no `oauth_callback_confirmed`); "A
//!   Request Token is valid for 10 minutes" ([`REQUEST_TOKEN_LIFETIME`]).
//! - lines 84-97, step 2: `GET /api/v4/oauth/authorise/`, opened in a browser, with an
//!   optional `callback` ("prefered-redirection-url", "No"). The document names the
//!   token parameter twice, differently: its table `auth_token` (line 91, "Yes",
//!   required), its example URL `oauth_token` (line 97). The server reads one of them,
//!   by [`AuthoriseReading`] (default: the table's). "Redirected to the URL defined in
//!   the callback parameter. If the callback parameter is omitted, the request
//!   responds with the token" (line 93).
//! - lines 101-109, step 3: `POST /api/v4/oauth/access_token/`, signed "by using the
//!   consumer and the request token key/secret pairs", "Parameters -" (no verifier);
//!   "the Request Token is immediately expired"; answers
//!   `oauth_token=...&oauth_token_secret=...`; the access token is "valid for 30
//!   days" (line 66, [`ACCESS_TOKEN_LIFETIME`]).
//!
//! What the document leaves open, and what this server assumes:
//! - the simulated user signs in and approves at once (line 82's login page is not
//!   modelled); the redirect to `callback` carries `oauth_token` and
//!   `oauth_verifier` (RFC 5849 §2.2), and the page without a callback shows
//!   `oauth_token=...&oauth_verifier=...` (the document says only "the token");
//! - step 3 before the user approved is refused (`parameter_rejected` naming
//!   `oauth_verifier`);
//! - every failure is `401` with an `oauth_problem` form body (the OAuth Problem
//!   Reporting extension, see [`crate::oauth1`]): the document shows no error answer;
//! - `GET /api/v4/media/` ([`MEDIA_PATH`]) stands for "your API calls" (line 101): the
//!   document names no API endpoint. It checks the signature, the token and its
//!   expiry, and answers a list of two made-up assets.

use std::sync::Arc;
use std::time::Duration;

use auth_core::Clock;
use url::Url;

use crate::TestServer;
use crate::oauth1::{OAuth1Config, OAuth1Server};

/// Step 1: the request token ("Endpoint/api/v4/oauth/request_token/", line 70).
pub const REQUEST_TOKEN_PATH: &str = "/api/v4/oauth/request_token/";
/// Step 2: the user's browser ("Endpoint/api/v4/oauth/authorise/", line 87).
pub const AUTHORISE_PATH: &str = "/api/v4/oauth/authorise/";
/// Step 3: the access token ("Endpoint/api/v4/oauth/access_token/", line 105).
pub const ACCESS_TOKEN_PATH: &str = "/api/v4/oauth/access_token/";
/// A signed resource standing for "your API calls": the document names no API
/// endpoint, so this path and its answer are the server's own.
pub const MEDIA_PATH: &str = "/api/v4/media/";
/// How long a request token lives ("valid for 10 minutes", line 66).
pub const REQUEST_TOKEN_LIFETIME: Duration = Duration::from_secs(10 * 60);
/// How long a temporary access token lives ("valid for 30 days", lines 25, 53, 66).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// Which of the document's two names for the authorise step's token parameter the
/// portal reads (the other is ignored, as an unknown query parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthoriseReading {
    /// `auth_token`, the parameter table's name, marked required (line 91). The
    /// default: the table is the document's specification of the parameters.
    #[default]
    Table,
    /// `oauth_token`, the example URL's name (line 97), and RFC 5849 §2.2's.
    Example,
}

impl AuthoriseReading {
    /// The query parameter this reading takes the token from.
    pub fn parameter(self) -> &'static str {
        match self {
            Self::Table => "auth_token",
            Self::Example => "oauth_token",
        }
    }
}

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
    /// The authorise step's token parameter (default: [`AuthoriseReading::Table`]).
    pub authorise_reading: AuthoriseReading,
}

impl BynderConsumer {
    /// A consumer, on a new manual clock.
    pub fn new(consumer_key: &str, consumer_secret: &str) -> Self {
        Self {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            clock: Arc::new(crate::ManualClock::new()),
            authorise_reading: AuthoriseReading::default(),
        }
    }

    /// Reads the authorise step's token from the parameter `reading` names.
    #[must_use]
    pub fn authorise_reading(mut self, reading: AuthoriseReading) -> Self {
        self.authorise_reading = reading;
        self
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
            .field("authorise_reading", &self.authorise_reading)
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
            authorise_reading,
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
            authorize_token_params: vec![authorise_reading.parameter().into()],
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
