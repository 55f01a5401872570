//! The signature base string from arbitrary request parts: never a panic, and when it
//! is built, it has exactly three `&`-separated parts, all encoded.
#![no_main]

use auth_oauth1::base_string;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // method \n uri \n body \n name=value \n name=value ...
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\n');
    let method = parts.next().unwrap_or("GET");
    let Some(Ok(uri)) = parts.next().map(str::parse::<http::Uri>) else {
        return;
    };
    let body = parts.next().unwrap_or("");
    let protocol: Vec<(&str, &str)> = parts.filter_map(|p| p.split_once('=')).collect();
    let form = (!body.is_empty()).then_some(body.as_bytes());
    if let Ok(base) = base_string(method, &uri, form, &protocol) {
        assert_eq!(base.split('&').count(), 3, "{base}");
        assert!(base.split('&').skip(1).all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
        }));
    }
});
