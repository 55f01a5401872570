//! Memory of the users' cache, counted by a counting global allocator: bytes per
//! cached user, and memory bounded by the cache's capacity however many users come.
//!
//! 100,000 users go through `Binokula::user`, and their tokens through the crate's
//! whole path (`HttpClient`, the token answer's parsing, the `CachingProvider`) over a
//! transport that answers `GET /api/Token` in process: the count is of the cache, not
//! of sockets. (That an evicted user's token comes back from a shared store is shown
//! over real HTTP in `end_to_end.rs`.) One test in this binary, so that no other
//! test's allocations are counted. Run with `--nocapture` for the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::alloc::System;
use std::sync::Arc;
use std::time::Instant;

use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, FunctionKey};
use auth_core::ManualClock;
use auth_core::http::{
    HttpClient, HttpPolicy, ResponseBody, Transport, TransportError, TransportFuture,
};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const START: u64 = 1_750_000_000;

/// Answers every `GET /api/Token` with the guide's token answer for the `email` asked
/// for: a 44-character token, as in the guide, valid one hour.
#[derive(Debug)]
struct TokenAnswers {
    expiry: String,
}

impl Transport for TokenAnswers {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let url = url::Url::parse(&request.uri().to_string()).unwrap();
        let email = url
            .query_pairs()
            .find(|(k, _)| k == "email")
            .map(|(_, v)| v.into_owned())
            .unwrap();
        let token = format!("{email:x<44}");
        let body = serde_json::json!({
            "email": email,
            "access_token": token,
            "expiry_date": self.expiry,
        })
        .to_string();
        Box::pin(async move {
            let body: ResponseBody = Full::new(Bytes::from(body))
                .map_err(|e| match e {})
                .boxed_unsync();
            http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(body)
                .map_err(TransportError::other)
        })
    }
}

fn client(capacity: usize) -> Binokula {
    let expiry = OffsetDateTime::from_unix_timestamp(START as i64 + 3600)
        .unwrap()
        .format(&Rfc3339)
        .unwrap();
    let http = HttpClient::new(Arc::new(TokenAnswers { expiry }), HttpPolicy::default());
    let config =
        BinokulaConfig::new("acme", ClientSecret::new("s3cret"), FunctionKey::new("fn")).unwrap();
    Binokula::builder(config)
        .http(http)
        .clock(Arc::new(ManualClock::starting_at_unix(START)))
        .cache_capacity(capacity)
        .build()
        .unwrap()
}

fn email(i: usize) -> Email {
    Email::parse(&format!("user{i:06}@example.com")).unwrap()
}

/// Bytes allocated and not freed since `region` began (a `realloc` already counts
/// its difference in one of the two).
fn live(region: &Region<'_, System>) -> i64 {
    let s = region.change();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// Users `from..to` through the cache, each with its token cached when `tokens`.
fn users(
    runtime: &tokio::runtime::Runtime,
    client: &Binokula,
    from: usize,
    to: usize,
    tokens: bool,
) {
    for i in from..to {
        let user = client.user(&email(i));
        if tokens {
            runtime.block_on(async {
                user.token().await.unwrap();
                // The provider spawns its fetch, which here is done before the
                // runtime ever ran the task: let it run, as a busy runtime would.
                tokio::task::yield_now().await;
            });
        }
    }
}

#[test]
fn a_hundred_thousand_users_stay_within_the_cache_capacity() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    // Warm up what is allocated once per process (runtime, thread-locals).
    users(&runtime, &client(10), 0, 20, true);

    // Bytes per cached user: 100,000 users with no token yet in a cache that keeps
    // them all, and 10,000 (the default capacity) with their tokens.
    let mut per_entry = Vec::new();
    for (n, tokens) in [(100_000, false), (10_000, true)] {
        let all = client(n);
        let region = Region::new(GLOBAL);
        users(&runtime, &all, 0, n, tokens);
        per_entry.push(live(&region) as f64 / n as f64);
        drop(all);
    }
    eprintln!(
        "binokula: bytes per cached user: {:.0} with no token yet (100,000 users kept), \
         {:.0} with its token cached (10,000 kept, the default capacity)",
        per_entry[0], per_entry[1]
    );

    // Bounded: capacity 1,000; memory after 1,000 users and after 100,000.
    let bounded = client(1_000);
    let region = Region::new(GLOBAL);
    users(&runtime, &bounded, 0, 1_000, true);
    let after_1k = live(&region);
    users(&runtime, &bounded, 1_000, 100_000, true);
    let after_100k = live(&region);
    let ratio = after_100k as f64 / after_1k as f64;
    eprintln!(
        "binokula: capacity 1,000, tokens cached: {after_1k} bytes after 1,000 users \
         ({:.0} per user), {after_100k} bytes after 100,000 users: x{ratio:.2}; {:.1} s in all",
        after_1k as f64 / 1_000.0,
        started.elapsed().as_secs_f64()
    );
    // The cache keeps its capacity (and what quick_cache remembers of evicted keys,
    // a hash each): memory after 100,000 users is within 1.25 x that after 1,000.
    assert!(ratio < 1.25, "x{ratio:.2}");
    // And it is not the 100,000 users' worth a cache without bounds would hold.
    assert!(
        (after_100k as f64) < per_entry[1] * 2_000.0,
        "{after_100k} bytes"
    );
    drop(bounded);
}
