//! Bindeo: OAuth 2.0 at `POST /access_token` with JSON request bodies, as its API
//! reference documents it. Machine tokens (client_credentials) and user sessions
//! (password once, then refresh_token), Bearer tokens of 3600 s.
//!
//! ```
//! use std::sync::Arc;
//! use auth_bindeo::{Bindeo, BindeoConfig};
//! use auth_core::{AuthRequest, Clock, CredentialProvider, ManualClock, SecretString};
//! use auth_testkit::bindeo::BindeoServer;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
//! let server = BindeoServer::start(Arc::clone(&clock), "client", "secret", &[("ada", "pw")])?;
//!
//! let config = BindeoConfig::new("client", SecretString::from("secret"))
//!     .with_base_url(server.base_url().as_str())?;
//! let bindeo = Bindeo::new(config, clock)?;
//!
//! // A user signs in once; the password is not kept.
//! let session = bindeo.sign_in("ada", SecretString::from("pw")).await?;
//! let mut request = AuthRequest::new(Default::default());
//! session.authorize(&mut request).await?;
//! assert!(request.headers()["authorization"].to_str()?.starts_with("Bearer ey"));
//! # Ok(()) }
//! ```
//!
//! - [`BindeoConfig`]: client id and secret, base URL (`https://api.bindeo.com/`).
//! - [`Bindeo::machine`]: a provider for machine-to-machine calls.
//! - [`Bindeo::sign_in`]: a [`UserSession`] that refreshes before the hour ends, keeps
//!   rotated refresh tokens, and answers [`Error::SignInRequired`] when the refresh is
//!   refused.
//! - [`Error`]: `InvalidClient`, `InvalidCredentials`, `SignInRequired`, ...
//!
//! The reference's capture stops at the refresh grant's heading; the refresh follows
//! RFC 6749 §6 with the same JSON encoding as the other grants.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod error;

pub use client::{Bindeo, BindeoConfig, DEFAULT_BASE_URL, MachineProvider, UserSession};
pub use error::Error;
