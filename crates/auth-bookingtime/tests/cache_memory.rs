//! Memory of an access's organizations, counted by a counting global allocator: bytes
//! per cached organization, and memory bounded by the cache's capacity however many
//! organizations come.
//!
//! 10,000 organizations go through `Access::organization`, and their tokens through
//! the crate's whole path (`HttpClient`, the OAuth 2.0 client, both stages, the
//! `CachingProvider`s) over a transport that answers `POST /oauth/token` in process:
//! the count is of the cache, not of sockets. (That an evicted organization's token
//! comes back from a shared store is shown over real HTTP in `end_to_end.rs`.) One
//! test in this binary, so that no other test's allocations are counted. Run with
//! `--nocapture` for the figures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::alloc::System;
use std::sync::Arc;
use std::time::Instant;

use auth_bookingtime::{Bookingtime, BookingtimeConfig, OrganizationId};
use auth_core::http::{
    HttpClient, HttpPolicy, ResponseBody, Transport, TransportError, TransportFuture,
};
use auth_core::{ManualClock, SecretString};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Answers `POST /oauth/token` as the document does: client credentials give a
/// 30-day refresh token and no access token; the exchange gives a 5-minute access
/// token for the `organization_id` asked for.
#[derive(Debug)]
struct TokenAnswers;

impl Transport for TokenAnswers {
    fn send(&self, request: http::Request<Bytes>) -> TransportFuture<'_> {
        let form: Vec<(String, String)> = url::form_urlencoded::parse(request.body())
            .into_owned()
            .collect();
        let param = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let body = match param("grant_type").as_str() {
            "client_credentials" => serde_json::json!({
                "refresh_token": "def50200a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8",
                "token_type": "Bearer",
                "expires_in": 2_592_000,
            }),
            _ => serde_json::json!({
                // A token of the document's length per organization.
                "access_token": format!("{:x<64}", param("organization_id")),
                "token_type": "Bearer",
                "expires_in": 300,
            }),
        }
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

fn client(capacity: usize) -> Bookingtime {
    let http = HttpClient::new(Arc::new(TokenAnswers), HttpPolicy::default());
    let config = BookingtimeConfig::new("app-1", SecretString::from("s3cret")).unwrap();
    Bookingtime::builder(config)
        .http(http)
        .clock(Arc::new(ManualClock::starting_at_unix(1_760_000_000)))
        .cache_capacity(capacity)
        .build()
        .unwrap()
}

/// Bytes allocated and not freed since `region` began (a `realloc` already counts
/// its difference in one of the two).
fn live(region: &Region<'_, System>) -> i64 {
    let s = region.change();
    s.bytes_allocated as i64 - s.bytes_deallocated as i64
}

/// Organizations `from..to` through the app's access, each with its token cached
/// when `tokens`.
fn organizations(
    runtime: &tokio::runtime::Runtime,
    client: &Bookingtime,
    from: usize,
    to: usize,
    tokens: bool,
) {
    for i in from..to {
        let id = OrganizationId::new(format!("f6a1b2c3-{i:08}")).unwrap();
        let organization = client.app().organization(&id);
        if tokens {
            runtime.block_on(async {
                organization.token().await.unwrap();
                // The provider spawns its fetch, which here is done before the
                // runtime ever ran the task: let it run, as a busy runtime would.
                tokio::task::yield_now().await;
            });
        }
    }
}

#[test]
fn ten_thousand_organizations_stay_within_the_cache_capacity() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    // Warm up what is allocated once per process (runtime, thread-locals).
    organizations(&runtime, &client(10), 0, 20, true);

    // Bytes per cached organization, 10,000 (the default capacity) kept. The client
    // and its app's refresh token are made before counting.
    let mut per_entry = Vec::new();
    for tokens in [false, true] {
        let all = client(10_000);
        runtime.block_on(all.app().refresh_token_expiry()).unwrap();
        let region = Region::new(GLOBAL);
        organizations(&runtime, &all, 0, 10_000, tokens);
        per_entry.push(live(&region) as f64 / 10_000.0);
        drop(all);
    }
    eprintln!(
        "bookingtime: bytes per cached organization (10,000 kept, the default \
         capacity): {:.0} with no token yet, {:.0} with its token cached",
        per_entry[0], per_entry[1]
    );

    // Bounded: capacity 1,000; memory after 1,000 organizations and after 10,000.
    let bounded = client(1_000);
    runtime
        .block_on(bounded.app().refresh_token_expiry())
        .unwrap();
    let region = Region::new(GLOBAL);
    organizations(&runtime, &bounded, 0, 1_000, true);
    let after_1k = live(&region);
    organizations(&runtime, &bounded, 1_000, 10_000, true);
    let after_10k = live(&region);
    let ratio = after_10k as f64 / after_1k as f64;
    eprintln!(
        "bookingtime: capacity 1,000, tokens cached: {after_1k} bytes after 1,000 \
         organizations ({:.0} each), {after_10k} bytes after 10,000: x{ratio:.2}; \
         {:.1} s in all",
        after_1k as f64 / 1_000.0,
        started.elapsed().as_secs_f64()
    );
    // The cache keeps its capacity (and what quick_cache remembers of evicted keys,
    // a hash each): memory after 10,000 organizations is within 1.25 x that after
    // 1,000, not the 10 x a cache without bounds would hold.
    assert!(ratio < 1.25, "x{ratio:.2}");
    drop(bounded);
}
