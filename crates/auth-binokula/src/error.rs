//! [`Error`]: what a Binokula call can fail with.

use auth_core::Refusal;
use auth_core::http::ApiFailure;
use http::StatusCode;

/// A Binokula failure.
///
/// The developer guide (`vendor-docs/000_027729303c54bc9d.txt`) shows only `Status:
/// 200 OK` answers (lines 48, 68, 99, 122, 147) and no error answer at all, so every
/// status below is an assumption, and so is the other shape a refusal may take: a
/// `200` whose body is a `message` (the shape of the guide's user-management answers,
/// lines 101-103) instead of a token. The crate accepts both:
///
/// | answer | variant |
/// | --- | --- |
/// | `401` or `403` (Azure Functions answers a wrong function key `401`; which status a wrong client secret or tenant gets is unknown) | [`CredentialsRejected`](Self::CredentialsRejected) |
/// | `404` | [`UnknownUser`](Self::UnknownUser) |
/// | `409` | [`UserExists`](Self::UserExists) |
/// | `200` to `GET /api/Token` with a `message` and no `access_token`, `existingusersonly=true` | [`UnknownUser`](Self::UnknownUser) (line 44: "a valid token is only generated for existing users") |
/// | `200` to `GET /api/Token` with a `message` and no `access_token`, otherwise | [`NoToken`](Self::NoToken) |
/// | any other status | the core's [`Status`](auth_core::Error::Status), with the message |
/// | a redirect or an HTML page | the core's (not the API's answer) |
///
/// A `200` with a `message` from a user-management endpoint is its documented answer:
/// the message is returned, whatever it says.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The tenant's credentials were refused (`401` or `403`, an assumption): the
    /// client secret, the tenant or the function key (`code`). The guide does not say
    /// which status means which, so the crate does not guess which one was wrong.
    #[error(
        "Binokula refused the tenant's credentials (client secret, tenant or function key), HTTP {status}: {message}"
    )]
    CredentialsRejected {
        /// The status (`401` or `403`).
        status: StatusCode,
        /// The server's message (unquoted), or a secret-free excerpt of its body.
        message: String,
    },
    /// The user does not exist: a `404` (an assumption), or a token answer without a
    /// token when `existingusersonly=true` was asked for.
    #[error("Binokula user not found: {message}")]
    UnknownUser {
        /// The server's message.
        message: String,
    },
    /// The user is already registered (`409`, an assumption).
    #[error("Binokula user already exists: {message}")]
    UserExists {
        /// The server's message.
        message: String,
    },
    /// `GET /api/Token` answered `200` with a `message` and no `access_token`, with
    /// users created on first use (`existingusersonly=false`): the server said why in
    /// `message`, and no token was issued.
    #[error("Binokula issued no token: {message}")]
    NoToken {
        /// The server's message (unquoted).
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
    /// The tenant's own credentials refused ([`Error::CredentialsRejected`]) are
    /// [`Refusal::ClientRejected`]; the rest of this crate's failures travel as
    /// [`auth_core::Error::Scheme`].
    fn from(e: Error) -> Self {
        match e {
            Error::Core(core) => core,
            e @ Error::CredentialsRejected { .. } => {
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

    /// Sorts an API answer that is not a 2xx: the statuses the crate assumes (see
    /// [`Error`]) are variants; a redirect or an HTML page, and any other status, are
    /// the core's.
    pub(crate) fn from_api(failure: ApiFailure) -> Self {
        let (status, message) = match failure {
            ApiFailure::Api { status, message } => (status, message),
            ApiFailure::Foreign(core) => return Error::Core(core),
            other => return Error::Core(auth_core::Error::scheme(other)),
        };
        let message = unquote(&message);
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                Error::CredentialsRejected { status, message }
            }
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
