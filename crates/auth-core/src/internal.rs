//! Helpers for the workspace's sibling crates (schemes, vendors, the test kit) and its
//! fuzzers and constant-time checks: not part of the API an application uses, and
//! without a stability promise. An application has what it needs in the crate root,
//! [`http`](crate::http) and the scheme crates.

pub use crate::compare::constant_time_eq;
pub use crate::error::printable;
pub use crate::http::response::{body_excerpt, looks_like_html};
pub use crate::http::retry::parse_retry_after;
pub use crate::trace::record_outcome;
