//! The JWS header reader that runs before any signature check: arbitrary text never
//! panics, and what it accepts has exactly three parts.
#![no_main]

use auth_oauth2::oidc::JwtHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if JwtHeader::peek(text).is_ok() {
        assert_eq!(text.split('.').count(), 3);
    }
});
