//! BeProduct over real HTTP against the embedded identity server and REST API: the
//! full sign-in, the `id_token token` fragment, the daily quota refused on the
//! client, and reads and writes paged and chunked to the documented limits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_beproduct::{
    Answer, BeProduct, BeProductConfig, ChunkBody, Chunking, ClientId, Error, OrganizationId,
    Paging, Plan, QuotaReading, Session,
};
use auth_core::{
    Error as CoreError, ExposeSecret, InMemoryQuotaStore, ManualClock, QuotaStore, SecretString,
    StoreKey,
};
use auth_oauth2::IdTokenError;
use auth_testkit::beproduct::{Account, BeProductServer, Edition, USER};
use auth_testkit::oauth2::{consent, with_fragment_param, with_query_param};
use serde_json::{Value, json};
use url::Url;

const ID: &str = "client1";
const ORG: &str = "acme";
const SECRET: &str = "beproduct-secret-8Qz";
const REDIRECT: &str = "https://myapp.example/callback";
/// 2026-11-22T20:00:00Z: four hours before the UTC day ends.
const START: u64 = 1_795_377_600;
const STYLE_PATH: &str = "/api/v1/Style";

struct Fixture {
    clock: ManualClock,
    server: BeProductServer,
}

fn fixture(edition: Edition, licenses: u32) -> Fixture {
    let clock = ManualClock::starting_at_unix(START);
    let account = Account::new(ID, SECRET, edition, licenses).clock(Arc::new(clock.clone()));
    let server = BeProductServer::start(account).unwrap();
    Fixture { clock, server }
}

impl Fixture {
    fn config(&self, plan: Plan) -> BeProductConfig {
        BeProductConfig::new(org(), id(), SecretString::from(SECRET), REDIRECT, plan)
            .unwrap()
            .with_identity_url(self.server.identity_url())
            .unwrap()
            .with_api_url(self.server.api_url().as_str())
            .unwrap()
    }

    fn beproduct(&self, config: BeProductConfig) -> BeProduct {
        BeProduct::builder(config)
            .clock(Arc::new(self.clock.clone()))
            .build()
            .unwrap()
    }

    async fn session(&self, beproduct: &BeProduct) -> auth_beproduct::Session {
        let pending = beproduct.authorization_request().await.unwrap();
        let redirect = consent(pending.url.as_str()).await.unwrap();
        beproduct.sign_in(&pending, &redirect).await.unwrap()
    }
}

fn id() -> ClientId {
    ClientId::new(ID).unwrap()
}

fn org() -> OrganizationId {
    OrganizationId::new(ORG).unwrap()
}

/// One page of Style records, with the test server's paging parameters.
async fn page(session: &Session, size: usize) -> Result<Answer, Error> {
    session
        .get("Style")
        .query("pageSize", &size.to_string())
        .query("pageNumber", "0")
        .send()
        .await
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn the_full_sign_in_then_userinfo_a_rest_call_and_the_logout_url() {
    let f = fixture(Edition::Business, 4);
    let beproduct = f.beproduct(f.config(Plan::business(4)));

    // The authorize URL: IdentityServer's connect/authorize, the documented scopes,
    // PKCE, state and nonce.
    let pending = beproduct.authorization_request().await.unwrap();
    assert_eq!(pending.url.path(), "/ids/connect/authorize");
    assert_eq!(
        query(&pending.url, "scope").as_deref(),
        Some("openid email roles beproductDeveloper")
    );
    assert_eq!(
        query(&pending.url, "response_type").as_deref(),
        Some("code")
    );
    assert_eq!(
        query(&pending.url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(query(&pending.url, "nonce").is_some() && query(&pending.url, "state").is_some());

    // Consent at the embedded server, then the callback and the exchange.
    let redirect = consent(pending.url.as_str()).await.unwrap();
    assert!(redirect.as_str().starts_with(REDIRECT));
    let session = beproduct.sign_in(&pending, &redirect).await.unwrap();
    assert_eq!(f.server.auth_server().grants("authorization_code"), 1);

    // The ID token was validated: its claims are the user's, with our nonce.
    assert_eq!(session.claims().sub, USER);
    assert_eq!(session.claims().iss, f.server.identity_url());
    assert_eq!(session.claims().nonce.as_deref(), pending.nonce());

    // Userinfo into a typed profile (BeProduct's "true" string read as a boolean).
    let profile = session.userinfo().await.unwrap();
    assert_eq!(profile.preferred_username.as_deref(), Some(USER));
    assert_eq!(profile.email.as_deref(), Some("john.smith@beproduct.com"));
    assert!(profile.email_verified);
    assert_eq!(profile.userinfo.as_ref().unwrap()["firstname"], "John");

    // A REST call with the user's token in the Authorization header.
    f.server.seed("Style", 3);
    let answer = page(&session, 10).await.unwrap();
    assert_eq!((answer.kind(), answer.entities().len()), (Some("Style"), 3));
    assert_eq!(f.server.used_today(), 1);
    assert_eq!(beproduct.requests_today().await, 1);

    // The logout URL, which the identity server honours.
    let logout = session
        .end_session_url(Some("https://myapp.example/"))
        .unwrap();
    assert_eq!(logout.path(), "/ids/connect/endsession");
    assert_eq!(
        query(&logout, "id_token_hint").as_deref(),
        Some(session.id_token().expose_secret())
    );
    let back = consent(logout.as_str()).await.unwrap();
    assert!(back.as_str().starts_with("https://myapp.example/"));
}

#[tokio::test]
async fn the_session_refreshes_while_a_refresh_token_allows() {
    let f = fixture(Edition::Business, 4);
    let beproduct = f.beproduct(f.config(Plan::business(4)).with_offline_access());
    let session = f.session(&beproduct).await;
    let first = session.token().await.unwrap();
    f.clock.advance(Duration::from_secs(3601));
    page(&session, 1).await.unwrap();
    let second = session.token().await.unwrap();
    assert_ne!(first.header(), second.header());
    assert_eq!(f.server.auth_server().grants("refresh_token"), 1);

    // Once the refresh token is revoked, the user must sign in again.
    f.server.auth_server().revoke_refresh_tokens();
    f.clock.advance(Duration::from_secs(3601));
    let err = page(&session, 1).await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
}

#[tokio::test]
async fn the_id_token_token_fragment_is_parsed_and_validated() {
    let f = fixture(Edition::Business, 4);
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let pending = beproduct.implicit_request().await.unwrap();
    assert_eq!(
        query(&pending.url, "response_type").as_deref(),
        Some("id_token token")
    );
    let redirect = consent(pending.url.as_str()).await.unwrap();
    assert!(redirect.query().is_none() && redirect.fragment().is_some());
    let session = beproduct
        .sign_in_implicit(&pending, &redirect)
        .await
        .unwrap();
    assert_eq!(session.claims().sub, USER);
    assert!(session.claims().other.contains_key("at_hash"));
    page(&session, 5).await.unwrap();

    // No refresh token comes this way: after the hour, sign in again.
    f.clock.advance(Duration::from_secs(3601));
    let err = page(&session, 5).await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
}

#[tokio::test]
async fn a_wrong_state_nonce_or_access_token_is_refused() {
    let f = fixture(Edition::Business, 4);
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let first = beproduct.implicit_request().await.unwrap();
    let second = beproduct.implicit_request().await.unwrap();
    let redirect = consent(first.url.as_str()).await.unwrap();

    // The answer to one request offered to another: its state does not match.
    let err = beproduct
        .sign_in_implicit(&second, &redirect)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StateMismatch), "{err:?}");

    // With the other request's state copied in, the ID token's nonce gives it away.
    let forged = with_fragment_param(&redirect, "state", &query(&second.url, "state").unwrap());
    let err = beproduct
        .sign_in_implicit(&second, &forged)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::IdToken(IdTokenError::NonceMismatch)),
        "{err:?}"
    );

    // An access token swapped in the fragment does not match the ID token's at_hash.
    let other = consent(beproduct.implicit_request().await.unwrap().url.as_str())
        .await
        .unwrap();
    let other_token = url::form_urlencoded::parse(other.fragment().unwrap().as_bytes())
        .find(|(k, _)| k == "access_token")
        .unwrap()
        .1
        .into_owned();
    let swapped = with_fragment_param(&redirect, "access_token", &other_token);
    let err = beproduct
        .sign_in_implicit(&first, &swapped)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::IdToken(IdTokenError::AccessTokenHashMismatch)),
        "{err:?}"
    );
    // The untouched answer still signs in.
    beproduct.sign_in_implicit(&first, &redirect).await.unwrap();

    // The code flow checks the state too.
    let pending = beproduct.authorization_request().await.unwrap();
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let redirect = with_query_param(&redirect, "state", "forged");
    let err = beproduct.sign_in(&pending, &redirect).await.unwrap_err();
    assert!(matches!(err, Error::StateMismatch), "{err:?}");
    assert_eq!(f.server.auth_server().grants("authorization_code"), 0);
}

#[tokio::test]
async fn the_daily_quota_is_refused_locally_and_resets_at_the_day_boundary() {
    let f = fixture(Edition::Business, 4);
    // The stricter reading, asked for: 1,000 for 4 licenses.
    let beproduct = f.beproduct(
        f.config(Plan::business(4))
            .with_quota_reading(QuotaReading::Stricter)
            .with_offline_access(),
    );
    assert_eq!(beproduct.daily_limit(), 1_000);
    let session = f.session(&beproduct).await;
    for _ in 0..1_000 {
        page(&session, 1).await.unwrap();
    }
    assert_eq!(f.server.api().requests(STYLE_PATH), 1_000);

    // The 1,001st request of the day is refused here and never reaches the server.
    let err = page(&session, 1).await.unwrap_err();
    match err {
        Error::QuotaExceeded { limit, resets_at } => {
            assert_eq!(limit, 1_000);
            // Midnight UTC, four hours after the start.
            assert_eq!(
                resets_at,
                std::time::UNIX_EPOCH + Duration::from_secs(START + 4 * 3600)
            );
        }
        other => panic!("expected QuotaExceeded, got {other:?}"),
    }
    assert_eq!(f.server.api().requests(STYLE_PATH), 1_000);
    assert_eq!(beproduct.requests_left().await, 0);

    // Just before midnight UTC still refused; at midnight the count starts over.
    f.clock.advance(Duration::from_secs(4 * 3600 - 1));
    assert!(matches!(
        page(&session, 1).await,
        Err(Error::QuotaExceeded { .. })
    ));
    f.clock.advance(Duration::from_secs(1));
    page(&session, 1).await.unwrap();
    assert_eq!(beproduct.requests_today().await, 1);
    assert_eq!(f.server.api().requests(STYLE_PATH), 1_001);
}

/// A shared quota store that is away (as a Redis that stopped).
#[derive(Debug)]
struct Unreachable;

#[async_trait::async_trait]
impl QuotaStore for Unreachable {
    async fn take(&self, _: &StoreKey, _: u32, _: SystemTime) -> Result<Option<u32>, CoreError> {
        Err(CoreError::Store("unreachable".into()))
    }
    async fn exhaust(&self, _: &StoreKey, _: u32, _: SystemTime) -> Result<(), CoreError> {
        Err(CoreError::Store("unreachable".into()))
    }
    async fn used(&self, _: &StoreKey, _: SystemTime) -> Result<u32, CoreError> {
        Err(CoreError::Store("unreachable".into()))
    }
}

#[tokio::test]
async fn a_shared_quota_store_counts_for_every_client_and_its_outage_falls_back_to_the_process() {
    let f = fixture(Edition::Business, 4);
    // Two clients (two processes' worth) on one store: 3 requests between them.
    let shared: Arc<dyn QuotaStore> = Arc::new(InMemoryQuotaStore::new());
    let config = f
        .config(Plan::business(4))
        .with_daily_limit(3)
        .with_quota_store(Arc::clone(&shared));
    let (a, b) = (f.beproduct(config.clone()), f.beproduct(config.clone()));
    let (sa, sb) = (f.session(&a).await, f.session(&b).await);
    page(&sa, 1).await.unwrap();
    page(&sb, 1).await.unwrap();
    page(&sa, 1).await.unwrap();
    assert_eq!(b.requests_today().await, 3, "b sees a's requests");
    assert!(matches!(
        page(&sb, 1).await,
        Err(Error::QuotaExceeded { limit: 3, .. })
    ));
    assert_eq!(f.server.api().requests(STYLE_PATH), 3);

    // The store is away: requests go on, counted by the process under the same limit.
    let alone = f.beproduct(config.with_quota_store(Arc::new(Unreachable)));
    let session = f.session(&alone).await;
    for _ in 0..3 {
        page(&session, 1).await.unwrap();
    }
    assert_eq!(alone.requests_today().await, 3);
    assert!(matches!(
        page(&session, 1).await,
        Err(Error::QuotaExceeded { .. })
    ));
    assert_eq!(f.server.api().requests(STYLE_PATH), 6);
}

#[tokio::test]
async fn the_limit_and_the_day_boundary_are_the_callers() {
    let f = fixture(Edition::Business, 10);
    let config = f.config(Plan::business(10));
    assert_eq!(
        BeProductConfig::new(
            org(),
            id(),
            SecretString::from(SECRET),
            REDIRECT,
            Plan::enterprise(10)
        )
        .unwrap()
        .with_quota_reading(QuotaReading::Stricter)
        .daily_limit(),
        5_000
    );

    // A caller's own limit and a day that starts at midnight New York time (UTC-5):
    // 05:00 UTC.
    let config = config
        .with_offline_access()
        .with_daily_limit(2)
        .with_day_boundary(-5 * 3600)
        .unwrap();
    let beproduct = f.beproduct(config);
    let session = f.session(&beproduct).await;
    page(&session, 1).await.unwrap();
    page(&session, 1).await.unwrap();
    let Err(Error::QuotaExceeded { resets_at, .. }) = page(&session, 1).await else {
        panic!("the third request should be refused");
    };
    assert_eq!(
        resets_at,
        std::time::UNIX_EPOCH + Duration::from_secs(START + 9 * 3600)
    );
    // Midnight UTC is not the boundary here.
    f.clock.advance(Duration::from_secs(4 * 3600));
    assert!(page(&session, 1).await.is_err());
    f.clock.advance(Duration::from_secs(5 * 3600));
    page(&session, 1).await.unwrap();
    assert!(
        BeProductConfig::new(
            org(),
            id(),
            SecretString::from(SECRET),
            REDIRECT,
            Plan::business(1)
        )
        .unwrap()
        .with_day_boundary(24 * 3600)
        .is_err()
    );
}

#[tokio::test]
async fn a_429_from_the_server_stops_requests_for_the_day() {
    // The server counts every client of the organization (limit 250 here); this
    // client believes it may make more.
    let f = fixture(Edition::Business, 1);
    let beproduct = f.beproduct(f.config(Plan::business(1)).with_daily_limit(10_000));
    let session = f.session(&beproduct).await;
    for _ in 0..250 {
        page(&session, 1).await.unwrap();
    }
    let err = page(&session, 1).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 429, .. }), "{err:?}");
    let err = page(&session, 1).await.unwrap_err();
    assert!(matches!(err, Error::QuotaExceeded { .. }), "{err:?}");
    assert_eq!(f.server.api().requests(STYLE_PATH), 251);
}

#[tokio::test]
async fn writes_go_in_chunks_of_100_and_reads_in_pages_of_200_by_default() {
    let f = fixture(Edition::Enterprise, 10);
    let beproduct = f.beproduct(f.config(Plan::enterprise(10)));
    let session = f.session(&beproduct).await;

    let records: Vec<Value> = (0..450)
        .map(|i| json!({ "name": format!("S{i:05}") }))
        .collect();
    let answers = session
        .post("Style")
        .chunks(&records, &Chunking::default())
        .await
        .unwrap();
    let written: Vec<Value> = answers.iter().flat_map(Answer::entities).collect();
    assert_eq!(written.len(), 450);
    assert!(written.iter().all(|r| r["id"].is_string()));
    assert_eq!(
        f.server.api().requests(STYLE_PATH),
        5,
        "450 records in 5 writes"
    );
    assert_eq!(f.server.records("Style").len(), 450);

    f.server.api().reset_counters();
    let read = session
        .get("Style")
        .pages(&Paging::default())
        .await
        .unwrap();
    assert_eq!(read.len(), 450);
    assert_eq!(read[449]["name"], "S00449");
    assert_eq!(
        f.server.api().requests(STYLE_PATH),
        3,
        "450 records in 3 pages"
    );

    // A bare array, when the caller says so.
    session
        .post("Style")
        .chunks(&records[..2], &Chunking::new(100, ChunkBody::Array))
        .await
        .unwrap();
    assert_eq!(f.server.records("Style").len(), 452);
}

#[tokio::test]
async fn a_write_the_quota_cannot_cover_is_not_started() {
    let f = fixture(Edition::Business, 4);
    let beproduct = f.beproduct(f.config(Plan::business(4)).with_daily_limit(4));
    let session = f.session(&beproduct).await;
    let records: Vec<Value> = (0..450).map(|i| json!({ "name": i })).collect();
    let err = session
        .post("Style")
        .chunks(&records, &Chunking::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { limit: 4, .. }),
        "{err:?}"
    );
    assert_eq!(f.server.api().total_requests(), 0);
    assert!(f.server.records("Style").is_empty());
}

#[tokio::test]
async fn the_access_token_query_parameter_only_when_asked() {
    let f = fixture(Edition::Business, 4);
    let beproduct = f.beproduct(f.config(Plan::business(4)).with_token_in_query());
    let session = f.session(&beproduct).await;
    let answer = page(&session, 1).await.unwrap();
    assert_eq!(answer.kind(), Some("Style"));
    // Generic requests get the parameter, not the header.
    let mut request = http::Request::new(bytes::Bytes::new());
    *request.uri_mut() = "https://developers.beproduct.example/api/v1/Style?pageSize=1"
        .parse()
        .unwrap();
    auth_core::CredentialProvider::authorize(&session, &mut request)
        .await
        .unwrap();
    assert!(request.headers().get("authorization").is_none());
    let token = session.token().await.unwrap();
    assert_eq!(
        request.uri().query().unwrap(),
        format!(
            "pageSize=1&access_token={}",
            token.token().access_token().expose_secret()
        )
    );
}

#[tokio::test]
async fn wrong_secrets_and_bad_configuration_are_typed() {
    let f = fixture(Edition::Business, 4);
    let config = BeProductConfig::new(
        org(),
        id(),
        SecretString::from("wrong-secret-77"),
        REDIRECT,
        Plan::business(4),
    )
    .unwrap()
    .with_identity_url(f.server.identity_url())
    .unwrap()
    .with_api_url(f.server.api_url().as_str())
    .unwrap();
    let beproduct = f.beproduct(config);
    let pending = beproduct.authorization_request().await.unwrap();
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let err = beproduct.sign_in(&pending, &redirect).await.unwrap_err();
    assert!(matches!(err, Error::InvalidClient), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("wrong-secret-77"));

    assert!(ClientId::new("").is_err());
    assert!(
        BeProductConfig::new(
            org(),
            id(),
            SecretString::from("s"),
            "not a url",
            Plan::business(1)
        )
        .is_err()
    );
    // Plain HTTP off loopback is refused, as soon as it is configured.
    let err = f
        .config(Plan::business(1))
        .with_api_url("http://developers.beproduct.example/api/v1")
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::InsecureUrl { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn discovery_when_asked_waits_for_the_first_sign_in_step_and_is_read_once() {
    let f = fixture(Edition::Business, 4);
    let beproduct = f.beproduct(f.config(Plan::business(4)).with_discovery());
    assert_eq!(f.server.identity().total_requests(), 0, "nothing sent yet");
    let discovery = "/ids/.well-known/openid-configuration";

    // A failed read is not kept: the next step reads again.
    f.server
        .identity()
        .inject_on(discovery, auth_testkit::Fault::ServerError, 3);
    assert!(beproduct.authorization_request().await.is_err());
    f.server.identity().reset_counters();
    let (a, b) = tokio::join!(
        beproduct.authorization_request(),
        beproduct.implicit_request()
    );
    a.unwrap();
    b.unwrap();
    beproduct.authorization_request().await.unwrap();
    assert_eq!(
        f.server.identity().requests(discovery),
        1,
        "read once, kept"
    );
    assert_eq!(
        beproduct.oidc().await.unwrap().metadata().issuer,
        f.server.identity_url()
    );
}

/// The application's own transport: reqwest underneath, counting what it sends.
#[derive(Debug)]
struct Counting {
    inner: auth_core::reqwest::ReqwestTransport,
    sent: std::sync::atomic::AtomicUsize,
}

impl auth_core::http::Transport for Counting {
    fn send(&self, request: http::Request<bytes::Bytes>) -> auth_core::http::TransportFuture<'_> {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.send(request)
    }
}

#[tokio::test]
async fn the_builder_takes_the_applications_transport_and_token_store() {
    use auth_core::http::{HttpClient, HttpPolicy};
    use auth_core::{InMemoryTokenStore, RefreshPolicy, TokenStore};

    let f = fixture(Edition::Business, 4);
    f.server.seed("Style", 1);
    let transport = Arc::new(Counting {
        inner: auth_core::reqwest::ReqwestTransport::with_policy(&HttpPolicy::default()).unwrap(),
        sent: Default::default(),
    });
    let store = Arc::new(InMemoryTokenStore::new());
    let beproduct = BeProduct::builder(f.config(Plan::business(4)))
        .http(HttpClient::new(transport.clone(), HttpPolicy::default()))
        .clock(Arc::new(f.clock.clone()))
        .store(store.clone())
        .policy(RefreshPolicy::default())
        .build()
        .unwrap();
    let session = f.session(&beproduct).await;
    page(&session, 1).await.unwrap();

    // Discovery, the code exchange, the keys and the REST call all went through it.
    let served = f.server.identity().total_requests() + f.server.api().total_requests();
    let sent = transport.sent.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent >= 4, "{sent}");
    // The consent is the browser's, not the client's.
    assert_eq!(sent as u64, served - 1);
    // The session's token is kept in the store given, under the user's key.
    let key = StoreKey::new(["beproduct", ID, USER]);
    assert!(store.get(&key).await.unwrap().is_some());
}
