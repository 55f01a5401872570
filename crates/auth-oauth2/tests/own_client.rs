//! Bring your own HTTP client: auth-oauth2 over a `reqwest::Client` the application
//! built (its user agent, a default header), and no redirect followed even over a
//! client built to follow them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;

use auth_core::http::{AuthorizedClient, HttpClient, HttpPolicy};
use auth_core::reqwest::ReqwestTransport;
use auth_core::{CachingProvider, Clock, Error as CoreError, ManualClock, SecretString};
use auth_oauth2::{ClientCredentials, GrantParams, OAuth2Client};
use auth_testkit::Fault;
use auth_testkit::oauth2::{AuthServer, AuthServerConfig, TOKEN_PATH};
use auth_testkit::wire;

const ID: &str = "own-client-app";
const SECRET: &str = "own-client-secret";

fn oauth2_client(server: &AuthServer, http: HttpClient, clock: &ManualClock) -> OAuth2Client {
    OAuth2Client::builder(ID, server.token_url().as_str())
        .secret(SecretString::from(SECRET))
        .http(http)
        .clock(Arc::new(clock.clone()) as Arc<dyn Clock>)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_applications_client_carries_token_and_api_requests() {
    let recording = wire::record();
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server =
        AuthServer::start(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())))
            .unwrap();
    // The application's own client, as it configured it.
    let mut defaults = http::HeaderMap::new();
    defaults.insert("x-tenant", http::HeaderValue::from_static("acme-eu"));
    let builder = reqwest::Client::builder()
        .user_agent("inventory-service/7.1")
        .default_headers(defaults);
    let transport = ReqwestTransport::from_builder(builder).unwrap();
    let http = HttpClient::new(Arc::new(transport), HttpPolicy::default());

    let grant = ClientCredentials::new(
        oauth2_client(&server, http.clone(), &clock),
        GrantParams::default(),
    );
    let provider = Arc::new(
        CachingProvider::builder(grant)
            .clock(Arc::new(clock.clone()))
            .build(),
    );
    let api = AuthorizedClient::new(http, provider);
    let resource = server.endpoint(|e| &e.resource);
    let response = api
        .send(
            http::Request::get(resource.as_str())
                .body(bytes::Bytes::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(response.is_success(), "{}", response.status);

    // The recording is the process's: keep this server's requests (by `Host`).
    let host = server.server().addr().to_string();
    let seen = recording.exchanges();
    for path in [TOKEN_PATH, resource.path()] {
        let request = &seen
            .iter()
            .find(|e| e.request.path == path && e.request.headers["host"] == host.as_str())
            .unwrap_or_else(|| panic!("no request to {path}"))
            .request;
        assert_eq!(
            request.headers["user-agent"], "inventory-service/7.1",
            "{path}"
        );
        assert_eq!(request.headers["x-tenant"], "acme-eu", "{path}");
    }
}

#[tokio::test]
async fn a_client_built_to_follow_redirects_still_follows_none_for_token_requests() {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server =
        AuthServer::start(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())))
            .unwrap();
    let elsewhere =
        AuthServer::start(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())))
            .unwrap();
    // A client that follows the token endpoint's redirect sends the request on to its
    // target (a 307 or 308 with the body and the client's credentials).
    server.server().inject_on(
        TOKEN_PATH,
        Fault::Redirect(elsewhere.token_url().to_string()),
        1,
    );
    // The application's client follows redirects (reqwest's default); handed over as
    // it is, the transport refuses an answer that came from elsewhere.
    auth_core::reqwest::ensure_crypto_provider();
    let follows = reqwest::Client::new();
    let http = HttpClient::from_reqwest(follows, HttpPolicy::default());
    let error = oauth2_client(&server, http, &clock)
        .client_credentials(None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(error, auth_oauth2::Error::Core(CoreError::Redirect { .. })),
        "{error:?}"
    );
    // Built from the application's builder instead, nothing reaches the target.
    let from_builder = ReqwestTransport::from_builder(reqwest::Client::builder()).unwrap();
    let http = HttpClient::new(Arc::new(from_builder), HttpPolicy::default());
    server.server().inject_on(
        TOKEN_PATH,
        Fault::Redirect(elsewhere.token_url().to_string()),
        1,
    );
    let before = elsewhere.server().requests(TOKEN_PATH);
    let error = oauth2_client(&server, http, &clock)
        .client_credentials(None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            auth_oauth2::Error::Core(CoreError::Redirect { status: Some(_) })
        ),
        "{error:?}"
    );
    assert_eq!(
        elsewhere.server().requests(TOKEN_PATH),
        before,
        "nothing followed"
    );
}
