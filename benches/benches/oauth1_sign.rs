//! `oauth1_sign`: a full OAuth 1.0a sign of a GET with three query parameters and
//! token credentials, by this workspace's `auth-oauth1` and by the `oauth1-request`
//! crate, next to the floor a sign cannot go below: `hmac-sha1-precomputed`, the
//! HMAC-SHA1 chain the signer runs (the key's padded blocks compressed once, up front)
//! over the same base string a sign hashes (a generated nonce has the same 22
//! characters, a timestamp the same 10 digits). `raw-hmac-sha1` is the `hmac` crate
//! with the key set up on every call, for reference.
//!
//! Targets (DESIGN.md, "Performance targets"): `auth-oauth1` within 2x of
//! `hmac-sha1-precomputed`, and at least 1.5x faster than `oauth1-request`. The one
//! allocation per sign is checked by `crates/auth-oauth1/tests/allocations.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // bench code

use std::hint::black_box;

use auth_core::SecretString;
use auth_oauth1::internal::PrecomputedHmacSha1;
use auth_oauth1::{Consumer, SignOptions, Signer, TokenCredentials, hmac_sha1};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

const CONSUMER_KEY: &str = "dpf43f3p2l4k3l03";
const CONSUMER_SECRET: &str = "kd94hf93k423kf44";
const TOKEN: &str = "nnch734d00sl2jdk";
const TOKEN_SECRET: &str = "pfkkdhi9sl3r4s00";
const BASE: &str = "http://photos.example.net/photos";
const URI: &str = "http://photos.example.net/photos?file=vacation.jpg&size=original&page=2";

fn oauth1_sign(c: &mut Criterion) {
    let signer = Signer::builder(Consumer::new(
        CONSUMER_KEY,
        SecretString::from(CONSUMER_SECRET),
    ))
    .token(TokenCredentials::new(
        TOKEN,
        SecretString::from(TOKEN_SECRET),
    ))
    .build()
    .unwrap();
    let template: auth_core::AuthRequest =
        http::Request::get(URI).body(bytes::Bytes::new()).unwrap();

    // The base string the raw HMAC signs: the one auth-oauth1 builds for this request.
    let base = signer
        .sign_parts(
            "GET",
            &URI.parse().unwrap(),
            None,
            b"",
            &SignOptions {
                nonce: Some("kYjzVBB8Y0ZFabxSWbWovY"),
                timestamp: Some(1_318_622_958),
                ..Default::default()
            },
        )
        .unwrap()
        .base_string;
    let key = format!("{CONSUMER_SECRET}&{TOKEN_SECRET}");
    let precomputed = PrecomputedHmacSha1::new(key.as_bytes());
    // The chain is the signer's: the same MAC as the reference HMAC.
    assert_eq!(
        precomputed.sign(base.as_bytes()),
        hmac_sha1(key.as_bytes(), base.as_bytes())
    );

    let token =
        oauth1_request::Token::from_parts(CONSUMER_KEY, CONSUMER_SECRET, TOKEN, TOKEN_SECRET);
    // The same three query parameters (oauth1-request's `derive` feature is left out:
    // its proc-macro-error dependency is unmaintained, RUSTSEC-2024-0370).
    let photos = oauth1_request::ParameterList::from_sorted([
        ("file", "vacation.jpg"),
        ("page", "2"),
        ("size", "original"),
    ])
    .unwrap();

    let mut group = c.benchmark_group("oauth1_sign");
    group.bench_function("auth-oauth1", |b| {
        b.iter_batched_ref(
            || template.clone(),
            |request| signer.sign(black_box(request)).unwrap(),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("oauth1-request", |b| {
        b.iter(|| {
            oauth1_request::get(
                black_box(BASE),
                black_box(&photos),
                &token,
                oauth1_request::HMAC_SHA1,
            )
        });
    });
    group.bench_function("hmac-sha1-precomputed", |b| {
        b.iter(|| precomputed.sign(black_box(base.as_bytes())));
    });
    group.bench_function("raw-hmac-sha1", |b| {
        b.iter(|| hmac_sha1(black_box(key.as_bytes()), black_box(base.as_bytes())));
    });
    group.finish();
}

criterion_group!(benches, oauth1_sign);
criterion_main!(benches);
