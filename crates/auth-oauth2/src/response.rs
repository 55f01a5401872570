//! [`TokenResponse`] and [`parse_token_response`]: token endpoint answers read
//! tolerantly (RFC 6749 §5.1 as servers actually send it) and error answers typed
//! (§5.2).

use std::fmt;
use std::time::{Duration, SystemTime};

use auth_core::internal::{body_excerpt, looks_like_html};
use auth_core::{Error as CoreError, SecretString, Token};

use crate::OAuthError;
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

/// A successful token response. Everything the server sent is kept: the fields of
/// RFC 6749 §5.1 typed, the rest in [`extra`](Self::extra).
#[derive(Clone)]
pub struct TokenResponse {
    /// `access_token`. Some servers answer a first grant with only a refresh token.
    pub access_token: Option<SecretString>,
    /// `token_type` as sent (any case), if sent.
    pub token_type: Option<String>,
    /// `expires_in`, sent as a number or a numeric string.
    pub expires_in: Option<Duration>,
    /// `refresh_token`.
    pub refresh_token: Option<SecretString>,
    /// `scope`.
    pub scope: Option<String>,
    /// `id_token` (OpenID Connect), unvalidated.
    pub id_token: Option<SecretString>,
    /// Every other member, as sent.
    pub extra: Map<String, Value>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "[REDACTED]"))
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenResponse {
    /// The authorization scheme: `Bearer` when `token_type` is missing or says bearer in
    /// any case, otherwise the type as sent (for example `DPoP`, `MAC`).
    pub fn scheme(&self) -> String {
        match self.token_type.as_deref().map(str::trim) {
            None | Some("") => "Bearer".to_owned(),
            Some(t) if t.eq_ignore_ascii_case("bearer") => "Bearer".to_owned(),
            Some(t) => t.to_owned(),
        }
    }

    /// `refresh_expires_in` (an extension member, as Keycloak sends it): how long the
    /// refresh token lasts, if the server said; `0` (Keycloak's "no expiry") is `None`.
    /// A store keeps the token that long ([`Token::keep_until`]).
    pub fn refresh_expires_in(&self) -> Option<Duration> {
        self.extra
            .get("refresh_expires_in")
            .and_then(parse_expires_in)
            .filter(|d| !d.is_zero())
    }

    /// The response as a core [`Token`] issued at `issued_at`, or `None` if it carries
    /// no access token. `fallback_refresh` is kept when the server did not rotate the
    /// refresh token (RFC 6749 §6: it may or may not send a new one).
    pub fn to_token(
        &self,
        issued_at: SystemTime,
        fallback_refresh: Option<&SecretString>,
    ) -> Option<Token> {
        let access = self.access_token.clone()?;
        let mut token = Token::new(self.scheme(), access, issued_at);
        if let Some(lifetime) = self.expires_in {
            token = token.expires_in(lifetime);
        }
        if let Some(refresh) = self.refresh_token.as_ref() {
            token = token.with_refresh_token(refresh.clone());
            if let Some(at) = self
                .refresh_expires_in()
                .and_then(|l| issued_at.checked_add(l))
            {
                token = token.refresh_expires_at(at);
            }
        } else if let Some(refresh) = fallback_refresh {
            token = token.with_refresh_token(refresh.clone());
        }
        if let Some(scope) = &self.scope {
            token = token.with_scope(scope.clone());
        }
        Some(token)
    }
}

/// Parses a token endpoint answer.
///
/// - 2xx with a JSON object: a [`TokenResponse`]; `expires_in` as a number or a string
///   of digits (anything else is refused), `token_type` in any case or missing, a
///   response with a refresh token and no access token accepted; a response with
///   neither is [`CoreError::InvalidResponse`].
/// - An OAuth error body (any status, RFC 6749 §5.2): an [`OAuthError`] as
///   [`CoreError::Refused`].
/// - An HTML page, a body that is not JSON, or a redirect: a clear error that carries
///   the status and never quotes a token.
pub fn parse_token_response(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenResponse, CoreError> {
    if status.is_redirection() {
        return Err(CoreError::Redirect {
            status: Some(status),
        });
    }
    if let Some(oauth) = OAuthError::from_json(Some(status), body) {
        return Err(oauth.into());
    }
    if looks_like_html(headers, body) {
        return Err(invalid(status, "the server answered with an HTML page"));
    }
    if !status.is_success() {
        return Err(CoreError::Status {
            status,
            excerpt: body_excerpt(body),
        });
    }
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(body) else {
        return Err(invalid(status, "the token response is not a JSON object"));
    };
    let access_token = take_string(&mut map, "access_token", status)?;
    let refresh_token = take_string(&mut map, "refresh_token", status)?;
    if access_token.is_none() && refresh_token.is_none() {
        return Err(invalid(
            status,
            "the token response has neither access_token nor refresh_token",
        ));
    }
    let expires_in = match map.remove("expires_in") {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_expires_in(&v).ok_or_else(|| {
            invalid(
                status,
                "expires_in is neither a number nor a string of digits",
            )
        })?),
    };
    Ok(TokenResponse {
        access_token: access_token.map(SecretString::from),
        token_type: take_string(&mut map, "token_type", status)?,
        expires_in,
        refresh_token: refresh_token.map(SecretString::from),
        scope: take_string(&mut map, "scope", status)?,
        id_token: take_string(&mut map, "id_token", status)?.map(SecretString::from),
        extra: map,
    })
}

fn invalid(status: StatusCode, reason: &str) -> CoreError {
    CoreError::InvalidResponse {
        status: Some(status),
        reason: reason.to_owned(),
    }
}

/// A string member; `null` or an empty string count as absent; another type is an
/// error that names the member (never its value).
fn take_string(
    map: &mut Map<String, Value>,
    name: &str,
    status: StatusCode,
) -> Result<Option<String>, CoreError> {
    match map.remove(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(status, &format!("{name} is not a string"))),
    }
}

/// Seconds as a non-negative integer, a float (rounded down) or a string of either.
fn parse_expires_in(value: &Value) -> Option<Duration> {
    let secs = match value {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))?,
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>().ok().or_else(|| {
                s.parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite() && *f >= 0.0)
                    .map(|f| f as u64)
            })?
        }
        _ => return None,
    };
    // A century is plenty; anything larger is a server bug, not a lifetime.
    (secs <= 100 * 365 * 24 * 3600).then(|| Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auth_core::ExposeSecret;

    fn parse(status: u16, body: &str) -> Result<TokenResponse, CoreError> {
        parse_token_response(
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            &HeaderMap::new(),
            body.as_bytes(),
        )
    }

    #[test]
    fn refresh_expires_in_sets_the_refresh_expiry() {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(1000);
        let r = parse(
            200,
            r#"{"access_token":"a","expires_in":60,"refresh_token":"r","refresh_expires_in":"1800"}"#,
        )
        .unwrap();
        let token = r.to_token(at, None).unwrap();
        assert_eq!(token.refresh_expiry(), Some(at + Duration::from_secs(1800)));
        assert_eq!(token.keep_until(), Some(at + Duration::from_secs(1800)));
        let never = parse(
            200,
            r#"{"access_token":"a","refresh_token":"r","refresh_expires_in":0}"#,
        )
        .unwrap();
        assert_eq!(never.to_token(at, None).unwrap().keep_until(), None);
    }

    #[test]
    fn expires_in_as_a_number() {
        let r = parse(
            200,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":3600}"#,
        );
        assert_eq!(
            r.map(|r| r.expires_in).ok().flatten(),
            Some(Duration::from_secs(3600))
        );
    }

    #[test]
    fn expires_in_as_a_string() {
        let r = parse(
            200,
            r#"{"access_token":"a","token_type":"bearer","expires_in":"300"}"#,
        );
        assert_eq!(
            r.map(|r| r.expires_in).ok().flatten(),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn expires_in_that_is_not_a_number_is_refused() {
        for bad in [r#""soon""#, "-5", "true", "[1]"] {
            let body = format!(r#"{{"access_token":"a","expires_in":{bad}}}"#);
            assert!(
                matches!(parse(200, &body), Err(CoreError::InvalidResponse { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn token_type_missing_or_in_any_case() {
        for (body, scheme) in [
            (r#"{"access_token":"a"}"#, "Bearer"),
            (r#"{"access_token":"a","token_type":"BEARER"}"#, "Bearer"),
            (r#"{"access_token":"a","token_type":"bEaReR"}"#, "Bearer"),
            (r#"{"access_token":"a","token_type":"DPoP"}"#, "DPoP"),
        ] {
            assert_eq!(
                parse(200, body).map(|r| r.scheme()).ok().as_deref(),
                Some(scheme),
                "{body}"
            );
        }
    }

    #[test]
    fn a_refresh_token_without_an_access_token() {
        let r = parse(200, r#"{"refresh_token":"r","expires_in":86400}"#);
        let r = r.map_err(|e| e.to_string());
        assert!(matches!(&r, Ok(t) if t.access_token.is_none()
            && t.refresh_token.as_ref().map(|s| s.expose_secret() == "r") == Some(true)));
        assert!(
            r.ok()
                .and_then(|t| t.to_token(SystemTime::UNIX_EPOCH, None))
                .is_none()
        );
    }

    #[test]
    fn neither_token_is_refused() {
        assert!(matches!(
            parse(200, r#"{"token_type":"bearer"}"#),
            Err(CoreError::InvalidResponse { .. })
        ));
    }

    #[test]
    fn extra_fields_are_kept() {
        let r = parse(
            200,
            r#"{"access_token":"a","organization":"org-1","limits":{"rpm":60}}"#,
        );
        let extra = r.map(|r| r.extra).unwrap_or_default();
        assert_eq!(extra.get("organization"), Some(&Value::from("org-1")));
        assert_eq!(extra["limits"]["rpm"], 60);
    }

    #[test]
    fn error_responses_are_typed() {
        let r = parse(
            400,
            r#"{"error":"invalid_grant","error_description":"expired"}"#,
        );
        match r {
            Err(e) if e.source_as::<OAuthError>().is_some() => {
                let e = e.source_as::<OAuthError>().unwrap();
                assert_eq!(e.code, crate::OAuthErrorCode::InvalidGrant);
                assert_eq!(e.status, Some(StatusCode::BAD_REQUEST));
            }
            other => panic!("expected an OAuth error, got {other:?}"),
        }
    }

    #[test]
    fn html_and_non_json_bodies_carry_the_status() {
        let html = parse(200, "<!DOCTYPE html><html><body>Sign in</body></html>");
        assert!(matches!(
            html,
            Err(CoreError::InvalidResponse {
                status: Some(StatusCode::OK),
                ..
            })
        ));
        let text = parse(502, "Bad Gateway");
        assert!(matches!(
            text,
            Err(CoreError::Status {
                status: StatusCode::BAD_GATEWAY,
                ..
            })
        ));
        let garbage = parse(200, "access_token=abc");
        assert!(matches!(garbage, Err(CoreError::InvalidResponse { .. })));
    }

    #[test]
    fn messages_never_quote_a_token() {
        let r = parse(
            200,
            r#"{"access_token":"SECRET-TOKEN","expires_in":"later"}"#,
        );
        let shown = format!(
            "{:?} {}",
            r.as_ref().err(),
            r.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
        );
        assert!(!shown.contains("SECRET-TOKEN"), "{shown}");
        let ok = parse(
            200,
            r#"{"access_token":"SECRET-TOKEN","refresh_token":"R-SECRET"}"#,
        );
        let shown = format!("{ok:?}");
        assert!(
            !shown.contains("SECRET-TOKEN") && !shown.contains("R-SECRET"),
            "{shown}"
        );
    }
}
