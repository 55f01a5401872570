//! The second transport: hyper-util's client as a `tower::Service`, under auth-core's
//! policy, carrying OAuth 2.0 token requests and an authorized API call end to end. No
//! reqwest is on this path (`cargo xtask ci` checks `cargo tree -p auth-tower`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::{AuthorizedClient, HttpClient, HttpPolicy, RetryPolicy};
use auth_core::{CachingProvider, Clock, Error as CoreError, ManualClock, SecretString};
use auth_oauth2::{ClientCredentials, GrantParams, OAuth2Client};
use auth_testkit::Fault;
use auth_testkit::oauth2::{AuthServer, AuthServerConfig, TOKEN_PATH};
use auth_tower::ServiceTransport;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const ID: &str = "hyper-app";
const SECRET: &str = "hyper-secret";

fn hyper_http(policy: HttpPolicy) -> HttpClient {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    HttpClient::new(Arc::new(ServiceTransport::new(client)), policy)
}

#[tokio::test]
async fn token_and_api_requests_over_hyper_util() {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server =
        AuthServer::start(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())))
            .unwrap();
    let http = hyper_http(HttpPolicy::default());
    let client = OAuth2Client::builder(ID, server.token_url().as_str())
        .secret(SecretString::from(SECRET))
        .http(http.clone())
        .clock(Arc::new(clock.clone()) as Arc<dyn Clock>)
        .build()
        .unwrap();
    let provider = Arc::new(
        CachingProvider::builder(ClientCredentials::new(client, GrantParams::default()))
            .clock(Arc::new(clock.clone()))
            .build(),
    );
    let api = AuthorizedClient::new(http, provider);
    let resource = server.endpoint(|e| &e.resource);
    for _ in 0..3 {
        let response = api
            .send(
                http::Request::get(resource.as_str())
                    .body(Bytes::new())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert!(response.is_success(), "{}", response.status);
    }
    assert_eq!(server.grants("client_credentials"), 1, "one token, cached");

    // The policy holds over this transport too: a 5xx on client_credentials is retried,
    // a redirect is refused, and a refused connection is a typed connect error.
    server.server().inject_on(TOKEN_PATH, Fault::ServerError, 1);
    let retried = OAuth2Client::builder(ID, server.token_url().as_str())
        .secret(SecretString::from(SECRET))
        .http(hyper_http(HttpPolicy::default().with_retry(
            RetryPolicy::default().with_base_delay(Duration::from_millis(5)),
        )))
        .build()
        .unwrap();
    retried.client_credentials(None, &[]).await.unwrap();
    server.server().inject_on(
        TOKEN_PATH,
        Fault::Redirect("http://127.0.0.1:9/x".into()),
        1,
    );
    let refused = retried.client_credentials(None, &[]).await.unwrap_err();
    assert!(
        matches!(
            refused,
            auth_oauth2::Error::Core(CoreError::Redirect { .. })
        ),
        "{refused:?}"
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = OAuth2Client::builder(ID, &format!("http://127.0.0.1:{closed}/token"))
        .secret(SecretString::from(SECRET))
        .http(hyper_http(
            HttpPolicy::default().with_retry(RetryPolicy::none()),
        ))
        .build()
        .unwrap();
    let error = nowhere.client_credentials(None, &[]).await.unwrap_err();
    assert!(
        matches!(error, auth_oauth2::Error::Core(CoreError::Connect { .. })),
        "{error:?}"
    );
}
