//! `id_token_validate`: validating an RS256 ID token with `auth-oauth2` (header read,
//! algorithm allow-list, key from the cached JWKS, signature, claims) next to a raw
//! RS256 signature verification of the same token with ring (base64url decode of the
//! signature, then the verification). Target: `auth-oauth2` within 1.2x of
//! `raw-rs256`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use std::hint::black_box;
use std::sync::Arc;

use auth_core::http::HttpClient;
use auth_core::{Clock, ManualClock, unix_seconds};
use auth_oauth2::oidc::OidcProvider;
use auth_testkit::oauth2::{AuthServer, AuthServerConfig};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};

fn id_token_validate(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server =
        AuthServer::start(AuthServerConfig::new("web", "s").clock(Arc::new(clock.clone())))
            .unwrap();
    let provider = runtime
        .block_on(OidcProvider::discover(
            server.issuer(),
            HttpClient::with_defaults().unwrap(),
            Arc::new(clock.clone()) as Arc<dyn Clock>,
        ))
        .unwrap();
    let now = unix_seconds(clock.now());
    let token = server.sign_id_token(&serde_json::json!({
        "iss": server.issuer(), "sub": "alice", "aud": "web", "azp": "web",
        "iat": now, "exp": now + 300, "nonce": "n-123", "email": "alice@example.com",
    }));
    let verifier = provider.id_token_verifier("web");
    // Fill the JWKS cache: the benchmark measures validation with cached keys.
    runtime
        .block_on(verifier.verify(&token, Some("n-123")))
        .unwrap();

    let jwk = server.current_jwk();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let e = URL_SAFE_NO_PAD.decode(jwk["e"].as_str().unwrap()).unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();

    let mut group = c.benchmark_group("id_token_validate");
    group.bench_function("auth-oauth2", |b| {
        b.iter(|| {
            let claims = futures_util::FutureExt::now_or_never(
                verifier.verify(black_box(&token), Some("n-123")),
            );
            assert!(matches!(claims, Some(Ok(_))));
        });
    });
    group.bench_function("raw-rs256", |b| {
        b.iter(|| {
            let sig = URL_SAFE_NO_PAD.decode(black_box(signature)).unwrap();
            RsaPublicKeyComponents { n: &n, e: &e }
                .verify(
                    &RSA_PKCS1_2048_8192_SHA256,
                    black_box(signed.as_bytes()),
                    &sig,
                )
                .unwrap();
        });
    });
    group.finish();
}

criterion_group!(benches, id_token_validate);
criterion_main!(benches);
