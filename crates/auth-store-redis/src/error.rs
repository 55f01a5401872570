//! The crate's error.

/// What can go wrong building a [`RedisStore`](crate::RedisStore). Failures of Redis
/// itself are [`auth_core::Error::Store`], the error every store reports. Messages
/// never hold the URL (it may carry a password).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Redis URL is not one the client understands.
    #[error("invalid Redis URL: {0}")]
    Url(String),
    /// The TLS settings cannot be used: a root certificate that is not PEM, or one
    /// given for a URL that is not `rediss://`.
    #[error("invalid Redis TLS settings: {0}")]
    Tls(String),
}
