//! [`HttpClient`]: the workspace's HTTP policy over any [`Transport`], and
//! [`AuthorizedClient`]: a client that authorizes every attempt with a provider.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use http_body_util::BodyExt as _;
use tracing::Instrument as _;
use url::Url;

use super::{
    HttpPolicy, HttpResponse, Repeat, ResponseBody, Transport, TransportError, TransportErrorKind,
    ensure_secure_url, parse_retry_after,
};
use crate::{AuthRequest, CredentialProvider, Error};

/// Sends requests through a [`Transport`] under an [`HttpPolicy`]: HTTPS only (plain
/// HTTP to loopback when allowed), the whole exchange within the request timeout, the
/// response body read as a stream and capped, redirects never followed (a 3xx is
/// returned as it is; [`HttpResponse::error_for_status`] makes it
/// [`Error::Redirect`]), bounded retries by [`Repeat`] class, and an `http` tracing
/// span per attempt. Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use auth_core::http::{HttpClient, HttpPolicy, ResponseBody, Transport, TransportError, TransportFuture};
/// use bytes::Bytes;
/// use http_body_util::{BodyExt, Full};
///
/// #[derive(Debug)]
/// struct Hello;
///
/// impl Transport for Hello {
///     fn send(&self, _request: http::Request<Bytes>) -> TransportFuture<'_> {
///         Box::pin(async {
///             let body: ResponseBody = Full::new(Bytes::from_static(b"hello")).map_err(|e| match e {}).boxed_unsync();
///             http::Response::builder().body(body).map_err(TransportError::other)
///         })
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), auth_core::Error> {
/// let http = HttpClient::new(Arc::new(Hello), HttpPolicy::default());
/// let request = http::Request::get("https://api.example.com/").body(Bytes::new()).unwrap();
/// let response = http.send(request).await?;
/// assert_eq!(&response.body[..], b"hello");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    transport: Arc<dyn Transport>,
    policy: HttpPolicy,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("transport", &self.transport)
            .field("policy", &self.policy)
            .finish()
    }
}

impl HttpClient {
    /// A client sending through `transport` under `policy`.
    pub fn new(transport: Arc<dyn Transport>, policy: HttpPolicy) -> Self {
        Self { transport, policy }
    }

    /// The policy in force.
    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    /// The transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Refuses URLs the policy does not allow (see [`ensure_secure_url`]).
    pub fn check_url(&self, url: &Url) -> Result<(), Error> {
        ensure_secure_url(url, self.policy.allow_loopback_http)
    }

    /// Sends `request`, retrying as its method allows ([`Repeat::for_method`]): see
    /// [`send_as`](Self::send_as).
    pub async fn send(&self, request: http::Request<Bytes>) -> Result<HttpResponse, Error> {
        let repeat = Repeat::for_method(request.method());
        self.send_as(request, repeat).await
    }

    /// Sends `request` and reads the body within the cap.
    ///
    /// Connect errors are retried up to the policy's bound with jittered backoff
    /// (the request never reached the server); 5xx and 429 only when `repeat` is
    /// [`Repeat::Safe`], honouring a `Retry-After` up to its cap. After the last
    /// attempt the last response is returned as it is. Any status is returned as a
    /// response; use [`HttpResponse::error_for_status`]. The response's
    /// [`attempts`](HttpResponse::attempts) says how many of the attempts reached the
    /// server (connect errors do not).
    pub async fn send_as(
        &self,
        request: http::Request<Bytes>,
        repeat: Repeat,
    ) -> Result<HttpResponse, Error> {
        let url = Url::parse(&request.uri().to_string()).map_err(|_| Error::InsecureUrl {
            url: String::new(),
            reason: "not an absolute URL",
        })?;
        self.check_url(&url)?;
        let target = connect_target(&url);
        let retry = self.policy.retry;
        let mut retries = 0u32;
        // Attempts answered by the server (any status); connect errors never reached it.
        let mut answered = 0u32;
        loop {
            let attempt = copy_request(&request);
            let span = tracing::debug_span!(
                "http",
                method = %request.method(),
                target = %target,
                attempt = retries + 1
            );
            let outcome = self.exchange(attempt).instrument(span.clone()).await;
            if matches!(outcome, Ok(_) | Err(Failure::Body(_))) {
                answered = answered.saturating_add(1);
            }
            let delay = match &outcome {
                Err(Failure::Send(e)) if e.kind() == TransportErrorKind::Connect => {
                    Some(retry.backoff(retries, rand::random()))
                }
                Ok(response) if repeat.retries_status(response.status) => {
                    let after = response
                        .headers
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| parse_retry_after(v.as_bytes(), SystemTime::now()));
                    retry.delay_for(retries, after, rand::random())
                }
                _ => None,
            };
            match delay {
                Some(delay) if retries < retry.max_retries => {
                    tracing::debug!(parent: &span, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                    retries += 1;
                }
                _ => {
                    let mut response = outcome.map_err(|f| self.map_failure(f, &target))?;
                    response.attempts = answered.max(1);
                    return Ok(response);
                }
            }
        }
    }

    /// One attempt: the request sent and its body read, within the request timeout.
    async fn exchange(&self, request: http::Request<Bytes>) -> Result<HttpResponse, Failure> {
        let limit = self.policy.request_timeout;
        match tokio::time::timeout(limit, self.exchange_untimed(request)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::Timeout),
        }
    }

    async fn exchange_untimed(
        &self,
        request: http::Request<Bytes>,
    ) -> Result<HttpResponse, Failure> {
        let response = self.transport.send(request).await.map_err(Failure::Send)?;
        let (parts, body) = response.into_parts();
        let body = read_capped(&parts.headers, body, self.policy.max_body_bytes).await?;
        tracing::debug!(
            status = parts.status.as_u16(),
            bytes = body.len(),
            "response read"
        );
        Ok(HttpResponse {
            status: parts.status,
            headers: parts.headers,
            body,
            attempts: 1,
        })
    }

    fn map_failure(&self, failure: Failure, target: &str) -> Error {
        match failure {
            Failure::Timeout => Error::Timeout {
                limit: self.policy.request_timeout,
            },
            Failure::TooLarge => Error::BodyTooLarge {
                limit: self.policy.max_body_bytes,
            },
            Failure::Body(source) => Error::Transport {
                source: Arc::from(source),
            },
            Failure::Send(e) => match e.kind() {
                TransportErrorKind::Connect => Error::Connect {
                    target: target.to_owned(),
                    source: Arc::new(e),
                },
                TransportErrorKind::Timeout => Error::Timeout {
                    limit: self.policy.request_timeout,
                },
                TransportErrorKind::RedirectFollowed => Error::Redirect { status: None },
                _ => Error::Transport {
                    source: Arc::new(e),
                },
            },
        }
    }
}

/// Why one attempt failed.
enum Failure {
    Send(TransportError),
    Body(super::BoxError),
    Timeout,
    TooLarge,
}

/// Reads `body` whole, refusing more than `limit` bytes (announced or received).
async fn read_capped(
    headers: &http::HeaderMap,
    mut body: ResponseBody,
    limit: usize,
) -> Result<Bytes, Failure> {
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|len| len > limit as u64) {
        return Err(Failure::TooLarge);
    }
    let mut read = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(Failure::Body)?;
        if let Ok(chunk) = frame.into_data() {
            if read.len() + chunk.len() > limit {
                return Err(Failure::TooLarge);
            }
            read.extend_from_slice(&chunk);
        }
    }
    Ok(read.freeze())
}

/// A copy of `request` for one attempt: method, URI, version, headers and body (a
/// cheap clone of the bytes). Extensions are not carried.
pub(crate) fn copy_request(request: &http::Request<Bytes>) -> http::Request<Bytes> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.version_mut() = request.version();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// Scheme, host and port of a URL: what may be shown of it in errors and logs.
fn connect_target(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_owned(),
    }
}

/// An [`HttpClient`] paired with a provider: every attempt is authorized afresh, and a
/// 401 drops the provider's cached credential and sends the request once more with a
/// fresh one (when the provider says a fresh one can differ, see
/// [`CredentialProvider::invalidate`]).
///
/// Retries after a 5xx or 429 follow [`Repeat::for_method`] and the policy's bounds,
/// as [`HttpClient::send`] does, but each retry is authorized again: an OAuth 1.0a
/// signature gets a new nonce (a server refuses a nonce it has seen), a quota counts
/// the attempt (and a quota used up sends no retry: the caller gets the 5xx), a token
/// renewed meanwhile is used.
#[derive(Debug, Clone)]
pub struct AuthorizedClient {
    http: HttpClient,
    provider: Arc<dyn CredentialProvider>,
}

impl AuthorizedClient {
    /// Pairs `http` with `provider`.
    pub fn new(http: HttpClient, provider: Arc<dyn CredentialProvider>) -> Self {
        Self { http, provider }
    }

    /// The HTTP client.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn CredentialProvider> {
        &self.provider
    }

    /// Authorizes and sends `request`; see the type documentation.
    pub async fn send(&self, request: http::Request<Bytes>) -> Result<HttpResponse, Error> {
        let repeat = Repeat::for_method(request.method());
        let retry = self.http.policy.retry;
        let mut retries = 0u32;
        let mut renewed_after_401 = false;
        let mut last: Option<HttpResponse> = None;
        loop {
            // Each attempt starts from the request as given, unauthorized.
            let mut outgoing: AuthRequest = copy_request(&request);
            match (self.provider.authorize(&mut outgoing).await, last.take()) {
                (Ok(()), _) => {}
                // A retry the provider will not authorize (a quota used up): the
                // caller gets the failure that happened, not the refusal of a retry.
                (Err(error), Some(previous)) => {
                    tracing::debug!(%error, "retry not authorized; the last answer stands");
                    return Ok(previous);
                }
                (Err(error), None) => return Err(error),
            }
            let seen = copy_request(&outgoing);
            // Connect errors are retried inside (the request never left); statuses here.
            let response = self.http.send_as(outgoing, Repeat::Unsent).await?;
            if response.status == StatusCode::UNAUTHORIZED && !renewed_after_401 {
                if !self.provider.invalidate(&seen) {
                    return Ok(response);
                }
                tracing::debug!("401: retrying once with a fresh credential");
                renewed_after_401 = true;
                continue;
            }
            if retries < retry.max_retries && repeat.retries_status(response.status) {
                let after = response
                    .headers
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| parse_retry_after(v.as_bytes(), SystemTime::now()));
                if let Some(delay) = retry.delay_for(retries, after, rand::random()) {
                    tracing::debug!(
                        status = response.status.as_u16(),
                        ?delay,
                        "retrying, authorized again"
                    );
                    tokio::time::sleep(delay).await;
                    retries += 1;
                    last = Some(response);
                    continue;
                }
            }
            return Ok(response);
        }
    }
}
