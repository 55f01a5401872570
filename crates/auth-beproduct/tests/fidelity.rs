//! Issue 26, "Vendor fidelity", BeProduct's items, each against the document
//! (`vendor-docs/002_575778697db5374a.txt`) over real HTTP to the embedded servers:
//!
//! 1. the REST helpers are the caller's (paths, paging and chunking parameters),
//!    `kind` is optional, the additional echoed parameter is supported, and the
//!    advised 200 / 100 records per request warn instead of refusing;
//! 3. the quota refuses at the looser reading (the example's 2,500 for 10 licenses),
//!    warns at the stricter, and is counted per organization;
//! 4. `offline_access` is offered, and the server issues refresh tokens only for it;
//! 5. the endpoints are the document's fixed URLs or set by hand, discovery is an
//!    option, the JWKS and the issuer are configurable, and the token endpoint's
//!    client authentication is chosen.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_beproduct::{
    BeProduct, BeProductConfig, ChunkBody, Chunking, ClientId, Error, OrganizationId, Paging, Plan,
    QuotaReading, Session,
};
use auth_core::{
    ExposeSecret, InMemoryQuotaStore, ManualClock, QuotaStore, SecretString, StoreKey,
};
use auth_oauth2::{ClientAuth, IdTokenError};
use auth_testkit::beproduct::{Account, BeProductServer, Edition};
use auth_testkit::oauth2::{ClientAuthMethod, consent};
use serde::Deserialize;
use serde_json::{Value, json};
use tracing_subscriber::fmt::MakeWriter;

const ID: &str = "client1";
const SECRET: &str = "beproduct-secret-8Qz";
const REDIRECT: &str = "https://myapp.example/callback";
/// 2026-11-22T20:00:00Z.
const START: u64 = 1_795_377_600;
const STYLE_PATH: &str = "/api/v1/Style";
const DISCOVERY_PATH: &str = "/ids/.well-known/openid-configuration";

struct Fixture {
    clock: ManualClock,
    server: BeProductServer,
}

fn fixture_with(account: impl FnOnce(Account) -> Account, licenses: u32) -> Fixture {
    let clock = ManualClock::starting_at_unix(START);
    let account = account(
        Account::new(ID, SECRET, Edition::Business, licenses).clock(Arc::new(clock.clone())),
    );
    let server = BeProductServer::start(account).unwrap();
    Fixture { clock, server }
}

fn fixture() -> Fixture {
    fixture_with(|a| a, 4)
}

fn base_config(client_id: &str, secret: &str, plan: Plan) -> BeProductConfig {
    BeProductConfig::new(
        OrganizationId::new("acme").unwrap(),
        ClientId::new(client_id).unwrap(),
        SecretString::from(secret),
        REDIRECT,
        plan,
    )
    .unwrap()
}

impl Fixture {
    fn config(&self, plan: Plan) -> BeProductConfig {
        base_config(ID, SECRET, plan)
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

    async fn try_session(&self, beproduct: &BeProduct) -> Result<Session, Error> {
        let pending = beproduct.authorization_request().await?;
        let redirect = consent(pending.url.as_str()).await.unwrap();
        beproduct.sign_in(&pending, &redirect).await
    }

    async fn session(&self, beproduct: &BeProduct) -> Session {
        self.try_session(beproduct).await.unwrap()
    }
}

fn query(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// What `tracing` wrote while a test ran.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    fn install(&self) -> tracing::subscriber::DefaultGuard {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_default(subscriber)
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// 1. REST: "The API Methods section is empty" -------------------------------------

/// The document's one response example (l. 22-27), typed by the caller.
#[derive(Debug, Deserialize, PartialEq)]
struct Field {
    id: String,
    name: String,
    value: String,
    #[serde(rename = "type")]
    kind: String,
}

#[tokio::test]
async fn rest_a_call_to_a_path_the_caller_names_reads_the_documents_example_without_kind() {
    let f = fixture();
    let example =
        json!({"id":"header_number","name":"Style Number","value":"S45994","type":"text"});
    f.server.put("Style", example.clone());
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let session = f.session(&beproduct).await;

    // The example has neither `kind` nor `data`: it is read as one entity.
    let answer = session.get("Style/header_number").send().await.unwrap();
    assert_eq!(answer.kind(), None);
    assert!(answer.data().is_none());
    assert_eq!(answer.entities(), vec![example]);
    let field: Field = session.get("/Style/header_number").send_as().await.unwrap();
    assert_eq!(field.value, "S45994");
    assert_eq!(field.kind, "text");

    // The envelope of l. 19 when the server sends one.
    let answer = session.get("Style").send().await.unwrap();
    assert_eq!(answer.kind(), Some("Style"));
    let fields: Vec<Field> = answer.entities_as().unwrap();
    assert_eq!(fields[0].name, "Style Number");
    assert_eq!(beproduct.requests_today().await, 3, "each call is counted");

    // A path is below the REST base, never elsewhere.
    for outside in [
        "../oauth",
        "Style/../../x",
        "http://evil.example/",
        "Style?x=1",
    ] {
        let err = session.get(outside).send().await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{outside}: {err:?}");
    }
    assert_eq!(beproduct.requests_today().await, 3, "nothing sent");
}

#[tokio::test]
async fn rest_the_additional_parameter_is_sent_and_included_in_the_response() {
    let f = fixture();
    f.server.seed("Style", 2);
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let session = f.session(&beproduct).await;
    let answer = session
        .get("Style")
        .echo("requestId", "r-42")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.echoed(), Some(&json!("r-42")));
    assert_eq!(answer.entities().len(), 2);
    // Without it, nothing is read back.
    let answer = session.get("Style").send().await.unwrap();
    assert_eq!(answer.echoed(), None);
}

#[tokio::test]
async fn rest_paging_and_chunking_take_the_callers_parameter_names_and_sizes() {
    let f = fixture_with(|a| a.paging("limit", "page"), 4);
    f.server.seed("Style", 7);
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let session = f.session(&beproduct).await;

    let all = session
        .get("Style")
        .pages(&Paging::new("limit", "page", 3))
        .await
        .unwrap();
    assert_eq!(all.len(), 7);
    assert_eq!(all[6]["name"], "Style 7");
    assert_eq!(f.server.api().requests(STYLE_PATH), 3, "3 + 3 + 1");

    // Until an empty page, for a server that may answer short pages early.
    f.server.api().reset_counters();
    let all = session
        .get("Style")
        .pages(&Paging::new("limit", "page", 7).until_empty_page())
        .await
        .unwrap();
    assert_eq!((all.len(), f.server.api().requests(STYLE_PATH)), (7, 2));

    // The guessed names the server does not know: it ignores them and answers its
    // own default page (20 here, more than asked), and paging stops there.
    f.server.api().reset_counters();
    let all = session
        .get("Style")
        .pages(&Paging::new("pageSize", "pageNumber", 2))
        .await
        .unwrap();
    assert_eq!((all.len(), f.server.api().requests(STYLE_PATH)), (7, 1));

    // Chunks of the caller's size and body.
    f.server.api().reset_counters();
    let records: Vec<Value> = (0..5).map(|i| json!({ "name": format!("N{i}") })).collect();
    let answers = session
        .post("Style")
        .chunks(&records, &Chunking::new(2, ChunkBody::Array))
        .await
        .unwrap();
    assert_eq!(answers.len(), 3);
    assert_eq!(f.server.api().requests(STYLE_PATH), 3, "2 + 2 + 1");
    assert_eq!(f.server.records("Style").len(), 12);
}

#[tokio::test]
async fn rest_more_than_the_advised_200_and_100_records_warns_and_is_sent() {
    let f = fixture();
    f.server.seed("Style", 300);
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let session = f.session(&beproduct).await;
    let logs = Logs::default();
    let _guard = logs.install();

    let all = session
        .get("Style")
        .pages(&Paging::new("pageSize", "pageNumber", 250))
        .await
        .unwrap();
    assert_eq!(all.len(), 300);
    assert_eq!(f.server.api().requests(STYLE_PATH), 2, "250 + 50");

    let records: Vec<Value> = (0..150).map(|i| json!({ "name": i })).collect();
    let answers = session
        .post("Style")
        .chunks(
            &records,
            &Chunking::new(150, ChunkBody::Member("data".into())),
        )
        .await
        .unwrap();
    assert_eq!(answers[0].entities().len(), 150);
    assert_eq!(f.server.api().requests(STYLE_PATH), 3, "one write of 150");

    let text = logs.text();
    assert!(text.contains("at most 200 records per request"), "{text}");
    assert!(text.contains("at most 100 records per request"), "{text}");
}

// 3. The quota -------------------------------------------------------------------

#[tokio::test]
async fn quota_ten_licenses_allow_2500_warn_once_past_2000_and_refuse_the_2501st() {
    // The server reads the example: "10 user licenses, you are allowed 2500 requests
    // per day" (l. 122).
    let f = fixture_with(|a| a.limit(2_500), 10);
    let beproduct = f.beproduct(f.config(Plan::business(10)));
    assert_eq!(beproduct.daily_limit(), 2_500);
    assert_eq!(beproduct.warning_limit(), Some(2_000));
    let session = f.session(&beproduct).await;
    let logs = Logs::default();
    let _guard = logs.install();
    for n in 1..=2_500u32 {
        session.get("Style").send().await.unwrap();
        if n == 2_000 {
            assert_eq!(logs.text(), "", "no warning up to the stricter reading");
        }
    }
    assert_eq!(f.server.api().requests(STYLE_PATH), 2_500);
    let text = logs.text();
    assert_eq!(text.matches("stricter reading").count(), 1, "{text}");
    assert!(text.contains("requests=2001"), "{text}");

    let err = session.get("Style").send().await.unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { limit: 2_500, .. }),
        "{err:?}"
    );
    assert_eq!(f.server.api().requests(STYLE_PATH), 2_500, "refused here");
}

#[tokio::test]
async fn quota_the_stricter_reading_refuses_when_asked() {
    // One license: the rule gives 250, the looser reading 2,000.
    let f = fixture_with(|a| a.limit(2_000), 1);
    let beproduct = f.beproduct(
        f.config(Plan::business(1))
            .with_quota_reading(QuotaReading::Stricter),
    );
    assert_eq!(
        (beproduct.daily_limit(), beproduct.warning_limit()),
        (250, None)
    );
    let session = f.session(&beproduct).await;
    for _ in 0..250 {
        session.get("Style").send().await.unwrap();
    }
    let err = session.get("Style").send().await.unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { limit: 250, .. }),
        "{err:?}"
    );
    assert_eq!(f.server.api().requests(STYLE_PATH), 250);
}

#[tokio::test]
async fn quota_is_counted_per_organization_whatever_the_client_id() {
    let f = fixture_with(|a| a.also_client("client2", "second-secret-4Rt"), 4);
    let shared: Arc<dyn QuotaStore> = Arc::new(InMemoryQuotaStore::new());
    let one = f.beproduct(
        f.config(Plan::business(4))
            .with_daily_limit(3)
            .with_quota_store(Arc::clone(&shared)),
    );
    let two = f.beproduct(
        base_config("client2", "second-secret-4Rt", Plan::business(4))
            .with_identity_url(f.server.identity_url())
            .unwrap()
            .with_api_url(f.server.api_url().as_str())
            .unwrap()
            .with_daily_limit(3)
            .with_quota_store(Arc::clone(&shared)),
    );
    let (a, b) = (f.session(&one).await, f.session(&two).await);
    assert_eq!(b.claims().aud, vec!["client2".to_owned()]);
    a.get("Style").send().await.unwrap();
    b.get("Style").send().await.unwrap();
    a.get("Style").send().await.unwrap();
    // Two client IDs, one organization: one count.
    let err = b.get("Style").send().await.unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { limit: 3, .. }),
        "{err:?}"
    );
    let midnight = std::time::UNIX_EPOCH + Duration::from_secs(START + 4 * 3600);
    let key = StoreKey::new(["beproduct", "acme", "daily"]);
    assert_eq!(shared.used(&key, midnight).await.unwrap(), 3);
    assert_eq!(f.server.api().requests(STYLE_PATH), 3);
}

// 4. offline_access --------------------------------------------------------------

#[tokio::test]
async fn offline_access_not_asked_no_refresh_token_and_the_session_ends_with_its_token() {
    let f = fixture();
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let pending = beproduct.authorization_request().await.unwrap();
    let scope = query(&pending.url, "scope").unwrap();
    assert_eq!(
        scope, "openid email roles beproductDeveloper",
        "the document's"
    );
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let session = beproduct.sign_in(&pending, &redirect).await.unwrap();
    session.get("Style").send().await.unwrap();

    f.clock.advance(Duration::from_secs(3601));
    let err = session.get("Style").send().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
    assert_eq!(f.server.auth_server().refreshes(), 0, "none was issued");
}

#[tokio::test]
async fn offline_access_asked_brings_a_refresh_token_and_the_session_goes_on() {
    let f = fixture();
    let beproduct = f.beproduct(f.config(Plan::business(4)).with_offline_access());
    let pending = beproduct.authorization_request().await.unwrap();
    let scope = query(&pending.url, "scope").unwrap();
    assert_eq!(
        scope,
        "openid email roles beproductDeveloper offline_access"
    );
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let session = beproduct.sign_in(&pending, &redirect).await.unwrap();
    for _ in 0..3 {
        f.clock.advance(Duration::from_secs(3601));
        session.get("Style").send().await.unwrap();
    }
    assert_eq!(f.server.auth_server().refreshes(), 3);
}

// 5. Endpoints, discovery, JWKS, issuer, client authentication ---------------------

#[tokio::test]
async fn endpoints_set_by_hand_sign_in_without_any_discovery_document() {
    let f = fixture();
    let s = &f.server;
    // Every endpoint somewhere the identity URL would not put it (here: the real
    // ones, by hand, with the identity URL left at BeProduct's production one).
    let config = base_config(ID, SECRET, Plan::business(4))
        .with_authorize_url(s.identity_endpoint(|e| &e.authorize).as_str())
        .unwrap()
        .with_token_url(s.identity_endpoint(|e| &e.token).as_str())
        .unwrap()
        .with_userinfo_url(s.identity_endpoint(|e| &e.userinfo).as_str())
        .unwrap()
        .with_end_session_url(s.identity_endpoint(|e| &e.end_session).as_str())
        .unwrap()
        .with_jwks_url(s.identity_endpoint(|e| &e.jwks).as_str())
        .unwrap()
        .with_issuer(s.issuer())
        .with_api_url(s.api_url().as_str())
        .unwrap();
    let beproduct = f.beproduct(config);
    let pending = beproduct.authorization_request().await.unwrap();
    assert_eq!(s.identity().total_requests(), 0, "nothing sent for step 1");
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let session = beproduct.sign_in(&pending, &redirect).await.unwrap();
    assert_eq!(session.claims().iss, s.issuer());
    session.userinfo().await.unwrap();
    let logout = session.end_session_url(None).unwrap();
    assert_eq!(logout.path(), "/ids/connect/endsession");
    assert_eq!(s.identity().requests(DISCOVERY_PATH), 0, "never read");
    assert_eq!(s.identity().requests("/ids/.well-known/jwks"), 1);
}

#[tokio::test]
async fn by_default_the_fixed_endpoints_and_the_discovery_document_only_for_the_keys() {
    let f = fixture();
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let pending = beproduct.authorization_request().await.unwrap();
    assert_eq!(pending.url.path(), "/ids/connect/authorize");
    assert_eq!(
        f.server.identity().total_requests(),
        0,
        "nothing sent for step 1"
    );
    let redirect = consent(pending.url.as_str()).await.unwrap();
    beproduct.sign_in(&pending, &redirect).await.unwrap();
    assert_eq!(f.server.identity().requests(DISCOVERY_PATH), 1);
    let token = f.server.identity_endpoint(|e| &e.token);
    assert_eq!(f.server.identity().requests(token.path()), 1);
}

#[tokio::test]
async fn an_issuer_other_than_the_identity_url_no_longer_blocks_sign_in() {
    let f = fixture_with(|a| a.issuer_path("/identity"), 4);
    let issuer = f.server.issuer().to_owned();
    assert_ne!(issuer, f.server.identity_url());

    // By default: the issuer of the document the keys come from.
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let session = f.session(&beproduct).await;
    assert_eq!(session.claims().iss, issuer);

    // Keys by hand: the issuer by hand too, else the ID token is refused.
    let jwks = f.server.identity_endpoint(|e| &e.jwks);
    let keys_only = f
        .config(Plan::business(4))
        .with_jwks_url(jwks.as_str())
        .unwrap();
    let err = f
        .try_session(&f.beproduct(keys_only.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::IdToken(IdTokenError::WrongIssuer)),
        "{err:?}"
    );
    f.session(&f.beproduct(keys_only.with_issuer(&issuer)))
        .await;

    // Discovery, by the book: the document's issuer must be the expected one.
    let discovery = f.config(Plan::business(4)).with_discovery();
    let err = f
        .try_session(&f.beproduct(discovery.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::OAuth2(_)), "{err:?}");
    f.session(&f.beproduct(discovery.with_issuer(&issuer)))
        .await;
}

#[tokio::test]
async fn the_logout_url_is_single_slash_by_default_and_the_documents_spelling_verbatim() {
    let f = fixture();
    let beproduct = f.beproduct(f.config(Plan::business(4)));
    let session = f.session(&beproduct).await;
    let logout = session
        .end_session_url(Some("https://myapp.example/"))
        .unwrap();
    assert_eq!(logout.path(), "/ids/connect/endsession");
    assert_eq!(
        query(&logout, "id_token_hint").as_deref(),
        Some(session.id_token().expose_secret())
    );
    consent(logout.as_str()).await.unwrap();

    let doubled = format!("{}//connect/endsession", f.server.identity_url());
    let verbatim = f.beproduct(
        f.config(Plan::business(4))
            .with_end_session_url(&doubled)
            .unwrap(),
    );
    let session = f.session(&verbatim).await;
    let logout = session.end_session_url(None).unwrap();
    assert_eq!(logout.path(), "/ids//connect/endsession");
}

#[tokio::test]
async fn the_token_endpoint_gets_basic_by_default_or_the_form_body_when_asked() {
    let f = fixture_with(|a| a.client_auth(ClientAuthMethod::FormBody), 4);
    let err = f
        .try_session(&f.beproduct(f.config(Plan::business(4))))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidClient),
        "Basic by default: {err:?}"
    );
    let form = f.beproduct(
        f.config(Plan::business(4))
            .with_client_auth(ClientAuth::FormBody),
    );
    f.session(&form).await;
}
