//! [`Error`]: what a Binokula call can fail with.

use auth_core::Refusal;
use auth_core::http::ApiFailure;
use http::StatusCode;

/// A Binokula failure. Where the developer guide is silent about error answers, the
/// statuses follow the Azure Functions conventions its `code` function key comes
/// from: `401` for the function key, `403` for the tenant or client secret, `404` for
/// an unknown user, `409` for a user that already exists.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The function key (`code`) was refused (401).
    #[error("Binokula refused the function key (`code`)")]
    InvalidCode,
    /// The tenant or the client secret was refused (403).
    #[error("Binokula refused the tenant or the client secret: {message}")]
    InvalidTenantOrSecret {
        /// The server's message.
        message: String,
    },
    /// The user does not exist (with `existingusersonly=true`, or on delete or status
    /// change).
    #[error("Binokula user not found: {message}")]
    UnknownUser {
        /// The server's message.
        message: String,
    },
    /// The user is already registered.
    #[error("Binokula user already exists: {message}")]
    UserExists {
        /// The server's message.
        message: String,
    },
    /// The token answer's `expiry_date` is not an RFC 3339 date.
    #[error("the token answer's expiry_date is not an RFC 3339 date with an offset")]
    MalformedExpiry,
    /// The token answer is for another email address than the one asked for
    /// (compared as [`Email::key`](crate::Email::key) does: ASCII case-insensitively).
    /// The answer is discarded.
    #[error("Binokula answered for another email address than the one asked for ({requested})")]
    EmailMismatch {
        /// The address asked for.
        requested: String,
    },
    /// An email address was refused before sending.
    #[error("not an email address")]
    InvalidEmail,
    /// A configuration value was refused.
    #[error("invalid Binokula configuration: {0}")]
    Config(String),
    /// Transport, status or parsing failures shared with every crate.
    #[error(transparent)]
    Core(#[from] auth_core::Error),
}

impl From<Error> for auth_core::Error {
    /// The tenant's own credentials refused ([`Error::InvalidCode`],
    /// [`Error::InvalidTenantOrSecret`]) are [`Refusal::ClientRejected`]; the rest of
    /// this crate's failures travel as [`auth_core::Error::Scheme`].
    fn from(e: Error) -> Self {
        match e {
            Error::Core(core) => core,
            e @ (Error::InvalidCode | Error::InvalidTenantOrSecret { .. }) => {
                auth_core::Error::refused(Refusal::ClientRejected, e)
            }
            other => auth_core::Error::scheme(other),
        }
    }
}

impl Error {
    /// Recovers a Binokula error that went through the core's token machinery.
    pub(crate) fn from_core(e: auth_core::Error) -> Self {
        match e.source_as::<Error>() {
            Some(inner) => inner.clone(),
            None => Error::Core(e),
        }
    }

    /// Sorts an API answer: the statuses the crate documents (see [`Error`]) are
    /// variants; a redirect or an HTML page, and any other status, are the core's.
    pub(crate) fn from_api(failure: ApiFailure) -> Self {
        let (status, message) = match failure {
            ApiFailure::Api { status, message } => (status, message),
            ApiFailure::Foreign(core) => return Error::Core(core),
            other => return Error::Core(auth_core::Error::scheme(other)),
        };
        let message = unquote(&message);
        match status {
            StatusCode::UNAUTHORIZED => Error::InvalidCode,
            StatusCode::FORBIDDEN => Error::InvalidTenantOrSecret { message },
            StatusCode::NOT_FOUND => Error::UnknownUser { message },
            StatusCode::CONFLICT => Error::UserExists { message },
            status => Error::Core(auth_core::Error::Status {
                status,
                excerpt: message,
            }),
        }
    }
}

/// The guide's messages are a JSON string inside the JSON string
/// (`"\"Successfully registered …\""`): the inner string, else the text as it is.
pub(crate) fn unquote(text: &str) -> String {
    let text = text.trim();
    if text.len() >= 2
        && text.starts_with('"')
        && text.ends_with('"')
        && let Ok(inner) = serde_json::from_str::<String>(text)
    {
        return inner;
    }
    text.to_owned()
}
