//! Shared set-up: a generic token server and a caching provider over real HTTP.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::{HttpPolicy, RetryPolicy};
use auth_core::{CachingProvider, Clock, ManualClock, RefreshPolicy, SecretString};
use auth_testkit::generic::{GenericTokenServer, GenericTokenSource};

pub const CLIENT_ID: &str = "demo-client";
pub const CLIENT_SECRET: &str = "demo-secret-Zq8w";

pub struct Fixture {
    pub clock: ManualClock,
    pub server: GenericTokenServer,
    pub provider: CachingProvider<GenericTokenSource>,
}

pub fn policy() -> HttpPolicy {
    HttpPolicy::default()
        .with_request_timeout(Duration::from_millis(800))
        .with_retry(RetryPolicy::default().with_base_delay(Duration::from_millis(10)))
}

pub fn fixture(lifetime: Duration, http: HttpPolicy, refresh: RefreshPolicy) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_750_000_000);
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let server = GenericTokenServer::start(Arc::clone(&shared), CLIENT_ID, CLIENT_SECRET, lifetime)
        .expect("start server");
    let source = GenericTokenSource::new(
        http,
        server.token_url(),
        CLIENT_ID,
        SecretString::from(CLIENT_SECRET),
        Arc::clone(&shared),
    )
    .expect("source");
    let provider = CachingProvider::builder(source)
        .clock(shared)
        .policy(refresh)
        .build();
    Fixture {
        clock,
        server,
        provider,
    }
}
