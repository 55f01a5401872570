//! Two groups:
//!
//! - `authorize_cached`: `authorize()` with a cached bearer token, next to inserting a
//!   prebuilt header value into the same request. Target: the first within 2x of the
//!   second.
//! - `authorize_contention`: the same `authorize()` on one thread, and on two threads
//!   at once on one provider (released together, each timing its own loop; the longer
//!   of the two is the sample), per call on each thread. Target: two threads within
//!   1.2x of one. The prebuilt header's insert on one and two threads (both threads
//!   cloning the one cached value) and the insert of a value of each thread's own
//!   (`unshared`) are beside it, to tell the provider's share from the header value's.
//!
//! The cached path never awaits, so the future is polled once with `now_or_never`:
//! what is measured is `authorize` itself, not an executor. The allocation count of a
//! cached `authorize()` (none) is checked by `crates/auth-core/tests/allocations.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use auth_core::{
    AuthRequest, CachingProvider, Clock, CredentialProvider, Error, SystemClock, Token, TokenSource,
};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::HeaderMap;
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

/// A request with room for the `Authorization` header in its map, as a request built
/// with `http`'s builder usually has: growing the map is the caller's allocation, the
/// same in both functions, and would blur the difference between them. (A cloned map
/// has no spare room, and `HeaderMap::reserve` leaves the entries' vector as it is.)
fn request() -> AuthRequest {
    let mut request = http::Request::builder()
        .method("GET")
        .uri("https://api.example.com/app/v3/de/organization/f6a1/show?expand=all")
        .body(bytes::Bytes::new())
        .expect("request");
    let mut headers = HeaderMap::with_capacity(8);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(USER_AGENT, HeaderValue::from_static("bench/1.0"));
    *request.headers_mut() = headers;
    request
}

fn authorize_cached(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let provider = CachingProvider::new(Static);
    let primed = runtime.block_on(provider.token()).expect("token");
    let prebuilt = primed.header().clone();

    let mut group = c.benchmark_group("authorize_cached");
    group.bench_function("authorize", |b| {
        b.iter_batched_ref(
            request,
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
            request,
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

/// Runs `work(iters)` on `threads` threads at once, released together by a barrier,
/// each timing its own loop; returns the longest of those times.
fn on_threads(threads: usize, iters: u64, work: &(impl Fn(u64) + Sync)) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|scope| {
        let timed: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let started = Instant::now();
                    work(iters);
                    started.elapsed()
                })
            })
            .collect();
        timed
            .into_iter()
            .map(|t| t.join().expect("bench thread"))
            .max()
            .unwrap_or_default()
    })
}

fn authorize_contention(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let provider = CachingProvider::new(Static);
    let primed = runtime.block_on(provider.token()).expect("token");
    let prebuilt = primed.header().clone();

    // Each thread authorizes its own request over and over: the header is replaced
    // (the previous value dropped), as on a request sent again.
    let authorize = |iters: u64| {
        let mut req = request();
        for _ in 0..iters {
            provider
                .authorize(black_box(&mut req))
                .now_or_never()
                .expect("the cached path never waits")
                .expect("authorized");
        }
    };
    let insert = |iters: u64| {
        let mut req = request();
        for _ in 0..iters {
            black_box(&mut req)
                .headers_mut()
                .insert(AUTHORIZATION, black_box(&prebuilt).clone());
        }
    };
    // The same insert with a copy of the value per thread (a reference count of its
    // own): what two threads cost when they share nothing.
    let unshared = |iters: u64| {
        let mut req = request();
        let mut own = HeaderValue::from_bytes(prebuilt.as_bytes()).expect("header");
        own.set_sensitive(true);
        for _ in 0..iters {
            black_box(&mut req)
                .headers_mut()
                .insert(AUTHORIZATION, black_box(&own).clone());
        }
    };

    let mut group = c.benchmark_group("authorize_contention");
    for threads in [1, 2] {
        group.bench_function(format!("authorize-{threads}-thread"), |b| {
            b.iter_custom(|iters| on_threads(threads, iters, &authorize));
        });
    }
    for threads in [1, 2] {
        group.bench_function(format!("prebuilt-{threads}-thread"), |b| {
            b.iter_custom(|iters| on_threads(threads, iters, &insert));
        });
    }
    for threads in [1, 2] {
        group.bench_function(format!("unshared-{threads}-thread"), |b| {
            b.iter_custom(|iters| on_threads(threads, iters, &unshared));
        });
    }
    group.finish();
}

criterion_group!(benches, authorize_cached, authorize_contention);
criterion_main!(benches);
