//! [`Error`], the one error type of `auth-core`, and [`Refusal`]: what a server's
//! refusal means for the credential machinery, whatever the scheme said.
//!
//! Errors are `Clone` because a single-flight refresh hands the same outcome to every
//! waiting caller; transport errors keep their source behind an `Arc`. No variant ever
//! holds a secret: bodies are reduced to short excerpts, URLs to scheme, host and path.

use std::error::Error as StdError;

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;

/// A source error shared between the callers that wait on one refresh.
pub type SharedSource = Arc<dyn StdError + Send + Sync + 'static>;

/// Everything that can go wrong while obtaining or applying a credential.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server refused the request in its protocol's own terms (an OAuth error
    /// response, a vendor's error code): what that means for the credentials is the
    /// [`Refusal`]; the scheme's error is kept whole as the source.
    #[error("{detail}")]
    Refused {
        /// What the refusal means.
        refusal: Refusal,
        /// The scheme's error, for `source_as`.
        #[source]
        detail: SharedSource,
    },

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
    #[error("redirect{} refused: credential requests do not follow redirects", status_suffix(*.status))]
    Redirect {
        /// The redirect status; `None` when the application's HTTP client followed the
        /// redirect itself (its answer is then refused unread).
        status: Option<StatusCode>,
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

    /// A refusal of kind `refusal`, described by the scheme's own error `detail`.
    pub fn refused(refusal: Refusal, detail: impl StdError + Send + Sync + 'static) -> Self {
        Error::Refused {
            refusal,
            detail: Arc::new(detail),
        }
    }

    /// What a refusal means, if this is one. [`SignInRequired`](Error::SignInRequired)
    /// is a refused grant too: vendor crates sort both with one match.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            Error::Refused { refusal, .. } => Some(*refusal),
            Error::SignInRequired { .. } => Some(Refusal::GrantRejected),
            _ => None,
        }
    }

    /// The scheme's error inside a [`Scheme`](Error::Scheme) or
    /// [`Refused`](Error::Refused) error, if it is of type `E`.
    pub fn source_as<E: StdError + 'static>(&self) -> Option<&E> {
        match self {
            Error::Scheme(inner) | Error::Refused { detail: inner, .. } => {
                inner.downcast_ref::<E>()
            }
            _ => None,
        }
    }

    /// Whether asking again later may succeed (connect errors, timeouts, 5xx, 429, an
    /// unavailable shared store, a server that said it is unavailable). Refusals of the
    /// credentials themselves are never transient.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Timeout { .. } | Error::StoreUnavailable { .. } => true,
            Error::Status { status, .. } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            Error::Refused { refusal, .. } => *refusal == Refusal::Unavailable,
            _ => false,
        }
    }
}

/// What a server's refusal means for the credentials, whatever the scheme called it:
/// a vendor crate sorts its documented failures by this, not by the scheme's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The client's own credentials (its identifier and secret, an API key) were
    /// refused: a configuration problem, not the user's.
    ClientRejected,
    /// The grant (a code, a password, a refresh token) was refused or has ended: a user
    /// must sign in again.
    GrantRejected,
    /// The access token was refused.
    TokenRejected,
    /// The request was refused as made (a parameter, a scope, a grant type).
    RequestRejected,
    /// The user or the server denied access.
    AccessDenied,
    /// The server is failing or busy: asking later may succeed.
    Unavailable,
    /// A refusal the scheme does not sort.
    Other,
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

/// `text` with control characters replaced and cut to `max` characters: what a
/// server said, made safe to put in an error message or a log line.
pub fn printable(text: &str, max: usize) -> String {
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
    fn transient_classification() {
        let s = |code| Error::Status {
            status: StatusCode::from_u16(code).unwrap(),
            excerpt: String::new(),
        };
        assert!(s(503).is_transient());
        assert!(s(429).is_transient());
        assert!(!s(400).is_transient());
        #[derive(Debug, thiserror::Error)]
        #[error("refused")]
        struct Said;
        let grant = Error::refused(Refusal::GrantRejected, Said);
        assert!(!grant.is_transient());
        assert_eq!(grant.refusal(), Some(Refusal::GrantRejected));
        assert!(grant.source_as::<Said>().is_some());
        assert!(Error::refused(Refusal::Unavailable, Said).is_transient());
        let again = Error::SignInRequired {
            reason: "the refresh token was refused".into(),
        };
        assert_eq!(again.refusal(), Some(Refusal::GrantRejected));
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
