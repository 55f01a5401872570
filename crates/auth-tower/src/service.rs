//! [`AuthLayer`] and [`AuthService`]: a [`CredentialProvider`] in a tower stack.

use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use auth_core::{AuthRequest, CredentialProvider};
use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Either, Full, LengthLimitError, Limited};
use tower_layer::Layer;
use tower_service::Service;

use crate::{BoxError, Error};

/// The body the inner service receives: the caller's own body, untouched and streamed
/// ([`Either::Left`]), or the bytes the layer buffered because the provider signs them,
/// or a replay after a 401 ([`Either::Right`]).
///
/// Why this type: it keeps the caller's body type (no boxing, no allocation per
/// request, no `Sync` or `'static` demand on bodies the layer never touches), it is
/// `Unpin` when the caller's body is, and it is a [`Body`] with `Data = Bytes` that
/// hyper's clients accept as it is: a `hyper_util::client::legacy::Client` built for
/// `AuthBody<B>` is an inner service without any adapter.
pub type AuthBody<B> = Either<B, Full<Bytes>>;

/// The cap on a body the provider reads, unless set with
/// [`AuthLayer::with_body_limit`]: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// A [`Layer`] that authorizes every request with a [`CredentialProvider`] and retries
/// once after a 401 when the provider can renew its credential. See the
/// [crate documentation](crate) for what it does with bodies and when it retries.
#[derive(Clone)]
pub struct AuthLayer {
    provider: Arc<dyn CredentialProvider>,
    body_limit: usize,
}

impl fmt::Debug for AuthLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Providers redact their secrets in `Debug`, by the trait's contract.
        f.debug_struct("AuthLayer")
            .field("provider", &self.provider)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl AuthLayer {
    /// A layer that authorizes with `provider`, buffering at most
    /// [`DEFAULT_BODY_LIMIT`] bytes of a body the provider reads.
    pub fn new(provider: Arc<dyn CredentialProvider>) -> Self {
        Self {
            provider,
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Sets the cap on a body the provider reads (an OAuth 1.0a form body, a body to
    /// hash). A larger body fails with [`Error::BodyTooLarge`] before anything is sent.
    /// Bodies the provider does not read are streamed and never capped here.
    #[must_use]
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// The cap on a body the provider reads, in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn CredentialProvider> {
        &self.provider
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService {
            inner,
            provider: Arc::clone(&self.provider),
            body_limit: self.body_limit,
        }
    }
}

/// The [`Service`] of an [`AuthLayer`]: authorizes each request, hands it to `S` with an
/// [`AuthBody`], and retries once after a 401 when that is safe and useful.
///
/// `S` must be `Clone` (as tower services that are called concurrently are): each call
/// takes the clone that `poll_ready` readied, as tower asks, and uses it again, after
/// another `poll_ready`, for the one retry.
#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    provider: Arc<dyn CredentialProvider>,
    body_limit: usize,
}

impl<S: fmt::Debug> fmt::Debug for AuthService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthService")
            .field("inner", &self.inner)
            .field("provider", &self.provider)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl<S> AuthService<S> {
    /// `inner` behind the layer `layer` (the same as `layer.layer(inner)`).
    pub fn new(inner: S, layer: &AuthLayer) -> Self {
        layer.layer(inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The inner service, the layer dropped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, ResBody> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<AuthBody<B>>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    ResBody: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = Error;
    type Future = ResponseFuture<Response<ResBody>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner
            .poll_ready(cx)
            .map_err(|e| Error::Service(e.into()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The readied service goes with this call; `self` keeps a fresh clone, which
        // the next `poll_ready` readies.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture(Box::pin(send(
            inner,
            Arc::clone(&self.provider),
            self.body_limit,
            request,
        )))
    }
}

/// The future of [`AuthService::call`].
#[must_use = "futures do nothing unless awaited"]
pub struct ResponseFuture<T>(Pin<Box<dyn Future<Output = Result<T, Error>> + Send>>);

impl<T> Future for ResponseFuture<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl<T> fmt::Debug for ResponseFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}

/// One call: authorize, send, and after a 401 invalidate and, when the provider says a
/// new credential will differ and the body can be sent again, authorize and send once
/// more.
async fn send<S, B, ResBody>(
    mut inner: S,
    provider: Arc<dyn CredentialProvider>,
    body_limit: usize,
    request: Request<B>,
) -> Result<Response<ResBody>, Error>
where
    S: Service<Request<AuthBody<B>>, Response = Response<ResBody>>,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    // `replay`: the whole body, when it can be sent a second time.
    let (first_body, replay) = if provider.reads_body(&parts) {
        let bytes = buffer(body, body_limit).await?;
        (Either::Right(Full::new(bytes.clone())), Some(bytes))
    } else if body.is_end_stream() {
        // Known to be empty: nothing to buffer, and a replay is an empty body.
        (Either::Left(body), Some(Bytes::new()))
    } else {
        // Streamed as it is; it cannot be sent twice.
        (Either::Left(body), None)
    };
    // Only a request that may be repeated keeps a copy of its head.
    let template = replay.as_ref().map(|_| parts.clone());
    let seen_body = replay.clone().unwrap_or_default();

    let (outgoing, seen) = authorize(&*provider, parts, seen_body).await?;
    let response = inner
        .call(Request::from_parts(outgoing, first_body))
        .await
        .map_err(|e| Error::Service(e.into()))?;
    if response.status() != StatusCode::UNAUTHORIZED {
        return Ok(response);
    }
    // The credentials were refused: the provider drops them whatever happens next.
    let renewed = provider.invalidate(&seen);
    let (Some(template), Some(bytes), true) = (template, replay, renewed) else {
        if renewed {
            tracing::debug!("401: the body was streamed, so the request is not sent again");
        }
        return Ok(response);
    };
    drop(response);
    tracing::debug!("401: sending once more with a fresh credential");
    let (outgoing, _) = authorize(&*provider, template, bytes.clone()).await?;
    poll_fn(|cx| inner.poll_ready(cx))
        .await
        .map_err(|e| Error::Service(e.into()))?;
    inner
        .call(Request::from_parts(
            outgoing,
            Either::Right(Full::new(bytes)),
        ))
        .await
        .map_err(|e| Error::Service(e.into()))
}

/// Reads `body` whole, refusing more than `limit` bytes.
async fn buffer<B>(body: B, limit: usize) -> Result<Bytes, Error>
where
    B: Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    if body.size_hint().lower() > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(Error::BodyTooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        // Trailers are dropped: the bodies schemes read (forms, hashed payloads) have
        // none, and a `Full` body cannot carry them.
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(Error::BodyTooLarge { limit }),
        Err(e) => Err(Error::Body(e)),
    }
}

/// Authorizes a request with the head `parts` and the body `body` (what the provider may
/// read), and returns the head to send (`parts` with the provider's headers and URI)
/// and the request the provider saw (for [`CredentialProvider::invalidate`]).
async fn authorize(
    provider: &dyn CredentialProvider,
    mut parts: Parts,
    body: Bytes,
) -> Result<(Parts, AuthRequest), Error> {
    let mut seen = AuthRequest::new(body);
    *seen.method_mut() = parts.method.clone();
    *seen.version_mut() = parts.version;
    *seen.uri_mut() = std::mem::take(&mut parts.uri);
    *seen.headers_mut() = std::mem::take(&mut parts.headers);
    // A provider may read extensions (a per-user hint); it cannot change what is sent.
    *seen.extensions_mut() = parts.extensions.clone();
    provider
        .authorize(&mut seen)
        .await
        .map_err(Error::Authorize)?;
    // What a provider changes: headers (a signature, a token, a key) and the URI (a
    // key or extra parameters in the query).
    parts.uri = seen.uri().clone();
    parts.headers = seen.headers().clone();
    Ok((parts, seen))
}
