//! The HTTP defaults against the test kit's faults, over real HTTP on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use auth_core::http::{AuthorizedClient, HttpClient};
use auth_core::http::{HttpPolicy, RetryPolicy};
use auth_core::reqwest::authorize_reqwest;
use auth_core::{CredentialProvider, Error, RefreshPolicy};
use auth_testkit::generic::{RESOURCE_PATH, TOKEN_PATH};
use auth_testkit::{Fault, ServerBuilder, TestResponse, TestServer};
use http::{Method, StatusCode};

fn echo_server() -> TestServer {
    ServerBuilder::new("echo")
        .route(Method::GET, "/ok", |_| {
            TestResponse::json(
                StatusCode::OK,
                &serde_json::json!({ "ok": true, "pad": "x".repeat(64) }),
            )
        })
        .start()
        .expect("server")
}

fn request(method: http::Method, url: &str) -> http::Request<bytes::Bytes> {
    http::Request::builder()
        .method(method)
        .uri(url)
        .body(bytes::Bytes::new())
        .expect("request")
}

fn client(policy: HttpPolicy) -> HttpClient {
    HttpClient::with_policy(policy).expect("client")
}

async fn get(
    client: &HttpClient,
    server: &TestServer,
) -> Result<auth_core::http::HttpResponse, Error> {
    client
        .send(request(http::Method::GET, server.url("/ok").as_str()))
        .await
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let server = echo_server();
    let client = client(common::policy());
    server.inject(Fault::ServerError, 2);
    let ok = get(&client, &server).await.expect("third attempt succeeds");
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(server.requests("/ok"), 3);
    assert_eq!(ok.attempts, 3, "every attempt reached the server");

    server.inject(Fault::ServerError, 10);
    let last = get(&client, &server).await.expect("response");
    assert_eq!(last.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(last.attempts, 3);
    assert!(matches!(last.error_for_status(), Err(Error::Status { .. })));
    assert_eq!(server.requests("/ok"), 6, "1 + 2 retries, never more");
}

#[tokio::test]
async fn a_post_behind_a_server_error_is_sent_once_and_says_so() {
    let server = echo_server();
    let client = client(common::policy());
    server.inject(Fault::ServerError, 1);
    let request = http::Request::post(server.url("/ok").as_str())
        .body(bytes::Bytes::from_static(b"{}"))
        .expect("request");
    let response = client.send(request).await.expect("response");
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.attempts, 1);
    assert_eq!(
        server.requests("/ok"),
        1,
        "a POST is never repeated after a 5xx"
    );

    let plain = get(&client, &server).await.expect("response");
    assert_eq!(plain.attempts, 1, "no retry, one attempt");
}

#[tokio::test]
async fn retry_after_is_honoured_and_capped() {
    let server = echo_server();
    let client = client(common::policy());
    server.inject(
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        1,
    );
    let started = Instant::now();
    let retried = get(&client, &server).await.expect("retried");
    assert!(retried.is_success());
    assert_eq!(retried.attempts, 2);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    assert_eq!(server.requests("/ok"), 2);

    // A wait beyond the cap is not retried: the caller gets the 429 at once.
    server.clear_faults();
    server.inject(
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(3600),
        },
        1,
    );
    let refused = get(&client, &server).await.expect("response");
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.attempts, 1);
    assert_eq!(server.requests("/ok"), 3);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = echo_server();
    let client = client(common::policy());
    server.inject(Fault::Redirect("http://127.0.0.1:9/elsewhere".into()), 1);
    let response = get(&client, &server).await.expect("response");
    assert!(
        matches!(response.error_for_status(), Err(Error::Redirect { status }) if status == Some(StatusCode::FOUND))
    );
    assert_eq!(server.total_requests(), 1);
}

#[tokio::test]
async fn bodies_are_capped_timed_and_checked() {
    let server = echo_server();
    let client = client(common::policy().with_max_body_bytes(16 * 1024));

    server.inject(Fault::OversizedBody(64 * 1024), 1);
    assert!(matches!(
        get(&client, &server).await,
        Err(Error::BodyTooLarge { limit: 16384 })
    ));

    server.inject(Fault::TruncatedBody, 1);
    let truncated = get(&client, &server).await;
    assert!(
        matches!(truncated, Err(Error::Transport { .. })),
        "{truncated:?}"
    );

    server.inject(Fault::TrickleBody(Duration::from_millis(50)), 1);
    let trickled = get(&client, &server).await;
    assert!(
        matches!(trickled, Err(Error::Timeout { .. })),
        "{trickled:?}"
    );

    server.inject(Fault::Delay(Duration::from_secs(2)), 1);
    assert!(matches!(
        get(&client, &server).await,
        Err(Error::Timeout { .. })
    ));

    server.inject(Fault::HtmlPage(StatusCode::BAD_GATEWAY), 1);
    let html = get(&client, &server).await;
    // 502 is retryable: the retry gets the real answer.
    assert!(html.expect("retried").is_success());

    server.inject(Fault::HtmlPage(StatusCode::OK), 1);
    let page = get(&client, &server).await.expect("response");
    assert!(matches!(
        page.json::<serde_json::Value>(),
        Err(Error::InvalidResponse { .. })
    ));

    server.inject(Fault::MalformedJson, 1);
    let malformed = get(&client, &server).await.expect("response");
    assert!(matches!(
        malformed.json::<serde_json::Value>(),
        Err(Error::InvalidResponse { .. })
    ));
    assert_eq!(server.requests("/ok"), 8);
}

#[tokio::test]
async fn connect_errors_are_retried_then_typed() {
    // Bind and drop a listener: the port is (almost certainly) closed now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let client = client(common::policy());
    let request = request(
        http::Method::GET,
        &format!("http://127.0.0.1:{port}/x?api_key=top-secret"),
    );
    let err = client.send(request).await.expect_err("nothing listens");
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("top-secret"));
}

#[tokio::test]
async fn plain_http_is_refused_unless_loopback() {
    let client = client(HttpPolicy::default().with_retry(RetryPolicy::none()));
    let request = request(http::Method::GET, "http://api.example.com/token");
    assert!(matches!(
        client.send(request).await,
        Err(Error::InsecureUrl { .. })
    ));
}

#[tokio::test]
async fn a_401_drops_the_cached_token_and_retries_once() {
    let f = common::fixture(
        Duration::from_secs(3600),
        common::policy(),
        RefreshPolicy::default(),
    );
    let provider: Arc<dyn CredentialProvider> = Arc::new(f.provider.clone());
    let http = client(common::policy());
    let api = AuthorizedClient::new(http.clone(), Arc::clone(&provider));
    let resource = || request(http::Method::GET, f.server.resource_url().as_str());

    assert!(api.send(resource()).await.expect("first").is_success());
    assert_eq!(f.server.server().requests(TOKEN_PATH), 1);

    // The server forgets every token: one 401, a fresh token, success.
    f.server.revoke_all();
    assert!(
        api.send(resource())
            .await
            .expect("after revoke")
            .is_success()
    );
    assert_eq!(f.server.server().requests(TOKEN_PATH), 2);
    assert_eq!(f.server.server().requests(RESOURCE_PATH), 3);

    // Only once: if the fresh token is refused as well, the 401 comes back.
    f.server
        .server()
        .inject_on(RESOURCE_PATH, Fault::HtmlPage(StatusCode::UNAUTHORIZED), 2);
    let refused = api.send(resource()).await.expect("response");
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(f.server.server().requests(RESOURCE_PATH), 5);

    // authorize_reqwest on a plain reqwest request.
    let mut request = reqwest::Client::new()
        .get(f.server.resource_url())
        .build()
        .expect("request");
    authorize_reqwest(&*provider, &mut request)
        .await
        .expect("authorize");
    assert!(
        request.headers()["authorization"]
            .to_str()
            .expect("ascii")
            .starts_with("Bearer gen-")
    );
}
