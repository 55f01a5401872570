//! Bounded retries with jittered exponential backoff, honouring `Retry-After`.

use std::time::{Duration, SystemTime};

use http::{Method, StatusCode};

/// Whether a request may be sent again after it may have reached the server.
///
/// | request | [`Repeat`] | sent again on |
/// | --- | --- | --- |
/// | `GET`, `HEAD`, `OPTIONS`, `PUT`, `DELETE` (idempotent methods, RFC 9110 §9.2.2) | [`Safe`](Repeat::Safe) | connect errors, 5xx, 429 |
/// | the `client_credentials` grant, JWKS and discovery reads | [`Safe`](Repeat::Safe) | connect errors, 5xx, 429 |
/// | `POST`, `PATCH` to a vendor API (record writes, Add Customer) | [`Unsent`](Repeat::Unsent) | connect errors only |
/// | the `authorization_code` and `refresh_token` grants (single-use code, rotating refresh token) | [`Unsent`](Repeat::Unsent) | connect errors only |
/// | OAuth 1.0a temporary- and token-credential requests (nonce, verifier) | [`Unsent`](Repeat::Unsent) | connect errors only |
///
/// A connect error means the connection was never made, so the request was never
/// written and cannot have been acted on: it is always safe to send again. Once a
/// request may have reached the server (a 5xx, a 429, a timeout, a reset connection),
/// an [`Unsent`](Repeat::Unsent) request is not repeated and the caller gets that
/// failure, typed (a `502` as a status error, not the `invalid_grant` a repeat would
/// have earned). A caller who knows the server tolerates a repeat (a refresh-token grace
/// period, an idempotency key) marks the request [`Safe`](Repeat::Safe).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repeat {
    /// The request may be repeated: retried on connect errors, 5xx and 429.
    Safe,
    /// The request spends a single-use credential or has effects the server may already
    /// have committed: retried only when it provably never reached the server.
    Unsent,
}

impl Repeat {
    /// The class of a request by its method alone: idempotent methods are
    /// [`Safe`](Repeat::Safe), everything else [`Unsent`](Repeat::Unsent).
    pub fn for_method(method: &Method) -> Self {
        match *method {
            Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE => {
                Repeat::Safe
            }
            _ => Repeat::Unsent,
        }
    }

    /// Whether a response with `status` may be answered by sending the request again.
    pub fn retries_status(self, status: StatusCode) -> bool {
        self == Repeat::Safe && RetryPolicy::is_retryable_status(status)
    }
}

/// When and how often a request is sent again.
///
/// Only failures where the server did not act on the request, or asked us to come
/// back, are retried: connect errors always, 5xx and 429 only for requests that may be
/// repeated (see [`Repeat`]). An OAuth error (`invalid_grant`, `invalid_client`) is a
/// 4xx and never retried.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Retries after the first attempt (default 2: at most 3 requests).
    pub max_retries: u32,
    /// The first backoff (default 100 ms); it doubles with each retry.
    pub base_delay: Duration,
    /// The largest backoff (default 2 s).
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured (default 5 s); a server asking for longer
    /// gets no retry and the caller gets the 429 or 503 at once.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Sets the number of retries.
    #[must_use]
    pub fn with_max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the first backoff.
    #[must_use]
    pub fn with_base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Whether a response with `status` may be retried.
    pub fn is_retryable_status(status: StatusCode) -> bool {
        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
    }

    /// The backoff before retry number `retry` (0-based): "full jitter", uniform in
    /// `[d/2, d]` where `d = min(max_delay, base_delay × 2^retry)`. `unit_random` is in
    /// `[0, 1)`.
    pub fn backoff(&self, retry: u32, unit_random: f64) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX));
        let capped = exp.min(self.max_delay);
        capped.mul_f64(0.5 + 0.5 * unit_random.clamp(0.0, 1.0))
    }

    /// The delay before the next attempt after a retryable response, or `None` if the
    /// server asked for a wait longer than [`max_retry_after`](Self::max_retry_after).
    pub fn delay_for(
        &self,
        retry: u32,
        retry_after: Option<Duration>,
        unit_random: f64,
    ) -> Option<Duration> {
        match retry_after {
            Some(wait) if wait > self.max_retry_after => None,
            Some(wait) => Some(wait),
            None => Some(self.backoff(retry, unit_random)),
        }
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date (RFC 9110 §10.2.3),
/// relative to `now`. A date in the past is a zero delay; garbage is `None`.
pub fn parse_retry_after(value: &[u8], now: SystemTime) -> Option<Duration> {
    let text = std::str::from_utf8(value).ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<u64>().ok().map(Duration::from_secs);
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(
            parse_retry_after(b"120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(b" 3 ", now), Some(Duration::from_secs(3)));
        // RFC 9110's example date is exactly `now` + 0.
        assert_eq!(
            parse_retry_after(b"Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(b"Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(parse_retry_after(b"-1", now), None);
        assert_eq!(parse_retry_after(b"soon", now), None);
        assert_eq!(parse_retry_after(b"99999999999999999999999", now), None);
        assert_eq!(parse_retry_after(&[0xff, 0xfe], now), None);
    }

    #[test]
    fn backoff_grows_caps_and_jitters() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(0, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(2));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(2));
    }

    #[test]
    fn retry_after_beyond_the_cap_is_not_retried() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay_for(0, Some(Duration::from_secs(1)), 0.3),
            Some(Duration::from_secs(1))
        );
        assert_eq!(p.delay_for(0, Some(Duration::from_secs(60)), 0.3), None);
        assert!(RetryPolicy::is_retryable_status(StatusCode::BAD_GATEWAY));
        assert!(RetryPolicy::is_retryable_status(
            StatusCode::TOO_MANY_REQUESTS
        ));
        assert!(!RetryPolicy::is_retryable_status(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn repeat_classes_by_method() {
        for m in [
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::PUT,
            Method::DELETE,
        ] {
            assert_eq!(Repeat::for_method(&m), Repeat::Safe, "{m}");
        }
        for m in [Method::POST, Method::PATCH, Method::CONNECT] {
            assert_eq!(Repeat::for_method(&m), Repeat::Unsent, "{m}");
        }
        assert!(Repeat::Safe.retries_status(StatusCode::BAD_GATEWAY));
        assert!(!Repeat::Unsent.retries_status(StatusCode::BAD_GATEWAY));
        assert!(!Repeat::Unsent.retries_status(StatusCode::TOO_MANY_REQUESTS));
    }
}
