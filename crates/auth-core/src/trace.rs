//! The outcome fields every crate's spans share.

use std::future::Future;
use std::time::Instant;

use tracing::{Instrument as _, Span};

/// Runs `work` inside `span`, then records on it `latency_ms` (since `started`) and
/// `outcome` (`ok` or `error`). The span declares both fields, empty:
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let span = tracing::debug_span!(
///     "token_request",
///     outcome = tracing::field::Empty,
///     latency_ms = tracing::field::Empty,
/// );
/// let result: Result<u8, ()> =
///     auth_core::internal::record_outcome(&span, std::time::Instant::now(), async { Ok(1) }).await;
/// assert_eq!(result, Ok(1));
/// # }
/// ```
pub async fn record_outcome<T, E>(
    span: &Span,
    started: Instant,
    work: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let result = work.instrument(span.clone()).await;
    span.record(
        "latency_ms",
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    span.record("outcome", if result.is_ok() { "ok" } else { "error" });
    result
}
