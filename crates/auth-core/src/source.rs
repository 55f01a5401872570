//! [`TokenSource`]: where fresh tokens come from.

use std::fmt;

use async_trait::async_trait;

use crate::{Error, Token};

/// Fetches a fresh token: a grant against a token endpoint, a vendor's token call.
///
/// A source does no caching of its own; wrap it in a
/// [`CachingProvider`](crate::CachingProvider) to get lock-free reads, single-flight
/// and proactive refresh, and a shared store.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug + 'static {
    /// Fetches a token. `previous` is the token being replaced, if any, so that a
    /// refresh grant can use (and rotate) its refresh token.
    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error>;

    /// The grant or call this source makes (`client_credentials`, `refresh_token`, a
    /// vendor's own), for the `token_fetch` tracing span. Never a secret.
    fn grant(&self) -> &'static str {
        "custom"
    }

    /// Whether a fetch invalidates the token it replaces for everyone who holds it: a
    /// grant with rotating refresh tokens (a server with reuse detection revokes the
    /// whole family when a rotated-away token comes back), or a vendor that keeps one
    /// active token per user. Such a source never fetches on its own while a shared
    /// store is unreachable: the cached token is served while it lasts, and then
    /// [`Error::StoreUnavailable`]. Sources without that hazard (client credentials,
    /// a per-organization exchange) fall back to fetching in the process.
    ///
    /// Default `false`.
    fn invalidates_previous(&self) -> bool {
        false
    }
}
