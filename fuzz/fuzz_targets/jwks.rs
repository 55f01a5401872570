//! A JWKS document of any shape: a typed error or a count of usable signing keys,
//! never a panic.
#![no_main]

use std::sync::{Arc, OnceLock};

use auth_core::ManualClock;
use auth_core::http::HttpClient;
use auth_oauth2::oidc::JwksCache;
use libfuzzer_sys::fuzz_target;

fn cache() -> &'static JwksCache {
    static CACHE: OnceLock<JwksCache> = OnceLock::new();
    CACHE.get_or_init(|| {
        JwksCache::new(
            url::Url::parse("https://id.example/jwks").expect("a URL"),
            HttpClient::with_defaults().expect("an HTTP client"),
            Arc::new(ManualClock::starting_at_unix(1_760_000_000)),
        )
        .expect("a cache")
    })
}

fuzz_target!(|data: &[u8]| {
    let cache = cache();
    if let Ok(count) = cache.load_document(data) {
        assert_eq!(count, cache.len());
    }
});
