//! [`Error`]: what a Bindeo call can fail with, and how the token endpoint's
//! refusals are sorted.
//!
//! The table of what each code means is on [`Error`].

use auth_core::Refusal;
use auth_oauth2::OAuthError;

/// A Bindeo failure: the documented refusals as variants, everything else the core's
/// error with its classification ([`auth_core::Error::refusal`],
/// [`is_transient`](auth_core::Error::is_transient)).
///
/// ## The token endpoint's refusals
///
/// The reference documents no error answer: its front matter includes an errors page
/// (`includes: - errors`, line 13) that the capture lacks, and the capture stops at
/// the refresh grant's heading (line 199). So the codes of every server that may
/// stand behind it are sorted, by the grant they answer:
///
/// | answer | password grant ([`Bindeo::user`](crate::Bindeo::user)) | refresh grant ([`UserSession`](crate::UserSession)) | why |
/// | --- | --- | --- | --- |
/// | `invalid_client`, `unauthorized_client` | [`Error::InvalidClient`] | [`Error::InvalidClient`] | RFC 6749 §5.2; the core's [`Refusal::ClientRejected`] |
/// | `invalid_grant` (400) | [`Error::InvalidCredentials`] | [`Error::SignInRequired`] | RFC 6749 §5.2, and later releases of the PHP League's oauth2-server |
/// | `invalid_credentials` (401) | [`Error::InvalidCredentials`] | the core's | the League's oauth2-server 5.x (`invalidCredentials`), whose access tokens look like the reference's (`jti` in the JWT header, a `scopes` claim); no user credentials are sent on a refresh |
/// | `invalid_request` (400 or 401) | the core's ([`Refusal::RequestRejected`]) | [`Error::SignInRequired`] | the League's 5.x answers a bad refresh token so (`invalidRefreshToken`, 401, "The refresh token is invalid."); on a password grant it means a malformed request (`invalidRequest`, "Check the `password` parameter"), not a wrong password |
/// | `invalid_token` | the core's | [`Error::SignInRequired`] | RFC 6750 §3.1's code for an expired or revoked token, which some servers send for a refresh token too |
/// | any other | the core's | the core's | |
///
/// The client credentials grant ([`Bindeo::machine`](crate::Bindeo::machine)) sends
/// no user credentials: `invalid_client` is [`Error::InvalidClient`], the rest the
/// core's.
///
/// A refusal of the refresh token ends the session either way: the password is not
/// kept, so only the user can start a new one.
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

/// The OAuth `error` code of a token endpoint's refusal, if the answer carried one.
fn oauth_code(e: &auth_core::Error) -> Option<&str> {
    e.source_as::<OAuthError>().map(|o| o.code.as_str())
}

/// Sorts the password grant's failure (see the table in this module's docs): a
/// refused username or password is [`Error::InvalidCredentials`], whether answered
/// `invalid_grant` (RFC 6749) or `invalid_credentials` (the League's 5.x).
pub(crate) fn password_refused(e: auth_oauth2::Error) -> Error {
    let core = auth_core::Error::from(e);
    match oauth_code(&core) {
        Some("invalid_grant" | "invalid_credentials") => Error::InvalidCredentials,
        _ if core.refusal() == Some(Refusal::GrantRejected) => Error::InvalidCredentials,
        _ => Error::from(core),
    }
}

/// Sorts the refresh grant's failure (see the table in this module's docs): a
/// refused refresh token is the core's `SignInRequired`, whether answered
/// `invalid_grant` (RFC 6749; auth-oauth2 sorts it so already), `invalid_request`
/// (the League's 5.x) or `invalid_token`. Everything else is left as it is.
pub(crate) fn refresh_refused(e: auth_core::Error) -> auth_core::Error {
    let reason = match oauth_code(&e) {
        Some("invalid_request") => "Bindeo refused the refresh token (invalid_request)",
        Some("invalid_token") => "Bindeo refused the refresh token (invalid_token)",
        _ => return e,
    };
    auth_core::Error::SignInRequired {
        reason: reason.into(),
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

    fn answer(code: &str, status: u16) -> auth_core::Error {
        let status = http::StatusCode::from_u16(status).ok();
        OAuthError::from_parts(status, code, Some("text"), None).into()
    }

    #[test]
    fn each_code_of_the_password_grant_is_sorted() {
        let sorted = |code, status| password_refused(answer(code, status).into()).to_string();
        let credentials = Error::InvalidCredentials.to_string();
        assert_eq!(sorted("invalid_grant", 400), credentials);
        assert_eq!(sorted("invalid_credentials", 401), credentials);
        assert_eq!(
            sorted("invalid_client", 401),
            Error::InvalidClient.to_string()
        );
        // A malformed request is not a wrong password.
        let malformed = password_refused(answer("invalid_request", 400).into());
        assert!(
            matches!(&malformed, Error::Core(e) if e.refusal() == Some(Refusal::RequestRejected))
        );
    }

    #[test]
    fn each_code_of_the_refresh_grant_is_sorted() {
        for code in ["invalid_request", "invalid_token"] {
            let sorted = Error::from(refresh_refused(answer(code, 401)));
            assert!(
                matches!(sorted, Error::SignInRequired),
                "{code}: {sorted:?}"
            );
        }
        let client = Error::from(refresh_refused(answer("invalid_client", 401)));
        assert!(matches!(client, Error::InvalidClient), "{client:?}");
        let busy = refresh_refused(answer("temporarily_unavailable", 503));
        assert!(busy.is_transient(), "{busy:?}");
    }
}
