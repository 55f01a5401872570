//! The signature base string from arbitrary request parts: never a panic, and when it
//! is built, it has exactly three `&`-separated parts, all encoded. And a signer's
//! prepared way (`sign_with` on a request) writes the header its general way
//! (`sign_parts`) writes, or fails where it fails.
#![no_main]

use std::sync::OnceLock;

use auth_core::SecretString;
use auth_oauth1::{Consumer, SignOptions, Signer, TokenCredentials, base_string};
use libfuzzer_sys::fuzz_target;

fn signer() -> &'static Signer {
    static SIGNER: OnceLock<Signer> = OnceLock::new();
    SIGNER.get_or_init(|| {
        Signer::builder(Consumer::new("c k", SecretString::from("cs&")))
            .token(TokenCredentials::new("t/k", SecretString::from("ts")))
            .realm("r")
            .build()
            .expect("an HMAC-SHA1 signer")
    })
}

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
    let options = SignOptions {
        nonce: Some(protocol.first().map_or("n", |(_, v)| v)),
        timestamp: Some(1_318_622_958),
        ..Default::default()
    };
    let content_type = form.map(|_| "application/x-www-form-urlencoded");
    let general = signer().sign_parts(method, &uri, content_type, body.as_bytes(), &options);
    if let Ok(request) = http::Request::builder()
        .method(method)
        .uri(uri.clone())
        .header("content-type", content_type.unwrap_or("text/plain"))
        .body(bytes::Bytes::copy_from_slice(body.as_bytes()))
    {
        let mut request: auth_core::AuthRequest = request;
        let prepared = signer().sign_with(&mut request, &options);
        match (&general, prepared) {
            (Ok(general), Ok(())) => assert_eq!(
                request.headers()["authorization"].as_bytes(),
                general.authorization.as_bytes()
            ),
            (Err(_), Err(_)) => {}
            (general, prepared) => panic!("general {general:?}, prepared {prepared:?}"),
        }
    }
    if let Ok(base) = base_string(method, &uri, form, &protocol) {
        assert_eq!(base.split('&').count(), 3, "{base}");
        assert!(base.split('&').skip(1).all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
        }));
    }
});
