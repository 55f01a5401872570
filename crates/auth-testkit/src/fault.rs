//! [`Fault`]: how a server misbehaves for the next requests.

use std::time::Duration;

use http::StatusCode;

/// A way to misbehave. Injected with [`TestServer::inject`](crate::TestServer::inject)
/// for the next N requests (to one path or any).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// `500 Internal Server Error` with a plain-text body.
    ServerError,
    /// `429 Too Many Requests` with `Retry-After` in whole seconds.
    TooManyRequests {
        /// The wait the server asks for.
        retry_after: Duration,
    },
    /// Wait this long, then answer normally (set it past the client's timeout).
    Delay(Duration),
    /// `200` with `Content-Type: application/json` and a body that is not JSON.
    MalformedJson,
    /// An HTML error page with this status (a proxy's or a login page).
    HtmlPage(StatusCode),
    /// The normal answer, cut off half-way: `Content-Length` announces the whole body,
    /// half is sent and the connection is dropped.
    TruncatedBody,
    /// `200` with a JSON-looking body of this many bytes.
    OversizedBody(usize),
    /// `302 Found` to this location.
    Redirect(String),
    /// The normal answer, its body sent one byte at a time with this pause between bytes.
    TrickleBody(Duration),
    /// The request is processed in full (a code redeemed, a refresh token rotated,
    /// counters moved), then its answer is thrown away and this status is sent instead,
    /// with a plain-text body: a gateway that loses the upstream's answer after the
    /// upstream committed. `CommitThen(StatusCode::BAD_GATEWAY)` is the usual one.
    CommitThen(StatusCode),
}

impl Fault {
    /// A short name, for tables.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::ServerError => "500",
            Fault::TooManyRequests { .. } => "429 + Retry-After",
            Fault::Delay(_) => "slower than timeout",
            Fault::MalformedJson => "malformed JSON",
            Fault::HtmlPage(_) => "HTML error page",
            Fault::TruncatedBody => "truncated body",
            Fault::OversizedBody(_) => "oversized body",
            Fault::Redirect(_) => "redirect",
            Fault::TrickleBody(_) => "trickling body",
            Fault::CommitThen(status) => match status.as_u16() {
                502 => "502 after commit",
                503 => "503 after commit",
                504 => "504 after commit",
                _ => "error after commit",
            },
        }
    }
}
