//! [`IdTokenVerifier`]: ID token validation (OpenID Connect Core §3.1.3.7).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use auth_core::internal::constant_time_eq;
use auth_core::{Clock, unix_seconds};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::jwks::JwksCache;
use super::jwt_crypto::ensure_provider;
use crate::{Error, IdTokenError};

/// The claims of a validated ID token.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct IdTokenClaims {
    /// `iss`.
    pub iss: String,
    /// `sub`.
    pub sub: String,
    /// `aud`, always as a list.
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    /// `exp`, seconds since the epoch.
    pub exp: u64,
    /// `iat`, seconds since the epoch.
    pub iat: u64,
    /// `nonce`.
    #[serde(default)]
    pub nonce: Option<String>,
    /// `azp`.
    #[serde(default)]
    pub azp: Option<String>,
    /// `auth_time`.
    #[serde(default)]
    pub auth_time: Option<u64>,
    /// Every other claim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// The protected header of a compact JWS, read without checking anything: what a
/// verifier looks at first, and what a person debugging a provider wants to see.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct JwtHeader {
    /// `alg`, as sent.
    pub alg: String,
    /// `kid`, if sent.
    #[serde(default)]
    pub kid: Option<String>,
    /// `typ`, if sent.
    #[serde(default)]
    pub typ: Option<String>,
}

impl JwtHeader {
    /// Reads the header of `token` (three dot-separated base64url parts, the first a
    /// JSON object with a string `alg`).
    pub fn peek(token: &str) -> Result<Self, IdTokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(IdTokenError::Malformed);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| IdTokenError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| IdTokenError::Malformed)
    }
}

/// Validates ID tokens for one client of one provider: the signature against the
/// provider's JWKS with an algorithm from an allow-list (RS256 by default; `none` and
/// anything not listed are refused before any key is looked at), `iss`, `aud` and
/// `azp`, `exp`, an `iat` window, and the `nonce`.
pub struct IdTokenVerifier {
    issuer: String,
    client_id: String,
    jwks: Arc<JwksCache>,
    clock: Arc<dyn Clock>,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    max_age: Duration,
}

impl fmt::Debug for IdTokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenVerifier")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl IdTokenVerifier {
    /// A verifier for tokens from `issuer` meant for `client_id`, with keys from `jwks`.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        jwks: Arc<JwksCache>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            jwks,
            clock,
            algorithms: vec![Algorithm::RS256],
            leeway: Duration::from_secs(60),
            max_age: Duration::from_secs(10 * 60),
        }
    }

    /// The accepted algorithms (default RS256). HMAC algorithms are never accepted
    /// with keys from a JWKS: a JWKS holds public keys.
    #[must_use]
    pub fn algorithms(mut self, algorithms: &[Algorithm]) -> Self {
        self.algorithms = algorithms.to_vec();
        self
    }

    /// Clock skew tolerated on `exp` and `iat` (default 60 s).
    #[must_use]
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// How old `iat` may be (default 10 minutes): an ID token is checked when it is
    /// received, right after it was issued.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The JWKS cache.
    pub fn jwks(&self) -> &Arc<JwksCache> {
        &self.jwks
    }

    /// Validates `token`; `nonce` is the one sent in the authorization request (`None`
    /// for flows without one, such as a refresh).
    pub async fn verify(&self, token: &str, nonce: Option<&str>) -> Result<IdTokenClaims, Error> {
        let header = JwtHeader::peek(token)?;
        let algorithm = header
            .alg
            .parse::<Algorithm>()
            .ok()
            .filter(|a| self.algorithms.contains(a))
            .ok_or_else(|| IdTokenError::AlgorithmNotAllowed(printable(&header.alg)))?;
        let key = self.jwks.key(header.kid.as_deref(), &header.alg).await?;
        let claims = decode(token, &key.key, algorithm)?;
        self.check_claims(&claims, nonce)?;
        Ok(claims)
    }

    /// Validates an ID token that came with `access_token` from the authorization
    /// endpoint (`id_token token`): [`verify`](Self::verify), and `at_hash` must be
    /// there and be the left half of the access token's hash under the token's
    /// algorithm (§3.2.2.9), compared in constant time.
    pub async fn verify_with_access_token(
        &self,
        token: &str,
        nonce: &str,
        access_token: &str,
    ) -> Result<IdTokenClaims, Error> {
        let claims = self.verify(token, Some(nonce)).await?;
        let alg = JwtHeader::peek(token)?.alg;
        let expected = token_hash(&alg, access_token)
            .ok_or_else(|| IdTokenError::AlgorithmNotAllowed(printable(&alg)))?;
        match claims.other.get("at_hash").and_then(Value::as_str) {
            Some(got) if constant_time_eq(got.as_bytes(), expected.as_bytes()) => Ok(claims),
            _ => Err(IdTokenError::AccessTokenHashMismatch.into()),
        }
    }

    fn check_claims(
        &self,
        claims: &IdTokenClaims,
        nonce: Option<&str>,
    ) -> Result<(), IdTokenError> {
        if claims.iss != self.issuer {
            return Err(IdTokenError::WrongIssuer);
        }
        if !claims.aud.iter().any(|a| a == &self.client_id) {
            return Err(IdTokenError::WrongAudience);
        }
        // §3.1.3.7 items 4-5: with several audiences, azp must name this client; when
        // present it must name this client anyway.
        match &claims.azp {
            Some(azp) if azp != &self.client_id => return Err(IdTokenError::WrongAudience),
            None if claims.aud.len() > 1 => return Err(IdTokenError::WrongAudience),
            _ => {}
        }
        let now = unix_seconds(self.clock.now());
        let leeway = self.leeway.as_secs();
        if claims.exp.saturating_add(leeway) <= now {
            return Err(IdTokenError::Expired);
        }
        if claims.iat > now.saturating_add(leeway)
            || claims
                .iat
                .saturating_add(self.max_age.as_secs())
                .saturating_add(leeway)
                < now
        {
            return Err(IdTokenError::IssuedAt);
        }
        if let Some(expected) = nonce {
            match &claims.nonce {
                Some(got) if constant_time_eq(got.as_bytes(), expected.as_bytes()) => {}
                _ => return Err(IdTokenError::NonceMismatch),
            }
        }
        Ok(())
    }
}

/// The `at_hash` / `c_hash` of `value` for a token signed with `alg`: the left half
/// of its SHA-2 hash of the algorithm's size, base64url without padding.
pub fn token_hash(alg: &str, value: &str) -> Option<String> {
    let digest = match alg.get(2..) {
        Some("256") => &ring::digest::SHA256,
        Some("384") => &ring::digest::SHA384,
        Some("512") => &ring::digest::SHA512,
        _ => return None,
    };
    let hash = ring::digest::digest(digest, value.as_bytes());
    let bytes = hash.as_ref();
    Some(URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2]))
}

fn printable(s: &str) -> String {
    s.chars().take(16).filter(|c| !c.is_control()).collect()
}

/// Checks the signature with jsonwebtoken's verification (over the crypto provider
/// on ring) and reads the claims once; the claim checks are ours, with the injected
/// clock. (`jsonwebtoken::decode` would parse the header and the claims twice each
/// and check `exp` against the system clock.)
fn decode(
    token: &str,
    key: &jsonwebtoken::DecodingKey,
    algorithm: Algorithm,
) -> Result<IdTokenClaims, IdTokenError> {
    let (message, signature) = token.rsplit_once('.').ok_or(IdTokenError::Malformed)?;
    let payload = message
        .split_once('.')
        .map(|(_, p)| p)
        .ok_or(IdTokenError::Malformed)?;
    ensure_provider();
    match jsonwebtoken::crypto::verify(signature, message.as_bytes(), key, algorithm) {
        Ok(true) => {}
        Ok(false) => return Err(IdTokenError::InvalidSignature),
        Err(e) => {
            return Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::Base64(_) => IdTokenError::Malformed,
                _ => IdTokenError::InvalidSignature,
            });
        }
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| IdTokenError::Malformed)?;
    serde_json::from_slice::<IdTokenClaims>(&bytes).map_err(|_| claims_error(&bytes))
}

/// Names the required claim that is missing or mistyped, once the signature is good.
fn claims_error(payload: &[u8]) -> IdTokenError {
    let claims: Option<Value> = serde_json::from_slice(payload).ok();
    let Some(claims) = claims else {
        return IdTokenError::Malformed;
    };
    for (name, ok) in [
        ("iss", claims.get("iss").is_some_and(Value::is_string)),
        ("sub", claims.get("sub").is_some_and(Value::is_string)),
        ("aud", claims.get("aud").is_some()),
        ("exp", claims.get("exp").is_some_and(Value::is_u64)),
        ("iat", claims.get("iat").is_some_and(Value::is_u64)),
    ] {
        if !ok {
            return IdTokenError::MissingClaim(name);
        }
    }
    IdTokenError::Malformed
}

#[cfg(test)]
mod tests {
    use super::token_hash;

    #[test]
    fn token_hashes_of_the_openid_connect_core_examples() {
        // OpenID Connect Core 1.0, Appendix A.6 (response_type=code id_token token):
        // at_hash of the access token and c_hash of the code.
        assert_eq!(
            token_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y").as_deref(),
            Some("77QmUPtjPfzWtF2AnpK9RQ")
        );
        assert_eq!(
            token_hash(
                "RS256",
                "Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"
            )
            .as_deref(),
            Some("LDktKdoQak3Pk0cnXxCltA")
        );
        assert_eq!(token_hash("none", "x"), None);
        assert_eq!(token_hash("HS2", "x"), None);
    }
}
