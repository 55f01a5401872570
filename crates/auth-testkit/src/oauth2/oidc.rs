//! OpenID Connect: the signing keys and ID tokens, discovery, JWKS, userinfo and end
//! session.

use auth_core::unix_seconds;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};
use url::Url;

use super::authorize::{back_to, bad_page};
use super::resource::bearer;
use super::state::{Ctx, lock};
use crate::{TestRequest, TestResponse};

pub(super) const KEY_A: &[u8] = include_bytes!("../../data/rsa2048-a-test-only.pk8.der");
pub(super) const KEY_B: &[u8] = include_bytes!("../../data/rsa2048-b-test-only.pk8.der");

pub(super) struct SigningKey {
    pub(super) kid: String,
    pair: RsaKeyPair,
    pub(super) jwk: Value,
}

impl SigningKey {
    pub(super) fn load(kid: &str, der: &[u8]) -> std::io::Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|e| std::io::Error::other(format!("test key: {e}")))?;
        let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        });
        Ok(Self {
            kid: kid.into(),
            pair,
            jwk,
        })
    }

    pub(super) fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.pair.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        // Signing with a valid key into a buffer of the modulus length cannot fail.
        let _ = self
            .pair
            .sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature);
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

impl Ctx {
    pub(super) fn sign(&self, claims: &Value) -> String {
        let key = &self.keys[lock(&self.state).current_key];
        key.sign(
            &json!({"alg": "RS256", "typ": "JWT", "kid": key.kid}),
            claims,
        )
    }

    /// An ID token; with `access_token`, its `at_hash` (left half of its SHA-256).
    pub(super) fn id_token(
        &self,
        client_id: &str,
        username: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> String {
        let now = unix_seconds(self.now());
        let mut claims = json!({
            "iss": self.issuer(),
            "sub": username,
            "aud": client_id,
            "azp": client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + self.config.id_token_lifetime.as_secs(),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = Value::from(nonce);
        }
        if let Some(token) = access_token {
            let hash = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            claims["at_hash"] = Value::from(URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16]));
        }
        self.sign(&claims)
    }
}

pub(super) fn discovery(_: &TestRequest, ctx: &Ctx) -> TestResponse {
    let i = ctx.issuer();
    let p = &ctx.config.paths;
    // The endpoints are on the server's root, the issuer may have a path.
    let root = i.strip_suffix(p.issuer.as_str()).unwrap_or(i);
    TestResponse::json(
        StatusCode::OK,
        &json!({
            "issuer": i,
            "authorization_endpoint": format!("{root}{}", p.authorize),
            "token_endpoint": format!("{root}{}", p.token),
            "userinfo_endpoint": format!("{root}{}", p.userinfo),
            "jwks_uri": format!("{root}{}", p.jwks),
            "revocation_endpoint": format!("{root}{}", p.revoke),
            "end_session_endpoint": format!("{root}{}", p.end_session),
            "response_types_supported": ["code", "id_token token"],
            "grant_types_supported": ["authorization_code", "client_credentials", "password", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "authorization_response_iss_parameter_supported": true,
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        }),
    )
}

pub(super) fn jwks(_: &TestRequest, ctx: &Ctx) -> TestResponse {
    let current = lock(&ctx.state).current_key;
    let keys: Vec<Value> = ctx.keys[..=current].iter().map(|k| k.jwk.clone()).collect();
    TestResponse::json(StatusCode::OK, &json!({ "keys": keys }))
}

pub(super) fn userinfo(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let issued = match bearer(req, ctx) {
        Ok(i) => i,
        Err(r) => return *r,
    };
    let Some(user) = issued.username.as_deref().and_then(|u| ctx.user(u)) else {
        return TestResponse::oauth_error(StatusCode::FORBIDDEN, "insufficient_scope", "no user");
    };
    let mut claims = json!({
        "sub": user.username,
        "preferred_username": user.username,
        "email": user.email,
        "email_verified": true,
    });
    if let (Some(extra), Value::Object(map)) =
        (ctx.config.userinfo_extra.get(&user.username), &mut claims)
    {
        map.extend(extra.clone());
    }
    TestResponse::json(StatusCode::OK, &claims)
}

pub(super) fn end_session(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let _ = ctx;
    let Some(target) = req
        .query("post_logout_redirect_uri")
        .and_then(|u| Url::parse(&u).ok())
    else {
        return TestResponse::html(StatusCode::OK, "<html><body>Signed out</body></html>");
    };
    if req.query("id_token_hint").is_none() {
        return bad_page("id_token_hint is required with post_logout_redirect_uri");
    }
    let state = req.query("state").unwrap_or_default();
    back_to(&target, &[("state", &state)], false)
}
