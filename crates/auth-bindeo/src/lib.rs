//! Bindeo: OAuth 2.0 at `POST https://api.bindeo.com/access_token` with JSON request
//! bodies, as its API reference documents it. Machine tokens (client_credentials) and
//! user sessions (password once, then refresh_token), Bearer tokens of 3600 s.
//!
//! ```
//! use auth_bindeo::{Bindeo, BindeoConfig};
//! use auth_core::{AuthRequest, CredentialProvider, SecretString};
//! use auth_testkit::bindeo::{BindeoServer, BindeoServerConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = BindeoServer::start(BindeoServerConfig::new("client", "secret").user("ada", "pw"))?;
//!
//! let config = BindeoConfig::new("client", SecretString::from("secret"))?
//!     .with_api_url(server.base_url().as_str())?; // default: https://api.bindeo.com/
//! let bindeo = Bindeo::new(config)?;
//!
//! // A user signs in once; the password is not kept.
//! let session = bindeo.user("ada", SecretString::from("pw")).await?;
//! let mut request = AuthRequest::new(Default::default());
//! session.authorize(&mut request).await?;
//! assert!(request.headers()["authorization"].to_str()?.starts_with("Bearer ey"));
//!
//! // Machine-to-machine calls.
//! let machine = bindeo.machine();
//! machine.authorize(&mut AuthRequest::new(Default::default())).await?;
//! # Ok(()) }
//! ```
//!
//! - [`BindeoConfig::new`]: client ID and secret;
//!   [`with_api_url`](BindeoConfig::with_api_url) for another API
//!   ([`DEFAULT_API_URL`] by default).
//! - [`Bindeo::new`]: the system clock and the default transport (reqwest, the
//!   `reqwest` feature, on by default); [`Bindeo::builder`] for another
//!   [`HttpClient`](auth_core::http::HttpClient), a clock, a shared
//!   [`TokenStore`](auth_core::TokenStore) and a
//!   [`RefreshPolicy`](auth_core::RefreshPolicy).
//! - [`Bindeo::machine`]: a [`MachineProvider`] for machine-to-machine calls.
//! - [`Bindeo::user`]: signs a user in and returns a [`UserSession`] that refreshes
//!   before the hour ends, keeps rotated refresh tokens, and answers
//!   [`Error::SignInRequired`] when the refresh token is refused.
//! - [`Error`]: `InvalidClient`, `InvalidCredentials`, `SignInRequired`, and the
//!   core's classified error for the rest.
//!
//! The reference's capture stops at the refresh grant's heading (line 199); the
//! refresh follows RFC 6749 §6 with the same JSON encoding and endpoint as the other
//! grants. Its errors page is missing: every plausible code of a wrong password
//! (`invalid_grant`, `invalid_credentials`) and of a refused refresh token
//! (`invalid_grant`, `invalid_request`, `invalid_token`) is sorted, see [`Error`] and
//! the README's "Where the document is silent".

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod provider;

pub use client::{Bindeo, BindeoBuilder};
pub use config::{BindeoConfig, DEFAULT_API_URL};
pub use error::Error;
pub use provider::{MachineProvider, UserSession};
