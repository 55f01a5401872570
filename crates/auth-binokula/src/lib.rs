//! Binokula: SSO tokens and the `ExternalAccess` URL, and user management, as the
//! developer guide documents them.
//!
//! ```
//! use std::sync::Arc;
//! use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, FunctionKey};
//! use auth_testkit::binokula::{BinokulaServer, BinokulaTenant};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An embedded Binokula server stands in for https://api.binokula.app and
//! // https://binokula.app.
//! let server = BinokulaServer::start(BinokulaTenant::new("acme", "s3cret", "fn-key"))?;
//! let base = server.base_url().as_str();
//!
//! let config = BinokulaConfig::new("acme", ClientSecret::new("s3cret"), FunctionKey::new("fn-key"))?
//!     .with_api_url(base)?
//!     .with_app_url(base)?;
//! let binokula = Binokula::new(config)?;
//!
//! let url = binokula.sso_url(&Email::parse("jo@example.com")?).await?;
//! assert!(url.expose().contains("/Account/ExternalAccess?email=jo%40example.com&access_token="));
//! assert_eq!(format!("{url:?}"), "SsoUrl([REDACTED])");
//! # Ok(()) }
//! ```
//!
//! - [`BinokulaConfig`]: the tenant, its [`ClientSecret`] and [`FunctionKey`] (the
//!   `code` parameter), and the base URLs ([`with_api_url`](BinokulaConfig::with_api_url),
//!   default [`DEFAULT_API_URL`]; [`with_app_url`](BinokulaConfig::with_app_url),
//!   default [`DEFAULT_APP_URL`]).
//! - [`Binokula`]: [`Binokula::new`] (system clock, reqwest) or [`Binokula::builder`]
//!   (`http`, `clock`, `store`, `policy`, and the users' cache:
//!   [`cache_capacity`](BinokulaBuilder::cache_capacity),
//!   [`cache_idle`](BinokulaBuilder::cache_idle)); `GET /api/Token`
//!   ([`issue_token`](Binokula::issue_token)), `PUT`/`DELETE /api/User` and
//!   `POST /api/UserStatus`. Every call carries the `client_secret` header and the
//!   `tenant` and `code` parameters.
//! - [`SsoUser`], from [`Binokula::user`]: one user's cached token (one issuance for
//!   any number of concurrent callers, renewed before its hour ends, never handed out
//!   once replaced), its SSO URL, and a [`CredentialProvider`](auth_core::CredentialProvider)
//!   that sets the `ExternalAccess` parameters. Give a fleet one
//!   [`store`](BinokulaBuilder::store): one active token per user across processes.
//!   The users' providers are kept in a bounded cache (by default 10,000 users, each
//!   dropped after an hour unused; never while an `SsoUser` is held); a user that
//!   left it gets its token back from the store, if there is one.
//! - [`Email`]: a user is keyed by the address as given, ASCII case-insensitively
//!   ([`Email::key`]); Unicode case folding would merge distinct mailboxes. The guide
//!   is silent on this; the crate's reasons are in its README.
//! - [`Error`]: typed failures (refused tenant credentials, unknown user, user
//!   exists, no token issued, malformed `expiry_date`, a token answer for another
//!   email address). The guide shows no error answer: the statuses are assumptions,
//!   and a `200` carrying a `message` instead of a token is understood too (see
//!   [`Error`]).
//!
//! The default `reqwest` feature gives [`Binokula::new`] its transport; without it,
//! give the builder an [`HttpClient`](auth_core::http::HttpClient) over any transport.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod provider;
mod sso;

pub use client::{Binokula, BinokulaBuilder};
pub use config::{
    BinokulaConfig, ClientSecret, DEFAULT_API_URL, DEFAULT_APP_URL, Email, FunctionKey,
};
pub use error::Error;
pub use provider::SsoUser;
pub use sso::{SsoToken, SsoUrl};
