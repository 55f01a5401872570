//! [`Transport`]: what sends an HTTP request, whichever client the application uses.
//!
//! The workspace's policy (URL rules, timeouts, the body cap, redirects refused, retry
//! classes, tracing) lives once in [`HttpClient`](super::HttpClient), above any
//! transport. A transport only moves bytes: it takes an `http::Request<Bytes>` and
//! gives back the response head with its body as a stream, and says whether a failure
//! happened before the request was written ([`TransportErrorKind::Connect`]), which
//! decides whether a single-use request may be sent again.
//!
//! The crate's default transport is one (see the crate documentation); `auth-tower`'s
//! `ServiceTransport` makes any `tower::Service` one (hyper-util's client, say).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

/// A boxed error from a transport or a body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A response body as a stream of frames.
pub type ResponseBody = http_body_util::combinators::UnsyncBoxBody<Bytes, BoxError>;

/// The future a [`Transport`] returns.
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<http::Response<ResponseBody>, TransportError>> + Send + 'a>>;

/// Sends one request, as it is: no retries, no redirects followed, no policy. See the
/// module documentation.
///
/// ```
/// use auth_core::http::{ResponseBody, Transport, TransportError, TransportFuture};
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
///
/// /// Answers every request with `204 No Content` (a transport for a test).
/// #[derive(Debug)]
/// struct NoContent;
///
/// impl Transport for NoContent {
///     fn send(&self, _request: http::Request<Bytes>) -> TransportFuture<'_> {
///         Box::pin(async {
///             let body: ResponseBody = Full::new(Bytes::new()).map_err(|e| match e {}).boxed_unsync();
///             Ok(http::Response::builder().status(204).body(body).map_err(TransportError::other)?)
///         })
///     }
/// }
/// ```
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` and returns the response head with its body unread.
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_>;
}

/// Why a transport could not deliver a request or its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection was made: the request was never written, so sending it again
    /// cannot repeat anything the server did.
    Connect,
    /// The transport's own timeout ran out.
    Timeout,
    /// The client followed a redirect it was given (a user's client configured to);
    /// credential requests never follow one.
    RedirectFollowed,
    /// Anything else: a reset connection, a protocol error. The request may have
    /// reached the server.
    Other,
}

/// A transport failure: its kind and its source, with any URL removed.
#[derive(Debug)]
pub struct TransportError {
    kind: TransportErrorKind,
    source: Option<BoxError>,
}

impl TransportError {
    /// A failure of `kind` caused by `source`.
    pub fn new(kind: TransportErrorKind, source: impl Into<BoxError>) -> Self {
        Self {
            kind,
            source: Some(source.into()),
        }
    }

    /// No connection was made (the request was never written).
    pub fn connect(source: impl Into<BoxError>) -> Self {
        Self::new(TransportErrorKind::Connect, source)
    }

    /// Any other failure.
    pub fn other(source: impl Into<BoxError>) -> Self {
        Self::new(TransportErrorKind::Other, source)
    }

    /// The client followed a redirect.
    pub fn redirect_followed() -> Self {
        Self {
            kind: TransportErrorKind::RedirectFollowed,
            source: None,
        }
    }

    /// The kind.
    pub fn kind(&self) -> TransportErrorKind {
        self.kind
    }

    /// The source, if any.
    pub fn into_source(self) -> Option<BoxError> {
        self.source
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.kind {
            TransportErrorKind::Connect => "could not connect",
            TransportErrorKind::Timeout => "the transport timed out",
            TransportErrorKind::RedirectFollowed => "the HTTP client followed a redirect",
            TransportErrorKind::Other => "transport error",
        })
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
