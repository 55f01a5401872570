//! [`ServiceTransport`]: any `tower::Service` over HTTP as an auth-core
//! [`Transport`], so that token, discovery and JWKS requests (and every vendor call)
//! go through the application's own stack, hyper-util's client for instance, with the
//! workspace's policy above it and no reqwest anywhere.

use std::fmt;
use std::future::poll_fn;

use auth_core::http::{
    ResponseBody, Transport, TransportError, TransportErrorKind, TransportFuture,
};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use tower_service::Service;

use crate::BoxError;

/// Sorts a service's error: whether the request was never written (a connect error,
/// which any request may be sent again after) or may have reached the server.
pub type Classifier = fn(&(dyn std::error::Error + 'static)) -> TransportErrorKind;

/// A `tower::Service<http::Request<Full<Bytes>>>` as a [`Transport`].
///
/// ```
/// use std::sync::Arc;
/// use auth_core::http::{HttpClient, HttpPolicy};
/// use auth_tower::ServiceTransport;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// // The application's hyper client, as the transport of every auth crate.
/// let hyper = Client::builder(TokioExecutor::new()).build_http();
/// let http = HttpClient::new(Arc::new(ServiceTransport::new(hyper)), HttpPolicy::default());
/// # let _ = http;
/// ```
pub struct ServiceTransport<S> {
    service: S,
    classify: Classifier,
}

impl<S> ServiceTransport<S> {
    /// Sends with `service`; its errors are sorted by [`connect_refused`].
    pub fn new(service: S) -> Self {
        Self {
            service,
            classify: connect_refused,
        }
    }

    /// Sorts the service's errors with `classify` instead (a stack whose connect errors
    /// have a type of their own).
    #[must_use]
    pub fn with_classifier(mut self, classify: Classifier) -> Self {
        self.classify = classify;
        self
    }
}

/// The default sorting: a connect error is one whose chain of sources holds an
/// `std::io::Error` of kind `ConnectionRefused` (nothing listened: the request was
/// never written); anything else may have reached the server.
pub fn connect_refused(error: &(dyn std::error::Error + 'static)) -> TransportErrorKind {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return TransportErrorKind::Connect;
        }
        next = e.source();
    }
    TransportErrorKind::Other
}

impl<S> fmt::Debug for ServiceTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceTransport")
            .field("service", &std::any::type_name::<S>())
            .finish()
    }
}

impl<S, B> Transport for ServiceTransport<S>
where
    S: Service<http::Request<Full<Bytes>>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let mut service = self.service.clone();
        let classify = self.classify;
        Box::pin(async move {
            let sort = |e: S::Error| {
                let boxed: BoxError = e.into();
                TransportError::new(classify(&*boxed), boxed)
            };
            poll_fn(|cx| service.poll_ready(cx)).await.map_err(sort)?;
            let response = service.call(request.map(Full::new)).await.map_err(sort)?;
            Ok(response.map(|body| -> ResponseBody { body.map_err(Into::into).boxed_unsync() }))
        })
    }
}
