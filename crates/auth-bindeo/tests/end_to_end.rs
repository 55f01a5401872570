//! Bindeo over real HTTP against the embedded API (JSON bodies only): each grant and a
//! protected call, a user session refreshing before the hour ends with rotation, and
//! wrong secrets and passwords as typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_bindeo::{Bindeo, BindeoConfig, Error, UserSession};
use auth_core::http::AuthorizedClient;
use auth_core::{Clock, CredentialProvider, ExposeSecret, ManualClock, Refusal, SecretString};
use auth_testkit::bindeo::{
    ACCESS_TOKEN_PATH, BindeoServer, BindeoServerConfig, ErrorAnswer, ErrorStyle, RESOURCE_PATH,
};
use bytes::Bytes;

const ID: &str = "bindeo-client";
const SECRET: &str = "bindeo-secret-9f2";
const USER: &str = "ada";
const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    clock: ManualClock,
    server: BindeoServer,
}

fn fixture() -> Fixture {
    fixture_answering(ErrorStyle::rfc6749())
}

/// A server that answers refusals in `style`.
fn fixture_answering(style: ErrorStyle) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server = BindeoServer::start(
        BindeoServerConfig::new(ID, SECRET)
            .user(USER, PASSWORD)
            .clock(Arc::new(clock.clone()))
            .errors(style),
    )
    .unwrap();
    Fixture { clock, server }
}

impl Fixture {
    fn bindeo(&self, secret: &str) -> Bindeo {
        let config = BindeoConfig::new(ID, SecretString::from(secret))
            .unwrap()
            .with_api_url(self.server.base_url().as_str())
            .unwrap();
        Bindeo::builder(config)
            .clock(Arc::new(self.clock.clone()))
            .build()
            .unwrap()
    }

    async fn call(&self, bindeo: &Bindeo, provider: Arc<dyn CredentialProvider>) -> u16 {
        let client = AuthorizedClient::new(bindeo.http().clone(), provider);
        let request = http::Request::get(self.server.server().url(RESOURCE_PATH).as_str())
            .body(Bytes::new())
            .unwrap();
        client.send(request).await.unwrap().status.as_u16()
    }
}

#[tokio::test]
async fn machine_token_then_a_protected_call() {
    let f = fixture();
    let bindeo = f.bindeo(SECRET);
    let machine = Arc::new(bindeo.machine());
    let token = machine.token().await.unwrap();
    assert_eq!(token.token().lifetime(), Some(Duration::from_secs(3600)));
    // JWT-shaped, as the reference shows.
    assert_eq!(
        token
            .token()
            .access_token()
            .expose_secret()
            .split('.')
            .count(),
        3
    );
    assert_eq!(f.call(&bindeo, machine).await, 200);
    assert_eq!(f.server.grants("client_credentials"), 1);
}

#[tokio::test]
async fn user_sign_in_then_a_protected_call() {
    let f = fixture();
    let bindeo = f.bindeo(SECRET);
    let session = Arc::new(
        bindeo
            .user(USER, SecretString::from(PASSWORD))
            .await
            .unwrap(),
    );
    assert_eq!(f.call(&bindeo, session.clone()).await, 200);
    assert_eq!(
        (
            f.server.grants("password"),
            f.server.grants("refresh_token")
        ),
        (1, 0)
    );
}

/// The session's token once it differs from `old` (the background refresh landed).
async fn renewed(session: &UserSession, old: &str) -> Arc<auth_core::CachedToken> {
    for _ in 0..200 {
        let token = session.token().await.unwrap();
        if token.token().access_token().expose_secret() != old {
            return token;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the session did not refresh");
}

#[tokio::test]
async fn a_session_refreshes_before_the_hour_ends_with_rotation() {
    let f = fixture();
    let bindeo = f.bindeo(SECRET);
    let session = bindeo
        .user(USER, SecretString::from(PASSWORD))
        .await
        .unwrap();
    let first = session.token().await.unwrap();
    let old_refresh = first
        .token()
        .refresh_token()
        .unwrap()
        .expose_secret()
        .to_owned();

    // 55 minutes in: inside the refresh margin (10 % of an hour), before expiry.
    f.clock.advance(Duration::from_secs(55 * 60));
    assert!(!first.token().is_expired(f.clock.now()));
    // The current token is still served while the refresh runs in the background.
    let second = renewed(&session, first.token().access_token().expose_secret()).await;
    assert_ne!(
        first.token().access_token().expose_secret(),
        second.token().access_token().expose_secret()
    );
    let new_refresh = second
        .token()
        .refresh_token()
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_ne!(old_refresh, new_refresh);
    assert_eq!(
        (
            f.server.grants("password"),
            f.server.grants("refresh_token")
        ),
        (1, 1)
    );

    // The server refuses the old refresh token now...
    let refused = bindeo
        .oauth2()
        .refresh(&SecretString::from(old_refresh.clone()), None, &[])
        .await
        .unwrap_err();
    assert_eq!(
        auth_core::Error::from(refused).refusal(),
        Some(Refusal::GrantRejected)
    );
    assert!(f.server.is_revoked(&old_refresh));

    // ...and the session goes on with the new one.
    f.clock.advance(Duration::from_secs(55 * 60));
    renewed(&session, second.token().access_token().expose_secret()).await;
    assert_eq!(f.server.grants("refresh_token"), 2);
    assert!(f.server.is_revoked(&new_refresh));
}

#[tokio::test]
async fn a_refused_refresh_asks_for_a_new_sign_in() {
    let f = fixture();
    let bindeo = f.bindeo(SECRET);
    let session = bindeo
        .user(USER, SecretString::from(PASSWORD))
        .await
        .unwrap();
    let token = session.token().await.unwrap();
    // Another device used the refresh token first: it is rotated away.
    bindeo
        .oauth2()
        .refresh(token.token().refresh_token().unwrap(), None, &[])
        .await
        .unwrap();
    f.clock.advance(Duration::from_secs(3600));
    let err = session.token().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
    // The password was not kept: no password grant was retried.
    assert_eq!(f.server.grants("password"), 1);
}

#[tokio::test]
async fn wrong_secret_and_wrong_password_are_typed_and_secret_free() {
    let f = fixture();
    let wrong = "bindeo-secret-WRONG";
    let err = f
        .bindeo(wrong)
        .machine()
        .token()
        .await
        .map(|_| ())
        .unwrap_err();
    let err = Error::from(err);
    assert!(matches!(err, Error::InvalidClient), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(wrong));

    let err = f
        .bindeo(SECRET)
        .user(USER, SecretString::from("hunter2-not-it"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[tokio::test]
async fn the_server_takes_json_bodies_only() {
    let f = fixture();
    let response = reqwest::Client::new()
        .post(f.server.server().url(ACCESS_TOKEN_PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={ID}&client_secret={SECRET}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(f.server.grants("client_credentials"), 0);
}

#[tokio::test]
async fn new_uses_the_system_clock_and_the_default_transport() {
    let server = BindeoServer::start(BindeoServerConfig::new(ID, SECRET)).unwrap();
    let config = BindeoConfig::new(ID, SecretString::from(SECRET))
        .unwrap()
        .with_api_url(server.base_url().as_str())
        .unwrap();
    let bindeo = Bindeo::new(config).unwrap();
    let token = bindeo.machine().token().await.unwrap();
    assert!(!token.token().is_expired(std::time::SystemTime::now()));
    assert_eq!(server.grants("client_credentials"), 1);
}

#[tokio::test]
async fn clients_on_one_store_share_the_machine_token() {
    let f = fixture();
    let store: Arc<dyn auth_core::TokenStore> = Arc::new(auth_core::InMemoryTokenStore::new());
    let build = || {
        let config = BindeoConfig::new(ID, SecretString::from(SECRET))
            .unwrap()
            .with_api_url(f.server.base_url().as_str())
            .unwrap();
        Bindeo::builder(config)
            .clock(Arc::new(f.clock.clone()))
            .store(Arc::clone(&store))
            .policy(auth_core::RefreshPolicy::default())
            .build()
            .unwrap()
    };
    let (one, two) = (build(), build());
    let first = one.machine().token().await.unwrap();
    let second = two.machine().token().await.unwrap();
    assert_eq!(first.header(), second.header());
    assert_eq!(f.server.grants("client_credentials"), 1);
}

#[test]
fn plain_http_off_loopback_is_refused() {
    // Refused as soon as it is configured.
    let err = BindeoConfig::new(ID, SecretString::from(SECRET))
        .unwrap()
        .with_api_url("http://api.bindeo.example/")
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(auth_core::Error::InsecureUrl { .. })),
        "{err:?}"
    );
}

// Issue 26, item 8: the refresh grant and the error codes are assumptions (the
// capture stops at the refresh heading, its errors page is missing). Every plausible
// answer is sorted; each test below has the server answer in one style.

/// The refresh-token answer of the RFC style, replaced by `error` (status `status`).
fn refresh_answered(status: u16, error: &str) -> ErrorStyle {
    ErrorStyle {
        bad_refresh_token: ErrorAnswer::new(
            http::StatusCode::from_u16(status).unwrap(),
            error,
            "The refresh token is invalid.",
        ),
        ..ErrorStyle::rfc6749()
    }
}

/// Signs in, has the server revoke every refresh token, and lets the hour pass: the
/// next token needs a refresh, which the server refuses.
async fn refused_refresh(f: &Fixture) -> (Bindeo, UserSession) {
    let bindeo = f.bindeo(SECRET);
    let session = bindeo
        .user(USER, SecretString::from(PASSWORD))
        .await
        .unwrap();
    session.token().await.unwrap();
    f.server.revoke_refresh_tokens();
    f.clock.advance(Duration::from_secs(3600));
    (bindeo, session)
}

#[tokio::test]
async fn a_wrong_password_answered_invalid_credentials_401_is_invalid_credentials() {
    let f = fixture_answering(ErrorStyle::league());
    let err = f
        .bindeo(SECRET)
        .user(USER, SecretString::from("hunter2-not-it"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials), "{err:?}");
    assert!(!format!("{err} {err:?}").contains("hunter2"));
}

#[tokio::test]
async fn a_wrong_password_answered_invalid_grant_400_is_invalid_credentials() {
    let f = fixture_answering(ErrorStyle::rfc6749());
    let err = f
        .bindeo(SECRET)
        .user(USER, SecretString::from("hunter2-not-it"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials), "{err:?}");
}

#[tokio::test]
async fn a_bad_refresh_token_answered_invalid_request_401_ends_the_session() {
    let f = fixture_answering(ErrorStyle::league());
    let (bindeo, session) = refused_refresh(&f).await;
    let err = session.token().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
    // Generic code sees the core's SignInRequired through the provider, too.
    let mut request = auth_core::AuthRequest::new(Default::default());
    let err = session.authorize(&mut request).await.unwrap_err();
    assert!(
        matches!(err, auth_core::Error::SignInRequired { .. }),
        "{err:?}"
    );
    // No password was kept, so none was sent again.
    assert_eq!(f.server.grants("password"), 1);
    drop(bindeo);
}

#[tokio::test]
async fn a_bad_refresh_token_answered_invalid_request_400_ends_the_session() {
    let f = fixture_answering(refresh_answered(400, "invalid_request"));
    let (_bindeo, session) = refused_refresh(&f).await;
    let err = session.token().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
}

#[tokio::test]
async fn a_bad_refresh_token_answered_invalid_token_ends_the_session() {
    let f = fixture_answering(refresh_answered(401, "invalid_token"));
    let (_bindeo, session) = refused_refresh(&f).await;
    let err = session.token().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
}

#[tokio::test]
async fn a_bad_refresh_token_answered_invalid_grant_ends_the_session() {
    let f = fixture_answering(ErrorStyle::rfc6749());
    let (_bindeo, session) = refused_refresh(&f).await;
    let err = session.token().await.unwrap_err();
    assert!(matches!(err, Error::SignInRequired), "{err:?}");
}

#[tokio::test]
async fn a_wrong_secret_is_invalid_client_in_either_style() {
    for style in [ErrorStyle::rfc6749(), ErrorStyle::league()] {
        let f = fixture_answering(style);
        let wrong = f.bindeo("bindeo-secret-WRONG");
        let err = Error::from(wrong.machine().token().await.map(drop).unwrap_err());
        assert!(matches!(err, Error::InvalidClient), "{err:?}");
        let err = wrong
            .user(USER, SecretString::from(PASSWORD))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidClient), "{err:?}");
    }
}
