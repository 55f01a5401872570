//! [`Error`]: what a Bindeo call can fail with.

use auth_core::OAuthErrorCode;

/// A Bindeo failure.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client id or secret was refused (`invalid_client`).
    #[error("Bindeo refused the client credentials (invalid_client)")]
    InvalidClient,
    /// The username or password was refused (`invalid_grant` on the password grant).
    #[error("Bindeo refused the username or password (invalid_grant)")]
    InvalidCredentials,
    /// The session's refresh token was refused: the application must sign the user in
    /// again.
    #[error("the Bindeo session ended; the user must sign in again")]
    SignInRequired,
    /// A configuration value was refused.
    #[error("invalid Bindeo configuration: {0}")]
    Config(String),
    /// Another OAuth 2.0 failure (transport, status, malformed answer).
    #[error(transparent)]
    OAuth2(auth_oauth2::Error),
}

impl Error {
    /// Sorts an OAuth 2.0 failure; `invalid_grant` means the password here (the
    /// session turns a refused refresh into [`Error::SignInRequired`] itself).
    pub(crate) fn from_grant(e: auth_oauth2::Error) -> Self {
        if e.is_sign_in_required() {
            return Error::SignInRequired;
        }
        match e.oauth_code() {
            Some(OAuthErrorCode::InvalidClient) => Error::InvalidClient,
            Some(OAuthErrorCode::InvalidGrant) => Error::InvalidCredentials,
            _ => Error::OAuth2(e),
        }
    }
}

impl From<auth_core::Error> for Error {
    fn from(e: auth_core::Error) -> Self {
        Error::from_grant(auth_oauth2::Error::Core(e))
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
