//! Every Binokula endpoint over real HTTP against the embedded server, and its
//! failures as typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, Error, FunctionKey};
use auth_core::{Clock, CredentialProvider, ExposeSecret, ManualClock};
use auth_testkit::binokula::{
    Addresses, BinokulaServer, BinokulaTenant, EXTERNAL_ACCESS_PATH, Failures, HOME_PATH,
    LOGIN_PATH, TOKEN_PATH, landing,
};

const TENANT: &str = "acme";
const SECRET: &str = "cs_9Q2w8E7r6T5y";
const CODE: &str = "fk-AbC123==";

struct Fixture {
    clock: ManualClock,
    server: BinokulaServer,
}

fn fixture() -> Fixture {
    fixture_with(|t| t)
}

/// A server whose tenant settings `tune` adjusts (failure shape, address rule).
fn fixture_with(tune: impl FnOnce(BinokulaTenant) -> BinokulaTenant) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_750_000_000);
    let server = BinokulaServer::start(tune(
        BinokulaTenant::new(TENANT, SECRET, CODE).clock(Arc::new(clock.clone())),
    ))
    .unwrap();
    Fixture { clock, server }
}

impl Fixture {
    fn config(&self, secret: &str, code: &str, tenant: &str) -> BinokulaConfig {
        let base = self.server.base_url().as_str();
        BinokulaConfig::new(tenant, ClientSecret::new(secret), FunctionKey::new(code))
            .unwrap()
            .with_api_url(base)
            .unwrap()
            .with_app_url(base)
            .unwrap()
    }

    fn client_with(&self, secret: &str, code: &str, tenant: &str) -> Binokula {
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        Binokula::builder(self.config(secret, code, tenant))
            .clock(clock)
            .build()
            .unwrap()
    }

    fn client(&self) -> Binokula {
        self.client_with(SECRET, CODE, TENANT)
    }
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

#[tokio::test]
async fn user_lifecycle_and_sso_end_to_end() {
    let f = fixture();
    let client = f.client();
    let jo = email("Jo.Smith+reports@example.com");

    let registered = client.register_user(&jo).await.unwrap();
    assert_eq!(
        registered,
        "Successfully registered jo.smith+reports@example.com"
    );
    assert!(f.server.has_user("jo.smith+reports@example.com"));

    // Existing users only: the registered user gets a token, and the URL signs in.
    let token = client.issue_token(&jo, true).await.unwrap();
    assert_eq!(token.email, "jo.smith+reports@example.com");
    let lifetime = token.expires_at.duration_since(f.clock.now()).unwrap();
    assert_eq!(lifetime.as_secs(), 3600);
    let url = client.external_access_url(&token);
    // Email, token and tenant are URL-encoded (the token is base64: `+`, `/`, `=`).
    assert!(
        url.expose()
            .contains("email=jo.smith%2Breports%40example.com")
    );
    assert!(!token.access_token.expose_secret().is_empty());
    assert!(url.expose().contains(&format!("tenant={TENANT}")));
    assert_eq!(landing(url.expose()).await.unwrap(), HOME_PATH);

    // Disabled: the same link lands on the login page; enabled again, home.
    assert_eq!(
        client.set_user_enabled(&jo, false).await.unwrap(),
        "User Status set to false"
    );
    assert_eq!(landing(url.expose()).await.unwrap(), LOGIN_PATH);
    assert_eq!(
        client.set_user_enabled(&jo, true).await.unwrap(),
        "User Status set to true"
    );
    assert_eq!(landing(url.expose()).await.unwrap(), HOME_PATH);

    // A new token replaces the old one: the old link stops working.
    let second = client.issue_token(&jo, false).await.unwrap();
    assert_eq!(landing(url.expose()).await.unwrap(), LOGIN_PATH);
    assert_eq!(
        landing(client.external_access_url(&second).expose())
            .await
            .unwrap(),
        HOME_PATH
    );

    assert_eq!(
        client.delete_user(&jo).await.unwrap(),
        "Successfully removed jo.smith+reports@example.com"
    );
    assert!(!f.server.has_user("jo.smith+reports@example.com"));
    assert!(matches!(
        client.delete_user(&jo).await,
        Err(Error::UnknownUser { .. })
    ));
    assert_eq!(f.server.server().requests(EXTERNAL_ACCESS_PATH), 5);
}

#[tokio::test]
async fn failures_are_typed() {
    let f = fixture();
    let ann = email("ann@example.com");

    let wrong_secret = f.client_with("not-the-secret", CODE, TENANT);
    let err = wrong_secret.issue_token(&ann, false).await.unwrap_err();
    assert!(
        matches!(&err, Error::CredentialsRejected { status, .. } if status.as_u16() == 403),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("not-the-secret"));

    let wrong_tenant = f.client_with(SECRET, CODE, "globex");
    assert!(matches!(
        wrong_tenant.register_user(&ann).await,
        Err(Error::CredentialsRejected { .. })
    ));

    let wrong_code = f.client_with(SECRET, "guessed", TENANT);
    let err = wrong_code.issue_token(&ann, false).await.unwrap_err();
    assert!(
        matches!(&err, Error::CredentialsRejected { status, .. } if status.as_u16() == 401),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("guessed"));

    let client = f.client();
    let err = client.issue_token(&ann, true).await.unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }), "{err:?}");
    assert!(!f.server.has_user("ann@example.com"), "not auto-created");

    client.register_user(&ann).await.unwrap();
    assert!(matches!(
        client.register_user(&ann).await,
        Err(Error::UserExists { .. })
    ));

    f.server.serve_malformed_expiry(1);
    assert!(matches!(
        client.issue_token(&ann, true).await,
        Err(Error::MalformedExpiry)
    ));

    // A disabled user still gets a token, but the SSO link lands on the login page.
    client.set_user_enabled(&ann, false).await.unwrap();
    let url = client.sso_url(&ann).await.unwrap();
    assert_eq!(landing(url.expose()).await.unwrap(), LOGIN_PATH);

    assert!(Email::parse("not an email").is_err());
    assert!(matches!(
        client
            .set_user_enabled(&email("ghost@example.com"), true)
            .await,
        Err(Error::UnknownUser { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_sso_urls_cause_one_issuance_and_all_sign_in() {
    let f = fixture();
    let sessions = f.client();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let s = sessions.clone();
            tokio::spawn(async move { s.sso_url(&email("max@example.com")).await })
        })
        .collect();
    let mut urls = Vec::new();
    for t in tasks {
        urls.push(t.await.unwrap().unwrap());
    }
    assert_eq!(f.server.server().requests(TOKEN_PATH), 1);
    assert_eq!(f.server.tokens_issued(), 1);
    for url in &urls {
        assert_eq!(landing(url.expose()).await.unwrap(), HOME_PATH);
    }
}

#[tokio::test]
async fn after_55_minutes_the_next_url_carries_a_renewed_token() {
    let f = fixture();
    let sessions = f.client();
    let kim = email("kim@example.com");
    let first = sessions.sso_url(&kim).await.unwrap();
    f.clock.advance(Duration::from_secs(30 * 60));
    let same = sessions.sso_url(&kim).await.unwrap();
    assert_eq!(first.expose(), same.expose(), "cached within the hour");
    assert_eq!(f.server.tokens_issued(), 1);

    f.clock.advance(Duration::from_secs(25 * 60 + 1));
    let renewed = sessions.sso_url(&kim).await.unwrap();
    assert_ne!(first.expose(), renewed.expose());
    assert_eq!(f.server.tokens_issued(), 2);
    assert_eq!(landing(renewed.expose()).await.unwrap(), HOME_PATH);
    // The replaced token is not active any more, and is never handed out again.
    assert_eq!(landing(first.expose()).await.unwrap(), LOGIN_PATH);
    assert_eq!(
        sessions.sso_url(&kim).await.unwrap().expose(),
        renewed.expose()
    );
}

/// `\u{212A}` is KELVIN SIGN: Unicode lower-casing turns it into `k`.
const KELVIN_KIM: &str = "\u{212A}im@corp.com";

#[tokio::test]
async fn kelvin_sign_and_k_are_two_users_with_their_own_tokens_and_urls() {
    let f = fixture();
    let client = f.client();
    let kelvin = email(KELVIN_KIM);
    let kim = email("kim@corp.com");
    // Two users on the server: registering the second is not a conflict.
    client.register_user(&kelvin).await.unwrap();
    client.register_user(&kim).await.unwrap();
    assert!(f.server.has_user(KELVIN_KIM) && f.server.has_user("kim@corp.com"));

    let sessions = Binokula::builder(f.config(SECRET, CODE, TENANT))
        .clock(Arc::new(f.clock.clone()))
        .existing_users_only(true)
        .build()
        .unwrap();
    let kelvin_token = sessions.user(&kelvin).token().await.unwrap();
    let kim_token = sessions.user(&kim).token().await.unwrap();
    assert_eq!(f.server.tokens_issued(), 2, "one issuance per user");
    assert_eq!(kelvin_token.email, KELVIN_KIM);
    assert_eq!(kim_token.email, "kim@corp.com");
    assert_ne!(
        kelvin_token.access_token.expose_secret(),
        kim_token.access_token.expose_secret()
    );

    let kelvin_url = sessions.sso_url(&kelvin).await.unwrap();
    let kim_url = sessions.sso_url(&kim).await.unwrap();
    assert_eq!(f.server.tokens_issued(), 2, "each user's token is cached");
    assert_ne!(kelvin_url.expose(), kim_url.expose());
    assert!(kelvin_url.expose().contains("email=%E2%84%AAim%40corp.com"));
    assert!(kim_url.expose().contains("email=kim%40corp.com"));
    // Neither token replaced the other: both links sign in.
    assert_eq!(landing(kelvin_url.expose()).await.unwrap(), HOME_PATH);
    assert_eq!(landing(kim_url.expose()).await.unwrap(), HOME_PATH);

    // ASCII case still does not matter: `KIM@corp.com` is kim's cached token.
    let upper = sessions.user(&email("KIM@corp.com")).token().await.unwrap();
    assert_eq!(
        upper.access_token.expose_secret(),
        kim_token.access_token.expose_secret()
    );
    assert_eq!(f.server.tokens_issued(), 2);
}

#[tokio::test]
async fn a_token_answer_for_another_email_is_refused() {
    let f = fixture();
    let client = f.client();
    let kim = email("Kim@Corp.com");

    f.server.serve_email_for_next_token(Some("other@corp.com"));
    let err = client.issue_token(&kim, false).await.unwrap_err();
    assert!(
        matches!(&err, Error::EmailMismatch { requested } if requested == "Kim@Corp.com"),
        "{err:?}"
    );
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET) && !shown.contains(CODE), "{shown}");

    // Unicode case folding does not make another address this one.
    f.server.serve_email_for_next_token(Some(KELVIN_KIM));
    assert!(matches!(
        client.issue_token(&kim, false).await,
        Err(Error::EmailMismatch { .. })
    ));

    // ASCII case does not matter; the hook answers once.
    f.server.serve_email_for_next_token(Some("KIM@CORP.COM"));
    assert_eq!(
        client.issue_token(&kim, false).await.unwrap().email,
        "KIM@CORP.COM"
    );
    assert_eq!(
        client.issue_token(&kim, false).await.unwrap().email,
        "kim@corp.com"
    );

    // Through the cache: the refused answer is not cached; the next call issues anew.
    let sessions = client;
    f.server.serve_email_for_next_token(Some("other@corp.com"));
    let err = sessions.sso_url(&kim).await.unwrap_err();
    assert!(matches!(err, Error::EmailMismatch { .. }), "{err:?}");
    let url = sessions.sso_url(&kim).await.unwrap();
    assert_eq!(landing(url.expose()).await.unwrap(), HOME_PATH);
    assert_eq!(f.server.tokens_issued(), 6);
}

#[tokio::test]
async fn a_user_provider_signs_an_external_access_request_in() {
    let f = fixture();
    let binokula = f.client();
    let ada = binokula.user(&email("ada@example.com"));
    assert!(!format!("{ada:?}").contains(SECRET));

    // A request for the app, with a stale `tenant` of its own: replaced, not doubled.
    let url = f.server.server().url(EXTERNAL_ACCESS_PATH);
    let mut request = http::Request::get(format!("{url}?tenant=other&lang=en"))
        .body(bytes::Bytes::new())
        .unwrap();
    ada.authorize(&mut request).await.unwrap();
    let signed = request.uri().to_string();
    assert!(
        signed.contains("lang=en&email=ada%40example.com&access_token="),
        "{signed}"
    );
    assert!(signed.ends_with(&format!("&tenant={TENANT}")), "{signed}");
    assert_eq!(landing(&signed).await.unwrap(), HOME_PATH);

    // Every provider for the user shares one cached token.
    let again = binokula.sso_url(&email("ADA@example.com")).await.unwrap();
    assert_eq!(landing(again.expose()).await.unwrap(), HOME_PATH);
    assert_eq!(f.server.tokens_issued(), 1);

    // Rejected: the token on the request is dropped, and the next one is new.
    assert!(ada.invalidate(&request));
    let renewed = ada.sso_url().await.unwrap();
    assert_ne!(renewed.expose(), again.expose());
    assert_eq!(f.server.tokens_issued(), 2);
    assert_eq!(landing(renewed.expose()).await.unwrap(), HOME_PATH);
    assert_eq!(landing(&signed).await.unwrap(), LOGIN_PATH);

    // Forgotten: a new token on the next call.
    binokula.forget(ada.email());
    ada.token().await.unwrap();
    assert_eq!(f.server.tokens_issued(), 3);
}

#[tokio::test]
async fn refused_tenant_credentials_are_client_rejected_for_generic_code() {
    let f = fixture();
    let wrong = f.client_with("not-the-secret", CODE, TENANT);
    let mut request = http::Request::get(f.server.server().url(EXTERNAL_ACCESS_PATH).as_str())
        .body(bytes::Bytes::new())
        .unwrap();
    let err = wrong
        .user(&email("ann@example.com"))
        .authorize(&mut request)
        .await
        .unwrap_err();
    assert_eq!(
        err.refusal(),
        Some(auth_core::Refusal::ClientRejected),
        "{err:?}"
    );
    assert!(matches!(
        err.source_as::<Error>(),
        Some(Error::CredentialsRejected { .. })
    ));
}

/// Issue 26, item 7: the guide shows only `200 OK` answers. Against a server that
/// answers every failure `200` with a `message` (the shape of the guide's user
/// management answers), a token answer without a token is understood, not a
/// malformed answer: an unknown user when only existing users may have a token, else
/// "no token" with the server's reason.
#[tokio::test]
async fn failures_answered_200_with_a_message_are_understood() {
    let f = fixture_with(|t| t.failures(Failures::Ok200));
    let client = f.client();
    let ann = email("ann@example.com");

    let err = client.issue_token(&ann, true).await.unwrap_err();
    assert!(
        matches!(&err, Error::UnknownUser { message } if message == "User ann@example.com not found"),
        "{err:?}"
    );
    assert!(!f.server.has_user("ann@example.com"), "not auto-created");

    // Through the cache as well: the typed error, and nothing cached.
    let sessions = Binokula::builder(f.config(SECRET, CODE, TENANT))
        .clock(Arc::new(f.clock.clone()))
        .existing_users_only(true)
        .build()
        .unwrap();
    let err = sessions.sso_url(&ann).await.unwrap_err();
    assert!(matches!(err, Error::UnknownUser { .. }), "{err:?}");

    // A refused secret answered 200: no token, the server's reason, no secret shown.
    let wrong = f.client_with("not-the-secret", CODE, TENANT);
    let err = wrong.issue_token(&ann, false).await.unwrap_err();
    assert!(
        matches!(&err, Error::NoToken { message } if message == "Invalid tenant or client secret"),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("not-the-secret"));

    // The documented answers still work, and a token signs in.
    client.register_user(&ann).await.unwrap();
    let url = sessions.sso_url(&ann).await.unwrap();
    assert_eq!(landing(url.expose()).await.unwrap(), HOME_PATH);

    // A management call answered 200 is the documented answer shape: its message is
    // returned as it is, whatever it says (the guide gives no other way to tell).
    assert_eq!(
        client.register_user(&ann).await.unwrap(),
        "User ann@example.com already exists"
    );
    assert_eq!(
        client
            .delete_user(&email("ghost@example.com"))
            .await
            .unwrap(),
        "User ghost@example.com not found"
    );
}

/// Issue 26, item 7: the guide never says addresses compare case-insensitively. The
/// crate keys users by the address with ASCII letters lower-cased (README, "Where the
/// document is silent"). Against a server that compares byte for byte, the cost of
/// that choice fails closed: two spellings share one cached token, and the link for
/// the spelling that did not ask for it lands on the login page; it never signs one
/// address in with another's token.
#[tokio::test]
async fn on_a_case_sensitive_server_two_ascii_spellings_share_one_token_and_fail_closed() {
    let f = fixture_with(|t| t.addresses(Addresses::Exact));
    let client = f.client();
    let upper = email("Kim@corp.com");
    let lower = email("kim@corp.com");
    client.register_user(&upper).await.unwrap();
    client.register_user(&lower).await.unwrap();
    assert!(f.server.has_user("Kim@corp.com") && f.server.has_user("kim@corp.com"));

    // Uncached calls are byte-exact: each spelling gets its own token and signs in.
    let own = client.issue_token(&lower, true).await.unwrap();
    assert_eq!(own.email, "kim@corp.com");
    let own_url = client.external_access_url(&own);
    assert_eq!(landing(own_url.expose()).await.unwrap(), HOME_PATH);

    // Cached: one token for both spellings, issued to the first that asked.
    let sessions = f.client();
    let first = sessions.sso_url(&upper).await.unwrap();
    let second = sessions.sso_url(&lower).await.unwrap();
    assert_eq!(f.server.tokens_issued(), 2);
    assert_eq!(landing(first.expose()).await.unwrap(), HOME_PATH);
    assert!(second.expose().contains("email=kim%40corp.com"));
    assert_eq!(landing(second.expose()).await.unwrap(), LOGIN_PATH);
}

// Issue "Scale and speed", item 1: the users' providers live in a bounded cache. A
// user whose provider left it gets a new one; with a shared store, its token comes
// back from there and nothing is issued.

use auth_testkit::CountingStore;

impl Fixture {
    /// A client whose cache holds `capacity` users, unused ones for `idle`, over
    /// `store` if given.
    fn bounded(
        &self,
        capacity: usize,
        idle: Duration,
        store: Option<Arc<CountingStore>>,
    ) -> Binokula {
        let builder = Binokula::builder(self.config(SECRET, CODE, TENANT))
            .clock(Arc::new(self.clock.clone()))
            .cache_capacity(capacity)
            .cache_idle(idle);
        match store {
            Some(store) => builder.store(store),
            None => builder,
        }
        .build()
        .unwrap()
    }
}

#[tokio::test]
async fn an_evicted_user_gets_its_token_back_from_the_store_without_a_new_issuance() {
    let f = fixture();
    let store = Arc::new(CountingStore::default());
    let client = f.bounded(1, Duration::from_secs(3600), Some(Arc::clone(&store)));
    let (ann, bob) = (email("ann@example.com"), email("bob@example.com"));

    let first = client.sso_url(&ann).await.unwrap();
    client.sso_url(&bob).await.unwrap(); // capacity 1: ann's provider goes
    assert_eq!(f.server.tokens_issued(), 2);
    let reads = store.gets();

    let again = client.sso_url(&ann).await.unwrap();
    assert!(
        store.gets() > reads,
        "a new provider for ann read the store"
    );
    assert_eq!(again.expose(), first.expose(), "the stored token");
    assert_eq!(f.server.tokens_issued(), 2, "no new issuance");
    assert_eq!(f.server.server().requests(TOKEN_PATH), 2);
    assert_eq!(landing(again.expose()).await.unwrap(), HOME_PATH);
}

#[tokio::test]
async fn an_idle_user_is_dropped_and_gets_its_token_back_from_the_store() {
    let f = fixture();
    let store = Arc::new(CountingStore::default());
    let client = f.bounded(1000, Duration::from_secs(600), Some(Arc::clone(&store)));
    let (ann, bob) = (email("ann@example.com"), email("bob@example.com"));

    let first = client.sso_url(&ann).await.unwrap();
    f.clock.advance(Duration::from_secs(601));
    client.sso_url(&bob).await.unwrap(); // sweeps: ann unused for 10 minutes
    let reads = store.gets();
    let again = client.sso_url(&ann).await.unwrap();
    assert!(store.gets() > reads, "ann's provider was rebuilt");
    assert_eq!(again.expose(), first.expose());
    assert_eq!(f.server.tokens_issued(), 2);
    assert_eq!(landing(again.expose()).await.unwrap(), HOME_PATH);
}

/// Without a shared store the token goes with the provider: the user's next call
/// issues a new one (which revokes the old, one active token per user).
#[tokio::test]
async fn without_a_store_an_evicted_user_is_issued_a_new_token() {
    let f = fixture();
    let client = f.bounded(1, Duration::from_secs(3600), None);
    let (ann, bob) = (email("ann@example.com"), email("bob@example.com"));
    let first = client.sso_url(&ann).await.unwrap();
    client.sso_url(&bob).await.unwrap();
    let again = client.sso_url(&ann).await.unwrap();
    assert_ne!(again.expose(), first.expose());
    assert_eq!(f.server.tokens_issued(), 3);
    assert_eq!(landing(again.expose()).await.unwrap(), HOME_PATH);
    assert_eq!(landing(first.expose()).await.unwrap(), LOGIN_PATH);
}

/// A held `SsoUser` keeps its provider past the capacity and the idle time: the user
/// never has a second provider whose issuance would revoke the first one's token.
#[tokio::test]
async fn a_held_user_keeps_its_provider_past_capacity_and_idle_time() {
    let f = fixture();
    let client = f.bounded(1, Duration::from_secs(600), None);
    let ann = client.user(&email("ann@example.com"));
    let first = ann.sso_url().await.unwrap();
    for name in ["bob", "cy", "dee"] {
        client
            .sso_url(&email(&format!("{name}@example.com")))
            .await
            .unwrap();
    }
    f.clock.advance(Duration::from_secs(601));
    client.sso_url(&email("eve@example.com")).await.unwrap(); // sweeps
    let again = client.sso_url(&email("ann@example.com")).await.unwrap();
    assert_eq!(
        again.expose(),
        first.expose(),
        "the same provider and token"
    );
    assert_eq!(f.server.tokens_issued(), 5);
    assert_eq!(landing(first.expose()).await.unwrap(), HOME_PATH);
    drop(ann);
}
