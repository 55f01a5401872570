//! Bynder over real HTTP against the embedded portal, which verifies every signature
//! with auth-oauth1's verifier: a permanent-token call, the temporary-token handshake
//! and call, and the failures a caller must tell apart.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_bynder::{AccessToken, Bynder, BynderConfig, ConsumerKey, Error};
use auth_core::http::{HttpClient, HttpResponse};
use auth_core::{Clock, ManualClock, SecretString};
use auth_oauth1::{Consumer, Flow, FlowEndpoints};
use auth_testkit::bynder::{
    ACCESS_TOKEN_PATH, AUTHORISE_PATH, AuthoriseReading, BynderConsumer, BynderServer, MEDIA_PATH,
    REQUEST_TOKEN_PATH, sign_in_and_approve,
};
use bytes::Bytes;

const KEY: &str = "8D7A0C3E-5B1F-4E2A-9C6D0B1A2F3E1EFA";
const SECRET: &str = "consumer-secret-2f9c";
const PERMANENT: &str = "4B1E9F0A-77C2-4D3B-8E5F6A7B8C9D0E1F";
const PERMANENT_SECRET: &str = "permanent-secret-a81d";
const CALLBACK: &str = "https://myintegration.example/login_success";

struct Fixture {
    clock: ManualClock,
    portal: BynderServer,
}

/// A portal that reads the authorise step's token as the document's parameter table
/// names it (`auth_token`, the test kit's default).
fn fixture() -> Fixture {
    fixture_reading(AuthoriseReading::Table)
}

fn fixture_reading(reading: AuthoriseReading) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let portal = BynderServer::start(
        BynderConsumer::new(KEY, SECRET)
            .clock(Arc::new(clock.clone()))
            .authorise_reading(reading),
    )
    .unwrap();
    portal.add_permanent_token(PERMANENT, PERMANENT_SECRET);
    Fixture { clock, portal }
}

impl Fixture {
    fn config(&self, secret: &str) -> BynderConfig {
        BynderConfig::new(
            self.portal.base_url().as_str(),
            ConsumerKey::new(KEY),
            SecretString::from(secret),
        )
        .unwrap()
    }

    fn bynder(&self, secret: &str) -> Bynder {
        let config = self
            .config(secret)
            .with_permanent_token(PERMANENT, SecretString::from(PERMANENT_SECRET))
            .unwrap();
        Bynder::builder(config)
            .clock(Arc::new(self.clock.clone()))
            .build()
            .unwrap()
    }

    /// `GET /api/v4/media/?type=image` through a client signing with `token`.
    async fn media(&self, bynder: &Bynder, token: AccessToken) -> Result<HttpResponse, Error> {
        let client = bynder.authorized_client(token)?;
        let url = bynder.config().api_url("api/v4/media/?type=image")?;
        Ok(client.send(get(&url)).await?)
    }

    /// Request token, the user's approval, access token.
    async fn handshake(&self, bynder: &Bynder) -> AccessToken {
        let request = bynder.request_token().await.unwrap();
        let url = bynder.authorise_url(&request, Some(CALLBACK));
        let landed = sign_in_and_approve(url.as_str()).await.unwrap();
        assert!(landed.starts_with(CALLBACK), "{landed}");
        bynder.access_token(&request).await.unwrap()
    }
}

fn get(url: &url::Url) -> http::Request<Bytes> {
    http::Request::get(url.as_str()).body(Bytes::new()).unwrap()
}

fn permanent() -> AccessToken {
    AccessToken::permanent(PERMANENT, SecretString::from(PERMANENT_SECRET))
}

#[tokio::test]
async fn a_permanent_token_signs_an_api_call() {
    let f = fixture();
    let bynder = f.bynder(SECRET);
    let client = auth_core::http::AuthorizedClient::new(
        bynder.http().clone(),
        Arc::new(bynder.permanent_user().unwrap()),
    );
    let url = bynder.config().api_url("api/v4/media/?type=image").unwrap();
    let answer = client.send(get(&url)).await.unwrap();
    assert_eq!(answer.status, 200);
    let assets: serde_json::Value = answer.json().unwrap();
    assert_eq!(assets[0]["name"], "vacation");
    assert_eq!(f.portal.server().requests(MEDIA_PATH), 1);

    // Permanent means permanent: a year later it still signs.
    f.clock.advance(Duration::from_secs(365 * 24 * 3600));
    assert_eq!(f.media(&bynder, permanent()).await.unwrap().status, 200);
}

#[tokio::test]
async fn the_temporary_token_handshake_then_a_call() {
    let f = fixture();
    let bynder = f.bynder(SECRET);

    let request = bynder.request_token().await.unwrap();
    assert_eq!(
        request.expires_at(),
        f.clock.now() + Duration::from_secs(600)
    );
    let url = bynder.authorise_url(&request, Some(CALLBACK));
    assert_eq!(url.path(), AUTHORISE_PATH);
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query,
        [
            ("oauth_token".to_owned(), request.token().to_owned()),
            ("auth_token".to_owned(), request.token().to_owned()),
            ("callback".to_owned(), CALLBACK.to_owned())
        ]
    );
    let landed = sign_in_and_approve(url.as_str()).await.unwrap();
    assert!(landed.starts_with(CALLBACK), "{landed}");

    let access = bynder.access_token(&request).await.unwrap();
    assert_eq!(
        access.expires_at(),
        Some(f.clock.now() + Duration::from_secs(30 * 24 * 3600))
    );
    assert_ne!(access.token(), request.token());
    assert_eq!(f.media(&bynder, access.clone()).await.unwrap().status, 200);

    // One request per step, each signed and verified.
    let s = f.portal.server();
    assert_eq!(
        [
            s.requests(REQUEST_TOKEN_PATH),
            s.requests(AUTHORISE_PATH),
            s.requests(ACCESS_TOKEN_PATH),
            s.requests(MEDIA_PATH)
        ],
        [1, 1, 1, 1]
    );

    // 29 days on, still good.
    f.clock.advance(Duration::from_secs(29 * 24 * 3600));
    assert_eq!(f.media(&bynder, access).await.unwrap().status, 200);
}

/// Issue 26, item 6: the document's parameter table names the authorise step's token
/// `auth_token` ("Yes", required, line 91), its example URL `oauth_token` (line 97).
/// The URL carries both, so the handshake completes against a portal of either
/// reading, with a callback and without.
#[tokio::test]
async fn the_authorise_step_names_the_token_both_ways_and_either_portal_reading_signs_in() {
    for reading in [AuthoriseReading::Table, AuthoriseReading::Example] {
        let f = fixture_reading(reading);
        let bynder = f.bynder(SECRET);

        let request = bynder.request_token().await.unwrap();
        let url = bynder.authorise_url(&request, None);
        let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            query,
            [
                ("oauth_token".to_owned(), request.token().to_owned()),
                ("auth_token".to_owned(), request.token().to_owned()),
            ],
            "{reading:?}"
        );
        let page = sign_in_and_approve(url.as_str()).await.unwrap();
        assert!(
            page.contains(&format!("oauth_token={}", request.token())),
            "{reading:?}: {page}"
        );
        let access = bynder.access_token(&request).await.unwrap();
        assert_eq!(f.media(&bynder, access).await.unwrap().status, 200);

        let again = bynder.request_token().await.unwrap();
        let landed = sign_in_and_approve(bynder.authorise_url(&again, Some(CALLBACK)).as_str())
            .await
            .unwrap();
        assert!(landed.starts_with(CALLBACK), "{reading:?}: {landed}");
        bynder.access_token(&again).await.unwrap();
    }
}

/// The portal of either reading refuses an authorise URL without its parameter: the
/// test portal would catch a client that sent only one name.
#[tokio::test]
async fn a_portal_refuses_an_authorise_url_without_the_name_it_reads() {
    for (reading, other) in [
        (AuthoriseReading::Table, "oauth_token"),
        (AuthoriseReading::Example, "auth_token"),
    ] {
        let f = fixture_reading(reading);
        let bynder = f.bynder(SECRET);
        let request = bynder.request_token().await.unwrap();
        let mut url = f.portal.server().url(AUTHORISE_PATH);
        url.query_pairs_mut()
            .append_pair(other, request.token())
            .append_pair("callback", CALLBACK);
        let page = sign_in_and_approve(url.as_str()).await.unwrap();
        assert!(page.contains("Missing"), "{reading:?}: {page}");
        let err = bynder.access_token(&request).await.unwrap_err();
        assert!(matches!(err, Error::NotAuthorised), "{reading:?}: {err:?}");
    }
}

#[tokio::test]
async fn without_a_callback_the_portal_shows_the_token() {
    let f = fixture();
    let bynder = f.bynder(SECRET);
    let request = bynder.request_token().await.unwrap();
    let page = sign_in_and_approve(bynder.authorise_url(&request, None).as_str())
        .await
        .unwrap();
    assert!(
        page.contains(&format!("oauth_token={}", request.token())),
        "{page}"
    );
    let access = bynder.access_token(&request).await.unwrap();
    assert_eq!(f.media(&bynder, access).await.unwrap().status, 200);
}

#[tokio::test]
async fn a_request_token_used_after_eleven_minutes_is_refused_before_sending() {
    let f = fixture();
    let bynder = f.bynder(SECRET);
    let request = bynder.request_token().await.unwrap();
    sign_in_and_approve(bynder.authorise_url(&request, Some(CALLBACK)).as_str())
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(11 * 60));
    let err = bynder.access_token(&request).await.unwrap_err();
    assert!(matches!(err, Error::RequestTokenExpired), "{err:?}");
    assert!(err.to_string().contains("start the handshake again"));
    assert_eq!(f.portal.server().requests(ACCESS_TOKEN_PATH), 0);
}

#[tokio::test]
async fn the_portal_itself_expires_request_tokens_after_ten_minutes() {
    // A plain OAuth 1.0 flow, which keeps no expiry of its own, shows that the portal
    // refuses the late exchange and that the answer maps to the same typed error.
    let f = fixture();
    let config = f.config(SECRET);
    let flow = Flow::new(
        Consumer::new(KEY, SecretString::from(SECRET)),
        FlowEndpoints {
            temporary: config.api_url(REQUEST_TOKEN_PATH).unwrap(),
            authorize: config.api_url(AUTHORISE_PATH).unwrap(),
            token: config.api_url(ACCESS_TOKEN_PATH).unwrap(),
        },
        HttpClient::with_defaults().unwrap(),
        Arc::new(f.clock.clone()),
    )
    .unwrap()
    .oauth_1_0();
    let temporary = flow.temporary_credentials(None).await.unwrap().credentials;
    let page = sign_in_and_approve(
        flow.authorize_url(&temporary, &[("auth_token", temporary.token())])
            .as_str(),
    )
    .await
    .unwrap();
    assert!(page.contains("oauth_verifier="), "approved: {page}");
    f.clock.advance(Duration::from_secs(11 * 60));
    let err = Error::from(flow.token_credentials(&temporary, None).await.unwrap_err());
    assert!(matches!(err, Error::RequestTokenExpired), "{err:?}");
    assert_eq!(f.portal.server().requests(ACCESS_TOKEN_PATH), 1);
}

#[tokio::test]
async fn a_request_token_exchanged_twice_is_refused() {
    let f = fixture();
    let bynder = f.bynder(SECRET);
    let request = bynder.request_token().await.unwrap();
    sign_in_and_approve(bynder.authorise_url(&request, Some(CALLBACK)).as_str())
        .await
        .unwrap();
    bynder.access_token(&request).await.unwrap();
    let err = bynder.access_token(&request).await.unwrap_err();
    assert!(matches!(err, Error::RequestTokenUsed), "{err:?}");
    assert_eq!(f.portal.access_tokens(), 2); // the permanent one and the first exchange
}

#[tokio::test]
async fn exchanging_before_the_user_authorised_is_refused() {
    let f = fixture();
    let bynder = f.bynder(SECRET);
    let request = bynder.request_token().await.unwrap();
    let err = bynder.access_token(&request).await.unwrap_err();
    assert!(matches!(err, Error::NotAuthorised), "{err:?}");
}

#[tokio::test]
async fn a_wrong_consumer_secret_is_refused_and_not_repeated() {
    let f = fixture();
    let wrong = "consumer-secret-WRONG";
    let bynder = f.bynder(wrong);
    let err = bynder.request_token().await.unwrap_err();
    match &err {
        Error::CredentialsRejected { problem } => assert_eq!(problem, "signature_invalid"),
        other => panic!("expected CredentialsRejected, got {other:?}"),
    }
    assert!(!err.to_string().contains(wrong) && !format!("{err:?}").contains(wrong));

    // The same wrong secret on an API call: the portal answers 401, once; a signature
    // over the same credentials would be refused again, so it is not retried.
    let answer = f.media(&bynder, permanent()).await.unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body.as_ref(), b"oauth_problem=signature_invalid");
    assert_eq!(f.portal.server().requests(MEDIA_PATH), 1);
}

#[tokio::test]
async fn a_thirty_day_old_access_token_is_refused_before_sending() {
    let f = fixture();
    let bynder = f.bynder(SECRET);
    let access = f.handshake(&bynder).await;
    let before = f.portal.server().requests(MEDIA_PATH);
    f.clock.advance(Duration::from_secs(30 * 24 * 3600));

    let provider = bynder.user(access.clone()).unwrap();
    assert!(provider.is_expired());
    let err = f.media(&bynder, access.clone()).await.unwrap_err();
    match &err {
        Error::AccessTokenExpired { expired_at } => {
            assert_eq!(Some(*expired_at), access.expires_at());
        }
        other => panic!("expected AccessTokenExpired, got {other:?}"),
    }
    assert!(err.to_string().contains("must authorise again"));
    assert_eq!(f.portal.server().requests(MEDIA_PATH), before);

    // A restored token carries its expiry: refused the same way.
    let restored = AccessToken::temporary(
        access.token(),
        access.secret().clone(),
        access.expires_at().unwrap(),
    );
    assert!(bynder.user(restored).unwrap().is_expired());
}

#[tokio::test]
async fn the_portal_refuses_an_expired_access_token_too() {
    // Restored with a wrong (later) expiry, the token reaches the portal, which
    // refuses it after 30 days on its own clock.
    let f = fixture();
    let bynder = f.bynder(SECRET);
    let access = f.handshake(&bynder).await;
    f.clock.advance(Duration::from_secs(31 * 24 * 3600));
    let lying = AccessToken::temporary(
        access.token(),
        access.secret().clone(),
        f.clock.now() + Duration::from_secs(3600),
    );
    let answer = f.media(&bynder, lying).await.unwrap();
    assert_eq!(answer.status, 401);
    assert_eq!(answer.body.as_ref(), b"oauth_problem=token_expired");
}

#[tokio::test]
async fn a_permanent_provider_needs_a_permanent_token() {
    let f = fixture();
    let bynder = Bynder::builder(f.config(SECRET))
        .clock(Arc::new(f.clock.clone()) as Arc<dyn Clock>)
        .build()
        .unwrap();
    assert!(matches!(bynder.permanent_user(), Err(Error::Config(_))));
}

#[test]
fn a_plain_http_portal_off_loopback_is_refused() {
    let config = BynderConfig::new(
        "http://company.bynder.com",
        ConsumerKey::new(KEY),
        SecretString::from(SECRET),
    )
    .unwrap();
    let err = Bynder::new(config).unwrap_err();
    assert!(
        matches!(err, Error::Core(auth_core::Error::InsecureUrl { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn any_transport_through_the_builder_and_refusals_keep_their_class() {
    // The application's own HttpClient (here the default transport under a policy of
    // its own) goes through the builder.
    let f = fixture();
    let http = HttpClient::with_policy(
        auth_core::http::HttpPolicy::default().with_request_timeout(Duration::from_secs(5)),
    )
    .unwrap();
    let config = f.config("consumer-secret-WRONG");
    let bynder = Bynder::builder(config)
        .http(http)
        .clock(Arc::new(f.clock.clone()))
        .build()
        .unwrap();
    let err = bynder.request_token().await.unwrap_err();
    // Generic code holding the core error sees a refused client, and can recover
    // the typed error.
    let core = auth_core::Error::from(err);
    assert_eq!(core.refusal(), Some(auth_core::Refusal::ClientRejected));
    assert!(matches!(
        Error::from(core),
        Error::CredentialsRejected { problem } if problem == "signature_invalid"
    ));

    let expired = auth_core::Error::from(Error::RequestTokenExpired);
    assert_eq!(expired.refusal(), Some(auth_core::Refusal::GrantRejected));
}
