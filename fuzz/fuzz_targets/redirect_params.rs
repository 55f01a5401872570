//! The redirect back from an authorization server: query (code flow) and fragment
//! (implicit flow) parsing, percent-decoding included, with the right state so the
//! fuzzer reaches the fields after it. A typed error or a result, never a panic.
#![no_main]

use std::sync::OnceLock;

use auth_oauth2::oidc::{AuthorizationRequest, PendingAuthorization};
use libfuzzer_sys::fuzz_target;

fn pending() -> &'static (PendingAuthorization, PendingAuthorization) {
    static PENDING: OnceLock<(PendingAuthorization, PendingAuthorization)> = OnceLock::new();
    PENDING.get_or_init(|| {
        let endpoint = url::Url::parse("https://id.example/authorize").expect("a URL");
        let request = || {
            AuthorizationRequest::new(endpoint.clone(), "fuzz-client", "https://app.example/cb")
                .issuer("https://id.example")
        };
        (request().code(), request().id_token_token())
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (code, implicit) = pending();
    let state = |p: &PendingAuthorization| {
        p.url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let with_state = format!("https://app.example/cb?state={}&{text}", state(code));
    if let Ok(url) = url::Url::parse(&with_state) {
        let _ = code.code_from(&url);
    }
    let fragment = format!("https://app.example/cb#state={}&{text}", state(implicit));
    if let Ok(url) = url::Url::parse(&fragment) {
        let _ = implicit.fragment_from(&url);
    }
    if let Ok(url) = url::Url::parse(text) {
        let _ = code.code_from(&url);
        let _ = implicit.fragment_from(&url);
    }
});
