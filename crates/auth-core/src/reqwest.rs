//! The reqwest glue: an [`HttpClient`] that applies the [`HttpPolicy`] (timeouts, body
//! cap, no redirects, HTTPS except loopback, bounded retries), [`authorize_reqwest`]
//! for a `reqwest::Request`, and an [`AuthorizedClient`] that retries once after a
//! 401 with a fresh credential.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::StatusCode;
use tracing::Instrument as _;
use url::Url;

use crate::http::{HttpPolicy, HttpResponse, Repeat, ensure_secure_url, parse_retry_after};
use crate::{AuthRequest, CredentialProvider, Error};

/// A reqwest client with the workspace's defaults. Cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: HttpPolicy,
}

impl HttpClient {
    /// A client with `policy`. Redirects are never followed: a 3xx answer is returned
    /// as it is, and [`HttpResponse::error_for_status`] turns it into
    /// [`Error::Redirect`].
    pub fn new(policy: HttpPolicy) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .user_agent(concat!("auth-crates/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self { client, policy })
    }

    /// A client with [`HttpPolicy::default`].
    pub fn with_defaults() -> Result<Self, Error> {
        Self::new(HttpPolicy::default())
    }

    /// The policy in force.
    pub fn policy(&self) -> &HttpPolicy {
        &self.policy
    }

    /// The underlying reqwest client, for building requests.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    /// Refuses URLs the policy does not allow (see [`ensure_secure_url`]).
    pub fn check_url(&self, url: &Url) -> Result<(), Error> {
        ensure_secure_url(url, self.policy.allow_loopback_http)
    }

    /// Sends `request` and reads the body within the cap, retrying as its method allows
    /// ([`Repeat::for_method`]): see [`send_as`](Self::send_as).
    pub async fn send(&self, request: reqwest::Request) -> Result<HttpResponse, Error> {
        let repeat = Repeat::for_method(request.method());
        self.send_as(request, repeat).await
    }

    /// Sends `request` and reads the body within the cap.
    ///
    /// Connect errors are retried up to the policy's bound with jittered backoff
    /// (the request never reached the server); 5xx and 429 only when `repeat` is
    /// [`Repeat::Safe`], honouring a `Retry-After` up to its cap. Retries need a request
    /// that can be cloned. After the last attempt the last response is returned as it
    /// is. Any status is returned as a response; use
    /// [`HttpResponse::error_for_status`]. The response's
    /// [`attempts`](HttpResponse::attempts) says how many of the attempts reached the
    /// server (connect errors do not).
    pub async fn send_as(
        &self,
        request: reqwest::Request,
        repeat: Repeat,
    ) -> Result<HttpResponse, Error> {
        self.check_url(request.url())?;
        let retry = self.policy.retry;
        let mut pending = request;
        let mut retries = 0u32;
        // Attempts answered by the server (any status); connect errors never reached it.
        let mut answered = 0u32;
        loop {
            let spare = if retries < retry.max_retries {
                pending.try_clone()
            } else {
                None
            };
            let target = connect_target(pending.url());
            let method = pending.method().clone();
            let span =
                tracing::debug_span!("http", %method, target = %target, attempt = retries + 1);
            let outcome = self.client.execute(pending).instrument(span.clone()).await;
            if outcome.is_ok() {
                answered = answered.saturating_add(1);
            }
            let delay = match &outcome {
                Err(e) if e.is_connect() => Some(retry.backoff(retries, rand::random())),
                Ok(response) if repeat.retries_status(response.status()) => {
                    let after = response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| {
                            parse_retry_after(v.as_bytes(), std::time::SystemTime::now())
                        });
                    retry.delay_for(retries, after, rand::random())
                }
                _ => None,
            };
            match (delay, spare) {
                (Some(delay), Some(next)) => {
                    tracing::debug!(parent: &span, ?delay, "retrying");
                    if let Ok(response) = outcome {
                        drop(response);
                    }
                    tokio::time::sleep(delay).await;
                    pending = next;
                    retries += 1;
                }
                _ => {
                    let response = outcome.map_err(|e| self.map_error(e, &target))?;
                    return self.read(response, answered).instrument(span).await;
                }
            }
        }
    }

    async fn read(
        &self,
        mut response: reqwest::Response,
        attempts: u32,
    ) -> Result<HttpResponse, Error> {
        let limit = self.policy.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(Error::BodyTooLarge { limit });
        }
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let target = connect_target(response.url());
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.map_error(e, &target))?
        {
            if body.len() + chunk.len() > limit {
                return Err(Error::BodyTooLarge { limit });
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            status = status.as_u16(),
            bytes = body.len(),
            "response read"
        );
        Ok(HttpResponse {
            status,
            headers,
            body: body.freeze(),
            attempts,
        })
    }

    fn map_error(&self, e: reqwest::Error, target: &str) -> Error {
        if e.is_timeout() {
            Error::Timeout {
                limit: self.policy.request_timeout,
            }
        } else if e.is_connect() {
            Error::Connect {
                target: target.to_owned(),
                source: Arc::new(e.without_url()),
            }
        } else {
            Error::Transport {
                source: Arc::new(e.without_url()),
            }
        }
    }
}

/// Scheme, host and port of a URL: what may be shown of it in errors and logs.
fn connect_target(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_owned(),
    }
}

/// Authorizes a `reqwest::Request` with any provider: the request is seen by the
/// provider as an [`AuthRequest`] (method, URL, headers and, when the body is in
/// memory, the body), and what the provider adds (headers, query parameters) is
/// copied back.
pub async fn authorize_reqwest<P: CredentialProvider + ?Sized>(
    provider: &P,
    request: &mut reqwest::Request,
) -> Result<(), Error> {
    authorize_and_keep(provider, request).await.map(drop)
}

/// Like [`authorize_reqwest`], and returns the request as the provider saw it, for
/// [`CredentialProvider::invalidate`].
async fn authorize_and_keep<P: CredentialProvider + ?Sized>(
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

/// An [`HttpClient`] paired with a provider: every attempt is authorized afresh, and a
/// 401 drops the provider's cached credential and sends the request once more with a
/// fresh one (when the request can be cloned and the provider says a fresh one can
/// differ, see [`CredentialProvider::invalidate`]).
///
/// Retries after a 5xx or 429 follow [`Repeat::for_method`] and the policy's bounds,
/// as [`HttpClient::send`] does, but each retry is authorized again: an OAuth 1.0a
/// signature gets a new nonce (a server refuses a nonce it has seen), a quota counts
/// the attempt, a token renewed meanwhile is used.
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
    pub async fn send(&self, request: reqwest::Request) -> Result<HttpResponse, Error> {
        let repeat = Repeat::for_method(request.method());
        let retry = self.http.policy.retry;
        let mut retries = 0u32;
        let mut renewed_after_401 = false;
        loop {
            // Each attempt starts from the unauthorized request; one that cannot be
            // cloned (a streamed body) is sent once.
            let Some(mut outgoing) = request.try_clone() else {
                return self.send_once(request).await;
            };
            let seen = authorize_and_keep(&*self.provider, &mut outgoing).await?;
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
                    .and_then(|v| parse_retry_after(v.as_bytes(), std::time::SystemTime::now()));
                if let Some(delay) = retry.delay_for(retries, after, rand::random()) {
                    tracing::debug!(
                        status = response.status.as_u16(),
                        ?delay,
                        "retrying, authorized again"
                    );
                    tokio::time::sleep(delay).await;
                    retries += 1;
                    continue;
                }
            }
            return Ok(response);
        }
    }

    async fn send_once(&self, mut request: reqwest::Request) -> Result<HttpResponse, Error> {
        authorize_and_keep(&*self.provider, &mut request).await?;
        self.http.send_as(request, Repeat::Unsent).await
    }
}
