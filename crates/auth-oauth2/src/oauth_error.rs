//! [`OAuthError`]: an RFC 6749 §5.2 error response, its [`OAuthErrorCode`], and what
//! each code means to the core ([`auth_core::Refusal`]).

use std::fmt;

use auth_core::Refusal;
use auth_core::internal::printable;
use http::StatusCode;
use serde::Deserialize;

/// The `error` code of an OAuth error response (RFC 6749 §5.2, RFC 6750 §3.1, RFC 7009).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`: the client's credentials are wrong.
    InvalidClient,
    /// `invalid_grant`: the code, password or refresh token is wrong or expired.
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `invalid_token`
    InvalidToken,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// Any other code, as sent.
    Other(String),
}

impl OAuthErrorCode {
    /// Parses a code as sent on the wire.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "invalid_token" => Self::InvalidToken,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The code as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::InvalidToken => "invalid_token",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An OAuth error response: `error`, `error_description`, `error_uri`, and the HTTP
/// status it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The `error` code.
    pub code: OAuthErrorCode,
    /// `error_description`, if sent.
    pub description: Option<String>,
    /// `error_uri`, if sent.
    pub uri: Option<String>,
    /// The HTTP status of the response (`None` when it came in a redirect).
    pub status: Option<StatusCode>,
}

/// Longest `error_description` kept, in characters.
const MAX_DESCRIPTION: usize = 200;

impl OAuthError {
    /// Parses a JSON OAuth error body. `None` if the body is not a JSON object with a
    /// string `error` member.
    pub fn from_json(status: Option<StatusCode>, body: &[u8]) -> Option<Self> {
        #[derive(Deserialize)]
        struct Wire {
            error: String,
            #[serde(default)]
            error_description: Option<String>,
            #[serde(default)]
            error_uri: Option<String>,
        }
        let wire: Wire = serde_json::from_slice(body).ok()?;
        Some(Self::from_parts(
            status,
            &wire.error,
            wire.error_description.as_deref(),
            wire.error_uri.as_deref(),
        ))
    }

    /// Builds an error from its parts (as found in a JSON body, a redirect's query or
    /// fragment, or a `WWW-Authenticate` header). Text is trimmed of control
    /// characters and the description cut to a sane length.
    pub fn from_parts(
        status: Option<StatusCode>,
        error: &str,
        description: Option<&str>,
        uri: Option<&str>,
    ) -> Self {
        Self {
            code: OAuthErrorCode::parse(&printable(error, 64)),
            description: description.map(|d| printable(d, MAX_DESCRIPTION)),
            uri: uri.map(|u| printable(u, MAX_DESCRIPTION)),
            status,
        }
    }
}

impl fmt::Display for OAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OAuth error `{}`", self.code)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {})", status.as_u16())?;
        }
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        if let Some(u) = &self.uri {
            write!(f, " (see {u})")?;
        }
        Ok(())
    }
}

impl OAuthErrorCode {
    /// What the code means for the credentials: `invalid_client` the client's,
    /// `invalid_grant` the grant's (a user signs in again), `invalid_token` the access
    /// token's, `server_error` and `temporarily_unavailable` a server to ask later.
    pub fn refusal(&self) -> Refusal {
        match self {
            Self::InvalidClient | Self::UnauthorizedClient => Refusal::ClientRejected,
            Self::InvalidGrant => Refusal::GrantRejected,
            Self::InvalidToken => Refusal::TokenRejected,
            Self::InvalidRequest | Self::UnsupportedGrantType | Self::InvalidScope => {
                Refusal::RequestRejected
            }
            Self::AccessDenied => Refusal::AccessDenied,
            Self::ServerError | Self::TemporarilyUnavailable => Refusal::Unavailable,
            Self::Other(_) => Refusal::Other,
        }
    }
}

impl std::error::Error for OAuthError {}

/// An OAuth error response as the core sees it: a [`auth_core::Error::Refused`] whose
/// refusal its code decides, with the `OAuthError` inside
/// ([`auth_core::Error::source_as`]).
impl From<OAuthError> for auth_core::Error {
    fn from(e: OAuthError) -> Self {
        auth_core::Error::refused(e.code.refusal(), e)
    }
}

/// `response` if its status is 2xx; else the typed error for it, reading an OAuth
/// error body first ([`OAuthError`], as [`auth_core::Error::Refused`]), then as the
/// core reads any answer ([`auth_core::http::HttpResponse::to_error`]).
pub fn error_for_status(
    response: auth_core::http::HttpResponse,
) -> Result<auth_core::http::HttpResponse, auth_core::Error> {
    if response.is_success() {
        return Ok(response);
    }
    if !response.status.is_redirection()
        && let Some(oauth) = OAuthError::from_json(Some(response.status), &response.body)
    {
        return Err(oauth.into());
    }
    Err(response.to_error())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc6749_error_body() {
        let body = br#"{"error":"invalid_grant","error_description":"refresh token expired","error_uri":"https://example.com/e"}"#;
        let e = OAuthError::from_json(Some(StatusCode::BAD_REQUEST), body).unwrap();
        assert_eq!(e.code, OAuthErrorCode::InvalidGrant);
        assert_eq!(e.description.as_deref(), Some("refresh token expired"));
        assert_eq!(
            e.to_string(),
            "OAuth error `invalid_grant` (HTTP 400): refresh token expired (see https://example.com/e)"
        );
    }

    #[test]
    fn unknown_codes_and_non_errors() {
        let e = OAuthError::from_json(None, br#"{"error":"slow_down"}"#).unwrap();
        assert_eq!(e.code, OAuthErrorCode::Other("slow_down".into()));
        assert!(OAuthError::from_json(None, br#"{"access_token":"x"}"#).is_none());
        assert!(OAuthError::from_json(None, b"<html>").is_none());
        assert!(OAuthError::from_json(None, br#"{"error":42}"#).is_none());
    }

    #[test]
    fn long_descriptions_are_cut_and_cleaned() {
        let long = "a\n".repeat(500);
        let e = OAuthError::from_parts(None, "invalid_request", Some(&long), None);
        let d = e.description.unwrap();
        assert!(d.chars().count() <= MAX_DESCRIPTION + 1);
        assert!(!d.contains('\n'));
    }

    #[test]
    fn codes_sort_into_refusals_the_core_understands() {
        let grant: auth_core::Error =
            OAuthError::from_parts(None, "invalid_grant", None, None).into();
        assert_eq!(grant.refusal(), Some(Refusal::GrantRejected));
        assert!(!grant.is_transient());
        assert_eq!(
            grant.source_as::<OAuthError>().map(|e| &e.code),
            Some(&OAuthErrorCode::InvalidGrant)
        );
        let busy: auth_core::Error =
            OAuthError::from_parts(None, "temporarily_unavailable", None, None).into();
        assert!(busy.is_transient());
    }
}
