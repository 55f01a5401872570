//! Bynder: API calls signed with OAuth 1.0a HMAC-SHA1, with a permanent token or a
//! temporary one from the documented handshake, whose 30-day expiry is tracked.
//!
//! ```
//! use auth_bynder::{Bynder, BynderConfig, ConsumerKey};
//! use auth_core::SecretString;
//! use auth_testkit::bynder::{BynderConsumer, BynderServer, sign_in_and_approve};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An embedded portal stands in for https://company.bynder.com.
//! let portal = BynderServer::start(BynderConsumer::new("consumer-key", "consumer-secret"))?;
//!
//! // Every customer has a portal of their own: its URL is required.
//! let config = BynderConfig::new(portal.base_url().as_str(), ConsumerKey::new("consumer-key"),
//!     SecretString::from("consumer-secret"))?;
//! let bynder = Bynder::new(config)?;
//!
//! // The handshake: a request token, the user's browser, the access token.
//! let request = bynder.request_token().await?;
//! let url = bynder.authorise_url(&request, Some("https://myintegration.example/done"));
//! sign_in_and_approve(url.as_str()).await?; // what the user does in the browser
//! let access = bynder.access_token(&request).await?;
//!
//! // Every call is signed; the token is good for 30 days. (The guide names no API
//! // endpoint; `api/v4/media/` is the embedded portal's stand-in resource.)
//! let client = bynder.authorized_client(access)?;
//! let media = bynder.config().api_url("api/v4/media/")?;
//! let answer = client.send(http::Request::get(media.as_str()).body(Default::default())?).await?;
//! assert_eq!(answer.status, 200);
//! # Ok(()) }
//! ```
//!
//! - [`BynderConfig`]: the portal (`company.bynder.com`; required, there is no
//!   default), the [`ConsumerKey`] and secret, optionally a permanent token.
//! - [`Bynder`]: [`Bynder::new`] (system clock, reqwest) or [`Bynder::builder`]
//!   (`http`, `clock`); the handshake ([`request_token`](Bynder::request_token),
//!   [`authorise_url`](Bynder::authorise_url), [`access_token`](Bynder::access_token)),
//!   and the providers [`user`](Bynder::user) and
//!   [`permanent_user`](Bynder::permanent_user).
//! - [`BynderProvider`]: a [`CredentialProvider`](auth_core::CredentialProvider) that
//!   signs each call and refuses an expired temporary token before sending it.
//! - [`Error`]: typed failures, among them the three that tell the user to start again
//!   ([`Error::AccessTokenExpired`], [`Error::RequestTokenExpired`],
//!   [`Error::RequestTokenUsed`]).
//!
//! Bynder speaks OAuth 1.0 before revision A (no `oauth_callback_confirmed`, no
//! verifier); the crate follows what the vendor's guide shows, see [`Bynder`]. Where
//! the guide contradicts itself (the authorise step's token parameter is `auth_token`
//! in its table and `oauth_token` in its example), the crate sends both, see
//! [`Bynder::authorise_url`] and the README's "Where the document is silent".
//!
//! The default `reqwest` feature gives [`Bynder::new`] its transport; without it, give
//! the builder an [`HttpClient`](auth_core::http::HttpClient) over any transport.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod provider;
mod token;

pub use client::{ACCESS_TOKEN_PATH, AUTHORISE_PATH, Bynder, BynderBuilder, REQUEST_TOKEN_PATH};
pub use config::{BynderConfig, ConsumerKey};
pub use error::Error;
pub use provider::BynderProvider;
pub use token::{ACCESS_TOKEN_LIFETIME, AccessToken, REQUEST_TOKEN_LIFETIME, RequestToken};
