//! [`Error`]: what a BeProduct call can fail with.

use std::time::SystemTime;

use auth_core::OAuthErrorCode;
use auth_oauth2::IdTokenError;

/// A BeProduct failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The organization's daily request limit is used up; refused on the client,
    /// before the server was asked.
    #[error("the daily BeProduct API limit of {limit} requests is used up")]
    QuotaExceeded {
        /// The limit.
        limit: u32,
        /// When the next day begins.
        resets_at: SystemTime,
    },
    /// A request asked for more records than the documented limit (200 per read,
    /// 100 per write); the paging and chunking helpers never do.
    #[error("at most {max} records per {operation}, {requested} asked")]
    RecordLimit {
        /// `read` or `write`.
        operation: &'static str,
        /// The limit.
        max: usize,
        /// What was asked.
        requested: usize,
    },
    /// A write in several requests failed part-way: `written` records were stored
    /// before `source` stopped it.
    #[error("{written} of {total} records written before: {source}")]
    Incomplete {
        /// Records stored.
        written: usize,
        /// Records asked.
        total: usize,
        /// What stopped the write.
        source: Box<Error>,
    },
    /// The redirect's `state` is not the one sent.
    #[error("the sign-in redirect does not match the request (state)")]
    StateMismatch,
    /// The ID token was refused (signature, issuer, audience, expiry, nonce, at_hash).
    #[error("ID token refused: {0}")]
    IdToken(IdTokenError),
    /// The client ID or secret was refused (`invalid_client`).
    #[error("BeProduct refused the client credentials (invalid_client)")]
    InvalidClient,
    /// The user's session ended (no refresh token, or a refused one): sign in again.
    #[error("the BeProduct session ended; the user must sign in again")]
    SignInRequired,
    /// The REST API refused a call (its status and message, never a token).
    #[error("the BeProduct API answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's `message`, or an excerpt of the body.
        message: String,
    },
    /// A configuration value was refused.
    #[error("invalid BeProduct configuration: {0}")]
    Config(String),
    /// Another OAuth 2.0 or OpenID Connect failure.
    #[error(transparent)]
    OAuth2(auth_oauth2::Error),
}

impl From<auth_oauth2::Error> for Error {
    fn from(e: auth_oauth2::Error) -> Self {
        if e.is_sign_in_required() {
            return Error::SignInRequired;
        }
        if let auth_oauth2::Error::Core(core) = &e
            && let Some(ours) = core.scheme_error::<Error>()
        {
            return ours.clone();
        }
        match e {
            auth_oauth2::Error::StateMismatch => Error::StateMismatch,
            auth_oauth2::Error::IdToken(inner) => Error::IdToken(inner),
            e if e.oauth_code() == Some(&OAuthErrorCode::InvalidClient) => Error::InvalidClient,
            e => Error::OAuth2(e),
        }
    }
}

impl From<auth_core::Error> for Error {
    fn from(e: auth_core::Error) -> Self {
        Error::from(auth_oauth2::Error::Core(e))
    }
}

impl From<Error> for auth_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::OAuth2(inner) => inner.into(),
            other => auth_core::Error::scheme(other),
        }
    }
}
