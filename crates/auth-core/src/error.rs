//! [`Error`], the one error type of `auth-core`, and [`OAuthError`], an RFC 6749 §5.2
//! error response.
//!
//! Errors are `Clone` because a single-flight refresh hands the same outcome to every
//! waiting caller; transport errors keep their source behind an `Arc`. No variant ever
//! holds a secret: bodies are reduced to short excerpts, URLs to scheme, host and path.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use serde::Deserialize;

/// A source error shared between the callers that wait on one refresh.
pub type SharedSource = Arc<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong while obtaining or applying a credential.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an OAuth error response (RFC 6749 §5.2).
    #[error("{0}")]
    OAuth(OAuthError),

    /// The server answered with a status the protocol does not expect.
    #[error("unexpected HTTP status {status}{}", excerpt_suffix(.excerpt))]
    Status {
        /// The status.
        status: StatusCode,
        /// The first characters of the body, control characters removed.
        excerpt: String,
    },

    /// The server's answer could not be understood (malformed JSON, an HTML page,
    /// missing fields).
    #[error("invalid response{}: {reason}", status_suffix(*.status))]
    InvalidResponse {
        /// The status of the response, if there was one.
        status: Option<StatusCode>,
        /// What was wrong.
        reason: String,
    },

    /// The response body was larger than the configured cap.
    #[error("response body exceeds the cap of {limit} bytes")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },

    /// The request took longer than its timeout.
    #[error("request timed out (limit {limit:?})")]
    Timeout {
        /// The timeout in force.
        limit: Duration,
    },

    /// The server answered with a redirect, which credential requests never follow.
    #[error("redirect ({status}) refused: credential requests do not follow redirects")]
    Redirect {
        /// The redirect status.
        status: StatusCode,
    },

    /// The connection could not be made.
    #[error("could not connect to {target}")]
    Connect {
        /// Scheme, host and port (never a path or query).
        target: String,
        /// The transport error.
        #[source]
        source: SharedSource,
    },

    /// Another transport failure (a reset connection, a truncated body).
    #[error("transport error: {source}")]
    Transport {
        /// The transport error, with any URL removed.
        #[source]
        source: SharedSource,
    },

    /// A URL is not allowed: plain `http://` to a host that is not loopback, or not a
    /// URL at all.
    #[error("refused URL {url}: {reason}")]
    InsecureUrl {
        /// The URL without its query and fragment.
        url: String,
        /// Why it was refused.
        reason: &'static str,
    },

    /// A configuration value is missing or invalid.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// The request could not be authorized as built (for example a header value that
    /// HTTP forbids).
    #[error("invalid request: {0}")]
    Request(String),

    /// The server rejected the credentials and no fresh credential could be obtained
    /// without the user: the application must sign the user in again.
    #[error("the user must sign in again: {reason}")]
    SignInRequired {
        /// Why, for example "the refresh token was refused (invalid_grant)".
        reason: String,
    },

    /// The token store failed.
    #[error("token store error: {0}")]
    Store(String),

    /// A write to the token store was refused because the writer's refresh lease had
    /// been superseded (it ran out and another holder took it): the other holder's
    /// token is the newer one.
    #[error("the refresh lease was superseded; the token was not stored")]
    LeaseLost,

    /// The shared token store is unreachable and the token has expired, and this
    /// grant cannot be refreshed without it: its refresh invalidates the token other
    /// processes hold (a rotating refresh token, a vendor that keeps one token per
    /// user). Retry once the store is back.
    #[error(
        "the shared token store is unavailable and the token cannot be renewed without it: {reason}"
    )]
    StoreUnavailable {
        /// What the store said (no secret).
        reason: String,
    },

    /// A scheme or vendor specific error, kept whole for `downcast_ref`.
    #[error("{0}")]
    Scheme(SharedSource),
}

impl Error {
    /// Wraps a scheme-specific error (from `auth-oauth1`, a vendor crate, ...).
    pub fn scheme(err: impl StdError + Send + Sync + 'static) -> Self {
        Error::Scheme(Arc::new(err))
    }

    /// The scheme-specific error inside, if it is of type `E`.
    pub fn scheme_error<E: StdError + 'static>(&self) -> Option<&E> {
        match self {
            Error::Scheme(inner) => inner.downcast_ref::<E>(),
            _ => None,
        }
    }

    /// The OAuth error code, if this is an OAuth error response.
    pub fn oauth_code(&self) -> Option<&OAuthErrorCode> {
        match self {
            Error::OAuth(e) => Some(&e.code),
            _ => None,
        }
    }

    /// Whether asking again later may succeed (connect errors, timeouts, 5xx, 429, an
    /// unavailable shared store).
    /// Errors about the credentials themselves (`invalid_grant`, `invalid_client`) are
    /// never transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Timeout { .. } | Error::StoreUnavailable { .. } => true,
            Error::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Error::OAuth(e) => matches!(
                e.code,
                OAuthErrorCode::ServerError | OAuthErrorCode::TemporarilyUnavailable
            ),
            _ => false,
        }
    }
}

fn excerpt_suffix(excerpt: &str) -> String {
    if excerpt.is_empty() {
        String::new()
    } else {
        format!(": {excerpt}")
    }
}

fn status_suffix(status: Option<StatusCode>) -> String {
    status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
}

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

/// `text` with control characters replaced and cut to `max` characters.
pub(crate) fn printable(text: &str, max: usize) -> String {
    let mut out: String = text
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > max {
        out.push('…');
    }
    out
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
    fn transient_classification() {
        let s = |code| Error::Status {
            status: StatusCode::from_u16(code).unwrap(),
            excerpt: String::new(),
        };
        assert!(s(503).is_transient());
        assert!(s(429).is_transient());
        assert!(!s(400).is_transient());
        let grant = Error::OAuth(OAuthError::from_parts(None, "invalid_grant", None, None));
        assert!(!grant.is_transient());
        assert_eq!(grant.oauth_code(), Some(&OAuthErrorCode::InvalidGrant));
    }

    #[test]
    fn scheme_errors_downcast() {
        #[derive(Debug, thiserror::Error)]
        #[error("bad signature")]
        struct Sig;
        let e = Error::scheme(Sig);
        assert!(e.scheme_error::<Sig>().is_some());
        assert_eq!(e.to_string(), "bad signature");
    }
}
