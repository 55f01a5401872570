//! Token endpoint answers (RFC 6749 §5.1, §5.2) from arbitrary bytes and statuses:
//! never a panic; a success always carries a token; nothing secret in Debug.
#![no_main]

use std::time::SystemTime;

use auth_oauth2::parse_token_response;
use http::{HeaderMap, StatusCode, header::CONTENT_TYPE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, body)) = data.split_first() else {
        return;
    };
    let status = [200u16, 201, 302, 400, 401, 500][usize::from(first % 6)];
    let mut headers = HeaderMap::new();
    if first & 0x80 != 0 {
        headers.insert(CONTENT_TYPE, http::HeaderValue::from_static("text/html"));
    }
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if let Ok(response) = parse_token_response(status, &headers, body) {
        assert!(status.is_success());
        assert!(response.access_token.is_some() || response.refresh_token.is_some());
        // Debug does not depend on the tokens at all: the same answer with other
        // tokens prints the same. (Searching Debug for the token itself gave false
        // alarms: a token such as `ess_token` is part of a field name.)
        if let Ok(mut other) = parse_token_response(status, &headers, body) {
            other.access_token = other.access_token.map(|_| "another-token".into());
            other.refresh_token = other.refresh_token.map(|_| "another-refresh".into());
            other.id_token = other.id_token.map(|_| "another-id-token".into());
            assert_eq!(format!("{response:?}"), format!("{other:?}"));
        }
        let _ = response.to_token(SystemTime::UNIX_EPOCH, None);
        let _ = response.scheme();
    }
});
