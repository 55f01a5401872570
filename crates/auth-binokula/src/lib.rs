//! Binokula: SSO tokens and the `ExternalAccess` URL, and user management, as the
//! developer guide documents them.
//!
//! ```
//! use std::sync::Arc;
//! use auth_binokula::{BinokulaClient, BinokulaConfig, Email, SsoSessions};
//! use auth_core::{http::HttpPolicy, Clock, ManualClock, SecretString};
//! use auth_testkit::binokula::{BinokulaServer, BinokulaTenant};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An embedded Binokula server stands in for https://api.binokula.app.
//! let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
//! let server = BinokulaServer::start(Arc::clone(&clock), BinokulaTenant {
//!     tenant: "acme".into(), client_secret: "s3cret".into(), code: "fn-key".into(),
//! })?;
//! let base = server.server().base_url().as_str();
//!
//! let config = BinokulaConfig::new("acme", SecretString::from("s3cret"), SecretString::from("fn-key"))?
//!     .with_api_base(base)?
//!     .with_app_base(base)?;
//! let client = BinokulaClient::with(config, HttpPolicy::default(), clock)?;
//! let sessions = SsoSessions::new(client);
//!
//! let url = sessions.sso_url(&Email::parse("jo@example.com")?).await?;
//! assert!(url.expose().contains("/Account/ExternalAccess?email=jo%40example.com&access_token="));
//! assert_eq!(format!("{url:?}"), "SsoUrl([REDACTED])");
//! # Ok(()) }
//! ```
//!
//! - [`BinokulaClient`]: `GET /api/Token` ([`issue_token`](BinokulaClient::issue_token)),
//!   the SSO URL, `PUT`/`DELETE /api/User` and `POST /api/UserStatus`. Every call
//!   carries the `client_secret` header and the `tenant` and `code` parameters.
//! - [`SsoSessions`]: one cached token per user, one issuance for any number of
//!   concurrent callers, renewed before its hour ends, never handed out once replaced.
//! - [`Email`]: a user is keyed by the address as given, ASCII case-insensitively
//!   ([`Email::key`]); Unicode case folding would merge distinct mailboxes.
//! - [`Error`]: typed failures (wrong code, wrong tenant or secret, unknown user,
//!   malformed `expiry_date`, a token answer for another email address).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod sso;

pub use client::{BinokulaClient, SsoToken, SsoUrl};
pub use config::{BinokulaConfig, DEFAULT_API_BASE, DEFAULT_APP_BASE, Email};
pub use error::Error;
pub use sso::SsoSessions;
