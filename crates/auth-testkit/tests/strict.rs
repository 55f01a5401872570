//! The strict OAuth 2.0 server (single-use codes, refresh-token rotation with reuse
//! detection) and the commit-then-fail fault, over real HTTP with a plain client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use auth_testkit::oauth2::{AuthServer, AuthServerConfig, TOKEN_PATH, consent};
use auth_testkit::{Fault, ServerBuilder, TestResponse};
use http::{Method, StatusCode};
use serde_json::Value;

const CLIENT: &str = "app";
const SECRET: &str = "s3cret";
const REDIRECT: &str = "https://app.example/callback";

fn strict_server() -> AuthServer {
    AuthServer::start(AuthServerConfig::new(CLIENT, SECRET).strict(true)).expect("server")
}

/// A token endpoint answer: status and JSON body (`Null` when the body is not JSON).
struct Answer {
    status: StatusCode,
    content_type: String,
    body: Value,
    text: String,
}

impl Answer {
    fn error(&self) -> Option<&str> {
        self.body.get("error").and_then(Value::as_str)
    }

    fn token(&self, name: &str) -> String {
        self.body
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no {name} in {}", self.text))
            .to_owned()
    }
}

async fn post_token(server: &AuthServer, form: &[(&str, &str)]) -> Answer {
    let response = reqwest::Client::new()
        .post(server.token_url())
        .basic_auth(CLIENT, Some(SECRET))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = response.status();
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("body");
    Answer {
        status,
        content_type,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
        text,
    }
}

/// A fresh code from the authorization endpoint.
async fn code(server: &AuthServer) -> String {
    let mut url = server.endpoint(|e| &e.authorize);
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("state", "xyz");
    let back = consent(url.as_str()).await.expect("consent");
    back.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("code in the redirect")
}

async fn redeem(server: &AuthServer, code: &str) -> Answer {
    post_token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

async fn refresh(server: &AuthServer, refresh_token: &str) -> Answer {
    post_token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// The status of `GET /resource` with `access_token`.
async fn resource_status(server: &AuthServer, access_token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(server.endpoint(|e| &e.resource))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("resource request")
        .status()
}

fn live(server: &AuthServer, access_token: &str) -> bool {
    server.access_checker().check_token(access_token).is_some()
}

#[tokio::test]
async fn a_second_redemption_of_a_code_is_refused_and_revokes_its_tokens() {
    let server = strict_server();
    let code = code(&server).await;
    let first = redeem(&server, &code).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let access = first.token("access_token");
    let refresh_token = first.token("refresh_token");
    assert!(live(&server, &access));
    assert_eq!(resource_status(&server, &access).await, StatusCode::OK);

    let second = redeem(&server, &code).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    assert_eq!(second.error(), Some("invalid_grant"));

    assert!(!live(&server, &access));
    assert_eq!(
        resource_status(&server, &access).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(server.is_revoked(&refresh_token));
    let refreshed = refresh(&server, &refresh_token).await;
    assert_eq!(refreshed.error(), Some("invalid_grant"));

    assert_eq!(server.redemptions(), 1);
    assert_eq!(server.refreshes(), 0);
    assert_eq!(server.reuse_detections(), 1);
    assert_eq!(server.revoked_families(), 1);
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let server = strict_server();
    let first = redeem(&server, &code(&server).await).await;
    let (at1, rt1) = (first.token("access_token"), first.token("refresh_token"));

    let second = refresh(&server, &rt1).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let (at2, rt2) = (second.token("access_token"), second.token("refresh_token"));
    assert_ne!(rt1, rt2);
    assert!(server.is_revoked(&rt1), "the presented token is spent");

    let third = refresh(&server, &rt2).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.text);
    let (at3, rt3) = (third.token("access_token"), third.token("refresh_token"));
    assert_eq!(server.refreshes(), 2);
    assert!(live(&server, &at3));

    // Another grant, another family: not touched by this one's revocation.
    let other = redeem(&server, &code(&server).await).await;
    let (other_at, other_rt) = (other.token("access_token"), other.token("refresh_token"));

    let reused = refresh(&server, &rt1).await;
    assert_eq!(reused.status, StatusCode::BAD_REQUEST);
    assert_eq!(reused.error(), Some("invalid_grant"));
    assert_eq!(server.reuse_detections(), 1);
    assert_eq!(server.revoked_families(), 1);

    // The newest refresh token of the family is dead too, without counting a reuse.
    let newest = refresh(&server, &rt3).await;
    assert_eq!(newest.error(), Some("invalid_grant"));
    assert_eq!(server.reuse_detections(), 1);
    for at in [&at1, &at2, &at3] {
        assert!(!live(&server, at), "{at} outlived its family");
        assert_eq!(resource_status(&server, at).await, StatusCode::UNAUTHORIZED);
    }

    assert!(live(&server, &other_at));
    let other_refreshed = refresh(&server, &other_rt).await;
    assert_eq!(
        other_refreshed.status,
        StatusCode::OK,
        "{}",
        other_refreshed.text
    );

    // A second replay of the family counts, the family is counted once.
    let again = refresh(&server, &rt2).await;
    assert_eq!(again.error(), Some("invalid_grant"));
    assert_eq!(server.reuse_detections(), 2);
    assert_eq!(server.revoked_families(), 1);
    assert_eq!(server.redemptions(), 2);
    assert_eq!(server.refreshes(), 3);
}

#[tokio::test]
async fn refresh_reuse_of_a_password_grant_revokes_its_family() {
    let server = strict_server();
    let first = post_token(
        &server,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "wonderland"),
        ],
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let rt1 = first.token("refresh_token");
    let second = refresh(&server, &rt1).await;
    let (at2, rt2) = (second.token("access_token"), second.token("refresh_token"));
    assert_eq!(refresh(&server, &rt1).await.error(), Some("invalid_grant"));
    assert!(!live(&server, &at2));
    assert_eq!(refresh(&server, &rt2).await.error(), Some("invalid_grant"));
    assert_eq!(server.reuse_detections(), 1);
    assert_eq!(server.revoked_families(), 1);
    assert_eq!(server.redemptions(), 0);
    assert_eq!(server.refreshes(), 1);
}

#[tokio::test]
async fn strict_mode_rotates_even_when_rotation_is_configured_off() {
    let mut config = AuthServerConfig::new(CLIENT, SECRET);
    config.rotate_refresh_tokens = false;
    config.strict = true;
    let server = AuthServer::start(config).expect("server");
    let first = redeem(&server, &code(&server).await).await;
    let rt1 = first.token("refresh_token");
    let second = refresh(&server, &rt1).await;
    assert_ne!(second.token("refresh_token"), rt1);
    assert_eq!(refresh(&server, &rt1).await.error(), Some("invalid_grant"));
    assert_eq!(server.reuse_detections(), 1);
}

#[tokio::test]
async fn without_strict_mode_replays_revoke_nothing() {
    let server = AuthServer::start(AuthServerConfig::new(CLIENT, SECRET)).expect("server");
    let code = code(&server).await;
    let first = redeem(&server, &code).await;
    let (at1, rt1) = (first.token("access_token"), first.token("refresh_token"));
    // Codes are single use in any mode.
    assert_eq!(redeem(&server, &code).await.error(), Some("invalid_grant"));
    assert!(live(&server, &at1));

    let second = refresh(&server, &rt1).await;
    let (at2, rt2) = (second.token("access_token"), second.token("refresh_token"));
    assert_eq!(refresh(&server, &rt1).await.error(), Some("invalid_grant"));
    assert!(live(&server, &at1));
    assert!(live(&server, &at2));
    assert_eq!(refresh(&server, &rt2).await.status, StatusCode::OK);

    assert_eq!(server.reuse_detections(), 0);
    assert_eq!(server.revoked_families(), 0);
    assert_eq!(server.redemptions(), 1);
    assert_eq!(server.refreshes(), 2);
}

#[tokio::test]
async fn a_code_redeemed_behind_a_502_is_spent_and_its_retry_is_reuse() {
    let server = strict_server();
    let code = code(&server).await;
    server
        .server()
        .inject_on(TOKEN_PATH, Fault::CommitThen(StatusCode::BAD_GATEWAY), 1);

    let lost = redeem(&server, &code).await;
    assert_eq!(lost.status, StatusCode::BAD_GATEWAY);
    assert!(
        lost.content_type.starts_with("text/plain"),
        "{}",
        lost.content_type
    );
    assert!(lost.body.is_null(), "no tokens in {}", lost.text);
    assert_eq!(server.redemptions(), 1, "the server committed");

    let retry = redeem(&server, &code).await;
    assert_eq!(retry.status, StatusCode::BAD_REQUEST);
    assert_eq!(retry.error(), Some("invalid_grant"));
    assert_eq!(server.redemptions(), 1);
    assert_eq!(server.reuse_detections(), 1);
    assert_eq!(server.revoked_families(), 1);
    assert_eq!(server.server().requests(TOKEN_PATH), 2);
}

#[tokio::test]
async fn a_refresh_behind_a_502_rotates_and_its_retry_is_reuse() {
    let server = strict_server();
    let first = redeem(&server, &code(&server).await).await;
    let (at1, rt1) = (first.token("access_token"), first.token("refresh_token"));
    server
        .server()
        .inject(Fault::CommitThen(StatusCode::BAD_GATEWAY), 1);

    let lost = refresh(&server, &rt1).await;
    assert_eq!(lost.status, StatusCode::BAD_GATEWAY);
    assert_eq!(server.refreshes(), 1, "the server rotated");
    assert!(server.is_revoked(&rt1));

    let retry = refresh(&server, &rt1).await;
    assert_eq!(retry.error(), Some("invalid_grant"));
    assert_eq!(server.reuse_detections(), 1);
    assert_eq!(server.revoked_families(), 1);
    assert!(!live(&server, &at1));
}

#[tokio::test]
async fn commit_then_fail_runs_the_handler_of_any_server() {
    let hits = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&hits);
    let server = ServerBuilder::new("counter")
        .route(Method::POST, "/spend", move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            TestResponse::text(StatusCode::OK, "spent")
        })
        .start()
        .expect("server");
    server.inject(Fault::CommitThen(StatusCode::BAD_GATEWAY), 2);
    let client = reqwest::Client::new();
    for expected in [
        StatusCode::BAD_GATEWAY,
        StatusCode::BAD_GATEWAY,
        StatusCode::OK,
    ] {
        let response = client
            .post(server.url("/spend"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), expected);
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3);
    assert_eq!(server.requests("/spend"), 3);
}

#[test]
fn commit_then_fail_has_a_name_for_the_tables() {
    assert_eq!(
        Fault::CommitThen(StatusCode::BAD_GATEWAY).name(),
        "502 after commit"
    );
    assert_eq!(
        Fault::CommitThen(StatusCode::INTERNAL_SERVER_ERROR).name(),
        "error after commit"
    );
}
