//! Bynder: API calls signed with OAuth 1.0a HMAC-SHA1, with a permanent token or a
//! temporary one from the documented handshake, whose 30-day expiry is tracked.
//!
//! ```
//! use std::sync::Arc;
//! use auth_bynder::{Bynder, BynderConfig};
//! use auth_core::{http::HttpPolicy, Clock, ManualClock, SecretString};
//! use auth_testkit::bynder::{BynderServer, sign_in_and_approve};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An embedded portal stands in for https://company.bynder.com.
//! let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
//! let portal = BynderServer::start(Arc::clone(&clock), "consumer-key", "consumer-secret")?;
//!
//! let config = BynderConfig::new(portal.portal().as_str(), "consumer-key",
//!     SecretString::from("consumer-secret"))?;
//! let bynder = Bynder::new(config, HttpPolicy::default(), clock)?;
//!
//! // The handshake: a request token, the user's browser, the access token.
//! let request = bynder.request_token().await?;
//! let url = bynder.authorise_url(&request, Some("https://myintegration.example/done"));
//! sign_in_and_approve(url.as_str()).await?; // what the user does in the browser
//! let access = bynder.access_token(&request).await?;
//!
//! // Every call is signed; the token is good for 30 days.
//! let client = bynder.authorized_client(access)?;
//! let media = bynder.config().api_url("api/v4/media/")?;
//! let answer = client.send(client.http().reqwest().get(media).build()?).await?;
//! assert_eq!(answer.status, 200);
//! # Ok(()) }
//! ```
//!
//! - [`BynderConfig`]: the portal (`company.bynder.com`), the consumer key and
//!   secret, optionally a permanent token.
//! - [`Bynder`]: the handshake ([`request_token`](Bynder::request_token),
//!   [`authorise_url`](Bynder::authorise_url), [`access_token`](Bynder::access_token))
//!   and providers for either kind of token.
//! - [`BynderProvider`]: a [`CredentialProvider`](auth_core::CredentialProvider) that
//!   signs each call and refuses an expired temporary token before sending it.
//! - [`Error`]: typed failures, among them the three that tell the user to start again
//!   ([`Error::AccessTokenExpired`], [`Error::RequestTokenExpired`],
//!   [`Error::RequestTokenUsed`]).
//!
//! Bynder speaks OAuth 1.0 before revision A (no `oauth_callback_confirmed`, no
//! verifier); the crate follows what the vendor's guide shows, see
//! [`Bynder::with_http`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod error;
mod handshake;
mod provider;

pub use config::BynderConfig;
pub use error::Error;
pub use handshake::{
    ACCESS_TOKEN_LIFETIME, ACCESS_TOKEN_PATH, AUTHORISE_PATH, AccessToken, Bynder,
    REQUEST_TOKEN_LIFETIME, REQUEST_TOKEN_PATH, RequestToken,
};
pub use provider::BynderProvider;
