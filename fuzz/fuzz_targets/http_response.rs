//! A response of any status, content type and body: classified into a typed error
//! and parsed as JSON without panicking; a JSON error message never quotes the body.
#![no_main]

use auth_core::http::HttpResponse;
use auth_core::internal::body_excerpt;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let statuses = [200u16, 201, 302, 400, 401, 403, 429, 500, 502, 503];
    let status = StatusCode::from_u16(statuses[usize::from(selector) % statuses.len()])
        .unwrap_or(StatusCode::OK);
    let mut headers = HeaderMap::new();
    let types = [
        "application/json",
        "text/html; charset=utf-8",
        "text/plain",
        "TEXT/HTML",
    ];
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(types[usize::from(selector >> 4) % types.len()]),
    );
    let response = HttpResponse {
        status,
        headers,
        body: Bytes::copy_from_slice(rest),
        attempts: 1,
    };
    let error = response.to_error().to_string();
    assert!(error.chars().all(|c| !c.is_control()));
    let _ = response.json::<serde_json::Value>();
    let excerpt = body_excerpt(rest);
    assert!(excerpt.chars().count() <= 200);
});
