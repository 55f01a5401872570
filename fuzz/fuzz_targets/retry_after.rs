//! `Retry-After` values: seconds, HTTP dates, garbage.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use auth_core::internal::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let _ = parse_retry_after(data, now);
});
