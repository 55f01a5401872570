//! The daily quota counts every attempt that is sent, the HTTP client's retries
//! included (each is authorized, and so counted, afresh), over real HTTP against the
//! embedded BeProduct server: a read retried after a 500 or a 429 counts twice, a
//! write behind a 500 (or a 502 after the server committed it) is sent once and counts
//! once, and a retry the quota refuses is not sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_beproduct::{
    Answer, BeProduct, BeProductConfig, ClientId, Error, OrganizationId, Plan, Session,
};
use auth_core::{InMemoryQuotaStore, ManualClock, QuotaStore, SecretString, StoreKey};
use auth_testkit::Fault;
use auth_testkit::beproduct::{Account, BeProductServer, Edition};
use auth_testkit::oauth2::consent;
use http::StatusCode;
use serde_json::json;

const ID: &str = "client1";
const SECRET: &str = "beproduct-secret-8Qz";
const REDIRECT: &str = "https://myapp.example/callback";
/// 2026-11-22T20:00:00Z.
const START: u64 = 1_795_377_600;
const STYLE_PATH: &str = "/api/v1/Style";

struct Fixture {
    clock: ManualClock,
    server: BeProductServer,
}

fn fixture() -> Fixture {
    let clock = ManualClock::starting_at_unix(START);
    let account = Account::new(ID, SECRET, Edition::Business, 4).clock(Arc::new(clock.clone()));
    let server = BeProductServer::start(account).unwrap();
    server.seed("Style", 3);
    Fixture { clock, server }
}

impl Fixture {
    fn config(&self) -> BeProductConfig {
        BeProductConfig::new(
            OrganizationId::new("acme").unwrap(),
            ClientId::new(ID).unwrap(),
            SecretString::from(SECRET),
            REDIRECT,
            Plan::business(4),
        )
        .unwrap()
        .with_identity_url(self.server.identity_url())
        .unwrap()
        .with_api_url(self.server.api_url().as_str())
        .unwrap()
    }

    async fn signed_in(&self, config: BeProductConfig) -> (BeProduct, Session) {
        let beproduct = BeProduct::builder(config)
            .clock(Arc::new(self.clock.clone()))
            .build()
            .unwrap();
        let pending = beproduct.authorization_request().await.unwrap();
        let redirect = consent(pending.url.as_str()).await.unwrap();
        let session = beproduct.sign_in(&pending, &redirect).await.unwrap();
        (beproduct, session)
    }
}

/// A page of Style records.
async fn page(session: &Session) -> Result<Answer, Error> {
    session.get("Style").query("pageSize", "10").send().await
}

/// One record written.
async fn write(session: &Session) -> Result<Answer, Error> {
    session
        .post("Style")
        .json(&json!({ "data": [{ "name": "S1" }] }))?
        .send()
        .await
}

#[tokio::test]
async fn a_read_retried_after_a_500_counts_both_attempts() {
    let f = fixture();
    let (beproduct, session) = f.signed_in(f.config()).await;
    assert_eq!(beproduct.requests_today().await, 0, "sign-in is not REST");

    f.server.api().inject_on(STYLE_PATH, Fault::ServerError, 1);
    let answer = page(&session).await.unwrap();
    assert_eq!(answer.entities().len(), 3, "the retry got the real answer");
    assert_eq!(f.server.api().requests(STYLE_PATH), 2);
    assert_eq!(
        beproduct.requests_today().await,
        2,
        "two requests reached it"
    );

    // Without a fault a read counts once.
    page(&session).await.unwrap();
    assert_eq!(f.server.api().requests(STYLE_PATH), 3);
    assert_eq!(beproduct.requests_today().await, 3);
    assert_eq!(beproduct.requests_left().await, beproduct.daily_limit() - 3);
}

#[tokio::test]
async fn a_read_retried_after_a_429_with_retry_after_0_counts_both_and_goes_on() {
    let f = fixture();
    let (beproduct, session) = f.signed_in(f.config()).await;
    f.server.api().inject_on(
        STYLE_PATH,
        Fault::TooManyRequests {
            retry_after: Duration::ZERO,
        },
        1,
    );
    page(&session).await.unwrap();
    assert_eq!(f.server.api().requests(STYLE_PATH), 2);
    assert_eq!(beproduct.requests_today().await, 2);
    // A 429 the retry got past is not the daily limit: the day goes on.
    page(&session).await.unwrap();
    assert_eq!(beproduct.requests_today().await, 3);
}

#[tokio::test]
async fn a_write_behind_a_500_is_sent_once_and_counted_once() {
    let f = fixture();
    let (beproduct, session) = f.signed_in(f.config()).await;
    f.server.api().inject_on(STYLE_PATH, Fault::ServerError, 1);
    let err = write(&session).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err:?}");
    assert_eq!(f.server.api().requests(STYLE_PATH), 1, "never repeated");
    assert_eq!(beproduct.requests_today().await, 1);
    assert_eq!(f.server.records("Style").len(), 3, "nothing stored");
}

#[tokio::test]
async fn a_write_answered_502_after_commit_is_not_repeated() {
    let f = fixture();
    let (beproduct, session) = f.signed_in(f.config()).await;
    f.server
        .api()
        .inject_on(STYLE_PATH, Fault::CommitThen(StatusCode::BAD_GATEWAY), 1);
    let err = write(&session).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 502, .. }), "{err:?}");
    assert_eq!(f.server.api().requests(STYLE_PATH), 1);
    assert_eq!(beproduct.requests_today().await, 1);
    // The server stored it once; a repeat would have stored it twice.
    assert_eq!(f.server.records("Style").len(), 4);
}

#[tokio::test]
async fn a_retry_past_the_limit_is_refused_by_the_quota_and_not_sent() {
    let f = fixture();
    let shared: Arc<dyn QuotaStore> = Arc::new(InMemoryQuotaStore::new());
    let config = f
        .config()
        .with_daily_limit(1)
        .with_quota_store(Arc::clone(&shared));
    let (beproduct, session) = f.signed_in(config).await;

    // The one request of the day is counted and sent; its retry after the 500 would
    // be the second, which the quota refuses: it is not sent, and the caller gets the
    // answer that called for it.
    f.server.api().inject_on(STYLE_PATH, Fault::ServerError, 1);
    let err = page(&session).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 500, .. }), "{err:?}");
    assert_eq!(f.server.api().requests(STYLE_PATH), 1, "the retry not sent");
    assert_eq!(
        beproduct.requests_today().await,
        1,
        "the first attempt counted"
    );
    assert_eq!(beproduct.requests_left().await, 0);
    let midnight = std::time::UNIX_EPOCH + Duration::from_secs(START + 4 * 3600);
    let key = StoreKey::new(["beproduct", "acme", "daily"]);
    assert_eq!(
        shared.used(&key, midnight).await.unwrap(),
        1,
        "in the shared store"
    );

    // The next request of the day is refused here.
    let err = page(&session).await.unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { limit: 1, .. }),
        "{err:?}"
    );
    assert_eq!(f.server.api().requests(STYLE_PATH), 1, "refused here");
    assert_eq!(beproduct.requests_today().await, 1);
}
