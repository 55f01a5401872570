//! The `oauth2` crate's client as a token source, end to end over HTTP against the
//! embedded authorization server: single flight with 100 callers, renewal on expiry
//! and before it, refresh-token rotation, typed errors without secrets, and the HTTP
//! policy (plain HTTP refused, redirects refused, retries by grant).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::{HttpClient, HttpPolicy, Repeat, RetryPolicy};
use auth_core::{
    AuthRequest, CachingProvider, Clock, CredentialProvider, Error, ExposeSecret, ManualClock,
    RefreshPolicy, Refusal, TokenSource,
};
use auth_oauth2rs::{
    BasicTokenClient, ClientCredentialsSource, OAuth2HttpClient, RefreshTokenSource,
    TokenEndpointError, core_error,
};
use auth_testkit::Fault;
use auth_testkit::oauth2::{AuthServer, AuthServerConfig, TOKEN_PATH};
use http::StatusCode;
use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    ClientId, ClientSecret, RequestTokenError, ResourceOwnerPassword, ResourceOwnerUsername, Scope,
    TokenResponse, TokenUrl,
};

const ID: &str = "app";
const SECRET: &str = "app-secret:with/odd+chars";

struct Fixture {
    clock: ManualClock,
    server: AuthServer,
    http: HttpClient,
}

fn fixture_with(f: impl FnOnce(AuthServerConfig) -> AuthServerConfig) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let config = f(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())));
    let policy = HttpPolicy::default()
        .with_retry(RetryPolicy::default().with_base_delay(Duration::from_millis(5)));
    Fixture {
        clock,
        server: AuthServer::start(config).unwrap(),
        http: HttpClient::with_policy(policy).unwrap(),
    }
}

fn fixture() -> Fixture {
    fixture_with(|c| c)
}

impl Fixture {
    /// The client an oauth2-rs user builds: id, secret, token URL.
    fn client(&self, secret: &str) -> BasicTokenClient {
        BasicClient::new(ClientId::new(ID.into()))
            .set_client_secret(ClientSecret::new(secret.into()))
            .set_token_uri(TokenUrl::new(self.server.token_url().to_string()).unwrap())
    }

    fn client_credentials(&self, secret: &str) -> ClientCredentialsSource {
        ClientCredentialsSource::new(self.client(secret), self.http.clone())
            .unwrap()
            .with_clock(Arc::new(self.clock.clone()))
    }

    fn provider<S: TokenSource>(&self, source: S) -> CachingProvider<S> {
        CachingProvider::builder(source)
            .clock(Arc::new(self.clock.clone()))
            .policy(RefreshPolicy::default().without_jitter())
            .build()
    }

    /// A password grant made with the `oauth2` crate itself, through the adapter: what
    /// an application has in hand before it wants caching.
    async fn password_grant(&self) -> BasicTokenResponse {
        self.client(SECRET)
            .exchange_password(
                &ResourceOwnerUsername::new("alice".into()),
                &ResourceOwnerPassword::new("wonderland".into()),
            )
            .request_async(&OAuth2HttpClient::new(self.http.clone()))
            .await
            .map_err(core_error)
            .unwrap()
    }

    fn token_requests(&self) -> u64 {
        self.server.server().requests(TOKEN_PATH)
    }
}

fn access(token: &auth_core::CachedToken) -> String {
    token.token().access_token().expose_secret().to_owned()
}

fn refresh(token: &auth_core::CachedToken) -> String {
    token
        .token()
        .refresh_token()
        .expect("a refresh token")
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_callers_on_an_empty_cache_cause_one_token_request() {
    let f = fixture();
    // A slow token endpoint, so that every caller arrives while the fetch runs.
    f.server
        .server()
        .slow_down(TOKEN_PATH, Duration::from_millis(200), 1);
    let provider = f.provider(
        f.client_credentials(SECRET)
            .with_scope(Scope::new("read".into()))
            .with_extra_param("audience", "api"),
    );
    let provider: Arc<dyn CredentialProvider> = Arc::new(provider);
    let start = Arc::new(tokio::sync::Barrier::new(100));
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let provider = Arc::clone(&provider);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                let mut request = AuthRequest::new(Default::default());
                provider.authorize(&mut request).await.unwrap();
                request.headers()["authorization"]
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
        })
        .collect();
    let mut headers = Vec::new();
    for caller in callers {
        headers.push(caller.await.unwrap());
    }
    assert_eq!(f.server.grants("client_credentials"), 1);
    assert_eq!(f.token_requests(), 1);
    assert!(headers[0].starts_with("Bearer "), "{}", headers[0]);
    assert!(
        headers.iter().all(|h| *h == headers[0]),
        "one token for all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_token_is_renewed_once() {
    let f = fixture();
    let provider = f.provider(f.client_credentials(SECRET));
    let first = provider.token().await.unwrap();
    assert_eq!(first.token().lifetime(), Some(Duration::from_secs(3600)));
    assert_eq!(first.token().issued_at(), f.clock.now());
    assert!(first.token().refresh_token().is_none());

    // Past expiry: 20 callers, one token request.
    f.clock.advance(Duration::from_secs(3601));
    let renewed = futures_util::future::join_all((0..20).map(|_| provider.token())).await;
    let renewed: Vec<_> = renewed.into_iter().map(Result::unwrap).collect();
    assert_eq!(f.server.grants("client_credentials"), 2);
    assert_ne!(access(&renewed[0]), access(&first));
    assert!(renewed.iter().all(|t| access(t) == access(&renewed[0])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_due_for_renewal_is_renewed_in_the_background() {
    let f = fixture();
    let provider = f.provider(f.client_credentials(SECRET));
    let first = provider.token().await.unwrap();
    // A 1-hour token is due 6 minutes before expiry (10 % margin): the caller gets the
    // still valid token at once, and one renewal starts.
    f.clock.advance(Duration::from_secs(3600 - 300));
    let during = provider.token().await.unwrap();
    assert_eq!(access(&during), access(&first));
    for _ in 0..200 {
        if f.server.grants("client_credentials") == 2
            && provider
                .peek()
                .is_some_and(|t| access(&t) != access(&first))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(f.server.grants("client_credentials"), 2);
    assert_ne!(access(&provider.token().await.unwrap()), access(&first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_source_rotates_twice() {
    // Strict: a refresh token presented after it was rotated away would be reuse, and
    // revoke the whole family.
    let f = fixture_with(|c| c.strict(true));
    let response = f.password_grant().await;
    let r0 = response.refresh_token().unwrap().secret().clone();
    let source =
        RefreshTokenSource::from_token_response(f.client(SECRET), f.http.clone(), &response)
            .unwrap()
            .with_clock(Arc::new(f.clock.clone()));
    assert_eq!(source.grant(), "refresh_token");
    assert!(source.invalidates_previous());
    assert_eq!(source.http().repeat(), Repeat::Unsent);
    let provider = f.provider(source);

    // The first token is the grant's own: no request.
    let first = provider.token().await.unwrap();
    assert_eq!(access(&first), response.access_token().secret().as_str());
    assert_eq!(refresh(&first), r0);
    assert_eq!(f.server.grants("refresh_token"), 0);

    f.clock.advance(Duration::from_secs(3601));
    let second = provider.token().await.unwrap();
    let r1 = refresh(&second);
    assert_ne!(r1, r0, "rotated");
    assert!(f.server.is_revoked(&r0));
    assert_ne!(access(&second), access(&first));

    f.clock.advance(Duration::from_secs(3601));
    let third = provider.token().await.unwrap();
    let r2 = refresh(&third);
    assert_ne!(r2, r1, "rotated again");
    assert!(f.server.is_revoked(&r1));
    assert!(!f.server.is_revoked(&r2));
    assert_eq!(f.server.grants("refresh_token"), 2);
    assert_eq!(f.server.reuse_detections(), 0, "never a rotated-away token");
}

#[tokio::test]
async fn a_refresh_token_source_from_a_stored_token_keeps_the_newest() {
    let f = fixture();
    let r0 = f
        .password_grant()
        .await
        .refresh_token()
        .unwrap()
        .secret()
        .clone();
    let source = RefreshTokenSource::new(f.client(SECRET), f.http.clone(), r0.clone())
        .unwrap()
        .with_clock(Arc::new(f.clock.clone()));
    // Without a previous token, the source refreshes with the newest it has seen.
    let first = source.fetch(None).await.unwrap();
    let r1 = first.refresh_token().unwrap().expose_secret().to_owned();
    assert_ne!(r1, r0);
    let second = source.fetch(None).await.unwrap();
    assert_ne!(second.refresh_token().unwrap().expose_secret(), r1.as_str());
    // The previous token's refresh token wins when given: `first`'s was rotated away.
    let err = source.fetch(Some(&first)).await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired { .. }), "{err:?}");
    assert_eq!(f.server.grants("refresh_token"), 2);
}

#[tokio::test]
async fn a_refused_refresh_token_means_sign_in_required() {
    let f = fixture();
    let bogus = "not-a-refresh-token-but-secret";
    let provider = f.provider(
        RefreshTokenSource::new(f.client(SECRET), f.http.clone(), bogus)
            .unwrap()
            .with_clock(Arc::new(f.clock.clone())),
    );
    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired { .. }), "{err:?}");
    let shown = format!("{err} {err:?} {provider:?}");
    assert!(!shown.contains(bogus) && !shown.contains(SECRET), "{shown}");
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_typed_error_without_the_secret() {
    let f = fixture();
    let wrong = "not-the-secret";
    let provider = f.provider(f.client_credentials(wrong));
    let err = provider.token().await.unwrap_err();
    assert_eq!(err.refusal(), Some(Refusal::ClientRejected), "{err:?}");
    let said = err
        .source_as::<TokenEndpointError<BasicErrorResponse>>()
        .expect("the oauth2 crate's error response inside");
    assert_eq!(said.code(), "invalid_client");
    assert_eq!(said.status(), Some(StatusCode::UNAUTHORIZED));
    assert_eq!(
        said.response().error(),
        &BasicErrorResponseType::InvalidClient
    );
    assert!(!err.is_transient());
    let shown = format!("{err} {err:?} {provider:?}");
    assert!(!shown.contains(wrong), "{shown}");
    // Never retried: invalid_client is a 4xx.
    assert_eq!(f.token_requests(), 1);

    // The same through the adapter by hand: oauth2's own error response type.
    let by_hand = f
        .client(wrong)
        .exchange_client_credentials()
        .request_async(&OAuth2HttpClient::new(f.http.clone()))
        .await
        .unwrap_err();
    assert!(matches!(by_hand, RequestTokenError::ServerResponse(_)));
    let mapped = core_error(by_hand);
    assert_eq!(mapped.refusal(), Some(Refusal::ClientRejected));
    assert!(!format!("{mapped} {mapped:?}").contains(wrong));
}

#[tokio::test]
async fn a_plain_http_token_url_off_loopback_is_refused() {
    let f = fixture();
    let client = BasicClient::new(ClientId::new(ID.into()))
        .set_client_secret(ClientSecret::new(SECRET.into()))
        .set_token_uri(TokenUrl::new("http://auth.example.com/token".into()).unwrap());
    let err = ClientCredentialsSource::new(client.clone(), f.http.clone()).unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }), "{err:?}");
    let err = RefreshTokenSource::new(client.clone(), f.http.clone(), "r").unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }), "{err:?}");

    // By hand too: refused before anything is sent.
    let err = client
        .exchange_client_credentials()
        .request_async(&OAuth2HttpClient::new(f.http.clone()))
        .await
        .unwrap_err();
    match err {
        RequestTokenError::Request(Error::InsecureUrl { url, .. }) => {
            assert!(!url.contains(SECRET), "{url}");
        }
        other => panic!("{other:?}"),
    }

    // A client with no token URL at all is a configuration error.
    let none = BasicClient::new(ClientId::new(ID.into())).set_token_uri_option(None);
    let err = ClientCredentialsSource::new(none, f.http.clone()).unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_refused() {
    let f = fixture();
    let elsewhere = f.server.server().url("/elsewhere");
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::Redirect(elsewhere.to_string()), 1);
    let provider = f.provider(f.client_credentials(SECRET));
    let err = provider.token().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Redirect {
                status: Some(StatusCode::FOUND)
            }
        ),
        "{err:?}"
    );
    assert_eq!(f.server.server().requests("/elsewhere"), 0, "not followed");
    assert_eq!(f.server.grants("client_credentials"), 0);
    // The fault is spent; the cache was not poisoned.
    provider.token().await.unwrap();
    assert_eq!(f.server.grants("client_credentials"), 1);

    // By hand: the redirect comes back as the HTTP layer's error, whole.
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::Redirect(elsewhere.to_string()), 1);
    let err = f
        .client(SECRET)
        .exchange_client_credentials()
        .request_async(&OAuth2HttpClient::new(f.http.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RequestTokenError::Request(Error::Redirect { .. })),
        "{err:?}"
    );
    assert_eq!(f.server.server().requests("/elsewhere"), 0);
}

#[tokio::test]
async fn client_credentials_are_retried_after_a_500_and_a_refresh_is_not() {
    let f = fixture();
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::ServerError, 1);
    let cc = f.client_credentials(SECRET);
    assert_eq!(cc.http().repeat(), Repeat::Safe);
    f.provider(cc).token().await.unwrap();
    assert_eq!(f.token_requests(), 2, "one 500, one retry");

    let r0 = f
        .password_grant()
        .await
        .refresh_token()
        .unwrap()
        .secret()
        .clone();
    f.server.server().reset_counters();
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::ServerError, 1);
    let provider = f.provider(
        RefreshTokenSource::new(f.client(SECRET), f.http.clone(), r0)
            .unwrap()
            .with_clock(Arc::new(f.clock.clone())),
    );
    let err = provider.token().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(f.token_requests(), 1, "a refresh is not sent twice");
    // The 500 came before the server acted: the refresh token is still good.
    provider.token().await.unwrap();
    assert_eq!(f.server.grants("refresh_token"), 1);
}

#[tokio::test]
async fn foreign_and_malformed_answers_are_typed_and_quote_nothing() {
    let f = fixture();
    let provider = f.provider(f.client_credentials(SECRET));

    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::MalformedJson, 1);
    let err = provider.token().await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidResponse { reason, .. } if reason.contains("JSON")),
        "{err:?}"
    );

    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::HtmlPage(StatusCode::FORBIDDEN), 1);
    let err = provider.token().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidResponse {
                status: Some(StatusCode::FORBIDDEN),
                ..
            }
        ),
        "{err:?}"
    );

    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::OversizedBody(4 * 1024 * 1024), 1);
    let err = provider.token().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");

    provider.token().await.unwrap();
}
