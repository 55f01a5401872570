//! [`Error`]: what the [`AuthMiddleware`](crate::AuthMiddleware) can fail with.

/// The error of an [`AuthMiddleware`](crate::AuthMiddleware), carried in
/// [`reqwest_middleware::Error::Middleware`] (see [`Error::downcast`]).
///
/// No message holds a secret: the provider's errors are secret-free by the contract of
/// [`auth_core::Error`], and this error adds only fixed text.
///
/// ```
/// use auth_reqwest_middleware::Error;
///
/// let error: reqwest_middleware::Error = Error::StreamedBody.into();
/// assert!(matches!(Error::downcast(&error), Some(Error::StreamedBody)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider could not authorize the request (a token could not be fetched, a
    /// temporary token has expired, a header value HTTP forbids, ...). Nothing was
    /// sent, or, for a retry after a `401`, nothing more.
    #[error("could not authorize the request: {0}")]
    Authorize(#[source] auth_core::Error),

    /// The provider signs the request body (an OAuth 1.0a form body, a body hash), but
    /// the body is a stream, which cannot be read without being consumed. Nothing was
    /// sent. Send the body from memory (bytes, a string, a serialized form).
    #[error(
        "the credential provider signs the request body, but the body is a stream; send it from memory"
    )]
    StreamedBody,
}

impl Error {
    /// The provider's error, if this is one.
    pub fn auth_error(&self) -> Option<&auth_core::Error> {
        match self {
            Error::Authorize(e) => Some(e),
            Error::StreamedBody => None,
        }
    }

    /// This crate's error inside `error`, if the middleware is what failed.
    pub fn downcast(error: &reqwest_middleware::Error) -> Option<&Error> {
        if let reqwest_middleware::Error::Middleware(e) = error {
            e.downcast_ref::<Error>()
        } else {
            None
        }
    }
}

impl From<Error> for reqwest_middleware::Error {
    fn from(error: Error) -> Self {
        reqwest_middleware::Error::middleware(error)
    }
}
