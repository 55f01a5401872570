//! The middleware over real HTTP on loopback, against the test kit's servers: OAuth
//! 1.0a signatures over form bodies that the Bynder portal verifies, bearer tokens
//! from the OAuth 2.0 server that are revoked and replaced, the application's own
//! client settings, and the failures a caller must tell apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use auth_core::{
    AuthRequest, Authorize, CachingProvider, Clock, CredentialProvider, ManualClock, SecretString,
};
use auth_oauth1::{Consumer, SignatureMethod, Signer};
use auth_oauth2::{ClientAuth, ClientCredentials, GrantParams, OAuth2Client, TokenTypeHint};
use auth_reqwest_middleware::{AuthMiddleware, Error};
use auth_testkit::bynder::{BynderConsumer, BynderServer, REQUEST_TOKEN_PATH};
use auth_testkit::oauth2::{AuthServer, AuthServerConfig, RESOURCE_PATH, REVOKE_PATH};
use auth_testkit::{ServerBuilder, TestResponse};
use http::{HeaderMap, Method, StatusCode};
use reqwest_middleware::ClientWithMiddleware;

const CONSUMER_KEY: &str = "8D7A0C3E-5B1F-4E2A-9C6D0B1A2F3E1EFA";
const CONSUMER_SECRET: &str = "consumer-secret-2f9c";
const STALE_SECRET: &str = "consumer-secret-rotated-away-71b0";
const CLIENT_ID: &str = "svc-reporting";
const CLIENT_SECRET: &str = "svc-secret-c0ffee-9d2a";
const FORM: &str = "application/x-www-form-urlencoded";
/// Form parameters that RFC 5849 §3.4.1.3 puts in the signature base string: a
/// duplicate key, an empty value, `+` for a space, and a non-ASCII value.
const FORM_BODY: &str = "title=Summer+campaign&tag=beach&tag=sun&empty=&city=Z%C3%BCrich";

fn clock() -> ManualClock {
    ManualClock::starting_at_unix(1_760_000_000)
}

fn client(provider: Arc<dyn CredentialProvider>) -> ClientWithMiddleware {
    // The workspace's reqwest has no TLS provider of its own (see auth-core).
    auth_core::reqwest::ensure_crypto_provider();
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(AuthMiddleware::new(provider))
        .build()
}

// ---------------------------------------------------------------------------------
// OAuth 1.0a

fn signer(clock: &ManualClock, secret: &str) -> Signer {
    Signer::builder(Consumer::new(CONSUMER_KEY, SecretString::from(secret)))
        .method(SignatureMethod::HmacSha1)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

/// Signs with the first signer until the server rejects it, then with the next one:
/// a provider that reloads its credentials (a rotated consumer secret) when told they
/// were refused, and so answers `invalidate` with `true` while it has another to try.
#[derive(Debug)]
struct Reloading {
    signers: Vec<Signer>,
    current: AtomicUsize,
    invalidations: AtomicUsize,
}

impl Reloading {
    fn new(signers: Vec<Signer>) -> Self {
        Self {
            signers,
            current: AtomicUsize::new(0),
            invalidations: AtomicUsize::new(0),
        }
    }

    fn signer(&self) -> &Signer {
        let i = self.current.load(Ordering::SeqCst);
        &self.signers[i.min(self.signers.len() - 1)]
    }
}

impl CredentialProvider for Reloading {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.signer().authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        // What the provider saw is what it signed: the form body.
        assert_eq!(request.body().as_ref(), FORM_BODY.as_bytes());
        let next = self.current.load(Ordering::SeqCst) + 1;
        if next < self.signers.len() {
            self.current.store(next, Ordering::SeqCst);
            true
        } else {
            false
        }
    }

    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        self.signer().reads_body(parts)
    }
}

/// `POST` of [`FORM_BODY`] to the portal's request-token endpoint, which verifies the
/// signature with the form parameters in the base string.
async fn post_form(
    client: &ClientWithMiddleware,
    portal: &BynderServer,
) -> reqwest_middleware::Result<reqwest::Response> {
    client
        .post(portal.server().url(REQUEST_TOKEN_PATH))
        .header(http::header::CONTENT_TYPE, FORM)
        .body(FORM_BODY)
        .send()
        .await
}

async fn form_of(response: reqwest::Response) -> Vec<(String, String)> {
    let body = response.bytes().await.unwrap();
    url::form_urlencoded::parse(&body).into_owned().collect()
}

#[tokio::test]
async fn an_oauth1_signature_over_a_form_body_is_verified_by_the_server() {
    let clock = clock();
    let portal = BynderServer::start(
        BynderConsumer::new(CONSUMER_KEY, CONSUMER_SECRET).clock(Arc::new(clock.clone())),
    )
    .unwrap();
    let client = client(Arc::new(signer(&clock, CONSUMER_SECRET)));

    let response = post_form(&client, &portal).await.unwrap();
    assert_eq!(response.status(), 200);
    let answer = form_of(response).await;
    assert!(answer.iter().any(|(k, _)| k == "oauth_token"), "{answer:?}");
    assert_eq!(portal.server().requests(REQUEST_TOKEN_PATH), 1);

    // The body is in the signature: the same signer over a body that differs from
    // the one sent would be refused (checked by signing one body and sending
    // another, outside the middleware).
    let mut signed = AuthRequest::new(bytes::Bytes::from_static(b"title=other"));
    *signed.method_mut() = Method::POST;
    *signed.uri_mut() = portal
        .server()
        .url(REQUEST_TOKEN_PATH)
        .as_str()
        .parse()
        .unwrap();
    signed
        .headers_mut()
        .insert(http::header::CONTENT_TYPE, FORM.parse().unwrap());
    signer(&clock, CONSUMER_SECRET).sign(&mut signed).unwrap();
    let tampered = reqwest::Client::new()
        .post(portal.server().url(REQUEST_TOKEN_PATH))
        .headers(signed.headers().clone())
        .body(FORM_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);
    assert_eq!(
        form_of(tampered).await,
        [("oauth_problem".to_owned(), "signature_invalid".to_owned())]
    );
}

#[tokio::test]
async fn an_oauth1_401_invalidates_and_the_form_body_is_signed_again_once() {
    let clock = clock();
    let portal = BynderServer::start(
        BynderConsumer::new(CONSUMER_KEY, CONSUMER_SECRET).clock(Arc::new(clock.clone())),
    )
    .unwrap();
    let provider = Arc::new(Reloading::new(vec![
        signer(&clock, STALE_SECRET),
        signer(&clock, CONSUMER_SECRET),
    ]));
    let client = client(Arc::clone(&provider) as Arc<dyn CredentialProvider>);

    // Refused with the stale secret, then signed anew (new nonce, same body) and
    // verified.
    let response = post_form(&client, &portal).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        form_of(response)
            .await
            .iter()
            .any(|(k, _)| k == "oauth_token")
    );
    assert_eq!(portal.server().requests(REQUEST_TOKEN_PATH), 2);
    assert_eq!(provider.invalidations.load(Ordering::SeqCst), 1);

    // The next call goes through at once.
    assert_eq!(post_form(&client, &portal).await.unwrap().status(), 200);
    assert_eq!(portal.server().requests(REQUEST_TOKEN_PATH), 3);
    assert_eq!(provider.invalidations.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_signer_with_nothing_to_drop_is_not_retried_after_a_401() {
    let clock = clock();
    let portal = BynderServer::start(
        BynderConsumer::new(CONSUMER_KEY, CONSUMER_SECRET).clock(Arc::new(clock.clone())),
    )
    .unwrap();
    // A plain signer's credentials do not change: `invalidate` says a retry is useless.
    let client = client(Arc::new(signer(&clock, STALE_SECRET)));

    let response = post_form(&client, &portal).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        form_of(response).await,
        [("oauth_problem".to_owned(), "signature_invalid".to_owned())]
    );
    assert_eq!(portal.server().requests(REQUEST_TOKEN_PATH), 1);
}

#[tokio::test]
async fn a_streamed_body_the_signer_must_read_is_refused_and_nothing_is_sent() {
    let clock = clock();
    let portal = BynderServer::start(
        BynderConsumer::new(CONSUMER_KEY, CONSUMER_SECRET).clock(Arc::new(clock.clone())),
    )
    .unwrap();
    let client = client(Arc::new(signer(&clock, CONSUMER_SECRET)));

    let streamed = reqwest::Body::wrap(http_body_util::Full::new(bytes::Bytes::from_static(
        FORM_BODY.as_bytes(),
    )));
    let refused = client
        .post(portal.server().url(REQUEST_TOKEN_PATH))
        .header(http::header::CONTENT_TYPE, FORM)
        .body(streamed)
        .send()
        .await
        .unwrap_err();
    assert!(refused.is_middleware());
    assert!(
        matches!(Error::downcast(&refused), Some(Error::StreamedBody)),
        "{refused:?}"
    );
    assert_eq!(portal.server().total_requests(), 0);
}

// ---------------------------------------------------------------------------------
// Bearer tokens (OAuth 2.0 client credentials, cached)

struct OAuth2 {
    server: AuthServer,
    oauth2: OAuth2Client,
    provider: Arc<dyn CredentialProvider>,
}

fn oauth2(secret: &str) -> OAuth2 {
    let clock = clock();
    let server = AuthServer::start(
        AuthServerConfig::new(CLIENT_ID, CLIENT_SECRET).clock(Arc::new(clock.clone())),
    )
    .unwrap();
    let oauth2 = OAuth2Client::builder(CLIENT_ID, server.token_url().as_str())
        .secret(SecretString::from(secret))
        .auth(ClientAuth::Basic)
        .revocation_url(server.server().url(REVOKE_PATH).as_str())
        .clock(Arc::new(clock.clone()) as Arc<dyn Clock>)
        .build()
        .unwrap();
    let grant = ClientCredentials::new(oauth2.clone(), GrantParams::default());
    // One clock for the server, the grant and the cache.
    let provider = CachingProvider::builder(grant)
        .clock(Arc::new(clock))
        .build();
    OAuth2 {
        server,
        oauth2,
        provider: Arc::new(provider),
    }
}

impl OAuth2 {
    fn grants(&self) -> u64 {
        self.server.grants("client_credentials")
    }

    /// The token the provider puts on requests now (from its cache).
    async fn current_token(&self) -> String {
        let mut request = AuthRequest::new(bytes::Bytes::new());
        self.provider.authorize(&mut request).await.unwrap();
        let header = request.headers()[http::header::AUTHORIZATION]
            .to_str()
            .unwrap();
        header.strip_prefix("Bearer ").unwrap().to_owned()
    }

    /// Revokes `token` at the revocation endpoint (RFC 7009), as an administrator
    /// ending the client's sessions would.
    async fn revoke(&self, token: &str) {
        self.oauth2
            .revoke(&SecretString::from(token), Some(TokenTypeHint::AccessToken))
            .await
            .unwrap();
        assert!(self.server.is_revoked(token));
    }
}

#[tokio::test]
async fn a_revoked_bearer_token_is_dropped_and_the_call_retried_once_with_a_fresh_one() {
    let f = oauth2(CLIENT_SECRET);
    let client = client(Arc::clone(&f.provider));
    let resource = f.server.server().url(RESOURCE_PATH);

    let response = client.get(resource.clone()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(f.grants(), 1);
    assert_eq!(f.server.server().requests(RESOURCE_PATH), 1);

    let revoked = f.current_token().await;
    f.revoke(&revoked).await;

    // 401 with the revoked token, the cache dropped, one token request, one retry.
    let response = client.get(resource.clone()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["client_id"], CLIENT_ID);
    assert_eq!(f.grants(), 2);
    assert_eq!(f.server.server().requests(RESOURCE_PATH), 3);
    let fresh = f.current_token().await;
    assert_ne!(fresh, revoked);
    assert!(!f.server.is_revoked(&fresh));

    // The fresh token is cached: no further token request.
    assert_eq!(client.get(resource).send().await.unwrap().status(), 200);
    assert_eq!(f.grants(), 2);
    assert_eq!(f.server.server().requests(RESOURCE_PATH), 4);
}

#[tokio::test]
async fn a_second_401_is_returned_without_another_retry() {
    let f = oauth2(CLIENT_SECRET);
    // A resource that refuses every token: the fresh one as well.
    let refusing = ServerBuilder::new("refusing")
        .route(Method::GET, "/reports", |_| {
            TestResponse::text(StatusCode::UNAUTHORIZED, "no")
                .with_header("www-authenticate", "Bearer error=\"invalid_token\"")
        })
        .start()
        .unwrap();
    let client = client(Arc::clone(&f.provider));

    let response = client.get(refusing.url("/reports")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(refusing.requests("/reports"), 2);
    assert_eq!(f.grants(), 2);
}

#[tokio::test]
async fn a_streamed_body_is_sent_with_a_bearer_token_but_not_repeated() {
    let f = oauth2(CLIENT_SECRET);
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let checker = f.server.access_checker();
    let seen = Arc::clone(&bodies);
    let upload = ServerBuilder::new("upload")
        .route(Method::PUT, "/upload", move |r| {
            seen.lock().unwrap().push(r.body.clone());
            match checker.check(r) {
                Ok(_) => TestResponse::empty(StatusCode::NO_CONTENT),
                Err(refusal) => *refusal,
            }
        })
        .start()
        .unwrap();
    let client = client(Arc::clone(&f.provider));
    let put = |bytes: &'static [u8]| {
        client
            .put(upload.url("/upload"))
            .body(reqwest::Body::wrap(http_body_util::Full::new(
                bytes::Bytes::from_static(bytes),
            )))
            .send()
    };

    // A bearer token does not read the body: the stream is sent as it is.
    assert_eq!(put(b"chunk-1").await.unwrap().status(), 204);
    assert_eq!(bodies.lock().unwrap().last().unwrap().as_ref(), b"chunk-1");

    // After a revocation the stream cannot be sent again: the 401 is returned, but the
    // token is invalidated, so the next request carries a fresh one.
    f.revoke(&f.current_token().await).await;
    assert_eq!(put(b"chunk-2").await.unwrap().status(), 401);
    assert_eq!(upload.requests("/upload"), 2);
    assert_eq!(f.grants(), 1);
    assert_eq!(put(b"chunk-2").await.unwrap().status(), 204);
    assert_eq!(f.grants(), 2);
    assert_eq!(upload.requests("/upload"), 3);
}

#[tokio::test]
async fn the_users_own_client_keeps_its_user_agent_and_default_headers() {
    let f = oauth2(CLIENT_SECRET);
    let heads: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let checker = f.server.access_checker();
    let seen = Arc::clone(&heads);
    let api = ServerBuilder::new("reports-api")
        .route(Method::GET, "/reports", move |r| {
            seen.lock().unwrap().push(r.headers.clone());
            match checker.check(r) {
                Ok(grant) => TestResponse::json(
                    StatusCode::OK,
                    &serde_json::json!({ "client_id": grant.client_id }),
                ),
                Err(refusal) => *refusal,
            }
        })
        .start()
        .unwrap();

    let mut defaults = HeaderMap::new();
    defaults.insert("x-tenant", "acme-eu".parse().unwrap());
    auth_core::reqwest::ensure_crypto_provider();
    let users_client = reqwest::Client::builder()
        .user_agent("reporting-app/2.1")
        .default_headers(defaults)
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(users_client)
        .with(AuthMiddleware::new(Arc::clone(&f.provider)))
        .build();

    // A first call, then one refused after a revocation and retried: every request
    // that reached the server carries the client's headers and the token.
    assert_eq!(
        client
            .get(api.url("/reports"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    f.revoke(&f.current_token().await).await;
    assert_eq!(
        client
            .get(api.url("/reports"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let heads = heads.lock().unwrap();
    assert_eq!(heads.len(), 3);
    for head in heads.iter() {
        assert_eq!(head["user-agent"], "reporting-app/2.1");
        assert_eq!(head["x-tenant"], "acme-eu");
        assert!(
            head["authorization"]
                .to_str()
                .unwrap()
                .starts_with("Bearer ")
        );
    }
    assert_ne!(heads[1]["authorization"], heads[2]["authorization"]);
    assert_eq!(f.grants(), 2);
}

#[tokio::test]
async fn a_provider_failure_is_typed_secret_free_and_nothing_is_sent() {
    let f = oauth2("a-wrong-secret-4b1d-not-the-real-one");
    let resource = ServerBuilder::new("never-called")
        .route(Method::GET, "/reports", |_| {
            TestResponse::empty(StatusCode::OK)
        })
        .start()
        .unwrap();
    let client = client(Arc::clone(&f.provider));

    let failed = client
        .get(resource.url("/reports"))
        .send()
        .await
        .unwrap_err();
    let error = Error::downcast(&failed).expect("the middleware's error");
    let auth = error.auth_error().expect("the provider's error");
    // The core's classification, and the scheme's own error kept whole.
    assert_eq!(auth.refusal(), Some(auth_core::Refusal::ClientRejected));
    assert_eq!(
        auth.source_as::<auth_oauth2::OAuthError>().map(|e| &e.code),
        Some(&auth_oauth2::OAuthErrorCode::InvalidClient)
    );
    assert!(!auth.is_transient());
    for shown in [failed.to_string(), format!("{failed:?}"), chain(&failed)] {
        assert!(!shown.contains("a-wrong-secret-4b1d"), "{shown}");
        assert!(!shown.contains(CLIENT_SECRET), "{shown}");
    }
    assert!(
        failed
            .to_string()
            .starts_with("could not authorize the request: "),
        "{failed}"
    );
    assert_eq!(resource.total_requests(), 0);
}

/// The error and its sources, one per line.
fn chain(error: &reqwest_middleware::Error) -> String {
    let mut shown = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        shown.push('\n');
        shown.push_str(&e.to_string());
        source = e.source();
    }
    shown
}
