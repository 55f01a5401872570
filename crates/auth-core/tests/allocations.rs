//! Heap allocations per cached `authorize()`, counted with a counting global allocator.
//! The target is none: the token's `Authorization` value is built once, when the token
//! is cached, and every request gets a clone of it (a reference count, no copy).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::alloc::System;
use std::time::Duration;

use async_trait::async_trait;
use auth_core::{
    AuthRequest, CachingProvider, Clock, CredentialProvider, Error, SystemClock, Token, TokenSource,
};
use futures_util::FutureExt as _;
use http::HeaderMap;
use http::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[derive(Debug)]
struct Static;

#[async_trait]
impl TokenSource for Static {
    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
        Ok(
            Token::bearer("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl", SystemClock.now())
                .expires_in(Duration::from_secs(3600)),
        )
    }
}

/// A request with room in its header map: growing the map is the caller's allocation,
/// not the provider's. (A cloned map has no spare room, and `HeaderMap::reserve` on
/// it leaves the entries' vector as it is.)
fn request() -> AuthRequest {
    let mut request = http::Request::get("https://api.example.com/things?page=2")
        .body(bytes::Bytes::new())
        .unwrap();
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    *request.headers_mut() = headers;
    request
}

#[test]
fn a_cached_authorize_makes_no_allocation() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let provider = CachingProvider::new(Static);
    runtime.block_on(provider.token()).unwrap();
    // Warm up: the coarse clock's anchor, and the header value's first clone (which
    // moves its bytes into a shared buffer, once for the token's life).
    provider
        .authorize(&mut request())
        .now_or_never()
        .expect("the cached path never waits")
        .unwrap();

    let mut counts = Vec::new();
    for _ in 0..100 {
        let mut request = request();
        let region = Region::new(GLOBAL);
        provider
            .authorize(&mut request)
            .now_or_never()
            .expect("the cached path never waits")
            .unwrap();
        // Authorizing again replaces the value: no allocation either.
        provider
            .authorize(&mut request)
            .now_or_never()
            .expect("the cached path never waits")
            .unwrap();
        let stats = region.change();
        counts.push(stats.allocations + stats.reallocations);
        assert_eq!(
            request.headers()[AUTHORIZATION],
            "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl"
        );
    }
    let most = counts.iter().copied().max().unwrap();
    assert_eq!(
        most, 0,
        "allocations per two cached authorize() calls: {counts:?}"
    );
    println!("allocations per cached authorize(): {most}");
}
