//! [`OAuth2HttpClient`]: auth-core's [`HttpClient`] as the `oauth2` crate's
//! [`AsyncHttpClient`].

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};

use auth_core::Error;
use auth_core::http::{HttpClient, Repeat};
use bytes::Bytes;
use http::StatusCode;
use oauth2::AsyncHttpClient;

use crate::error::is_oauth_error;

/// The future [`OAuth2HttpClient`] returns to the `oauth2` crate.
pub type OAuth2HttpFuture<'c> =
    Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Error>> + Send + 'c>>;

/// auth-core's [`HttpClient`] as an [`oauth2::AsyncHttpClient`]: every request the
/// `oauth2` crate builds (token, revocation, introspection, device endpoints) is sent
/// under the workspace's policy and through its [`Transport`](auth_core::http::Transport),
/// whatever that is (reqwest, a tower service, the application's own).
///
/// The policy, applied before the `oauth2` crate sees an answer:
///
/// - HTTPS only, plain HTTP to loopback when the policy allows it: anything else is
///   [`Error::InsecureUrl`], and nothing is sent;
/// - the connect and request timeouts and the response body cap
///   ([`Error::Timeout`], [`Error::BodyTooLarge`]);
/// - redirects are never followed: a 3xx is [`Error::Redirect`];
/// - retries by the [`Repeat`] class this client was given: [`Repeat::Unsent`] (the
///   default: a code or a rotating refresh token is single use) repeats a request only
///   after a connect error; [`Repeat::Safe`] (a `client_credentials` grant) also after a
///   5xx or a 429, honouring `Retry-After`.
///
/// Answers the `oauth2` crate could only report as an unparsable body, without their
/// status, come back typed instead: an HTML page (a proxy's, a login page) is
/// [`Error::InvalidResponse`], and a non-2xx answer that is not an OAuth error
/// response is [`Error::Status`] with its status and a short, secret-free excerpt (so
/// that [`Error::is_transient`] sees a 503 as one). OAuth error responses (`error`,
/// `error_description`) go to the `oauth2` crate as they are, which parses them into
/// its `RequestTokenError::ServerResponse`.
///
/// The client's error type is [`auth_core::Error`], so that a failure comes back
/// whole in `RequestTokenError::Request`; [`core_error`](crate::core_error) turns any
/// `RequestTokenError` into an [`auth_core::Error`].
///
/// ```
/// use auth_core::http::{HttpClient, HttpPolicy, Repeat};
/// use auth_oauth2rs::OAuth2HttpClient;
///
/// # fn main() -> Result<(), auth_core::Error> {
/// let http = HttpClient::with_policy(HttpPolicy::default())?;
/// // For a code exchange (single use): no repeat once the request may have arrived.
/// let for_code = OAuth2HttpClient::new(http.clone());
/// assert_eq!(for_code.repeat(), Repeat::Unsent);
/// // For client credentials: retried after a 5xx or a 429 too.
/// let for_machine = OAuth2HttpClient::new(http).with_repeat(Repeat::Safe);
/// # let _ = for_machine;
/// // client.exchange_code(code).request_async(&for_code).await
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct OAuth2HttpClient {
    http: HttpClient,
    repeat: Repeat,
}

impl OAuth2HttpClient {
    /// Sends through `http`, as [`Repeat::Unsent`].
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            repeat: Repeat::Unsent,
        }
    }

    /// With the retry class of the requests this client sends.
    #[must_use]
    pub fn with_repeat(mut self, repeat: Repeat) -> Self {
        self.repeat = repeat;
        self
    }

    /// The retry class.
    pub fn repeat(&self) -> Repeat {
        self.repeat
    }

    /// The HTTP client underneath.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Sends one request of the `oauth2` crate under the policy (see the type
    /// documentation).
    pub async fn send(&self, request: oauth2::HttpRequest) -> Result<oauth2::HttpResponse, Error> {
        let mut request = request.map(Bytes::from);
        // The `oauth2` crate leaves its Basic credentials unmarked.
        if let Some(value) = request.headers_mut().get_mut(http::header::AUTHORIZATION) {
            value.set_sensitive(true);
        }
        let response = self.http.send_as(request, self.repeat).await?;
        if let Some(foreign) = response.foreign_answer() {
            return Err(foreign);
        }
        if !response.is_success() && !is_oauth_error(&response.body) {
            return Err(response.to_error());
        }
        let mut answer = http::Response::new(Vec::from(response.body));
        *answer.status_mut() = response.status;
        *answer.headers_mut() = response.headers;
        Ok(answer)
    }
}

impl<'c> AsyncHttpClient<'c> for OAuth2HttpClient {
    type Error = Error;
    type Future = OAuth2HttpFuture<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// Sends through an [`OAuth2HttpClient`] and remembers the status of the last answer:
/// the `oauth2` crate's errors do not carry it.
/// It owns its (cheap) copy of the client: a borrowed one would make the fetch
/// future's `Send` bound ask for the impl at every lifetime.
pub(crate) struct Recording {
    http: OAuth2HttpClient,
    status: AtomicU16,
}

impl Recording {
    pub(crate) fn new(http: &OAuth2HttpClient) -> Self {
        Self {
            http: http.clone(),
            status: AtomicU16::new(0),
        }
    }

    /// The status of the last answer, if there was one.
    pub(crate) fn status(&self) -> Option<StatusCode> {
        StatusCode::from_u16(self.status.load(Ordering::Relaxed)).ok()
    }
}

impl<'c> AsyncHttpClient<'c> for Recording {
    type Error = Error;
    type Future = OAuth2HttpFuture<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.http.send(request).await?;
            self.status
                .store(response.status().as_u16(), Ordering::Relaxed);
            Ok(response)
        })
    }
}
