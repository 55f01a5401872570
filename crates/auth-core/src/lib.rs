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
//!   does not depend on an HTTP client: [`http::HttpClient`] applies the workspace's
//!   HTTP policy over any [`http::Transport`], and [`http::AuthorizedClient`] authorizes
//!   each attempt. The `reqwest` feature (on by default) adds the default transport,
//!   [`reqwest::ReqwestTransport`] (from the application's own `reqwest::Client` or
//!   with defaults), and [`reqwest::authorize_reqwest`].
//! - [`Token`], [`TokenSource`] and [`CachingProvider`]: lock-free reads,
//!   single-flight and proactive refresh ([`RefreshPolicy`]), a [`TokenStore`] that
//!   can be shared between processes.
//! - [`QuotaStore`]: request counters per time window, shared the same way.
//! - [`BoundedCache`]: one value per key (a provider per user or per account) under
//!   [`CacheLimits`], a capacity and an idle expiry; entries in use are never evicted.
//! - [`Clock`]: [`SystemClock`], and [`ManualClock`] for tests.
//! - [`http`](mod@http): the HTTP defaults every crate uses.
//! - [`Error`]: one error type; a server's refusal in its scheme's terms is
//!   [`Error::Refused`], sorted by [`Refusal`].
//!
//! Secrets are [`SecretString`]s from the moment they enter: redacted in `Debug`,
//! absent from `Display` and errors, zeroized on drop.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bounded;
mod cache;
mod clock;
mod compare;
mod error;
pub mod http;
pub mod internal;
mod provider;
mod quota;
#[cfg(feature = "reqwest")]
pub mod reqwest;
mod source;
mod store;
mod token;
mod trace;

/// Without the `reqwest` feature there is no default transport.
#[cfg(not(feature = "reqwest"))]
impl http::HttpClient {
    /// What a crate uses when the application gave it no client: with the `reqwest`
    /// feature the default transport; without it, as here, an [`Error::Config`] saying
    /// that a client over the application's own transport must be given.
    pub fn try_default() -> Result<Self, Error> {
        Err(Error::Config(
            "no HTTP transport: give an HttpClient over your own transport, or enable \
             the default one (the `reqwest` feature)"
                .into(),
        ))
    }
}

pub use bounded::{BoundedCache, CacheEntry, CacheLimits};
pub use cache::{CachedToken, CachingProvider, CachingProviderBuilder};
pub use clock::{Clock, ManualClock, SystemClock, unix_seconds};
pub use error::{Error, Refusal, SharedSource};
pub use provider::{AuthRequest, Authorize, CredentialProvider};
pub use quota::{InMemoryQuotaStore, QuotaStore};
pub use secrecy::{ExposeSecret, SecretString};
pub use source::TokenSource;
pub use store::{InMemoryTokenStore, Lease, StoreKey, TokenStore};
pub use token::{RefreshPolicy, Renewal, Token};
