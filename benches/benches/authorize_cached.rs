//! `authorize()` with a cached bearer token, next to inserting a prebuilt header value
//! into the same request. Target: the first within 2x of the second.
//!
//! The cached path never awaits, so the future is polled once with `now_or_never`:
//! what is measured is `authorize` itself, not an executor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::hint::black_box;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    AuthRequest, CachingProvider, Clock, CredentialProvider, Error, SystemClock, Token, TokenSource,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::header::{ACCEPT, AUTHORIZATION, HeaderValue, USER_AGENT};

#[derive(Debug)]
struct Static;

#[async_trait]
impl TokenSource for Static {
    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
        Ok(Token::bearer(
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiIyIiwic3ViIjoiMSJ9.c2lnbmF0dXJl",
            SystemClock.now(),
        )
        .expires_in(Duration::from_secs(3600)))
    }
}

fn request() -> AuthRequest {
    let mut request = http::Request::builder()
        .method("GET")
        .uri("https://api.example.com/app/v3/de/organization/f6a1/show?expand=all")
        .body(bytes::Bytes::new())
        .expect("request");
    let headers = request.headers_mut();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static("bench/1.0"));
    request
}

fn authorize_cached(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let provider = CachingProvider::new(Static);
    let primed = runtime.block_on(provider.token()).expect("token");
    let prebuilt = primed.header().clone();
    let template = request();

    let mut group = c.benchmark_group("authorize_cached");
    group.bench_function("authorize", |b| {
        b.iter_batched_ref(
            || template.clone(),
            |req| {
                provider
                    .authorize(black_box(req))
                    .now_or_never()
                    .expect("the cached path never waits")
                    .expect("authorized");
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("prebuilt_header", |b| {
        b.iter_batched_ref(
            || template.clone(),
            |req| {
                black_box(req)
                    .headers_mut()
                    .insert(AUTHORIZATION, black_box(&prebuilt).clone());
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, authorize_cached);
criterion_main!(benches);
