//! The caching provider against a real token server on loopback: single flight,
//! proactive refresh, failures without poisoned state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::{AuthRequest, CredentialProvider, Error, RefreshPolicy};
use auth_testkit::Fault;
use auth_testkit::generic::TOKEN_PATH;
use common::{fixture, policy};
use http::header::AUTHORIZATION;

async fn authorize(provider: &dyn CredentialProvider) -> Result<String, Error> {
    let mut request = AuthRequest::new(Default::default());
    provider.authorize(&mut request).await?;
    Ok(request.headers()[AUTHORIZATION]
        .to_str()
        .expect("ascii")
        .to_owned())
}

async fn authorize_concurrently(
    provider: &Arc<dyn CredentialProvider>,
    n: usize,
) -> Vec<Result<String, Error>> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let p = Arc::clone(provider);
            tokio::spawn(async move { authorize(&*p).await })
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_cause_one_token_request_then_one_more_after_expiry() {
    let f = fixture(
        Duration::from_secs(3600),
        policy(),
        RefreshPolicy::default(),
    );
    let provider: Arc<dyn CredentialProvider> = Arc::new(f.provider.clone());

    let first = authorize_concurrently(&provider, 1000).await;
    assert!(first.iter().all(Result::is_ok));
    let header = first[0].as_ref().expect("ok").clone();
    assert!(first.iter().all(|h| h.as_ref().ok() == Some(&header)));
    assert_eq!(f.server.server().requests(TOKEN_PATH), 1);

    f.clock.advance(Duration::from_secs(3601));
    let second = authorize_concurrently(&provider, 1000).await;
    assert!(second.iter().all(Result::is_ok));
    assert!(second.iter().all(|h| h.as_ref().ok() != Some(&header)));
    assert_eq!(f.server.server().requests(TOKEN_PATH), 2);
}

/// Proactive refresh for a token of `lifetime`: nothing before the margin, a
/// background refresh inside it while callers keep the old token without waiting.
async fn proactive_refresh(lifetime: Duration) {
    let refresh = RefreshPolicy::default().without_jitter();
    let margin = refresh.margin(lifetime);
    let f = fixture(lifetime, policy(), refresh);
    let old = authorize(&f.provider).await.expect("first token");
    assert_eq!(f.server.server().requests(TOKEN_PATH), 1);

    // Just before the margin: no refresh.
    f.clock.advance(lifetime - margin - Duration::from_secs(1));
    assert_eq!(authorize(&f.provider).await.expect("cached"), old);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(f.server.server().requests(TOKEN_PATH), 1);

    // Inside the margin and before expiry: the refresh is slow, callers do not wait.
    f.clock.advance(Duration::from_secs(2));
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::Delay(Duration::from_millis(400)), 1);
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(authorize(&f.provider).await.expect("old token"), old);
    }
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "callers waited for the refresh: {:?}",
        started.elapsed()
    );
    // The refresh completes in the background and the new token is served.
    let deadline = Instant::now() + Duration::from_secs(5);
    let new = loop {
        let h = authorize(&f.provider).await.expect("token");
        if h != old {
            break h;
        }
        assert!(Instant::now() < deadline, "refresh never landed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_ne!(new, old);
    assert_eq!(
        f.server.server().requests(TOKEN_PATH),
        2,
        "exactly one refresh"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proactive_refresh_of_a_five_minute_token() {
    proactive_refresh(Duration::from_secs(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proactive_refresh_of_a_one_hour_token() {
    proactive_refresh(Duration::from_secs(3600)).await;
}

/// 50 callers wait on one failing fetch: all get the same typed error.
async fn all_waiters_fail(provider: &Arc<dyn CredentialProvider>, check: impl Fn(&Error) -> bool) {
    let results = authorize_concurrently(provider, 50).await;
    for r in &results {
        match r {
            Err(e) => assert!(check(e), "unexpected error: {e:?}"),
            Ok(h) => panic!("expected an error, got a token {h}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_refreshes_reach_every_waiter_and_leave_no_poisoned_state() {
    let f = fixture(Duration::from_secs(300), policy(), RefreshPolicy::default());
    let provider: Arc<dyn CredentialProvider> = Arc::new(f.provider.clone());
    let server = f.server.server();

    // Each failing fetch is slowed down so that all 50 callers are waiting on it.
    let slow = Duration::from_millis(300);
    // 500 on every attempt: 1 request + 2 bounded retries, then a typed status error.
    server.slow_down(TOKEN_PATH, slow, 1);
    server.inject_on(TOKEN_PATH, Fault::ServerError, 3);
    all_waiters_fail(
        &provider,
        |e| matches!(e, Error::Status { status, .. } if status.as_u16() == 500),
    )
    .await;
    assert_eq!(server.requests(TOKEN_PATH), 3);

    // Malformed JSON: not retried.
    server.slow_down(TOKEN_PATH, slow, 1);
    server.inject_on(TOKEN_PATH, Fault::MalformedJson, 1);
    all_waiters_fail(&provider, |e| matches!(e, Error::InvalidResponse { .. })).await;
    assert_eq!(server.requests(TOKEN_PATH), 4);

    // Slower than the client's timeout: not retried.
    server.inject_on(TOKEN_PATH, Fault::Delay(Duration::from_secs(2)), 1);
    all_waiters_fail(&provider, |e| matches!(e, Error::Timeout { .. })).await;
    assert_eq!(server.requests(TOKEN_PATH), 5);

    // The next call fetches again and succeeds; everybody shares that token.
    let ok = authorize_concurrently(&provider, 50).await;
    assert!(ok.iter().all(Result::is_ok));
    assert_eq!(server.requests(TOKEN_PATH), 6);
}

#[tokio::test]
async fn a_cancelled_caller_does_not_stall_the_others() {
    let f = fixture(Duration::from_secs(300), policy(), RefreshPolicy::default());
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::Delay(Duration::from_millis(200)), 1);
    let impatient = tokio::time::timeout(Duration::from_millis(20), authorize(&f.provider)).await;
    assert!(impatient.is_err(), "the first caller gave up");
    authorize(&f.provider).await.expect("the fetch went on");
    assert_eq!(f.server.server().requests(TOKEN_PATH), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_renewal_never_hands_out_a_due_token() {
    let lifetime = Duration::from_secs(3600);
    let refresh = RefreshPolicy::default()
        .without_jitter()
        .with_renewal(auth_core::Renewal::Blocking);
    let margin = refresh.margin(lifetime);
    let f = fixture(lifetime, policy(), refresh);
    let old = authorize(&f.provider).await.expect("first token");
    f.clock.advance(lifetime - margin + Duration::from_secs(1));
    // Due and still valid: the caller waits for the new token instead of the old.
    let new = authorize(&f.provider).await.expect("renewed");
    assert_ne!(new, old);
    assert_eq!(f.server.server().requests(TOKEN_PATH), 2);
}

#[tokio::test]
async fn discard_drops_only_the_token_it_names() {
    let f = fixture(
        Duration::from_secs(3600),
        policy(),
        RefreshPolicy::default(),
    );
    let first = f.provider.token().await.unwrap();
    // Two callers saw the same refusal: the first discard drops it, a fetch follows.
    f.provider.discard(&first);
    let second = f.provider.token().await.unwrap();
    assert_ne!(first.header(), second.header());
    assert_eq!(f.server.server().requests(TOKEN_PATH), 2);
    // The late second discard names a token no longer cached: the new one stays.
    f.provider.discard(&first);
    let still = f.provider.token().await.unwrap();
    assert_eq!(still.header(), second.header());
    assert_eq!(f.server.server().requests(TOKEN_PATH), 2);
}
