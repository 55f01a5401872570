//! [`Error`]: what OAuth 1.0a signing, verification and the flow can fail with.

/// An OAuth 1.0a failure. Verification failures are deliberately coarse: they never
/// say which part of a signature differed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request URI cannot be signed (no scheme or host, not http or https).
    #[error("cannot sign this URI: {0}")]
    InvalidUri(&'static str),
    /// The `Authorization` header is not an OAuth header this crate can read.
    #[error("malformed OAuth Authorization header: {0}")]
    MalformedHeader(&'static str),
    /// A required protocol parameter is missing.
    #[error("missing OAuth parameter {0}")]
    MissingParameter(&'static str),
    /// A protocol parameter appears twice.
    #[error("OAuth parameter {0} appears more than once")]
    DuplicateParameter(String),
    /// The signature method is not one this crate knows, or not the one expected.
    #[error("unsupported or unexpected signature method {0:?}")]
    UnsupportedSignatureMethod(String),
    /// `oauth_version` is present and not `1.0`.
    #[error("unsupported oauth_version (only 1.0)")]
    UnsupportedVersion,
    /// The signature does not match.
    #[error("invalid signature")]
    InvalidSignature,
    /// The timestamp is outside the accepted window.
    #[error("timestamp outside the accepted window")]
    TimestampOutOfWindow,
    /// The nonce was seen before with the same timestamp and credentials.
    #[error("nonce already used")]
    NonceReplayed,
    /// The consumer or token is not known to the verifier.
    #[error("unknown consumer key or token")]
    UnknownCredentials,
    /// A key could not be used (for example an RSA key that is not PKCS#8).
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The temporary-credentials answer lacks `oauth_callback_confirmed=true`.
    #[error("the server did not confirm the callback (oauth_callback_confirmed)")]
    CallbackNotConfirmed,
    /// A form-encoded answer lacks a field.
    #[error("the answer lacks {0}")]
    MissingField(&'static str),
    /// The server answered with an HTML page where a form-encoded answer was expected.
    #[error("expected a form-encoded answer, got an HTML page (HTTP {status})")]
    HtmlResponse {
        /// The HTTP status.
        status: u16,
    },
    /// The server answered with an `oauth_problem` (the OAuth Problem Reporting
    /// extension).
    #[error("OAuth problem {problem}{}", advice.as_ref().map(|a| format!(": {a}")).unwrap_or_default())]
    Problem {
        /// `oauth_problem`, for example `token_expired`.
        problem: String,
        /// `oauth_problem_advice`, if sent.
        advice: Option<String>,
        /// The HTTP status.
        status: u16,
    },
    /// Transport, status and configuration failures shared with every crate.
    #[error(transparent)]
    Core(#[from] auth_core::Error),
}

impl From<Error> for auth_core::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Core(core) => core,
            other => auth_core::Error::scheme(other),
        }
    }
}
