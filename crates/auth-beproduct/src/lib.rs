//! BeProduct: OpenID Connect sign-in on its IdentityServer (`id.winks.io/ids`), REST
//! calls with the user's token (`developers.beproduct.com/api/v1`), and the
//! documented limits enforced on the client: a daily request quota per organization
//! and at most 200 records per read, 100 per write.
//!
//! ```
//! use std::sync::Arc;
//! use auth_beproduct::{BeProduct, BeProductConfig, Plan};
//! use auth_core::{Clock, ManualClock, SecretString};
//! use auth_testkit::beproduct::{Account, BeProductServer, Edition};
//! use auth_testkit::oauth2::consent;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
//! let account = Account {
//!     client_id: "client1".into(),
//!     client_secret: "secret1".into(),
//!     edition: Edition::Business,
//!     licenses: 4,
//! };
//! let server = BeProductServer::start(Arc::clone(&clock), account)?;
//!
//! let config = BeProductConfig::new(
//!     "client1",
//!     SecretString::from("secret1"),
//!     "https://myapp.example/callback",
//!     Plan::business(4),
//! )?
//! .with_identity_base(server.identity_url())?
//! .with_api_base(server.api_url().as_str())?;
//! let beproduct = BeProduct::discover(config, clock).await?;
//!
//! let pending = beproduct.authorization_request();
//! let redirect = consent(pending.url.as_str()).await?; // the user's browser
//! let session = beproduct.sign_in(&pending, &redirect).await?;
//!
//! assert_eq!(session.userinfo().await?.email.as_deref(), Some("john.smith@beproduct.com"));
//! session.records("Style").write(&[serde_json::json!({"name": "S45994"})]).await?;
//! assert_eq!(beproduct.requests_left().await, 999);
//! # Ok(()) }
//! ```
//!
//! - [`BeProductConfig`]: client ID and secret, redirect URI, scopes (`openid email
//!   roles beproductDeveloper`), the identity and REST bases, the [`Plan`]
//!   (edition and licenses), the daily limit override, the day boundary (UTC by
//!   default), and the opt-in `access_token` query parameter.
//! - [`BeProduct::authorization_request`] / [`BeProduct::sign_in`]: code with PKCE,
//!   `state` and `nonce`, the recommended path. [`BeProduct::implicit_request`] /
//!   [`BeProduct::sign_in_implicit`]: the `id_token token` response type of the
//!   documentation's example, with `at_hash` checked.
//! - [`Session`]: the validated ID token, [`Session::userinfo`] as a [`UserProfile`],
//!   [`Session::end_session_url`], and a `CredentialProvider` for REST calls that
//!   counts each against the daily quota and refuses past it
//!   ([`Error::QuotaExceeded`]) without asking the server; [`Session::send`] (and
//!   the [`Records`] helpers) also count every retry that reached the server, a
//!   read retried after a 5xx or 429 counting each attempt. The quota is per
//!   organization: a fleet of processes shares one count through
//!   [`BeProductConfig::with_quota_store`] (a Redis store from `auth-store-redis`).
//! - [`Records`]: [`page`](Records::page), [`read_all`](Records::read_all) in pages
//!   of 200, [`write`](Records::write) in chunks of 100.
//!
//! The daily limit follows the documented rule, "whichever is lower", even where
//! the documentation's example does not (see [`Plan::daily_limit`]).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod error;
mod profile;
mod quota;
mod records;
mod session;

pub use config::{BeProductConfig, DEFAULT_API_BASE, DEFAULT_IDENTITY_BASE, DEFAULT_SCOPES};
pub use error::Error;
pub use profile::UserProfile;
pub use quota::{Edition, Plan};
pub use records::{MAX_READ, MAX_WRITE, Page, Records};
pub use session::{BeProduct, Session};
