//! The crate's error.

/// What can go wrong building a [`RedisStore`](crate::RedisStore). Failures of Redis
/// itself are [`auth_core::Error::Store`], the error every store reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Redis URL is not one the client understands.
    #[error("invalid Redis URL: {0}")]
    Url(String),
}
