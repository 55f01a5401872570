//! URL parsing and the HTTPS-except-loopback rule: no panic, and what errors show of a
//! URL never includes its query or fragment.
#![no_main]

use auth_core::http::{ensure_secure_url, redacted_url};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(url) = url::Url::parse(text) else {
        return;
    };
    let shown = redacted_url(&url);
    assert!(
        !shown.contains('?')
            || url.path().contains('?')
            || url.host_str().is_some_and(|h| h.contains('?'))
    );
    if let Err(error) = ensure_secure_url(&url, true) {
        let _ = error.to_string();
    } else {
        assert!(url.scheme() == "https" || url.scheme() == "http");
    }
});
