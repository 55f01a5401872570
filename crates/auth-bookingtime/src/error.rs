//! [`Error`]: what a bookingtime call can fail with.

use auth_core::Refusal;
use auth_core::http::ApiFailure;
use http::StatusCode;

use crate::OrganizationId;

/// A bookingtime failure: the documented refusals as variants, everything else the
/// core's error with its classification ([`auth_core::Error::refusal`],
/// [`is_transient`](auth_core::Error::is_transient)).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client ID or secret was refused.
    #[error("bookingtime refused the client credentials")]
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
        status: StatusCode,
        /// The server's `message`, or a secret-free excerpt of the body.
        message: String,
    },
    /// A configuration value was refused.
    #[error("invalid bookingtime configuration: {0}")]
    Config(String),
    /// Any other failure (transport, status, a malformed answer, another refusal;
    /// an OAuth 2.0 error such as a mismatched `state` is inside, see
    /// [`auth_core::Error::source_as`]).
    #[error(transparent)]
    Core(auth_core::Error),
}

/// Sorts a core error by its classification: a refused client is
/// [`Error::InvalidClient`], a user session that needs the user again
/// [`Error::SignInRequired`]; this crate's own errors come back as they were.
impl From<auth_core::Error> for Error {
    fn from(e: auth_core::Error) -> Self {
        if let Some(ours) = e.source_as::<Error>() {
            return ours.clone();
        }
        if matches!(e, auth_core::Error::SignInRequired { .. }) {
            return Error::SignInRequired;
        }
        match e.refusal() {
            Some(Refusal::ClientRejected) => Error::InvalidClient,
            _ => Error::Core(e),
        }
    }
}

impl From<auth_oauth2::Error> for Error {
    fn from(e: auth_oauth2::Error) -> Self {
        Error::from(auth_core::Error::from(e))
    }
}

/// An App API answer that is not a 2xx: the API's own refusal is [`Error::Api`], a
/// redirect or an HTML page the core's error.
impl From<ApiFailure> for Error {
    fn from(failure: ApiFailure) -> Self {
        match failure {
            ApiFailure::Api { status, message } => Error::Api { status, message },
            ApiFailure::Foreign(e) => Error::from(e),
            other => Error::Core(auth_core::Error::scheme(other)),
        }
    }
}

/// Keeps the classification for generic code: a refused client or organization is a
/// refusal of that kind (this error inside, for `source_as`), an ended session
/// `auth_core::Error::SignInRequired`.
impl From<Error> for auth_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(inner) => inner,
            Error::InvalidClient => auth_core::Error::refused(Refusal::ClientRejected, e),
            Error::OrganizationNotPermitted { .. } => {
                auth_core::Error::refused(Refusal::AccessDenied, e)
            }
            Error::SignInRequired => auth_core::Error::SignInRequired {
                reason: e.to_string(),
            },
            Error::Api { .. } | Error::Config(_) => auth_core::Error::scheme(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn errors_round_trip_through_the_core() {
        let organization = OrganizationId::new("f6-org").unwrap();
        let refused = auth_core::Error::from(Error::OrganizationNotPermitted { organization });
        assert_eq!(refused.refusal(), Some(Refusal::AccessDenied));
        assert!(matches!(
            Error::from(refused),
            Error::OrganizationNotPermitted { .. }
        ));
        let client = auth_core::Error::from(Error::InvalidClient);
        assert_eq!(client.refusal(), Some(Refusal::ClientRejected));
        assert!(matches!(Error::from(client), Error::InvalidClient));
        let session = auth_core::Error::from(Error::SignInRequired);
        assert!(matches!(Error::from(session), Error::SignInRequired));
    }
}
