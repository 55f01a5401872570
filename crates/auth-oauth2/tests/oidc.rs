//! OpenID Connect end to end against the embedded provider: discovery, the code flow
//! with PKCE, the `id_token token` flow, ID token validation and its refusals, JWKS
//! rotation, callbacks, userinfo, end session, and no redirects followed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::HttpClient;
use auth_core::{Clock, Error as CoreError, ExposeSecret, ManualClock, SecretString, unix_seconds};
use auth_oauth2::oidc::{Algorithm, OidcProvider};
use auth_oauth2::{ClientAuth, Error, IdTokenError};
use auth_testkit::Fault;
use auth_testkit::oauth2::{
    AuthServer, AuthServerConfig, DISCOVERY_PATH, JWKS_PATH, consent, hs256_token, unsigned_token,
    with_query_param,
};
use serde_json::{Value, json};

const ID: &str = "web";
const SECRET: &str = "web-secret";
const REDIRECT: &str = "http://127.0.0.1:9/callback";

struct Fixture {
    clock: ManualClock,
    server: AuthServer,
    provider: OidcProvider,
}

async fn fixture() -> Fixture {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server =
        AuthServer::start(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())))
            .unwrap();
    let provider = OidcProvider::discover(
        server.issuer(),
        HttpClient::with_defaults().unwrap(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    )
    .await
    .unwrap();
    Fixture {
        clock,
        server,
        provider,
    }
}

impl Fixture {
    fn claims(&self) -> Value {
        let now = unix_seconds(self.clock.now());
        json!({
            "iss": self.server.issuer(), "sub": "alice", "aud": ID, "azp": ID,
            "iat": now, "exp": now + 300, "nonce": "n-123",
        })
    }

    async fn verify(&self, token: &str) -> Result<auth_oauth2::oidc::IdTokenClaims, Error> {
        self.provider
            .id_token_verifier(ID)
            .verify(token, Some("n-123"))
            .await
    }

    fn jwks_fetches(&self) -> u64 {
        self.server.server().requests(JWKS_PATH)
    }
}

fn refused(result: Result<auth_oauth2::oidc::IdTokenClaims, Error>) -> IdTokenError {
    match result {
        Err(Error::IdToken(e)) => e,
        other => panic!("expected an ID token refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn code_flow_with_pkce_then_id_token_userinfo_and_end_session() {
    let f = fixture().await;
    assert_eq!(f.server.server().requests(DISCOVERY_PATH), 1);
    let pending = f
        .provider
        .authorization_request(ID, REDIRECT)
        .scope("email")
        .code();
    let q: std::collections::HashMap<_, _> = pending.url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "openid email");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"], pending.verifier().unwrap().challenge());

    let redirect = consent(pending.url.as_str()).await.unwrap();
    let code = pending.code_from(&redirect).unwrap();
    let client = f
        .provider
        .client(ID, Some(SecretString::from(SECRET)), ClientAuth::Basic)
        .unwrap();
    let tokens = client
        .exchange_code(
            code.expose_secret(),
            pending.verifier(),
            pending.redirect_uri(),
            &[],
        )
        .await
        .unwrap();
    let id_token = tokens.id_token.as_ref().unwrap().expose_secret();
    let claims = f
        .provider
        .id_token_verifier(ID)
        .verify(id_token, pending.nonce())
        .await
        .unwrap();
    assert_eq!(
        (claims.sub.as_str(), claims.aud.as_slice()),
        ("alice", &[ID.to_owned()][..])
    );

    let info = f
        .provider
        .userinfo(tokens.access_token.as_ref().unwrap())
        .await
        .unwrap();
    assert_eq!(info["email"], "alice@example.com");

    let logout = f
        .provider
        .end_session_url(Some(id_token), Some("http://127.0.0.1:9/bye"), Some("st-1"))
        .unwrap();
    let back = consent(logout.as_str()).await.unwrap();
    assert_eq!(back.as_str(), "http://127.0.0.1:9/bye?state=st-1");
}

#[tokio::test]
async fn id_token_token_flow_reads_the_fragment() {
    let f = fixture().await;
    let pending = f
        .provider
        .authorization_request(ID, REDIRECT)
        .id_token_token();
    let redirect = consent(pending.url.as_str()).await.unwrap();
    assert!(redirect.query().is_none());
    let answer = pending.fragment_from(&redirect).unwrap();
    assert_eq!(answer.expires_in, Some(Duration::from_secs(3600)));
    let claims = f
        .provider
        .id_token_verifier(ID)
        .verify(answer.id_token.expose_secret(), pending.nonce())
        .await
        .unwrap();
    assert_eq!(claims.nonce.as_deref(), pending.nonce());
    let info = f.provider.userinfo(&answer.access_token).await.unwrap();
    assert_eq!(info["sub"], "alice");
}

#[tokio::test]
async fn a_good_token_passes_and_each_bad_claim_is_refused() {
    let f = fixture().await;
    let good = f.claims();
    f.verify(&f.server.sign_id_token(&good)).await.unwrap();

    let with = |name: &str, value: Value| {
        let mut c = good.clone();
        c[name] = value;
        f.server.sign_id_token(&c)
    };
    assert_eq!(
        refused(f.verify(&with("iss", json!("https://evil.example"))).await),
        IdTokenError::WrongIssuer
    );
    assert_eq!(
        refused(f.verify(&with("aud", json!("other-app"))).await),
        IdTokenError::WrongAudience
    );
    assert_eq!(
        refused(f.verify(&with("azp", json!("other-app"))).await),
        IdTokenError::WrongAudience
    );
    assert_eq!(
        refused(f.verify(&with("nonce", json!("n-999"))).await),
        IdTokenError::NonceMismatch
    );
    let mut several = good.clone();
    several["aud"] = json!([ID, "other-app"]);
    several.as_object_mut().unwrap().remove("azp");
    assert_eq!(
        refused(f.verify(&f.server.sign_id_token(&several)).await),
        IdTokenError::WrongAudience
    );
    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        refused(f.verify(&f.server.sign_id_token(&no_exp)).await),
        IdTokenError::MissingClaim("exp")
    );

    // Expired: the same good token, six minutes later (300 s lifetime + 60 s leeway).
    let token = f.server.sign_id_token(&good);
    f.clock.advance(Duration::from_secs(361));
    assert_eq!(refused(f.verify(&token).await), IdTokenError::Expired);
    // Issued in the future.
    f.clock
        .set(std::time::UNIX_EPOCH + Duration::from_secs(1_760_000_000 - 120));
    assert_eq!(refused(f.verify(&token).await), IdTokenError::IssuedAt);
}

#[tokio::test]
async fn alg_none_and_hs256_with_the_public_key_are_refused() {
    let f = fixture().await;
    let claims = f.claims();
    assert_eq!(
        refused(f.verify(&unsigned_token(&claims)).await),
        IdTokenError::AlgorithmNotAllowed("none".into())
    );
    // The confusion attack: HS256 keyed with the provider's published RSA modulus.
    let jwk = f.server.current_jwk();
    let kid = jwk["kid"].as_str().unwrap();
    let forged = hs256_token(&claims, jwk["n"].as_str().unwrap().as_bytes(), kid);
    assert_eq!(
        refused(f.verify(&forged).await),
        IdTokenError::AlgorithmNotAllowed("HS256".into())
    );
    // Even with HS256 allowed, an RSA key is never used as an HMAC secret.
    let lenient = f
        .provider
        .id_token_verifier(ID)
        .algorithms(&[Algorithm::RS256, Algorithm::HS256]);
    assert_eq!(
        refused(lenient.verify(&forged, Some("n-123")).await),
        IdTokenError::UnknownKey
    );
    // A flipped signature byte.
    let good = f.server.sign_id_token(&claims);
    let (body, sig) = good.rsplit_once('.').unwrap();
    let mut sig = sig.to_owned().into_bytes();
    sig[10] = if sig[10] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{body}.{}", String::from_utf8(sig).unwrap());
    assert_eq!(
        refused(f.verify(&tampered).await),
        IdTokenError::InvalidSignature
    );
    assert_eq!(
        refused(f.verify("not.a-token").await),
        IdTokenError::Malformed
    );
}

#[tokio::test]
async fn key_rotation_costs_exactly_one_jwks_fetch() {
    let f = fixture().await;
    f.verify(&f.server.sign_id_token(&f.claims()))
        .await
        .unwrap();
    assert_eq!(f.jwks_fetches(), 1);
    f.verify(&f.server.sign_id_token(&f.claims()))
        .await
        .unwrap();
    assert_eq!(f.jwks_fetches(), 1, "cached");

    let new_kid = f.server.rotate_keys();
    let token = f.server.sign_id_token(&f.claims());
    assert!(token.starts_with(&{
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"alg": "RS256", "typ": "JWT", "kid": new_kid}).to_string())
    }));
    f.verify(&token).await.unwrap();
    assert_eq!(f.jwks_fetches(), 2, "exactly one re-fetch");
    f.verify(&token).await.unwrap();
    assert_eq!(f.jwks_fetches(), 2);

    // A made-up kid right after: refused without another fetch (rate limit).
    let bogus = {
        use base64::Engine as _;
        let e = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let (_, rest) = token.split_once('.').unwrap();
        format!("{}.{rest}", e(&json!({"alg": "RS256", "kid": "made-up"})))
    };
    assert_eq!(refused(f.verify(&bogus).await), IdTokenError::UnknownKey);
    assert_eq!(f.jwks_fetches(), 2);
}

#[tokio::test]
async fn callbacks_with_the_wrong_state_or_issuer_or_an_error_are_refused() {
    let f = fixture().await;
    let pending = f.provider.authorization_request(ID, REDIRECT).code();
    let redirect = consent(pending.url.as_str()).await.unwrap();

    let wrong_state = with_query_param(&redirect, "state", "forged");
    assert!(matches!(
        pending.code_from(&wrong_state),
        Err(Error::StateMismatch)
    ));

    let wrong_iss = with_query_param(&redirect, "iss", "https://mix-up.example");
    assert!(matches!(
        pending.code_from(&wrong_iss),
        Err(Error::IssuerMismatch)
    ));

    // The user is unknown: the provider answers access_denied, typed.
    let denied = f
        .provider
        .authorization_request(ID, REDIRECT)
        .extra("login_hint", "mallory")
        .code();
    let back = consent(denied.url.as_str()).await.unwrap();
    match denied.code_from(&back) {
        Err(Error::Authorization(e)) => assert_eq!(e.code.as_str(), "access_denied"),
        other => panic!("expected access_denied, got {other:?}"),
    }
    // And the genuine callback passes.
    pending.code_from(&redirect).unwrap();
}

#[tokio::test]
async fn discovery_and_jwks_do_not_follow_redirects() {
    let clock = ManualClock::starting_at_unix(1_760_000_000);
    let server =
        AuthServer::start(AuthServerConfig::new(ID, SECRET).clock(Arc::new(clock.clone())))
            .unwrap();
    server.server().inject_on(
        DISCOVERY_PATH,
        Fault::Redirect("https://evil.example/.well-known/openid-configuration".into()),
        1,
    );
    let err = OidcProvider::discover(
        server.issuer(),
        HttpClient::with_defaults().unwrap(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::Redirect { .. })),
        "{err:?}"
    );

    let provider = OidcProvider::discover(
        server.issuer(),
        HttpClient::with_defaults().unwrap(),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap();
    server.server().inject_on(
        JWKS_PATH,
        Fault::Redirect("https://evil.example/jwks".into()),
        1,
    );
    let now = unix_seconds(clock.now());
    let token = server.sign_id_token(&json!({
        "iss": server.issuer(), "sub": "alice", "aud": ID, "iat": now, "exp": now + 300,
    }));
    let err = provider
        .id_token_verifier(ID)
        .verify(&token, None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Core(CoreError::Redirect { .. })),
        "{err:?}"
    );
    assert_eq!(server.server().requests(JWKS_PATH), 1);
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let server =
        AuthServer::start(AuthServerConfig::new(ID, SECRET).clock(Arc::clone(&clock))).unwrap();
    let other = server.issuer().replace("127.0.0.1", "localhost");
    let err = OidcProvider::discover(&other, HttpClient::with_defaults().unwrap(), clock)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Discovery(_)), "{err:?}");
}

#[tokio::test]
async fn a_jwks_document_in_hand_verifies_without_a_fetch() {
    let f = fixture().await;
    let document = reqwest::get(f.server.server().url(JWKS_PATH))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    f.server.server().reset_counters();
    let jwks = f.provider.jwks();
    assert_eq!(jwks.load_document(&document).unwrap(), 1);
    f.verify(&f.server.sign_id_token(&f.claims()))
        .await
        .unwrap();
    assert_eq!(f.jwks_fetches(), 0, "the loaded keys were used");

    // Not a JWKS: a typed error, and the loaded keys stay.
    for bad in [&b"<html>"[..], b"{}", b"{\"keys\": 3}"] {
        assert!(matches!(
            jwks.load_document(bad),
            Err(Error::Core(auth_core::Error::InvalidResponse { .. }))
        ));
    }
    // Keys it cannot use are skipped.
    let mixed = json!({"keys": [
        {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"},
        {"kty": "unknown"},
        {"kty": "RSA", "kid": "broken", "n": "%%", "e": "AQAB"},
    ]});
    assert_eq!(jwks.load_document(mixed.to_string().as_bytes()).unwrap(), 0);
}
