//! BeProduct: OpenID Connect sign-in on its IdentityServer (`id.winks.io/ids`), REST
//! calls with the user's token (`developers.beproduct.com/api/v1`) to paths the caller
//! names, and the organization's daily request quota counted on the client. The
//! document (`vendor-docs/002_575778697db5374a.txt`) is cited by line; where it is
//! silent, the crate's README ("Where the document is silent") says what was chosen.
//!
//! ```
//! use auth_beproduct::{BeProduct, BeProductConfig, ClientId, OrganizationId, Plan};
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
//!     OrganizationId::new("acme")?, // the quota's organization: our label, never sent
//!     ClientId::new("client1")?,
//!     SecretString::from("secret1"),
//!     "https://myapp.example/callback",
//!     Plan::business(4),
//! )?
//! // Without these, BeProduct's own: https://id.winks.io/ids/connect/... and
//! // https://developers.beproduct.com/api/v1/.
//! .with_identity_url(server.identity_url())?
//! .with_api_url(server.api_url().as_str())?
//! .with_offline_access(); // a refresh token, so the session outlives its first hour
//! let beproduct = BeProduct::new(config)?;
//!
//! let pending = beproduct.authorization_request().await?; // nothing sent yet
//! let redirect = consent(pending.url.as_str()).await?; // the user's browser
//! let session = beproduct.sign_in(&pending, &redirect).await?;
//!
//! assert_eq!(session.userinfo().await?.email.as_deref(), Some("john.smith@beproduct.com"));
//! // The document names no REST method: the path is the caller's.
//! let answer = session.post("Style").json(&[serde_json::json!({"name": "S45994"})])?.send().await?;
//! assert_eq!(answer.entities().len(), 1);
//! assert_eq!(beproduct.requests_left().await, 1_999);
//! # Ok(()) }
//! ```
//!
//! - [`BeProductConfig`]: the [`OrganizationId`] (whose quota is counted), the
//!   [`ClientId`] and secret, redirect URI, scopes (the document's `openid email
//!   roles beproductDeveloper`, plus `offline_access` with
//!   [`with_offline_access`](BeProductConfig::with_offline_access)), the identity
//!   server's endpoints (the document's fixed URLs by default, each settable by hand,
//!   or [discovery](BeProductConfig::with_discovery)), the JWKS and issuer, the
//!   token endpoint's client authentication, the REST base, the [`Plan`], the
//!   [`QuotaReading`] and limits, the day boundary, the shared quota store and the
//!   opt-in `access_token` query parameter.
//! - [`BeProduct::new`] (system clock, reqwest) or [`BeProduct::builder`]: the
//!   [`HttpClient`](auth_core::http::HttpClient) (any transport), the clock, the
//!   [`TokenStore`](auth_core::TokenStore) of the sessions' tokens and their
//!   [`RefreshPolicy`](auth_core::RefreshPolicy).
//! - [`BeProduct::authorization_request`] / [`BeProduct::sign_in`]: code with PKCE,
//!   `state` and `nonce`, the recommended path. [`BeProduct::implicit_request`] /
//!   [`BeProduct::sign_in_implicit`]: the `id_token token` response type of the
//!   document's example (l. 56), with `at_hash` checked.
//! - [`Session`]: the validated ID token, [`Session::userinfo`] as a [`UserProfile`],
//!   [`Session::end_session_url`], and the `CredentialProvider` for REST calls: it
//!   counts every attempt it authorizes against the daily quota, retries included,
//!   and refuses past it ([`Error::QuotaExceeded`]) without asking the server. The
//!   quota is per organization: a fleet of processes, under any client ID, shares
//!   one count through [`BeProductConfig::with_quota_store`].
//! - [`ApiCall`] ([`Session::call`], [`get`](Session::get), [`post`](Session::post),
//!   ...): a JSON call to a path the caller names, with the document's additional
//!   echoed parameter ([`ApiCall::echo`]); its [`Answer`] takes `kind`/`data` or a
//!   bare entity; [`ApiCall::pages`] and [`ApiCall::chunks`] page and chunk with the
//!   parameter names and sizes of [`Paging`] and [`Chunking`] (defaults: our guessed
//!   names, the document's advised 200 and 100).
//!
//! The daily limit: the document's rule ("whichever is lower") and its example (10
//! licenses, 2,500 a day) disagree; the client refuses at the looser reading and
//! warns past the stricter (see [`Plan::limit`]).
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
mod rest;

pub use client::{BeProduct, BeProductBuilder};
pub use config::{
    BeProductConfig, ClientId, DEFAULT_API_URL, DEFAULT_END_SESSION_URL, DEFAULT_IDENTITY_URL,
    DEFAULT_SCOPES, DOCUMENTED_AUTHORIZE_URL, DOCUMENTED_END_SESSION_URL, DOCUMENTED_TOKEN_URL,
    DOCUMENTED_USERINFO_URL, OFFLINE_ACCESS, OrganizationId,
};
pub use error::Error;
pub use profile::UserProfile;
pub use provider::Session;
pub use quota::{Edition, Plan, QuotaReading};
pub use rest::{ADVISED_READ, ADVISED_WRITE, Answer, ApiCall, ChunkBody, Chunking, Paging};
