//! [`Error`]: what a bookingtime call can fail with.

use auth_core::OAuthErrorCode;

use crate::OrganizationId;

/// A bookingtime failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client ID or secret was refused (`invalid_client`).
    #[error("bookingtime refused the client credentials (invalid_client)")]
    InvalidClient,
    /// The app may not access this organization: bookingtime must link them first.
    #[error("the app may not access organization {organization}")]
    OrganizationNotPermitted {
        /// The organization asked for.
        organization: OrganizationId,
    },
    /// The user's refresh token ended or was refused: the user must sign in again.
    #[error("the bookingtime user session ended; the user must sign in again")]
    SignInRequired,
    /// The App API refused a call (the status and the server's message, which never
    /// holds a token).
    #[error("the bookingtime API answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's `message`, or an excerpt of the body.
        message: String,
    },
    /// A configuration value was refused.
    #[error("invalid bookingtime configuration: {0}")]
    Config(String),
    /// Another OAuth 2.0 failure (transport, status, malformed answer).
    #[error(transparent)]
    OAuth2(auth_oauth2::Error),
}

impl Error {
    /// Sorts an OAuth 2.0 failure at the token endpoint.
    pub(crate) fn from_grant(e: auth_oauth2::Error) -> Self {
        if e.is_sign_in_required() {
            return Error::SignInRequired;
        }
        match e.oauth_code() {
            Some(OAuthErrorCode::InvalidClient) => Error::InvalidClient,
            _ => Error::OAuth2(e),
        }
    }
}

impl From<auth_core::Error> for Error {
    fn from(e: auth_core::Error) -> Self {
        match e.scheme_error::<Error>() {
            Some(ours) => ours.clone(),
            None => Error::from_grant(auth_oauth2::Error::Core(e)),
        }
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
