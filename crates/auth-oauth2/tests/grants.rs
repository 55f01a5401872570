//! Every grant end to end over HTTP against the embedded authorization server, with
//! each client authentication method; refresh with rotation; what a refused refresh
//! means for each grant; tolerant parsing over the wire; revocation; redirects and
//! plain-HTTP endpoints refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::HttpClient;
use auth_core::{
    CachingProvider, Clock, Error as CoreError, ExposeSecret, ManualClock, RefreshPolicy,
    SecretString, Token, TokenSource,
};
use auth_oauth2::{
    AuthorizationCode, ClientAuth, ClientCredentials, Error, GrantParams, OAuth2Client,
    OAuthErrorCode, Password, PkceVerifier, RefreshToken, TokenTypeHint,
};
use auth_testkit::Fault;
use auth_testkit::oauth2::{
    AUTHORIZE_PATH, AuthServer, AuthServerConfig, ClientAuthMethod, TOKEN_PATH, TokenStyle, consent,
};

const ID: &str = "app";
const SECRET: &str = "app-secret:with/odd+chars";

struct Fixture {
    clock: ManualClock,
    server: AuthServer,
}

fn fixture_with(f: impl FnOnce(AuthServerConfig) -> AuthServerConfig) -> Fixture {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let config = f(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())));
    Fixture {
        clock,
        server: AuthServer::start(config).unwrap(),
    }
}

fn fixture(auth: ClientAuthMethod) -> Fixture {
    fixture_with(|c| c.auth(auth))
}

impl Fixture {
    fn client(&self, auth: ClientAuth, secret: &str) -> OAuth2Client {
        OAuth2Client::builder(ID, self.server.token_url().as_str())
            .secret(SecretString::from(secret))
            .auth(auth)
            .revocation_url(self.server.server().url("/revoke").as_str())
            .clock(Arc::new(self.clock.clone()) as Arc<dyn Clock>)
            .build()
            .unwrap()
    }

    fn provider<S: TokenSource + 'static>(&self, source: S) -> CachingProvider<S> {
        CachingProvider::builder(source)
            .clock(Arc::new(self.clock.clone()))
            .policy(RefreshPolicy::default().without_jitter())
            .build()
    }
}

const METHODS: [(ClientAuth, ClientAuthMethod); 3] = [
    (ClientAuth::Basic, ClientAuthMethod::Basic),
    (ClientAuth::FormBody, ClientAuthMethod::FormBody),
    (ClientAuth::JsonBody, ClientAuthMethod::JsonBody),
];

#[tokio::test]
async fn client_credentials_with_each_client_authentication() {
    for (ours, theirs) in METHODS {
        let f = fixture(theirs);
        let grant = ClientCredentials::new(
            f.client(ours, SECRET),
            GrantParams::default()
                .scope("read write")
                .extra("audience", "api"),
        );
        let token = f.provider(grant).token().await.unwrap();
        assert_eq!(token.token().scheme(), "Bearer", "{ours:?}");
        assert_eq!(token.token().lifetime(), Some(Duration::from_secs(3600)));
        assert_eq!(token.token().scope(), Some("read write"));
        assert_eq!(f.server.grants("client_credentials"), 1, "{ours:?}");

        // The wrong secret is invalid_client, typed, and never quoted.
        let err = f
            .client(ours, "not-the-secret")
            .client_credentials(None, &[])
            .await
            .unwrap_err();
        assert_eq!(
            err.oauth_code(),
            Some(&OAuthErrorCode::InvalidClient),
            "{ours:?}"
        );
        assert!(!format!("{err} {err:?}").contains("not-the-secret"));
    }
}

#[tokio::test]
async fn a_client_using_another_method_than_registered_is_refused() {
    let f = fixture(ClientAuthMethod::JsonBody);
    for ours in [ClientAuth::Basic, ClientAuth::FormBody] {
        let err = f
            .client(ours, SECRET)
            .client_credentials(None, &[])
            .await
            .unwrap_err();
        assert_eq!(
            err.oauth_code(),
            Some(&OAuthErrorCode::InvalidClient),
            "{ours:?}"
        );
    }
}

#[tokio::test]
async fn password_with_each_client_authentication() {
    for (ours, theirs) in METHODS {
        let f = fixture(theirs);
        let client = f.client(ours, SECRET);
        let response = client
            .password(
                "alice",
                &SecretString::from("wonderland"),
                Some("profile"),
                &[],
            )
            .await
            .unwrap();
        assert!(response.access_token.is_some() && response.refresh_token.is_some());
        let err = client
            .password("alice", &SecretString::from("guess"), None, &[])
            .await
            .unwrap_err();
        assert_eq!(err.oauth_code(), Some(&OAuthErrorCode::InvalidGrant));
    }
}

#[tokio::test]
async fn refresh_rotates_and_the_rotated_token_is_kept() {
    let f = fixture(ClientAuthMethod::Basic);
    let grant = Password::new(
        f.client(ClientAuth::Basic, SECRET),
        "alice",
        SecretString::from("wonderland"),
        GrantParams::default(),
    );
    let provider = f.provider(grant);
    let first = provider.token().await.unwrap();
    let first_refresh = first
        .token()
        .refresh_token()
        .unwrap()
        .expose_secret()
        .to_owned();

    f.clock.advance(Duration::from_secs(3600));
    let second = provider.token().await.unwrap();
    let second_refresh = second
        .token()
        .refresh_token()
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_ne!(
        first.token().access_token().expose_secret(),
        second.token().access_token().expose_secret()
    );
    assert_ne!(first_refresh, second_refresh, "rotation");
    assert!(f.server.is_revoked(&first_refresh));
    assert_eq!(
        (
            f.server.grants("password"),
            f.server.grants("refresh_token")
        ),
        (1, 1)
    );

    // The next refresh uses the rotated token (the old one would be refused).
    f.clock.advance(Duration::from_secs(3600));
    provider.token().await.unwrap();
    assert_eq!(
        (
            f.server.grants("password"),
            f.server.grants("refresh_token")
        ),
        (1, 2)
    );
}

#[tokio::test]
async fn without_rotation_the_old_refresh_token_is_kept() {
    let f = fixture_with(|mut c| {
        c.rotate_refresh_tokens = false;
        c
    });
    let client = f.client(ClientAuth::Basic, SECRET);
    let first = client
        .password("alice", &SecretString::from("wonderland"), None, &[])
        .await
        .unwrap();
    let refresh = first.refresh_token.clone().unwrap();
    let source = RefreshToken::new(client, refresh.clone(), GrantParams::default());
    let token: Token = source.fetch(None).await.unwrap();
    assert_eq!(
        token.refresh_token().unwrap().expose_secret(),
        refresh.expose_secret()
    );
    let again = source.fetch(Some(&token)).await.unwrap();
    assert_eq!(
        again.refresh_token().unwrap().expose_secret(),
        refresh.expose_secret()
    );
}

#[tokio::test]
async fn a_refused_refresh_means_fetch_anew_for_machines_and_sign_in_for_users() {
    let f = fixture_with(|mut c| {
        c.client_credentials_refresh = true;
        c
    });
    let client = f.client(ClientAuth::Basic, SECRET);

    // client_credentials: refresh refused -> a new client_credentials grant.
    let machine = f.provider(ClientCredentials::new(
        client.clone(),
        GrantParams::default(),
    ));
    machine.token().await.unwrap();
    f.server.revoke_refresh_tokens();
    f.clock.advance(Duration::from_secs(3600));
    machine.token().await.unwrap();
    assert_eq!(f.server.grants("client_credentials"), 2);

    // A stored refresh token that is refused: sign in again, typed.
    let stored = client
        .password("alice", &SecretString::from("wonderland"), None, &[])
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    f.server.revoke_refresh_tokens();
    let user = f.provider(RefreshToken::new(
        client.clone(),
        stored,
        GrantParams::default(),
    ));
    let err = user.token().await.unwrap_err();
    assert!(matches!(err, CoreError::SignInRequired { .. }), "{err:?}");

    // The password grant signs in again with the password it holds.
    let password = f.provider(Password::new(
        client,
        "alice",
        SecretString::from("wonderland"),
        GrantParams::default(),
    ));
    password.token().await.unwrap();
    f.server.revoke_refresh_tokens();
    f.clock.advance(Duration::from_secs(3600));
    password.token().await.unwrap();
    assert_eq!(f.server.grants("password"), 3);
}

/// Runs the browser step: the simulated user consents; returns the code.
async fn authorize(f: &Fixture, client_id: &str, challenge: Option<&str>, state: &str) -> String {
    let mut url = f.server.server().url(AUTHORIZE_PATH);
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", "http://127.0.0.1/callback")
        .append_pair("state", state)
        .append_pair("scope", "profile");
    if let Some(c) = challenge {
        url.query_pairs_mut()
            .append_pair("code_challenge", c)
            .append_pair("code_challenge_method", "S256");
    }
    let back = consent(url.as_str()).await.unwrap();
    let pairs: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!(pairs.get("state").map(String::as_str), Some(state));
    pairs["code"].clone()
}

#[tokio::test]
async fn authorization_code_with_pkce_for_confidential_and_public_clients() {
    let f = fixture_with(|c| c.client("spa", "", ClientAuthMethod::None));
    // Confidential, Basic.
    let verifier = PkceVerifier::random();
    let code = authorize(&f, ID, Some(&verifier.challenge()), "s1").await;
    let grant = AuthorizationCode::new(
        f.client(ClientAuth::Basic, SECRET),
        SecretString::from(code),
        Some(verifier),
        "http://127.0.0.1/callback",
        GrantParams::default(),
    );
    let provider = f.provider(grant);
    provider.token().await.unwrap();
    // Later tokens come from refreshes; the code is not sent twice.
    f.clock.advance(Duration::from_secs(3600));
    provider.token().await.unwrap();
    assert_eq!(
        (
            f.server.grants("authorization_code"),
            f.server.grants("refresh_token")
        ),
        (1, 1)
    );

    // Public client: no secret at all, PKCE required.
    let public = OAuth2Client::builder("spa", f.server.token_url().as_str())
        .clock(Arc::new(f.clock.clone()))
        .build()
        .unwrap();
    let verifier = PkceVerifier::random();
    let code = authorize(&f, "spa", Some(&verifier.challenge()), "s2").await;
    let response = public
        .exchange_code(&code, Some(&verifier), "http://127.0.0.1/callback", &[])
        .await
        .unwrap();
    assert!(response.access_token.is_some());
}

#[tokio::test]
async fn a_wrong_verifier_or_a_reused_code_is_refused() {
    let f = fixture(ClientAuthMethod::Basic);
    let client = f.client(ClientAuth::Basic, SECRET);
    let verifier = PkceVerifier::random();
    let code = authorize(&f, ID, Some(&verifier.challenge()), "s").await;
    let wrong = PkceVerifier::random();
    let err = client
        .exchange_code(&code, Some(&wrong), "http://127.0.0.1/callback", &[])
        .await
        .unwrap_err();
    assert_eq!(err.oauth_code(), Some(&OAuthErrorCode::InvalidGrant));

    let code = authorize(&f, ID, Some(&verifier.challenge()), "s").await;
    client
        .exchange_code(&code, Some(&verifier), "http://127.0.0.1/callback", &[])
        .await
        .unwrap();
    let err = client
        .exchange_code(&code, Some(&verifier), "http://127.0.0.1/callback", &[])
        .await
        .unwrap_err();
    assert_eq!(err.oauth_code(), Some(&OAuthErrorCode::InvalidGrant));
}

#[tokio::test]
async fn tolerant_parsing_expires_in_as_a_string() {
    let f = fixture_with(|mut c| {
        c.style.expires_in_as_string = true;
        c
    });
    let r = f
        .client(ClientAuth::Basic, SECRET)
        .client_credentials(None, &[])
        .await
        .unwrap();
    assert_eq!(r.expires_in, Some(Duration::from_secs(3600)));
}

#[tokio::test]
async fn tolerant_parsing_token_type_missing_or_lower_case() {
    for token_type in [None, Some("bearer"), Some("BEARER")] {
        let f = fixture_with(|mut c| {
            c.style.token_type = token_type.map(str::to_owned);
            c
        });
        let grant =
            ClientCredentials::new(f.client(ClientAuth::Basic, SECRET), GrantParams::default());
        let token = f.provider(grant).token().await.unwrap();
        assert_eq!(
            token.header().to_str().unwrap().split(' ').next(),
            Some("Bearer")
        );
    }
}

#[tokio::test]
async fn tolerant_parsing_a_refresh_token_and_no_access_token() {
    let f = fixture_with(|mut c| {
        c.style.refresh_first = true;
        c
    });
    let grant = ClientCredentials::new(f.client(ClientAuth::Basic, SECRET), GrantParams::default());
    let token = f.provider(grant).token().await.unwrap();
    assert!(token.token().refresh_token().is_some());
    assert_eq!(
        (
            f.server.grants("client_credentials"),
            f.server.grants("refresh_token")
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn tolerant_parsing_extra_fields_are_kept() {
    let f = fixture_with(|mut c| {
        c.style = TokenStyle {
            token_type: Some("Bearer".into()),
            extra: vec![("organization_id".into(), serde_json::json!("org-42"))],
            ..TokenStyle::default()
        };
        c
    });
    let r = f
        .client(ClientAuth::Basic, SECRET)
        .client_credentials(None, &[])
        .await
        .unwrap();
    assert_eq!(r.extra["organization_id"], "org-42");
}

#[tokio::test]
async fn html_pages_and_malformed_json_are_clear_errors() {
    let f = fixture(ClientAuthMethod::Basic);
    let client = f.client(ClientAuth::Basic, SECRET);
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::HtmlPage(http::StatusCode::OK), 1);
    let err = client.client_credentials(None, &[]).await.unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::InvalidResponse { status: Some(s), .. }) if s == 200),
        "{err:?}"
    );
    f.server
        .server()
        .inject_on(TOKEN_PATH, Fault::MalformedJson, 1);
    let err = client.client_credentials(None, &[]).await.unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::InvalidResponse { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn token_requests_do_not_follow_redirects() {
    let f = fixture(ClientAuthMethod::Basic);
    f.server.server().inject_on(
        TOKEN_PATH,
        Fault::Redirect("https://evil.example/token".into()),
        1,
    );
    let err = f
        .client(ClientAuth::Basic, SECRET)
        .client_credentials(None, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::Redirect { .. })),
        "{err:?}"
    );
    assert_eq!(f.server.server().requests(TOKEN_PATH), 1);
}

#[test]
fn a_plain_http_endpoint_off_loopback_is_refused_at_build() {
    let err = OAuth2Client::builder(ID, "http://auth.example.com/token")
        .http(HttpClient::with_defaults().unwrap())
        .build()
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::InsecureUrl { .. })),
        "{err:?}"
    );
    assert!(
        OAuth2Client::builder(ID, "https://auth.example.com/token")
            .build()
            .is_ok()
    );
}

#[tokio::test]
async fn revocation_ends_a_refresh_token() {
    let f = fixture(ClientAuthMethod::Basic);
    let client = f.client(ClientAuth::Basic, SECRET);
    let r = client
        .password("alice", &SecretString::from("wonderland"), None, &[])
        .await
        .unwrap();
    let refresh = r.refresh_token.unwrap();
    client
        .revoke(&refresh, Some(TokenTypeHint::RefreshToken))
        .await
        .unwrap();
    assert!(f.server.is_revoked(refresh.expose_secret()));
    let err = client.refresh(&refresh, None, &[]).await.unwrap_err();
    assert_eq!(err.oauth_code(), Some(&OAuthErrorCode::InvalidGrant));
    // Revoking an unknown token is not an error (RFC 7009 §2.2).
    client
        .revoke(&SecretString::from("never-issued"), None)
        .await
        .unwrap();
}
