//! HTTP for every crate, independent of any HTTP client: a [`Transport`] moves the
//! bytes (the default one, see the crate documentation, or the application's own), and
//! [`HttpClient`] applies the policy above it: timeouts, the body cap, the retry
//! classes, the HTTPS rule, no redirects; [`HttpResponse`] reads an answer into a typed
//! outcome; [`AuthorizedClient`] authorizes each attempt with a provider.

mod client;
pub(crate) mod response;
pub(crate) mod retry;
mod transport;
mod url_policy;

use std::time::Duration;

pub use client::{AuthorizedClient, HttpClient};
pub use response::{ApiFailure, HttpResponse};
pub(crate) use retry::parse_retry_after;
pub use retry::{Repeat, RetryPolicy};
pub use transport::{
    BoxError, ResponseBody, Transport, TransportError, TransportErrorKind, TransportFuture,
};
pub use url_policy::{base_url, ensure_secure_url, is_loopback_host, redacted_url};

/// Limits for every request a crate in this workspace sends.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HttpPolicy {
    /// Time to establish a connection (default 10 s).
    pub connect_timeout: Duration,
    /// Time for the whole exchange, body included (default 30 s). A body that
    /// trickles in slower than this fails with [`Error::Timeout`](crate::Error::Timeout).
    pub request_timeout: Duration,
    /// The largest response body read (default 1 MiB); larger ones fail with
    /// [`Error::BodyTooLarge`](crate::Error::BodyTooLarge) before parsing.
    pub max_body_bytes: usize,
    /// Retries on connect errors, and on 5xx and 429 for requests that may be
    /// repeated ([`Repeat`]).
    pub retry: RetryPolicy,
    /// Whether plain `http://` is allowed to loopback addresses (default true: tests
    /// and local development). Other hosts always need `https://`.
    pub allow_loopback_http: bool,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            retry: RetryPolicy::default(),
            allow_loopback_http: true,
        }
    }
}

impl HttpPolicy {
    /// Sets the whole-request timeout.
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the response body cap.
    #[must_use]
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Sets the retry policy.
    #[must_use]
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}
