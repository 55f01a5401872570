//! The layer over real HTTP on loopback, its inner service hyper's own client
//! (`hyper_util::client::legacy::Client`, no reqwest in the request path), against the
//! test kit's embedded servers: a Bynder form body signed with OAuth 1.0a and verified
//! with its parameters, bookingtime's 5-minute bearer tokens renewed after a 401, a
//! streamed body that is never buffered, and an API key in the query.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use auth_bookingtime::{Bookingtime, BookingtimeConfig, OrganizationId};
use auth_bynder::{AccessToken, Bynder, BynderConfig, BynderProvider, ConsumerKey};
use auth_core::{AuthRequest, Authorize, CredentialProvider, ExposeSecret};
use auth_core::{ManualClock, SecretString};
use auth_oauth1::{InMemoryNonceStore, IncomingRequest, Verifier, VerifyingKey};
use auth_testkit::bookingtime::{App, BookingtimeServer, BookingtimeServerConfig};
use auth_testkit::bynder::{BynderConsumer, BynderServer, MEDIA_PATH};
use auth_testkit::{Fault, ServerBuilder, TestResponse, TestServer};
use auth_tower::{AuthBody, AuthLayer, AuthService, BoxError};
use bytes::Bytes;
use futures_util::stream;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, StreamBody};
use hyper::body::{Body, Frame, Incoming};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, ResponseFuture};
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tower::{Layer, Service, ServiceExt};

// ---------------------------------------------------------------------------------
// The stack: hyper's client, observed on its way out, behind the layer.

/// One request as it left for the wire.
#[derive(Debug, Clone)]
struct Sent {
    authorization: Option<String>,
    query: Option<String>,
    /// The caller's own body passed through (`Left`), not a buffered one.
    streamed: bool,
}

/// hyper's client, noting each request it is given (headers only; the body is not
/// touched). Nothing here stands in for HTTP: every request goes over loopback.
struct Observed<B> {
    client: Client<HttpConnector, AuthBody<B>>,
    sent: Arc<Mutex<Vec<Sent>>>,
}

impl<B> Clone for Observed<B> {
    fn clone(&self) -> Self {
        Self {
            client: self.client.clone(),
            sent: Arc::clone(&self.sent),
        }
    }
}

impl<B> Service<Request<AuthBody<B>>> for Observed<B>
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Incoming>;
    type Error = hyper_util::client::legacy::Error;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<Request<AuthBody<B>>>::poll_ready(&mut self.client, cx)
    }

    fn call(&mut self, request: Request<AuthBody<B>>) -> ResponseFuture {
        self.sent.lock().unwrap().push(Sent {
            authorization: request
                .headers()
                .get(AUTHORIZATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            query: request.uri().query().map(str::to_owned),
            streamed: matches!(request.body(), Either::Left(_)),
        });
        self.client.request(request)
    }
}

type Stack<B> = AuthService<Observed<B>>;

fn stack<B>(provider: Arc<dyn CredentialProvider>) -> (Stack<B>, Arc<Mutex<Vec<Sent>>>)
where
    B: Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    let sent = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder(TokioExecutor::new()).build_http();
    let observed = Observed {
        client,
        sent: Arc::clone(&sent),
    };
    (AuthLayer::new(provider).layer(observed), sent)
}

async fn read(response: Response<Incoming>) -> (StatusCode, Bytes) {
    let status = response.status();
    (
        status,
        response.into_body().collect().await.unwrap().to_bytes(),
    )
}

fn empty() -> Full<Bytes> {
    Full::new(Bytes::new())
}

// ---------------------------------------------------------------------------------
// Bynder.

const KEY: &str = "8D7A0C3E-5B1F-4E2A-9C6D0B1A2F3E1EFA";
const SECRET: &str = "consumer-secret-2f9c";
const PERMANENT: &str = "4B1E9F0A-77C2-4D3B-8E5F6A7B8C9D0E1F";
const PERMANENT_SECRET: &str = "permanent-secret-a81d";
const REVOKED: &str = "0C6D2E1F-3A4B-4C5D-8E9F0A1B2C3D4E5F";
const REVOKED_SECRET: &str = "revoked-secret-77e0";
const ASSET: &str = "4F7A0B3C-1D2E-4A5B-9C8D7E6F5A4B3C2D";
/// Bynder's "modify asset": a POST with a form body.
const MODIFY_ASSET_PATH: &str = "/api/v4/media/{id}/";

fn bynder(clock: &ManualClock, portal: &str) -> Bynder {
    let config =
        BynderConfig::new(portal, ConsumerKey::new(KEY), SecretString::from(SECRET)).unwrap();
    Bynder::builder(config)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
}

fn signing(bynder: &Bynder, token: &str, secret: &str) -> BynderProvider {
    bynder
        .user(AccessToken::permanent(token, SecretString::from(secret)))
        .unwrap()
}

/// Bynder's portal for a form-body write: `POST /api/v4/media/{id}/`, every request
/// verified with `auth_oauth1::Verifier` over method, URI and the form parameters of
/// the body (RFC 5849 §3.4.1.3.1), exactly as the test kit's `OAuth1Server` verifies
/// its routes; a failure is `401` with `oauth_problem`, as there. It answers with the
/// form parameters it verified.
///
/// Built here from the test kit's `ServerBuilder` because `BynderServer` serves its
/// signed resource for `GET` only (`OAuth1Config::resource_path` is one `GET` route).
/// The hook that would let this test use `BynderServer` itself: a POST resource on
/// `OAuth1Server` (for example `OAuth1Config::resource_methods`, or Bynder's
/// `POST /api/v4/media/{id}/` route) whose answer echoes the verified form pairs.
fn modify_asset_portal(clock: &ManualClock) -> TestServer {
    let verifier = Verifier::new()
        .clock(Arc::new(clock.clone()))
        .nonce_store(Arc::new(InMemoryNonceStore::new()));
    ServerBuilder::new("bynder-modify-asset")
        .route(Method::POST, MODIFY_ASSET_PATH, move |req| {
            let host = req.header("host").unwrap_or("127.0.0.1");
            let uri: http::Uri = match &req.raw_query {
                Some(q) => format!("http://{host}{}?{q}", req.path),
                None => format!("http://{host}{}", req.path),
            }
            .parse()
            .unwrap();
            let outcome = verifier.verify(
                &IncomingRequest {
                    method: req.method.as_str(),
                    uri: &uri,
                    content_type: req.header("content-type"),
                    body: &req.body,
                    authorization: req.header("authorization").unwrap_or_default(),
                },
                |consumer, token| {
                    (consumer == KEY && token == Some(PERMANENT)).then(|| VerifyingKey::Shared {
                        consumer_secret: SecretString::from(SECRET),
                        token_secret: Some(SecretString::from(PERMANENT_SECRET)),
                    })
                },
            );
            match outcome {
                Ok(_) => TestResponse::json(
                    StatusCode::OK,
                    &json!({ "id": req.param("id"), "updated": req.form_pairs() }),
                ),
                Err(_) => TestResponse::form(
                    StatusCode::UNAUTHORIZED,
                    &[("oauth_problem", "signature_invalid")],
                ),
            }
        })
        .start()
        .unwrap()
}

fn modify_asset(server: &TestServer, form: &'static str) -> Request<Full<Bytes>> {
    let url = server.url(&format!("/api/v4/media/{ASSET}/"));
    Request::post(format!("{url}?async=false"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(form.as_bytes())))
        .unwrap()
}

/// A Bynder provider whose token was rotated: it signs with the token it has until the
/// portal refuses it, then reloads the one an administrator issued in its place (what
/// an application does with a permanent token kept in a secret store). Its
/// `invalidate` says so by returning `true` once. `BynderProvider` alone keeps fixed
/// credentials and says `false`: a second try would be refused the same way.
#[derive(Debug)]
struct Rotated {
    stale: BynderProvider,
    fresh: BynderProvider,
    rotated: AtomicBool,
    invalidations: AtomicUsize,
}

impl CredentialProvider for Rotated {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        if self.rotated.load(Ordering::SeqCst) {
            self.fresh.authorize(request)
        } else {
            self.stale.authorize(request)
        }
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.invalidations.fetch_add(1, Ordering::SeqCst);
        let _ = request;
        !self.rotated.swap(true, Ordering::SeqCst)
    }

    fn reads_body(&self, parts: &http::request::Parts) -> bool {
        self.fresh.reads_body(parts)
    }
}

/// A provider that signs without being shown the body: what a layer that did not
/// buffer would send.
#[derive(Debug)]
struct Blind(BynderProvider);

impl CredentialProvider for Blind {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.0.authorize(request)
    }
}

#[tokio::test]
async fn bynder_signs_a_form_body_and_after_a_401_renews_and_sends_it_once_more() {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let portal = modify_asset_portal(&clock);
    let bynder = bynder(&clock, portal.base_url().as_str());
    let provider = Arc::new(Rotated {
        stale: signing(&bynder, REVOKED, REVOKED_SECRET),
        fresh: signing(&bynder, PERMANENT, PERMANENT_SECRET),
        rotated: AtomicBool::new(false),
        invalidations: AtomicUsize::new(0),
    });
    let (service, sent) = stack(provider.clone() as Arc<dyn CredentialProvider>);

    let form = "name=Summer+vacation&description=Beach%2C+2025&tags=beach&tags=sun";
    let response = service
        .clone()
        .oneshot(modify_asset(&portal, form))
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");

    // The portal refused the revoked token (a real 401, from its verifier), the
    // provider renewed, and the buffered form went once more, signed afresh.
    let path = format!("/api/v4/media/{ASSET}/");
    assert_eq!(portal.requests(&path), 2);
    assert_eq!(provider.invalidations.load(Ordering::SeqCst), 1);
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter().all(|s| !s.streamed),
        "a signed body is buffered"
    );
    let first = sent[0].authorization.as_deref().unwrap();
    let second = sent[1].authorization.as_deref().unwrap();
    assert!(first.starts_with("OAuth ") && first.contains(REVOKED));
    assert!(second.contains(PERMANENT) && !second.contains(REVOKED));
    assert_eq!(second.matches("oauth_signature=").count(), 1);

    // What the portal verified: the form parameters, signed, as sent.
    let answer: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(answer["id"], ASSET);
    assert_eq!(
        answer["updated"],
        json!([
            ["name", "Summer vacation"],
            ["description", "Beach, 2025"],
            ["tags", "beach"],
            ["tags", "sun"]
        ])
    );
}

#[tokio::test]
async fn bynder_verifies_the_form_parameters_and_fixed_credentials_are_not_sent_twice() {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let portal = modify_asset_portal(&clock);
    let bynder = bynder(&clock, portal.base_url().as_str());
    let path = format!("/api/v4/media/{ASSET}/");

    // The body is part of the signature: signed without it, the portal refuses.
    let blind = Arc::new(Blind(signing(&bynder, PERMANENT, PERMANENT_SECRET)));
    let (service, sent) = stack(blind as Arc<dyn CredentialProvider>);
    let response = service
        .oneshot(modify_asset(&portal, "name=Summer"))
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, "oauth_problem=signature_invalid");
    assert!(
        sent.lock().unwrap()[0].streamed,
        "not read, so not buffered"
    );

    // The Bynder provider signs it, and the portal accepts.
    let provider = Arc::new(signing(&bynder, PERMANENT, PERMANENT_SECRET));
    let (service, _) = stack(provider as Arc<dyn CredentialProvider>);
    let response = service
        .oneshot(modify_asset(&portal, "name=Summer"))
        .await
        .unwrap();
    assert_eq!(read(response).await.0, StatusCode::OK);

    // A wrong token secret: refused, and not sent again, since the provider's
    // credentials are fixed (`invalidate` is `false`).
    portal.reset_counters();
    let wrong = Arc::new(signing(&bynder, PERMANENT, "not-the-secret"));
    let (service, _) = stack(wrong as Arc<dyn CredentialProvider>);
    let response = service
        .oneshot(modify_asset(&portal, "name=Summer"))
        .await
        .unwrap();
    assert_eq!(read(response).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(portal.requests(&path), 1);
}

#[tokio::test]
async fn bynder_reads_through_the_embedded_portal() {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let portal =
        BynderServer::start(BynderConsumer::new(KEY, SECRET).clock(Arc::new(clock.clone())))
            .unwrap();
    portal.add_permanent_token(PERMANENT, PERMANENT_SECRET);
    let bynder = bynder(&clock, portal.base_url().as_str());
    let provider = Arc::new(signing(&bynder, PERMANENT, PERMANENT_SECRET));
    let (service, _) = stack(provider as Arc<dyn CredentialProvider>);
    let url = portal.server().url(MEDIA_PATH);
    let get = || {
        Request::get(format!("{url}?type=image"))
            .body(empty())
            .unwrap()
    };

    // A signed read, the query in the signature, verified by the portal.
    let (status, body) = read(service.clone().oneshot(get()).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let assets: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(assets[0]["name"], "vacation");

    // A 401 (a gateway's): the Bynder provider has nothing to renew, so it is answered
    // as it is, after one request.
    portal
        .server()
        .inject_on(MEDIA_PATH, Fault::HtmlPage(StatusCode::UNAUTHORIZED), 1);
    let (status, _) = read(service.oneshot(get()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(portal.server().requests(MEDIA_PATH), 2);
}

// ---------------------------------------------------------------------------------
// bookingtime.

const APP: &str = "70app-client-id";
const APP_SECRET: &str = "1234-app-secret-7e1";
const ORG: &str = "f6-org-a";

struct Booking {
    server: BookingtimeServer,
    organization: auth_bookingtime::Organization,
}

fn booking() -> Booking {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server = BookingtimeServer::start(
        BookingtimeServerConfig::new()
            .app(App::new(APP, APP_SECRET, &[ORG]))
            .clock(Arc::new(clock.clone())),
    )
    .unwrap();
    let config = BookingtimeConfig::new(APP, SecretString::from(APP_SECRET))
        .unwrap()
        .with_auth_url(server.auth_url().as_str())
        .unwrap()
        .with_api_url(server.api_url().as_str())
        .unwrap();
    let bookingtime = Bookingtime::builder(config)
        .clock(Arc::new(clock))
        .build()
        .unwrap();
    let organization = bookingtime
        .app()
        .organization(&OrganizationId::new(ORG).unwrap());
    Booking {
        server,
        organization,
    }
}

impl Booking {
    fn provider(&self) -> Arc<dyn CredentialProvider> {
        Arc::new(self.organization.clone())
    }

    fn url(&self, action: &[&str]) -> String {
        self.organization.url(action).unwrap().to_string()
    }

    fn path(&self, action: &str) -> String {
        format!("/app/v3/de/organization/{ORG}/{action}")
    }

    async fn current_token(&self) -> String {
        let token = self.organization.token().await.unwrap();
        token.token().access_token().expose_secret().to_owned()
    }

    /// Revokes `token` at the authorization server (RFC 7009), over plain hyper.
    async fn revoke(&self, token: &str) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let mut url = self.server.auth_url().clone();
        url.set_path("/revoke");
        let form = format!("token={token}&client_id={APP}&client_secret={APP_SECRET}");
        let request = Request::post(url.as_str())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn bookingtime_renews_a_revoked_token_after_a_401_and_sends_once_more() {
    let b = booking();
    let (service, sent) = stack::<Full<Bytes>>(b.provider());
    let show = || Request::get(b.url(&["show"])).body(empty()).unwrap();

    let (status, body) = read(service.clone().oneshot(show()).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let shown: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(shown["id"], ORG);
    let first = b.current_token().await;
    assert_eq!(b.server.access_tokens_for(ORG), 1);

    // The token is revoked behind the client's back: the API answers 401
    // `invalid_token`, the provider drops it, fetches a fresh one, and the request is
    // sent once more with it.
    b.revoke(&first).await;
    let (status, body) = read(service.clone().oneshot(show()).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(b.server.access_tokens_for(ORG), 2);
    assert_eq!(b.server.api().requests(&b.path("show")), 3);
    let fresh = b.current_token().await;
    assert_ne!(fresh, first);
    let sent = sent.lock().unwrap().clone();
    let bearers: Vec<_> = sent
        .iter()
        .map(|s| s.authorization.clone().unwrap())
        .collect();
    assert_eq!(
        bearers,
        [
            format!("Bearer {first}"),
            format!("Bearer {first}"),
            format!("Bearer {fresh}")
        ]
    );

    // Never more than one retry: two 401s in a row are answered after two requests.
    b.server.api().inject_on(
        &b.path("show"),
        Fault::HtmlPage(StatusCode::UNAUTHORIZED),
        2,
    );
    let (status, _) = read(service.clone().oneshot(show()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(b.server.api().requests(&b.path("show")), 5);
}

type Streamed = StreamBody<stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

fn streamed(chunks: &[&'static str]) -> Streamed {
    let frames: Vec<_> = chunks
        .iter()
        .map(|c| Ok(Frame::data(Bytes::from_static(c.as_bytes()))))
        .collect();
    StreamBody::new(stream::iter(frames))
}

#[tokio::test]
async fn bookingtime_gets_a_streamed_body_intact_and_it_is_not_sent_twice() {
    let b = booking();
    let (service, sent) = stack::<Streamed>(b.provider());
    let add = |chunks: &[&'static str]| {
        let body = streamed(chunks);
        assert!(body.size_hint().exact().is_none(), "no size known up front");
        Request::post(b.url(&["customer", "add"]))
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap()
    };

    // A bearer provider does not read the body: it goes out as the caller's stream
    // (chunked), and arrives whole.
    let chunks = [
        "{\"firstName\":",
        "\"Ada\",",
        "\"lastName\":\"Lovelace\"",
        "}",
    ];
    let (status, body) = read(service.clone().oneshot(add(&chunks)).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    let stored = b.server.customers(ORG);
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (&stored[0]["firstName"], &stored[0]["lastName"]),
        (&json!("Ada"), &json!("Lovelace"))
    );
    assert!(sent.lock().unwrap()[0].streamed);

    // After a 401 the token is dropped, but a stream cannot be replayed: the 401 goes
    // back to the caller, and the next request carries a fresh token.
    let first = b.current_token().await;
    b.revoke(&first).await;
    let chunks = ["{\"firstName\":\"Alan\",", "\"lastName\":\"Turing\"}"];
    let (status, _) = read(service.clone().oneshot(add(&chunks)).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(b.server.api().requests(&b.path("customer/add")), 2);
    let (status, _) = read(service.oneshot(add(&chunks)).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(b.server.customers(ORG).len(), 2);
    assert_eq!(b.server.access_tokens_for(ORG), 2);
    let sent = sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|s| s.streamed));
    assert_ne!(sent[2].authorization, sent[1].authorization);
}

// ---------------------------------------------------------------------------------
// An API key in the query.

#[tokio::test]
async fn an_api_key_in_the_query_reaches_the_server() {
    use auth_testkit::binokula::{BinokulaServer, BinokulaTenant, TOKEN_PATH};
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let tenant =
        BinokulaTenant::new("acme", "tenant-secret-5c1", "function-key-9a0").clock(Arc::new(clock));
    let server = BinokulaServer::start(tenant).unwrap();
    let key = auth_apikey::ApiKey::builder(SecretString::from("tenant-secret-5c1"))
        .header("client_secret")
        .unwrap()
        .extra_query("tenant", "acme")
        .extra_secret_query("code", SecretString::from("function-key-9a0"))
        .build()
        .unwrap();
    let (service, sent) = stack::<Full<Bytes>>(Arc::new(key));
    let url = server.server().url(TOKEN_PATH);

    let request = Request::get(format!("{url}?email=kim%40corp.com"))
        .body(empty())
        .unwrap();
    let (status, body) = read(service.oneshot(request).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    assert_eq!(server.tokens_issued(), 1);
    assert_eq!(
        sent.lock().unwrap()[0].query.as_deref(),
        Some("email=kim%40corp.com&tenant=acme&code=function-key-9a0")
    );
}
