//! [`CredentialProvider`]: the one trait every scheme implements, and [`Authorize`],
//! the future it returns.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::future::BoxFuture;

use crate::Error;

/// The request a provider authorizes: an [`http::Request`] with its body as bytes, so
/// that schemes which sign the body (OAuth 1.0a form parameters, `oauth_body_hash`)
/// can read it. Independent of any HTTP client (see the crate documentation for the
/// adapters).
pub type AuthRequest = http::Request<Bytes>;

/// Adds what a scheme needs (a header, a query parameter, a signature) to a request.
///
/// Application code holds an `Arc<dyn CredentialProvider>` and does not care whether
/// it is OAuth 1.0a, OAuth 2.0 or an API key:
///
/// ```
/// use std::sync::Arc;
/// use auth_core::{AuthRequest, Authorize, CredentialProvider};
/// use http::header::{HeaderValue, AUTHORIZATION};
///
/// #[derive(Debug)]
/// struct Fixed;
///
/// impl CredentialProvider for Fixed {
///     fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
///         request.headers_mut().insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
///         Authorize::ready(Ok(()))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), auth_core::Error> {
/// let provider: Arc<dyn CredentialProvider> = Arc::new(Fixed);
/// let mut request = AuthRequest::new(Default::default());
/// provider.authorize(&mut request).await?;
/// assert_eq!(request.headers()[AUTHORIZATION], "Bearer t");
/// # Ok(()) }
/// ```
///
/// The method returns [`Authorize`] rather than being an `async fn` so that the trait
/// stays usable as `dyn CredentialProvider` *and* the common case, a credential that
/// is at hand, costs no allocation: [`Authorize::ready`]. A provider that must wait
/// (fetch a token) returns [`Authorize::new`] with its future.
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// Adds credentials to `request`. May fetch or refresh a token first.
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a>;

    /// Reports that the server rejected the credentials on `request` (typically with
    /// a 401). A provider that caches drops what it put on that request, so that the
    /// next [`authorize`](Self::authorize) obtains a fresh credential.
    ///
    /// Returns whether sending the request again could succeed, that is whether the
    /// next credential will differ from the rejected one. Providers with nothing to drop
    /// (a fixed key, a signature over fixed credentials) keep the default, `false`, so
    /// that a client does not repeat a request that will be refused the same way.
    fn invalidate(&self, request: &AuthRequest) -> bool {
        let _ = request;
        false
    }

    /// Whether [`authorize`](Self::authorize) reads the body of a request with these
    /// parts (an OAuth 1.0a signature over a form body, or its body hash). Adapters over
    /// streamed bodies (a `tower` service, a middleware) buffer the body only when this
    /// says so, and otherwise authorize an [`AuthRequest`] with an empty body. The
    /// default is `false`: headers and the URI are all most schemes look at.
    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        let _ = parts;
        false
    }
}

/// The future of [`CredentialProvider::authorize`]: either already complete (no
/// allocation) or a boxed future.
#[must_use = "futures do nothing unless awaited"]
pub struct Authorize<'a>(State<'a>);

enum State<'a> {
    Ready(Option<Result<(), Error>>),
    Pending(BoxFuture<'a, Result<(), Error>>),
}

impl<'a> Authorize<'a> {
    /// A future that is already complete.
    pub fn ready(result: Result<(), Error>) -> Self {
        Self(State::Ready(Some(result)))
    }

    /// A future that has to wait (boxed).
    pub fn new(future: impl Future<Output = Result<(), Error>> + Send + 'a) -> Self {
        Self(State::Pending(Box::pin(future)))
    }
}

impl Future for Authorize<'_> {
    type Output = Result<(), Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            State::Ready(result) => Poll::Ready(result.take().unwrap_or_else(|| {
                Err(Error::Request(
                    "authorize future polled after completion".into(),
                ))
            })),
            State::Pending(future) => future.as_mut().poll(cx),
        }
    }
}

impl fmt::Debug for Authorize<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            State::Ready(_) => "Authorize::Ready",
            State::Pending(_) => "Authorize::Pending",
        })
    }
}

impl<P: CredentialProvider + ?Sized> CredentialProvider for Arc<P> {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        (**self).authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        (**self).invalidate(request)
    }

    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        (**self).reads_body(parts)
    }
}

impl<P: CredentialProvider + ?Sized> CredentialProvider for Box<P> {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        (**self).authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        (**self).invalidate(request)
    }

    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        (**self).reads_body(parts)
    }
}
