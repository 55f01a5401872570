//! [`Error`]: what a BeProduct call can fail with.

use std::time::SystemTime;

use auth_core::Refusal;
use auth_core::http::ApiFailure;
use auth_oauth2::IdTokenError;

/// A BeProduct failure: the documented ones and the sign-in's as variants, the rest
/// as the core's [`auth_core::Error`] (transport, timeouts, statuses, answers that did
/// not come from the API), classified by [`auth_core::Refusal`].
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The organization's daily request limit is used up; refused on the client,
    /// before the server was asked (at the looser reading of the document's limit
    /// by default, see [`Plan::limit`](crate::Plan::limit)), or after the server
    /// answered 429 today.
    #[error("the daily BeProduct API limit of {limit} requests is used up")]
    QuotaExceeded {
        /// The limit.
        limit: u32,
        /// When the next day begins.
        resets_at: SystemTime,
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
    /// The client ID or secret was refused ([`Refusal::ClientRejected`]).
    #[error("BeProduct refused the client credentials")]
    InvalidClient,
    /// The user's grant ended (a refused code or refresh token, or no refresh token):
    /// sign in again ([`Refusal::GrantRejected`]).
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
    /// An OpenID Connect failure of the identity server's (an unusable discovery
    /// document, a missing endpoint, an error in the redirect).
    #[error(transparent)]
    OAuth2(auth_oauth2::Error),
    /// Everything else, as the core classifies it (see [`auth_core::Error::refusal`]
    /// and [`auth_core::Error::is_transient`]).
    #[error(transparent)]
    Core(auth_core::Error),
}

impl From<auth_oauth2::Error> for Error {
    fn from(e: auth_oauth2::Error) -> Self {
        match e {
            auth_oauth2::Error::Core(core) => Error::from(core),
            auth_oauth2::Error::StateMismatch => Error::StateMismatch,
            auth_oauth2::Error::IdToken(inner) => Error::IdToken(inner),
            e => Error::OAuth2(e),
        }
    }
}

impl From<auth_core::Error> for Error {
    fn from(e: auth_core::Error) -> Self {
        if let Some(ours) = e.source_as::<Error>() {
            return ours.clone();
        }
        if let Some(inner) = e.source_as::<auth_oauth2::Error>() {
            return Error::from(inner.clone());
        }
        match (&e, e.refusal()) {
            (auth_core::Error::SignInRequired { .. }, _) => Error::SignInRequired,
            (_, Some(Refusal::ClientRejected)) => Error::InvalidClient,
            (_, Some(Refusal::GrantRejected)) => Error::SignInRequired,
            _ => Error::Core(e),
        }
    }
}

impl From<ApiFailure> for Error {
    fn from(failure: ApiFailure) -> Self {
        match failure {
            ApiFailure::Foreign(core) => Error::from(core),
            ApiFailure::Api { status, message } => Error::Api {
                status: status.as_u16(),
                message,
            },
            other => Error::Core(auth_core::Error::Request(other.to_string())),
        }
    }
}

impl From<Error> for auth_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(inner) => inner,
            Error::OAuth2(inner) => inner.into(),
            Error::SignInRequired => auth_core::Error::refused(Refusal::GrantRejected, e),
            Error::InvalidClient => auth_core::Error::refused(Refusal::ClientRejected, e),
            other => auth_core::Error::scheme(other),
        }
    }
}
