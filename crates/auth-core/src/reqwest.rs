//! reqwest as a [`Transport`]: [`ReqwestTransport`], built from the application's own
//! `reqwest::Client` (its proxy, TLS roots and identity, connection pool, user agent
//! and default headers) or with defaults; and [`authorize_reqwest`] for a
//! `reqwest::Request` the application sends itself.
//!
//! The workspace's policy ([`HttpClient`]) sits above the
//! transport, so the reqwest version stays out of every other public signature.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use url::Url;

use crate::http::{
    BoxError, HttpClient, HttpPolicy, ResponseBody, Transport, TransportError, TransportErrorKind,
    TransportFuture,
};
use crate::{AuthRequest, CredentialProvider, Error};

/// Sends requests with a `reqwest::Client`.
///
/// Credential requests never follow redirects. [`with_policy`](Self::with_policy)
/// and [`from_builder`](Self::from_builder) build a client that does not follow any;
/// a client handed over as it is ([`new`](Self::new)) may have been built to follow
/// them, so every answer is checked: one that came from another URL than the one asked
/// (the client followed a redirect) is refused as [`Error::Redirect`] and never read.
/// Build your client with `redirect(reqwest::redirect::Policy::none())` so that nothing
/// is sent to the redirect's target at all.
///
/// ```
/// use std::sync::Arc;
/// use auth_core::http::{HttpClient, HttpPolicy};
/// use auth_core::reqwest::ReqwestTransport;
///
/// // The application's own client: its user agent, proxy, roots and pool.
/// let builder = reqwest::Client::builder().user_agent("my-app/1.0");
/// let transport = ReqwestTransport::from_builder(builder)?;
/// let http = HttpClient::new(Arc::new(transport), HttpPolicy::default());
/// # Ok::<(), auth_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// Sends with `client` as it is (see the type documentation about redirects).
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// Builds the client from the application's `builder`, with redirects turned off.
    pub fn from_builder(builder: reqwest::ClientBuilder) -> Result<Self, Error> {
        ensure_crypto_provider();
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self::new(client))
    }

    /// The default client: no redirects, the policy's connect timeout, and the user
    /// agent `auth-crates/<version>`.
    pub fn with_policy(policy: &HttpPolicy) -> Result<Self, Error> {
        Self::from_builder(
            reqwest::Client::builder()
                .connect_timeout(policy.connect_timeout)
                .user_agent(concat!("auth-crates/", env!("CARGO_PKG_VERSION"))),
        )
    }

    /// The underlying client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        Box::pin(async move {
            let request =
                reqwest::Request::try_from(request.map(reqwest::Body::from)).map_err(kind_of)?;
            let asked = request.url().clone();
            let response = self.client.execute(request).await.map_err(kind_of)?;
            if response.url() != &asked {
                // The client followed a redirect: refused, and the answer left unread.
                return Err(TransportError::redirect_followed());
            }
            let response: http::Response<reqwest::Body> = response.into();
            Ok(response.map(|body| -> ResponseBody {
                body.map_err(|e| -> BoxError { Box::new(e.without_url()) })
                    .boxed_unsync()
            }))
        })
    }
}

/// Makes sure rustls has a process-wide crypto provider before a client is built:
/// ring's, unless the application installed one first (then that one stays). The
/// workspace builds reqwest without a provider of its own (`rustls-no-provider`), so
/// that one crypto library (ring) serves TLS, signatures and tokens alike.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing the race to another thread's install is fine: a provider is in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

fn kind_of(e: reqwest::Error) -> TransportError {
    let kind = if e.is_connect() {
        TransportErrorKind::Connect
    } else if e.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Other
    };
    TransportError::new(kind, e.without_url())
}

impl HttpClient {
    /// The default transport ([`ReqwestTransport::with_policy`]: no redirects, the
    /// policy's connect timeout) under `policy`.
    pub fn with_policy(policy: HttpPolicy) -> Result<Self, Error> {
        let transport = ReqwestTransport::with_policy(&policy)?;
        Ok(Self::new(Arc::new(transport), policy))
    }

    /// The default transport under [`HttpPolicy::default`].
    pub fn with_defaults() -> Result<Self, Error> {
        Self::with_policy(HttpPolicy::default())
    }

    /// What a crate uses when the application gave it no client: the default
    /// transport ([`with_defaults`](Self::with_defaults)). Without this crate's
    /// `reqwest` feature there is none, and the same call is an [`Error::Config`] that
    /// says so.
    pub fn try_default() -> Result<Self, Error> {
        Self::with_defaults()
    }

    /// A client over the application's own reqwest `client` (see [`ReqwestTransport`]).
    pub fn from_reqwest(client: reqwest::Client, policy: HttpPolicy) -> Self {
        Self::new(Arc::new(ReqwestTransport::new(client)), policy)
    }
}

/// Authorizes a `reqwest::Request` with any provider: the request is seen by the
/// provider as an [`AuthRequest`] (method, URL, headers and, when the body is in
/// memory, the body), and what the provider adds (headers, query parameters) is
/// copied back. Returns the request as the provider saw it, for
/// [`CredentialProvider::invalidate`] after a 401.
pub async fn authorize_reqwest<P: CredentialProvider + ?Sized>(
    provider: &P,
    request: &mut reqwest::Request,
) -> Result<AuthRequest, Error> {
    let body = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .map(Bytes::copy_from_slice)
        .unwrap_or_default();
    let mut seen = http::Request::builder()
        .method(request.method().clone())
        .uri(request.url().as_str())
        .body(body)
        .map_err(|e| Error::Request(format!("cannot represent the request: {e}")))?;
    *seen.headers_mut() = request.headers().clone();
    provider.authorize(&mut seen).await?;
    let uri = seen.uri().to_string();
    if uri != request.url().as_str() {
        *request.url_mut() = Url::parse(&uri)
            .map_err(|e| Error::Request(format!("the provider produced an invalid URL: {e}")))?;
    }
    *request.headers_mut() = seen.headers().clone();
    Ok(seen)
}
