//! BeProduct: OpenID Connect sign-in on its IdentityServer (`id.winks.io/ids`), REST
//! calls with the user's token (`developers.beproduct.com/api/v1`), and the
//! documented limits enforced on the client: a daily request quota per organization
//! and at most 200 records per read, 100 per write.
//!
//! ```
//! use auth_beproduct::{BeProduct, BeProductConfig, ClientId, Plan};
//! use auth_core::SecretString;
//! use auth_testkit::beproduct::{Account, BeProductServer, Edition};
//! use auth_testkit::oauth2::consent;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // BeProduct's two servers, embedded on loopback.
//! let server = BeProductServer::start(Account::new("client1", "secret1", Edition::Business, 4))?;
//!
//! let config = BeProductConfig::new(
//!     ClientId::new("client1")?,
//!     SecretString::from("secret1"),
//!     "https://myapp.example/callback",
//!     Plan::business(4),
//! )?
//! // Without these, BeProduct's own: https://id.winks.io/ids and
//! // https://developers.beproduct.com/api/v1/.
//! .with_identity_url(server.identity_url())?
//! .with_api_url(server.api_url().as_str())?;
//! let beproduct = BeProduct::new(config)?;
//!
//! let pending = beproduct.authorization_request().await?; // reads the discovery document
//! let redirect = consent(pending.url.as_str()).await?; // the user's browser
//! let session = beproduct.sign_in(&pending, &redirect).await?;
//!
//! assert_eq!(session.userinfo().await?.email.as_deref(), Some("john.smith@beproduct.com"));
//! session.records("Style").write(&[serde_json::json!({"name": "S45994"})]).await?;
//! assert_eq!(beproduct.requests_left().await, 999);
//! # Ok(()) }
//! ```
//!
//! - [`BeProductConfig`]: the [`ClientId`] and secret, redirect URI, scopes
//!   (`openid email roles beproductDeveloper`), the identity server and REST base
//!   ([`with_identity_url`](BeProductConfig::with_identity_url),
//!   [`with_api_url`](BeProductConfig::with_api_url); the documented production URLs
//!   by default), the [`Plan`] (edition and licenses), the daily limit override, the
//!   day boundary (UTC by default), the shared quota store and the opt-in
//!   `access_token` query parameter.
//! - [`BeProduct::new`] (system clock, reqwest) or [`BeProduct::builder`]: the
//!   [`HttpClient`](auth_core::http::HttpClient) (any transport), the clock, the
//!   [`TokenStore`](auth_core::TokenStore) of the sessions' tokens and their
//!   [`RefreshPolicy`](auth_core::RefreshPolicy). Nothing is sent until the first
//!   sign-in step, which reads the identity server's discovery document once.
//! - [`BeProduct::authorization_request`] / [`BeProduct::sign_in`]: code with PKCE,
//!   `state` and `nonce`, the recommended path. [`BeProduct::implicit_request`] /
//!   [`BeProduct::sign_in_implicit`]: the `id_token token` response type of the
//!   documentation's example, with `at_hash` checked.
//! - [`Session`]: the validated ID token, [`Session::userinfo`] as a [`UserProfile`],
//!   [`Session::end_session_url`], and the `CredentialProvider` for REST calls: it
//!   counts every attempt it authorizes against the daily quota, retries included,
//!   and refuses past it ([`Error::QuotaExceeded`]) without asking the server;
//!   [`Session::send`] (and the [`Records`] helpers) authorize every attempt, so a
//!   retry past the limit is not sent. The quota is per organization: a fleet of
//!   processes shares one count through [`BeProductConfig::with_quota_store`] (a
//!   Redis store from `auth-store-redis`).
//! - [`Records`]: [`page`](Records::page), [`read_all`](Records::read_all) in pages
//!   of 200, [`write`](Records::write) in chunks of 100.
//!
//! The daily limit follows the documented rule, "whichever is lower", even where
//! the documentation's example does not (see [`Plan::daily_limit`]).
//!
//! Features: `reqwest` (default) makes reqwest the default transport; without it,
//! give [`BeProduct::builder`] an `http(HttpClient)` over your own transport.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod profile;
mod provider;
mod quota;
mod records;

pub use client::{BeProduct, BeProductBuilder};
pub use config::{
    BeProductConfig, ClientId, DEFAULT_API_URL, DEFAULT_IDENTITY_URL, DEFAULT_SCOPES,
};
pub use error::Error;
pub use profile::UserProfile;
pub use provider::Session;
pub use quota::{Edition, Plan};
pub use records::{MAX_READ, MAX_WRITE, Page, Records};
