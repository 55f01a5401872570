//! An API key over real HTTP: a server on loopback checks the header and the query
//! parameters the way a vendor does, and answers 401 otherwise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;

use auth_apikey::ApiKey;
use auth_core::http::{AuthorizedClient, HttpClient};
use auth_core::internal::constant_time_eq;
use auth_core::{CredentialProvider, SecretString};
use auth_testkit::{ServerBuilder, TestResponse};
use http::{Method, StatusCode};
use proptest::prelude::*;

const KEY: &str = "ck_live_9f8e7d6c5b4a";
const CODE: &str = "fn-key/with+chars==";

fn server() -> auth_testkit::TestServer {
    ServerBuilder::new("apikey")
        .route(Method::GET, "/api/Token", |req| {
            let header_ok = req
                .header("client_secret")
                .is_some_and(|v| constant_time_eq(v.as_bytes(), KEY.as_bytes()));
            let code_ok = req
                .query("code")
                .is_some_and(|v| constant_time_eq(v.as_bytes(), CODE.as_bytes()));
            if header_ok && code_ok && req.query("tenant").as_deref() == Some("acme") {
                TestResponse::json(
                    StatusCode::OK,
                    &serde_json::json!({ "email": req.query("email") }),
                )
            } else {
                TestResponse::text(StatusCode::UNAUTHORIZED, "unauthorized")
            }
        })
        .start()
        .expect("server")
}

fn provider(key: &str) -> Arc<dyn CredentialProvider> {
    Arc::new(
        ApiKey::builder(SecretString::from(key))
            .header("client_secret")
            .unwrap()
            .extra_query("tenant", "acme")
            .extra_secret_query("code", SecretString::from(CODE))
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn the_server_accepts_the_key_and_refuses_a_wrong_one() {
    let server = server();
    let http = HttpClient::with_defaults().unwrap();
    let mut url = server.url("/api/Token");
    url.query_pairs_mut()
        .append_pair("email", "jo+1@example.com");

    let good = AuthorizedClient::new(http.clone(), provider(KEY));
    let response = good
        .send(
            http::Request::get(url.as_str())
                .body(bytes::Bytes::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::OK);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["email"], "jo+1@example.com");

    let bad = AuthorizedClient::new(http.clone(), provider("wrong"));
    let refused = bad
        .send(
            http::Request::get(url.as_str())
                .body(bytes::Bytes::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    // One request per key: a fixed key that was refused is not sent again.
    assert_eq!(server.requests("/api/Token"), 2);
}

proptest! {
    #[test]
    fn no_secret_in_debug(key in "[A-Za-z0-9_=+/-]{12,40}", code in "[A-Za-z0-9_=+/-]{12,40}") {
        let builder = ApiKey::builder(SecretString::from(key.clone()))
            .query("api_key").unwrap()
            .extra_secret_query("code", SecretString::from(code.clone()));
        let shown = format!("{builder:?}");
        prop_assert!(!shown.contains(&key) && !shown.contains(&code));
        let provider = builder.build().unwrap();
        let shown = format!("{provider:?}");
        prop_assert!(!shown.contains(&key) && !shown.contains(&code));
    }
}
