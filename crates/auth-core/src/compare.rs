//! Constant-time comparison of secrets, signatures, state and nonces.

use subtle::ConstantTimeEq;

/// Whether `a` and `b` are equal, in time that depends only on their lengths (never
/// on where they first differ). Lengths are not secret: every value compared this way
/// in the workspace has a length known to the other side (signatures, state, nonces).
///
/// ```
/// assert!(auth_core::internal::constant_time_eq(b"state-123", b"state-123"));
/// assert!(!auth_core::internal::constant_time_eq(b"state-123", b"state-124"));
/// assert!(!auth_core::internal::constant_time_eq(b"short", b"longer"));
/// ```
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
