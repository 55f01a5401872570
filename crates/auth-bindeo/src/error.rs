//! [`Error`]: what a Bindeo call can fail with.

use auth_core::Refusal;

/// A Bindeo failure: the documented refusals as variants, everything else the core's
/// error with its classification ([`auth_core::Error::refusal`],
/// [`is_transient`](auth_core::Error::is_transient)).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client ID or secret was refused.
    #[error("Bindeo refused the client credentials")]
    InvalidClient,
    /// The username or password was refused (the password grant's refusal).
    #[error("Bindeo refused the username or password")]
    InvalidCredentials,
    /// The session's refresh token was refused: the application must sign the user in
    /// again.
    #[error("the Bindeo session ended; the user must sign in again")]
    SignInRequired,
    /// A configuration value was refused.
    #[error("invalid Bindeo configuration: {0}")]
    Config(String),
    /// Any other failure (transport, status, a malformed answer, another refusal).
    #[error(transparent)]
    Core(auth_core::Error),
}

/// Sorts a core error by its classification: a refused client is
/// [`Error::InvalidClient`], a refused grant or a refresh that needs the user
/// [`Error::SignInRequired`]; this crate's own errors come back as they were.
impl From<auth_core::Error> for Error {
    fn from(e: auth_core::Error) -> Self {
        if let Some(ours) = e.source_as::<Error>() {
            return ours.clone();
        }
        match e.refusal() {
            Some(Refusal::ClientRejected) => Error::InvalidClient,
            // A refused grant, or a session that needs the user (`SignInRequired`).
            Some(Refusal::GrantRejected) => Error::SignInRequired,
            _ => Error::Core(e),
        }
    }
}

impl From<auth_oauth2::Error> for Error {
    fn from(e: auth_oauth2::Error) -> Self {
        Error::from(auth_core::Error::from(e))
    }
}

/// Keeps the classification for generic code: a refused client or password is a
/// refusal of that kind (this error inside, for `source_as`), an ended session
/// `auth_core::Error::SignInRequired`.
impl From<Error> for auth_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(inner) => inner,
            Error::InvalidClient => auth_core::Error::refused(Refusal::ClientRejected, e),
            Error::InvalidCredentials => auth_core::Error::refused(Refusal::GrantRejected, e),
            Error::SignInRequired => auth_core::Error::SignInRequired {
                reason: e.to_string(),
            },
            Error::Config(_) => auth_core::Error::scheme(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_round_trip_through_the_core() {
        for ours in [Error::InvalidClient, Error::InvalidCredentials] {
            let core = auth_core::Error::from(ours.clone());
            assert!(core.refusal().is_some());
            assert_eq!(Error::from(core).to_string(), ours.to_string());
        }
        let core = auth_core::Error::from(Error::SignInRequired);
        assert!(matches!(core, auth_core::Error::SignInRequired { .. }));
        assert!(matches!(Error::from(core), Error::SignInRequired));
    }
}
