//! The core of the auth crates: one trait, [`CredentialProvider`], that every scheme
//! implements, and the machinery that schemes with expiring tokens share.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use async_trait::async_trait;
//! use auth_core::{AuthRequest, CachingProvider, Clock, CredentialProvider, Error,
//!                 SystemClock, Token, TokenSource};
//!
//! /// Where tokens come from: in a real crate, a grant against a token endpoint.
//! #[derive(Debug)]
//! struct Issuer;
//!
//! #[async_trait]
//! impl TokenSource for Issuer {
//!     async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
//!         Ok(Token::bearer("t0k3n", SystemClock.now()).expires_in(Duration::from_secs(3600)))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! // Application code holds the trait object and does not care about the scheme.
//! let provider: Arc<dyn CredentialProvider> = Arc::new(CachingProvider::new(Issuer));
//! let mut request = AuthRequest::new(Default::default());
//! provider.authorize(&mut request).await?;
//! assert_eq!(request.headers()["authorization"], "Bearer t0k3n");
//! # Ok(()) }
//! ```
//!
//! - [`CredentialProvider`] works on [`http`] requests ([`AuthRequest`]), so the core
//!   does not depend on an HTTP client; the `reqwest` feature (on by default) adds
//!   [`reqwest::HttpClient`], [`reqwest::authorize_reqwest`] and
//!   [`reqwest::AuthorizedClient`].
//! - [`Token`], [`TokenSource`] and [`CachingProvider`]: lock-free reads,
//!   single-flight and proactive refresh ([`RefreshPolicy`]), a [`TokenStore`] that
//!   can be shared between processes.
//! - [`QuotaStore`]: request counters per time window, shared the same way.
//! - [`Clock`]: [`SystemClock`], and [`ManualClock`] for tests.
//! - [`http`](mod@http): the HTTP defaults every crate uses.
//! - [`Error`]: one error type, with OAuth error responses as [`Error::OAuth`].
//!
//! Secrets are [`SecretString`]s from the moment they enter: redacted in `Debug`,
//! absent from `Display` and errors, zeroized on drop.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cache;
mod clock;
mod compare;
mod error;
pub mod http;
mod provider;
mod quota;
#[cfg(feature = "reqwest")]
pub mod reqwest;
mod source;
mod store;
mod token;
pub mod trace;

pub use cache::{CachedToken, CachingProvider, CachingProviderBuilder};
pub use clock::{Clock, ManualClock, SystemClock, unix_seconds};
pub use compare::constant_time_eq;
pub use error::{Error, OAuthError, OAuthErrorCode, SharedSource};
pub use provider::{AuthRequest, Authorize, CredentialProvider};
pub use quota::{InMemoryQuotaStore, QuotaStore};
pub use secrecy::{ExposeSecret, SecretString};
pub use source::TokenSource;
pub use store::{InMemoryTokenStore, Lease, StoreKey, TokenStore};
pub use token::{RefreshPolicy, Renewal, Token};
