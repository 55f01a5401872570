//! [`Error`]: what a call through an [`AuthService`](crate::AuthService) can fail with.

/// A boxed error, as tower services and `http-body` bodies report them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The error of an [`AuthService`](crate::AuthService).
///
/// No message holds a secret: the provider's errors are secret-free by the contract of
/// [`auth_core::Error`], and the inner service's and the body's errors are kept as
/// [`source`](std::error::Error::source)s only, never copied into this error's
/// message (the layer cannot know what they contain, for example a URL whose query
/// carries an API key).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The provider could not authorize the request (a token could not be fetched, a
    /// temporary token has expired, a header value HTTP forbids, ...).
    #[error("could not authorize the request: {0}")]
    Authorize(#[source] auth_core::Error),

    /// The inner service failed, in `poll_ready` or in `call` (for a hyper client: the
    /// connection could not be made, the connection broke, ...). The inner service's
    /// error is the source; downcast it for its type.
    #[error("the inner service failed")]
    Service(#[source] BoxError),

    /// The request body, which the provider had to read, failed while it was being
    /// buffered.
    #[error("could not read the request body")]
    Body(#[source] BoxError),

    /// The request body, which the provider had to read, is larger than the cap
    /// ([`AuthLayer::with_body_limit`](crate::AuthLayer::with_body_limit)); nothing was
    /// sent.
    #[error("the request body exceeds the cap of {limit} bytes for bodies the provider reads")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
}

impl Error {
    /// The provider's error, if this is one.
    pub fn auth_error(&self) -> Option<&auth_core::Error> {
        match self {
            Error::Authorize(e) => Some(e),
            _ => None,
        }
    }

    /// The inner service's error, if this is one and it is of type `E` (for example
    /// `hyper_util::client::legacy::Error`).
    pub fn service_error<E: std::error::Error + 'static>(&self) -> Option<&E> {
        match self {
            Error::Service(e) => e.downcast_ref::<E>(),
            _ => None,
        }
    }
}
