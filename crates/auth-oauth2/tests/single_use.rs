//! Single-use credentials against a strict server (single-use codes; rotating refresh
//! tokens whose reuse revokes the family, RFC 9700 §4.14.2) that commits a grant and
//! then answers 502: the grant reaches the server once and the caller gets the 502,
//! typed, not the `invalid_grant` a repeat would have earned. A connect error before
//! the request was written is still retried; client_credentials keeps its retries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use auth_core::http::HttpClient;
use auth_core::http::{HttpPolicy, Repeat, RetryPolicy};
use auth_core::{Clock, Error as CoreError, ExposeSecret, ManualClock, SecretString};
use auth_oauth2::{ClientAuth, Error, OAuth2Client, PkceVerifier};
use auth_testkit::Fault;
use auth_testkit::oauth2::{AuthServer, AuthServerConfig, TOKEN_PATH};
use http::StatusCode;

const ID: &str = "app";
const SECRET: &str = "app-secret";
const REDIRECT: &str = "https://app.example/callback";

fn strict() -> (ManualClock, AuthServer) {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let config = AuthServerConfig::new(ID, SECRET)
        .clock(Arc::new(clock.clone()))
        .strict(true);
    (clock, AuthServer::start(config).unwrap())
}

fn client_at(token_url: &str, clock: &ManualClock, refresh: Repeat) -> OAuth2Client {
    let retry = RetryPolicy::default().with_base_delay(Duration::from_millis(5));
    OAuth2Client::builder(ID, token_url)
        .secret(SecretString::from(SECRET))
        .auth(ClientAuth::Basic)
        .http(HttpClient::with_policy(HttpPolicy::default().with_retry(retry)).unwrap())
        .clock(Arc::new(clock.clone()) as Arc<dyn Clock>)
        .repeat_refresh(refresh)
        .build()
        .unwrap()
}

async fn code(server: &AuthServer, verifier: &PkceVerifier) -> String {
    server
        .code_for(ID, REDIRECT, Some(&verifier.challenge()))
        .await
        .unwrap()
}

/// A signed-in user: the answer of a code exchange, with its refresh token.
async fn signed_in(server: &AuthServer, client: &OAuth2Client) -> SecretString {
    let verifier = PkceVerifier::random();
    let code = code(server, &verifier).await;
    let first = client
        .exchange_code(&code, Some(&verifier), REDIRECT, &[])
        .await
        .unwrap();
    first.refresh_token.unwrap()
}

fn is_502(e: &Error) -> bool {
    matches!(
        e,
        Error::Core(CoreError::Status { status, .. }) if *status == StatusCode::BAD_GATEWAY
    )
}

#[tokio::test]
async fn a_code_committed_behind_a_502_is_sent_once_and_the_502_is_reported() {
    let (clock, server) = strict();
    let client = client_at(server.token_url().as_str(), &clock, Repeat::Unsent);
    let verifier = PkceVerifier::random();
    let code = code(&server, &verifier).await;
    server
        .server()
        .inject_on(TOKEN_PATH, Fault::CommitThen(StatusCode::BAD_GATEWAY), 1);
    let error = client
        .exchange_code(&code, Some(&verifier), REDIRECT, &[])
        .await
        .unwrap_err();
    assert!(is_502(&error), "the 502 itself, typed: {error:?}");
    assert!(error.to_string().contains("502"), "{error}");
    assert_eq!(server.server().requests(TOKEN_PATH), 1, "sent exactly once");
    assert_eq!(server.redemptions(), 1, "the server did redeem it");
    assert_eq!(server.reuse_detections(), 0, "and never saw it twice");
    assert_eq!(server.revoked_families(), 0);
}

#[tokio::test]
async fn a_rotating_refresh_committed_behind_a_502_is_sent_once() {
    let (clock, server) = strict();
    let client = client_at(server.token_url().as_str(), &clock, Repeat::Unsent);
    let refresh = signed_in(&server, &client).await;
    server
        .server()
        .inject_on(TOKEN_PATH, Fault::CommitThen(StatusCode::BAD_GATEWAY), 1);
    let before = server.server().requests(TOKEN_PATH);
    let error = client.refresh(&refresh, None, &[]).await.unwrap_err();
    assert!(is_502(&error), "{error:?}");
    assert_eq!(server.server().requests(TOKEN_PATH) - before, 1);
    assert_eq!(server.refreshes(), 1, "the server rotated it");
    assert_eq!(server.reuse_detections(), 0);
    assert_eq!(server.revoked_families(), 0);
}

#[tokio::test]
async fn without_the_rule_the_repeat_burns_the_family() {
    // The control: a caller who marks the refresh repeatable against this server gets
    // what the issue described, an invalid_grant and a revoked family.
    let (clock, server) = strict();
    let client = client_at(server.token_url().as_str(), &clock, Repeat::Safe);
    let refresh = signed_in(&server, &client).await;
    server
        .server()
        .inject_on(TOKEN_PATH, Fault::CommitThen(StatusCode::BAD_GATEWAY), 1);
    let error = client.refresh(&refresh, None, &[]).await.unwrap_err();
    assert_eq!(
        error.oauth_code(),
        Some(&auth_oauth2::OAuthErrorCode::InvalidGrant)
    );
    assert_eq!(server.reuse_detections(), 1);
    assert_eq!(server.revoked_families(), 1);
}

#[tokio::test]
async fn client_credentials_keeps_its_retries() {
    let (clock, server) = strict();
    let client = client_at(server.token_url().as_str(), &clock, Repeat::Unsent);
    server
        .server()
        .inject_on(TOKEN_PATH, Fault::CommitThen(StatusCode::BAD_GATEWAY), 1);
    let token = client.client_credentials(None, &[]).await.unwrap();
    assert!(token.access_token.is_some());
    assert_eq!(server.server().requests(TOKEN_PATH), 2, "one retry");
}

#[tokio::test]
async fn a_connection_refused_before_the_request_was_written_is_retried() {
    // A port that refuses connections now and accepts them a moment later: the code
    // grant, which is never repeated once sent, is retried because it was never sent.
    let (clock, server) = strict();
    let verifier = PkceVerifier::random();
    let code = code(&server, &verifier).await;
    let port = {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let upstream = server.server().url("/").to_string();
    let forwarder = tokio::spawn(async move {
        // Refuse the first attempt (nothing listens yet), then forward one connection.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        let (mut inbound, _) = listener.accept().await.unwrap();
        let target = url::Url::parse(&upstream).unwrap();
        let mut outbound =
            tokio::net::TcpStream::connect((target.host_str().unwrap(), target.port().unwrap()))
                .await
                .unwrap();
        tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
            .await
            .ok();
    });
    let token_url = format!("http://127.0.0.1:{port}{TOKEN_PATH}");
    // Backoff 20-40 ms, then 40-80 ms: the first attempt is refused, a later one lands.
    let client = OAuth2Client::builder(ID, &token_url)
        .secret(SecretString::from(SECRET))
        .http(
            HttpClient::with_policy(
                HttpPolicy::default().with_retry(
                    RetryPolicy::default()
                        .with_base_delay(Duration::from_millis(40))
                        .with_max_retries(4),
                ),
            )
            .unwrap(),
        )
        .clock(Arc::new(clock.clone()) as Arc<dyn Clock>)
        .build()
        .unwrap();
    let answer = client
        .exchange_code(&code, Some(&verifier), REDIRECT, &[])
        .await
        .unwrap();
    assert!(answer.access_token.unwrap().expose_secret().len() > 8);
    assert_eq!(server.server().requests(TOKEN_PATH), 1);
    assert_eq!(server.redemptions(), 1);
    forwarder.abort();
}
