//! ID token verification end to end (header, key lookup, RS256 signature, claims) with
//! a fixed JWKS and clock: arbitrary text is refused with a typed error, and only the
//! token the seed key signed is accepted. No network: unknown keys are refused under
//! the re-fetch rate limit.
#![no_main]

use std::sync::{Arc, OnceLock};

use auth_core::ManualClock;
use auth_core::http::HttpClient;
use auth_oauth2::oidc::{IdTokenVerifier, JwksCache};
use libfuzzer_sys::fuzz_target;

const JWKS: &[u8] = include_bytes!("../seeds/jwks/signing.json");

fn verifier() -> &'static (IdTokenVerifier, tokio::runtime::Runtime) {
    static VERIFIER: OnceLock<(IdTokenVerifier, tokio::runtime::Runtime)> = OnceLock::new();
    VERIFIER.get_or_init(|| {
        let clock = Arc::new(ManualClock::starting_at_unix(1_760_000_100));
        let jwks = JwksCache::new(
            url::Url::parse("https://id.example/jwks").expect("a URL"),
            HttpClient::with_defaults().expect("an HTTP client"),
            clock.clone(),
        )
        .expect("a cache");
        jwks.load_document(JWKS).expect("the seed JWKS");
        let verifier =
            IdTokenVerifier::new("https://id.example", "fuzz-client", Arc::new(jwks), clock);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        (verifier, runtime)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let (verifier, runtime) = verifier();
    if let Ok(claims) = runtime.block_on(verifier.verify(token, Some("n-123"))) {
        assert_eq!(claims.sub, "alice");
    }
});
