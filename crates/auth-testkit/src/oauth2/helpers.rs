//! Helpers for the client side of tests: unsigned and HS256 tokens, tampered redirects,
//! and a browser that consents at the authorization endpoint ([`consent`]).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use url::Url;

/// Builds an unsigned (`alg: none`) token with `claims`, for refusal tests.
pub fn unsigned_token(claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Builds an HS256 token whose HMAC key is `key` (the algorithm-confusion attack signs
/// with the provider's public key), for refusal tests.
pub fn hs256_token(claims: &Value, key: &[u8], kid: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        input.as_bytes(),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// `redirect` with its query parameter `name` set to `value` (a tampered callback, for
/// refusal tests).
pub fn with_query_param(redirect: &Url, name: &str, value: &str) -> Url {
    let pairs = replaced(redirect.query().unwrap_or_default(), name, value);
    let mut out = redirect.clone();
    out.set_query(Some(&pairs));
    out
}

/// `redirect` with its fragment member `name` set to `value` (a tampered `id_token
/// token` answer, for refusal tests).
pub fn with_fragment_param(redirect: &Url, name: &str, value: &str) -> Url {
    let pairs = replaced(redirect.fragment().unwrap_or_default(), name, value);
    let mut out = redirect.clone();
    out.set_fragment(Some(&pairs));
    out
}

fn replaced(encoded: &str, name: &str, value: &str) -> String {
    let pairs = url::form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        });
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The user's browser at the authorization endpoint: follows nothing, returns the
/// `Location` the server redirects to.
pub async fn consent(authorize_url: &str) -> Result<Url, String> {
    auth_core::reqwest::ensure_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(authorize_url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("no redirect (HTTP {})", response.status()))?;
    Url::parse(location).map_err(|e| e.to_string())
}
