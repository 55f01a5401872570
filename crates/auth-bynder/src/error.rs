//! [`Error`]: what a Bynder call or handshake can fail with.

use std::time::SystemTime;

use auth_core::Refusal;

/// A Bynder failure. The three that end a handshake or a token's life say what the
/// user must do next.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The temporary access token is past its 30 days: the user must authorise again
    /// (a new handshake). Raised before any request is sent.
    #[error(
        "the Bynder access token expired {} s after the Unix epoch; the user must authorise again",
        auth_core::unix_seconds(*expired_at)
    )]
    AccessTokenExpired {
        /// When it expired.
        expired_at: SystemTime,
    },
    /// The request token is past its 10 minutes: start the handshake again.
    #[error("the Bynder request token expired (it lives 10 minutes); start the handshake again")]
    RequestTokenExpired,
    /// The request token was already exchanged for an access token: Bynder spends it
    /// at once. Start the handshake again.
    #[error("the Bynder request token was already exchanged; start the handshake again")]
    RequestTokenUsed,
    /// The request token was exchanged before the user authorised it.
    #[error("the user has not authorised the Bynder request token yet")]
    NotAuthorised,
    /// Bynder refused the consumer or token credentials (wrong key or secret, unknown
    /// or revoked token). The `oauth_problem` is kept; no secret is.
    #[error("Bynder refused the credentials (oauth_problem={problem})")]
    CredentialsRejected {
        /// `oauth_problem`, for example `signature_invalid`.
        problem: String,
    },
    /// A configuration value was refused.
    #[error("invalid Bynder configuration: {0}")]
    Config(String),
    /// Another OAuth 1.0a failure (a malformed answer, an HTML page, another
    /// `oauth_problem`).
    #[error(transparent)]
    OAuth1(auth_oauth1::Error),
    /// Transport, status or parsing failures shared with every crate.
    #[error(transparent)]
    Core(auth_core::Error),
}

impl From<auth_core::Error> for Error {
    fn from(e: auth_core::Error) -> Self {
        match e.source_as::<Error>() {
            Some(inner) => inner.clone(),
            None => match e.source_as::<auth_oauth1::Error>() {
                Some(inner) => Error::from(inner.clone()),
                None => Error::Core(e),
            },
        }
    }
}

impl From<auth_oauth1::Error> for Error {
    /// Sorts the `oauth_problem`s Bynder's portal answers with into the variants a
    /// caller acts on.
    fn from(e: auth_oauth1::Error) -> Self {
        match e {
            auth_oauth1::Error::Problem { ref problem, .. } => match problem.as_str() {
                "token_expired" => Error::RequestTokenExpired,
                "token_used" => Error::RequestTokenUsed,
                "parameter_rejected" | "permission_unknown" | "permission_denied" => {
                    Error::NotAuthorised
                }
                "signature_invalid"
                | "consumer_key_unknown"
                | "consumer_key_rejected"
                | "consumer_key_refused"
                | "token_rejected"
                | "token_revoked" => Error::CredentialsRejected {
                    problem: problem.clone(),
                },
                _ => Error::OAuth1(e),
            },
            auth_oauth1::Error::Core(core) => Error::Core(core),
            other => Error::OAuth1(other),
        }
    }
}

impl From<Error> for auth_core::Error {
    /// The failures that end a credential carry the core's [`Refusal`], so that code
    /// holding any provider can tell them apart: a refused consumer (or signature) is
    /// [`Refusal::ClientRejected`], a refused or revoked token
    /// [`Refusal::TokenRejected`], and a token or request token that has ended (the
    /// user must authorise again) [`Refusal::GrantRejected`].
    fn from(e: Error) -> Self {
        let refusal = match &e {
            Error::Core(_) => None,
            Error::CredentialsRejected { problem } if problem.starts_with("token_") => {
                Some(Refusal::TokenRejected)
            }
            Error::CredentialsRejected { .. } => Some(Refusal::ClientRejected),
            Error::AccessTokenExpired { .. }
            | Error::RequestTokenExpired
            | Error::RequestTokenUsed => Some(Refusal::GrantRejected),
            _ => None,
        };
        match (e, refusal) {
            (Error::Core(core), _) => core,
            (e, Some(refusal)) => auth_core::Error::refused(refusal, e),
            (other, None) => auth_core::Error::scheme(other),
        }
    }
}
