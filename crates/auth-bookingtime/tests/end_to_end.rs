//! bookingtime over real HTTP against the embedded authorization server and App API:
//! both stages and both endpoints, renewal on a manual clock, one request per stage
//! under 1,000 concurrent calls, user authentication, and typed refusals.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_bookingtime::{
    AuthorizationOptions, Bookingtime, BookingtimeConfig, Error, NewCustomer, OrganizationId,
};
use auth_core::{Clock, ExposeSecret, ManualClock, Refusal, SecretString};
use auth_testkit::Fault;
use auth_testkit::bookingtime::{App, BookingtimeServer, BookingtimeServerConfig, TOKEN_PATH};
use auth_testkit::oauth2::{consent, with_query_param};

const APP: &str = "70app-client-id";
const SECRET: &str = "1234-app-secret-7e1";
const ORGS: [&str; 3] = ["f6-org-a", "f6-org-b", "f6-org-c"];
const OTHER_ORG: &str = "f6-not-linked";
const MODULE: &str = "mod-client-id";
const FIVE_MINUTES: Duration = Duration::from_secs(300);
const THIRTY_DAYS: Duration = Duration::from_secs(30 * 24 * 3600);

struct Fixture {
    clock: ManualClock,
    server: BookingtimeServer,
}

fn fixture() -> Fixture {
    fixture_with(false)
}

/// With an authorization endpoint that takes OpenID Connect's `openid` scope, or (the
/// default) a plain OAuth 2.0 one that answers it with `invalid_scope`.
fn fixture_with(openid_connect: bool) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server = BookingtimeServer::start(
        BookingtimeServerConfig::new()
            .app(App::new(APP, SECRET, &ORGS))
            .app(App::module(MODULE, &["f6-org-m"]))
            .app(App::new("unrelated", "x", &[OTHER_ORG]))
            .clock(Arc::new(clock.clone()))
            .openid_connect(openid_connect),
    )
    .unwrap();
    Fixture { clock, server }
}

impl Fixture {
    fn configure(&self, config: BookingtimeConfig) -> Bookingtime {
        let config = config
            .with_auth_url(self.server.auth_url().as_str())
            .unwrap()
            .with_api_url(self.server.api_url().as_str())
            .unwrap();
        Bookingtime::builder(config)
            .clock(Arc::new(self.clock.clone()))
            .build()
            .unwrap()
    }

    fn app(&self, secret: &str) -> Bookingtime {
        self.configure(BookingtimeConfig::new(APP, SecretString::from(secret)).unwrap())
    }

    fn stages(&self) -> (u64, u64) {
        (
            self.server.grants("client_credentials"),
            self.server.grants("refresh_token"),
        )
    }
}

fn org(id: &str) -> OrganizationId {
    OrganizationId::new(id).unwrap()
}

#[tokio::test]
async fn both_stages_and_both_endpoints_end_to_end() {
    let f = fixture();
    let bookingtime = f.app(SECRET);

    // Stage one: a refresh token of 30 days, and no access token.
    let expiry = bookingtime.app().refresh_token_expiry().await.unwrap();
    assert_eq!(expiry, Some(f.clock.now() + THIRTY_DAYS));
    assert_eq!(f.stages(), (1, 0));

    // Stage two on the first call: a 5-minute token for that organization.
    let a = bookingtime.app().organization(&org(ORGS[0]));
    let shown = a.show().await.unwrap();
    assert_eq!(shown.class, "ORGANIZATION");
    assert_eq!(shown.id, ORGS[0]);
    assert!(shown.root_organization_flag);
    assert_eq!(
        shown.description.unwrap().inheritance.as_deref(),
        Some("OFF")
    );
    let token = a.token().await.unwrap();
    assert_eq!(token.token().lifetime(), Some(FIVE_MINUTES));
    assert!(
        token
            .token()
            .access_token()
            .expose_secret()
            .starts_with("ey")
    );
    assert_eq!(f.stages(), (1, 1));
    assert_eq!(f.server.access_tokens_for(ORGS[0]), 1);

    let customer = a
        .add_customer(&NewCustomer::new("John", "Doe").with("email", "john@example.com"))
        .await
        .unwrap();
    assert_eq!(customer.class, "CUSTOMER_SHORT");
    assert_eq!(
        (customer.first_name.as_str(), customer.last_name.as_str()),
        ("John", "Doe")
    );
    assert_eq!(customer.organization_id, ORGS[0]);
    let stored = f.server.customers(ORGS[0]);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["id"], customer.id.as_str());
    // Both calls used the one access token.
    assert_eq!(f.stages(), (1, 1));
    assert_eq!(
        f.server
            .api()
            .requests(&format!("/app/v3/de/organization/{}/show", ORGS[0])),
        1
    );
}

#[tokio::test]
async fn the_module_api_sends_no_secret() {
    let f = fixture();
    let module = f.configure(BookingtimeConfig::module(MODULE).unwrap());
    let shown = module
        .app()
        .organization(&org("f6-org-m"))
        .show()
        .await
        .unwrap();
    assert_eq!(shown.id, "f6-org-m");
    assert_eq!(f.stages(), (1, 1));
}

#[tokio::test]
async fn access_tokens_renew_every_five_minutes_and_stage_one_after_thirty_days() {
    let f = fixture();
    let bookingtime = f.app(SECRET);
    let a = bookingtime.app().organization(&org(ORGS[0]));
    a.show().await.unwrap();
    let first = a.token().await.unwrap();
    assert_eq!(f.stages(), (1, 1));

    // Before the 5 minutes end (renewal margin: 30 s plus up to 15 s of jitter), a
    // call gets the still-valid token and the renewal runs behind it.
    f.clock.advance(Duration::from_secs(4 * 60 + 40));
    a.show().await.unwrap();
    let renewed = wait_for_new(&a, &first).await;
    assert_eq!(f.stages(), (1, 2), "stage two only");

    // Past 5 minutes a call renews (here: waits for) the access token; stage one is
    // not repeated.
    f.clock.advance(FIVE_MINUTES);
    a.show().await.unwrap();
    let third = a.token().await.unwrap();
    assert_ne!(
        third.token().access_token().expose_secret(),
        renewed.token().access_token().expose_secret()
    );
    assert_eq!(f.stages(), (1, 3));

    // After 30 days the refresh token has ended: stage one runs again.
    f.clock.advance(THIRTY_DAYS);
    a.show().await.unwrap();
    assert_eq!(f.stages(), (2, 4));
    assert_eq!(
        bookingtime.app().refresh_token_expiry().await.unwrap(),
        Some(f.clock.now() + THIRTY_DAYS)
    );
}

async fn wait_for_new(
    organization: &auth_bookingtime::Organization,
    old: &auth_core::CachedToken,
) -> Arc<auth_core::CachedToken> {
    for _ in 0..200 {
        let now = organization.token().await.unwrap();
        if now.header() != old.header() {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the access token was not renewed in the background");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_calls_make_one_request_per_stage_and_organization() {
    let f = fixture();
    let bookingtime = f.app(SECRET);
    let calls = (0..1000).map(|i| {
        let access = bookingtime.app().clone();
        tokio::spawn(async move {
            access
                .organization(&org(ORGS[i % ORGS.len()]))
                .show()
                .await
                .map(|o| o.id)
        })
    });
    let results = futures_util::future::join_all(calls).await;
    for (i, result) in results.into_iter().enumerate() {
        assert_eq!(result.unwrap().unwrap(), ORGS[i % ORGS.len()]);
    }
    assert_eq!(f.server.grants("client_credentials"), 1, "one stage one");
    for id in ORGS {
        assert_eq!(f.server.access_tokens_for(id), 1, "one stage two for {id}");
    }
    assert_eq!(f.server.auth().requests(TOKEN_PATH), 4);
    assert_eq!(f.server.api().total_requests(), 1000);
}

#[tokio::test]
async fn an_organization_the_app_may_not_access_is_a_typed_error() {
    let f = fixture();
    let bookingtime = f.app(SECRET);
    let err = bookingtime
        .app()
        .organization(&org(OTHER_ORG))
        .show()
        .await
        .unwrap_err();
    match &err {
        Error::OrganizationNotPermitted { organization } => {
            assert_eq!(organization.as_str(), OTHER_ORG);
        }
        other => panic!("expected OrganizationNotPermitted, got {other:?}"),
    }
    assert_eq!(f.server.api().total_requests(), 0, "refused before the API");
    // The app's other organizations still work, on the same refresh token.
    bookingtime
        .app()
        .organization(&org(ORGS[1]))
        .show()
        .await
        .unwrap();
    assert_eq!(f.server.grants("client_credentials"), 1);
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_and_never_shown() {
    let f = fixture();
    let bookingtime = f.app("wrong-secret-51c");
    let err = bookingtime
        .app()
        .organization(&org(ORGS[0]))
        .show()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidClient), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("wrong-secret-51c") && !shown.contains(SECRET));
    assert_eq!(f.server.api().total_requests(), 0);
}

#[tokio::test]
async fn a_revoked_refresh_token_is_replaced_once() {
    let f = fixture();
    let bookingtime = f.app(SECRET);
    let a = bookingtime.app().organization(&org(ORGS[0]));
    a.show().await.unwrap();
    f.server.revoke_refresh_tokens();
    f.clock.advance(FIVE_MINUTES);
    // Stage two is refused (invalid_grant): stage one runs again, then stage two.
    a.show().await.unwrap();
    assert_eq!(f.stages(), (2, 2));
}

#[tokio::test]
async fn user_authentication_with_the_authorization_code_flow() {
    let f = fixture();
    let bookingtime = f.app(SECRET);
    let pending = bookingtime
        .authorization_request(&f.server.authorize_url(), "https://app.example/callback")
        .unwrap();
    assert!(pending.url.as_str().contains("code_challenge_method=S256"));
    let redirect = consent(pending.url.as_str()).await.unwrap();
    assert!(
        redirect
            .as_str()
            .starts_with("https://app.example/callback?")
    );

    let user = bookingtime.sign_in(&pending, &redirect).await.unwrap();
    assert_eq!(f.server.grants("authorization_code"), 1);
    let shown = user.organization(&org(ORGS[2])).show().await.unwrap();
    assert_eq!(shown.id, ORGS[2]);
    assert_eq!(
        f.server.grants("client_credentials"),
        0,
        "no app token involved"
    );

    // The code is single use.
    let again = bookingtime.sign_in(&pending, &redirect).await.unwrap_err();
    assert!(
        matches!(&again, Error::Core(e) if e.refusal() == Some(Refusal::GrantRejected)),
        "{again:?}"
    );

    // After 30 days the user's refresh token has ended: sign in again.
    f.clock.advance(THIRTY_DAYS);
    let err = user.organization(&org(ORGS[2])).show().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
}

#[tokio::test]
async fn a_redirect_with_another_state_is_refused() {
    let f = fixture();
    let bookingtime = f.app(SECRET);
    let pending = bookingtime
        .authorization_request(&f.server.authorize_url(), "https://app.example/callback")
        .unwrap();
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let redirect = with_query_param(&redirect, "state", "forged");
    let err = bookingtime.sign_in(&pending, &redirect).await.unwrap_err();
    assert!(
        matches!(
            err.clone(),
            Error::Core(e) if matches!(e.source_as(), Some(auth_oauth2::Error::StateMismatch))
        ),
        "{err:?}"
    );
    assert_eq!(f.server.grants("authorization_code"), 0);
}

#[tokio::test]
async fn malformed_answers_and_api_refusals_are_typed() {
    let f = fixture();
    let bookingtime = f.app(SECRET);
    f.server
        .auth()
        .inject_on(TOKEN_PATH, Fault::MalformedJson, 1);
    let a = bookingtime.app().organization(&org(ORGS[0]));
    let err = a.show().await.unwrap_err();
    assert!(
        matches!(err, Error::Core(auth_core::Error::InvalidResponse { .. })),
        "{err:?}"
    );
    // The next call recovers.
    a.show().await.unwrap();

    // The API's own refusal keeps its status and message.
    let err = a
        .add_customer(&NewCustomer::new("", "Doe"))
        .await
        .unwrap_err();
    match err {
        Error::Api { status, message } => {
            assert_eq!(status, 400);
            assert!(message.contains("firstName"), "{message}");
        }
        other => panic!("expected Api, got {other:?}"),
    }
}

#[test]
fn configuration_is_checked() {
    assert!(OrganizationId::new(" ").is_err());
    assert!(BookingtimeConfig::new("", SecretString::from(SECRET)).is_err());
    let config = BookingtimeConfig::new(APP, SecretString::from(SECRET)).unwrap();
    assert!(config.clone().with_locale("de/../x").is_err());
    assert!(config.clone().with_auth_url("not a url").is_err());
    // Plain HTTP off loopback is refused as soon as it is configured.
    let err = config
        .clone()
        .with_auth_url("http://auth.bookingtime.example/")
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(auth_core::Error::InsecureUrl { .. })),
        "{err:?}"
    );
    // So is an authorization endpoint on plain HTTP.
    let bookingtime = Bookingtime::new(config.clone()).unwrap();
    let insecure = url::Url::parse("http://auth.bookingtime.example/authorize").unwrap();
    assert!(
        bookingtime
            .authorization_request(&insecure, "https://app.example/callback")
            .is_err()
    );
    let shown = format!("{config:?}");
    assert!(!shown.contains(SECRET));
}

#[tokio::test]
async fn new_uses_the_system_clock_and_the_default_transport() {
    let server =
        BookingtimeServer::start(BookingtimeServerConfig::new().app(App::new(APP, SECRET, &ORGS)))
            .unwrap();
    let config = BookingtimeConfig::new(APP, SecretString::from(SECRET))
        .unwrap()
        .with_auth_url(server.auth_url().as_str())
        .unwrap()
        .with_api_url(server.api_url().as_str())
        .unwrap();
    let bookingtime = Bookingtime::new(config).unwrap();
    let shown = bookingtime
        .app()
        .organization(&org(ORGS[0]))
        .show()
        .await
        .unwrap();
    assert_eq!(shown.id, ORGS[0]);
}

#[tokio::test]
async fn clients_on_one_store_share_both_stages() {
    let f = fixture();
    let store: Arc<dyn auth_core::TokenStore> = Arc::new(auth_core::InMemoryTokenStore::new());
    let build = || {
        let config = BookingtimeConfig::new(APP, SecretString::from(SECRET))
            .unwrap()
            .with_auth_url(f.server.auth_url().as_str())
            .unwrap()
            .with_api_url(f.server.api_url().as_str())
            .unwrap();
        Bookingtime::builder(config)
            .clock(Arc::new(f.clock.clone()))
            .store(Arc::clone(&store))
            .policy(auth_core::RefreshPolicy::default())
            .build()
            .unwrap()
    };
    let (one, two) = (build(), build());
    one.app().organization(&org(ORGS[0])).show().await.unwrap();
    two.app().organization(&org(ORGS[0])).show().await.unwrap();
    assert_eq!(f.stages(), (1, 1), "one request per stage for both clients");
}

// Issue 26, item 2: the document names the Authorization Code Flow and nothing of
// OpenID Connect; `scope=openid` and a `nonce` only when asked for.

const CALLBACK: &str = "https://app.example/callback";

fn query(url: &url::Url) -> Vec<(String, String)> {
    url.query_pairs().into_owned().collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_authorization_request_is_plain_oauth_by_default() {
    let config = BookingtimeConfig::new(APP, SecretString::from(SECRET)).unwrap();
    let bookingtime = Bookingtime::new(config).unwrap();
    let authorize = url::Url::parse("https://auth.bookingtime.com/oauth/authorize").unwrap();
    let pending = bookingtime
        .authorization_request(&authorize, CALLBACK)
        .unwrap();
    let pairs = query(&pending.url);
    let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "response_type",
            "client_id",
            "redirect_uri",
            "state",
            "code_challenge",
            "code_challenge_method"
        ],
        "RFC 6749 §4.1.1 and PKCE, no scope, no nonce: {}",
        pending.url
    );
    assert_eq!(param(&pairs, "response_type"), Some("code"));
    assert_eq!(param(&pairs, "client_id"), Some(APP));
    assert_eq!(param(&pairs, "redirect_uri"), Some(CALLBACK));
    assert_eq!(param(&pairs, "code_challenge_method"), Some("S256"));
}

#[tokio::test]
async fn a_plain_oauth_server_signs_the_user_in_with_the_default_request() {
    let f = fixture_with(false);
    let bookingtime = f.app(SECRET);
    let pending = bookingtime
        .authorization_request(&f.server.authorize_url(), CALLBACK)
        .unwrap();
    let redirect = consent(pending.url.as_str()).await.unwrap();
    assert!(
        !redirect.as_str().contains("invalid_scope"),
        "the plain OAuth server refused the request: {redirect}"
    );
    let user = bookingtime.sign_in(&pending, &redirect).await.unwrap();
    user.organization(&org(ORGS[0])).show().await.unwrap();
    assert_eq!(f.server.grants("authorization_code"), 1);
}

#[tokio::test]
async fn openid_connect_parameters_only_when_asked_for() {
    let options = AuthorizationOptions::new().openid_connect();

    // Asked for, against a server that speaks OpenID Connect: `openid` and a nonce.
    let f = fixture_with(true);
    let bookingtime = f.app(SECRET);
    let pending = bookingtime
        .authorization_request_with(&f.server.authorize_url(), CALLBACK, &options)
        .unwrap();
    let pairs = query(&pending.url);
    assert_eq!(param(&pairs, "scope"), Some("openid"));
    assert_eq!(param(&pairs, "nonce"), pending.nonce());
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let user = bookingtime.sign_in(&pending, &redirect).await.unwrap();
    user.organization(&org(ORGS[1])).show().await.unwrap();

    // A scope of the caller's own, without OpenID Connect: sent as given.
    let scoped = bookingtime
        .authorization_request_with(
            &f.server.authorize_url(),
            CALLBACK,
            &AuthorizationOptions::new().scope("customer"),
        )
        .unwrap();
    let pairs = query(&scoped.url);
    assert_eq!(param(&pairs, "scope"), Some("customer"));
    assert_eq!(param(&pairs, "nonce"), None);

    // Asked for against a plain OAuth server: its invalid_scope comes back typed.
    let f = fixture_with(false);
    let bookingtime = f.app(SECRET);
    let pending = bookingtime
        .authorization_request_with(&f.server.authorize_url(), CALLBACK, &options)
        .unwrap();
    let redirect = consent(pending.url.as_str()).await.unwrap();
    let err = bookingtime.sign_in(&pending, &redirect).await.unwrap_err();
    let code = match &err {
        Error::Core(e) => e
            .source_as::<auth_oauth2::Error>()
            .and_then(|e| e.oauth_code()),
        _ => None,
    };
    assert_eq!(
        code,
        Some(&auth_oauth2::OAuthErrorCode::InvalidScope),
        "{err:?}"
    );
    assert_eq!(f.server.grants("authorization_code"), 0);
}

// Issue "Scale and speed", item 1: each access's organizations live in a bounded
// cache. An organization that left it is made again on the next call; with a shared
// store its token comes back from there and nothing is exchanged.

use auth_testkit::CountingStore;

impl Fixture {
    /// The app, its organizations cached `capacity` at most, unused ones for `idle`,
    /// over `store` if given.
    fn bounded(
        &self,
        capacity: usize,
        idle: Duration,
        store: Option<Arc<CountingStore>>,
    ) -> Bookingtime {
        let config = BookingtimeConfig::new(APP, SecretString::from(SECRET))
            .unwrap()
            .with_auth_url(self.server.auth_url().as_str())
            .unwrap()
            .with_api_url(self.server.api_url().as_str())
            .unwrap();
        let builder = Bookingtime::builder(config)
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
async fn an_evicted_organization_gets_its_token_back_from_the_store_without_an_exchange() {
    let f = fixture();
    let store = Arc::new(CountingStore::default());
    let bookingtime = f.bounded(1, FIVE_MINUTES, Some(Arc::clone(&store)));
    let app = bookingtime.app();

    let first = app.organization(&org(ORGS[0])).token().await.unwrap();
    app.organization(&org(ORGS[1])).show().await.unwrap(); // capacity 1: A goes
    assert_eq!(f.stages(), (1, 2));
    let reads = store.gets();

    let a = app.organization(&org(ORGS[0]));
    let again = a.token().await.unwrap();
    assert!(store.gets() > reads, "a new provider for A read the store");
    assert_eq!(
        again.token().access_token().expose_secret(),
        first.token().access_token().expose_secret(),
        "the stored token"
    );
    assert_eq!(a.show().await.unwrap().id, ORGS[0]);
    assert_eq!(f.stages(), (1, 2), "no new request at either stage");
    assert_eq!(f.server.access_tokens_for(ORGS[0]), 1);
}

#[tokio::test]
async fn an_idle_organization_is_dropped_and_gets_its_token_back_from_the_store() {
    let f = fixture();
    let store = Arc::new(CountingStore::default());
    let bookingtime = f.bounded(1000, Duration::from_secs(60), Some(Arc::clone(&store)));
    let app = bookingtime.app();

    app.organization(&org(ORGS[0])).show().await.unwrap();
    f.clock.advance(Duration::from_secs(61));
    app.organization(&org(ORGS[1])).show().await.unwrap(); // sweeps: A unused 61 s
    let reads = store.gets();
    app.organization(&org(ORGS[0])).show().await.unwrap();
    assert!(store.gets() > reads, "A's provider was rebuilt");
    assert_eq!(f.stages(), (1, 2));
}

/// Without a shared store the organization's token goes with it: the next call makes
/// one exchange (stage two), and the refresh token stays.
#[tokio::test]
async fn without_a_store_an_evicted_organization_costs_one_exchange() {
    let f = fixture();
    let bookingtime = f.bounded(1, FIVE_MINUTES, None);
    let app = bookingtime.app();
    app.organization(&org(ORGS[0])).show().await.unwrap();
    app.organization(&org(ORGS[1])).show().await.unwrap();
    app.organization(&org(ORGS[0])).show().await.unwrap();
    assert_eq!(f.stages(), (1, 3));
    assert_eq!(f.server.access_tokens_for(ORGS[0]), 2);
}

#[tokio::test]
async fn a_held_organization_stays_past_capacity_and_idle_time() {
    let f = fixture();
    let bookingtime = f.bounded(1, Duration::from_secs(60), None);
    let app = bookingtime.app();
    let a = app.organization(&org(ORGS[0]));
    a.show().await.unwrap();
    app.organization(&org(ORGS[1])).show().await.unwrap();
    app.organization(&org(ORGS[2])).show().await.unwrap();
    f.clock.advance(Duration::from_secs(61));
    app.organization(&org(ORGS[1])).show().await.unwrap(); // sweeps
    app.organization(&org(ORGS[0])).show().await.unwrap();
    assert_eq!(f.server.access_tokens_for(ORGS[0]), 1, "A kept its token");
    drop(a);
}
