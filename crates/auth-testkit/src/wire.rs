//! [`record`]: keeps every exchange the test servers of this process answer, so that a
//! test can list the secrets, tokens and signatures that crossed the wire and look for
//! them where they must not be (logs, error messages).
//!
//! ```
//! use auth_testkit::{ServerBuilder, TestResponse, wire};
//! use http::{Method, StatusCode};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let recording = wire::record();
//! let server = ServerBuilder::new("token")
//!     .route(Method::POST, "/token", |_| {
//!         TestResponse::json(StatusCode::OK, &serde_json::json!({"access_token": "at-0123456789"}))
//!     })
//!     .start()?;
//! reqwest::Client::new()
//!     .post(server.url("/token"))
//!     .header("authorization", "Bearer caller-credential-42")
//!     .send()
//!     .await?;
//! let values = recording.sensitive_values();
//! assert!(values.contains("at-0123456789"));
//! assert!(values.contains("caller-credential-42"));
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::HeaderMap;
use http::header::{AUTHORIZATION, LOCATION};

use crate::request::{TestRequest, TestResponse};

/// Values shorter than this are not reported: they are too common to search for
/// (`1.0`, `Bearer`).
const MIN_LEN: usize = 8;

/// One request a test server answered, with its response.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// The request.
    pub request: TestRequest,
    /// The response's headers.
    pub response_headers: HeaderMap,
    /// The response's body.
    pub response_body: Bytes,
}

static EXCHANGES: Mutex<Option<Vec<Exchange>>> = Mutex::new(None);

fn exchanges() -> MutexGuard<'static, Option<Vec<Exchange>>> {
    EXCHANGES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Starts recording the exchanges of every test server in this process; recording
/// stops when the returned guard is dropped.
pub fn record() -> Recording {
    *exchanges() = Some(Vec::new());
    Recording { _private: () }
}

/// Called by the servers for every answer they route.
pub(crate) fn observe(request: &TestRequest, response: &TestResponse) {
    if let Some(log) = exchanges().as_mut() {
        log.push(Exchange {
            request: request.clone(),
            response_headers: response.headers.clone(),
            response_body: response.body.clone(),
        });
    }
}

/// A recording in progress (see [`record`]).
#[derive(Debug)]
pub struct Recording {
    _private: (),
}

impl Recording {
    /// The exchanges so far.
    pub fn exchanges(&self) -> Vec<Exchange> {
        exchanges().clone().unwrap_or_default()
    }

    /// Every secret, token and signature seen so far, in requests and responses:
    /// `Authorization` credentials (Basic decoded, the OAuth 1.0a signature and
    /// token), headers named like a secret, and sensitive names in query strings,
    /// form and JSON bodies, redirect locations and fragments.
    pub fn sensitive_values(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for exchange in self.exchanges() {
            collect_exchange(&exchange, &mut found);
        }
        found.retain(|v| v.len() >= MIN_LEN);
        found
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        *exchanges() = None;
    }
}

/// Whether a parameter, field or header of this name carries a secret.
pub fn is_sensitive_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "access_token"
            | "refresh_token"
            | "id_token"
            | "token"
            | "code"
            | "code_verifier"
            | "assertion"
            | "oauth_token"
            | "oauth_token_secret"
            | "oauth_signature"
            | "oauth_verifier"
            | "oauth_body_hash"
            | "api_key"
            | "x-api-key"
    ) || name.contains("secret")
        || name.contains("password")
}

fn collect_exchange(exchange: &Exchange, found: &mut BTreeSet<String>) {
    let request = &exchange.request;
    collect_headers(&request.headers, found);
    collect_pairs(request.query_pairs(), found);
    collect_body(&request.headers, &request.body, found);
    collect_headers(&exchange.response_headers, found);
    collect_body(&exchange.response_headers, &exchange.response_body, found);
    if let Some(location) = exchange
        .response_headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        && let Ok(url) = url::Url::parse(location)
    {
        collect_pairs(url.query_pairs().into_owned().collect(), found);
        if let Some(fragment) = url.fragment() {
            collect_pairs(
                url::form_urlencoded::parse(fragment.as_bytes())
                    .into_owned()
                    .collect(),
                found,
            );
        }
    }
}

fn collect_headers(headers: &HeaderMap, found: &mut BTreeSet<String>) {
    for (name, value) in headers {
        let Ok(value) = value.to_str() else { continue };
        if name == AUTHORIZATION {
            collect_authorization(value, found);
        } else if is_sensitive_name(name.as_str()) {
            found.insert(value.to_owned());
        }
    }
}

fn collect_authorization(value: &str, found: &mut BTreeSet<String>) {
    let (scheme, credentials) = value.split_once(' ').unwrap_or(("", value));
    found.insert(credentials.trim().to_owned());
    if scheme.eq_ignore_ascii_case("basic") {
        if let Ok(decoded) = STANDARD.decode(credentials.trim())
            && let Ok(text) = String::from_utf8(decoded)
        {
            // RFC 6749 §2.3.1: `id:secret`, each form-encoded; the ID is public.
            let (_, secret) = text.split_once(':').unwrap_or(("", &text));
            found.insert(secret.to_owned());
            let decoded = url::form_urlencoded::parse(format!("x={secret}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned());
            found.extend(decoded);
        }
    } else if scheme.eq_ignore_ascii_case("oauth") {
        for param in credentials.split(',') {
            if let Some((name, quoted)) = param.trim().split_once('=') {
                let raw = quoted.trim_matches('"');
                if is_sensitive_name(name) {
                    found.insert(raw.to_owned());
                    if let Ok(decoded) = percent_encoding::percent_decode_str(raw).decode_utf8() {
                        found.insert(decoded.into_owned());
                    }
                }
            }
        }
    }
}

fn collect_pairs(pairs: Vec<(String, String)>, found: &mut BTreeSet<String>) {
    for (name, value) in pairs {
        if is_sensitive_name(&name) {
            found.insert(value);
        }
    }
}

fn collect_body(headers: &HeaderMap, body: &[u8], found: &mut BTreeSet<String>) {
    if body.is_empty() {
        return;
    }
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        collect_json(&json, found);
        return;
    }
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|t| {
            t.starts_with("application/x-www-form-urlencoded") || t.starts_with("text/plain")
        });
    if form {
        collect_pairs(
            url::form_urlencoded::parse(body).into_owned().collect(),
            found,
        );
    }
}

fn collect_json(value: &serde_json::Value, found: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (name, field) in map {
                match field {
                    serde_json::Value::String(s) if is_sensitive_name(name) => {
                        found.insert(s.clone());
                    }
                    other => collect_json(other, found),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_json(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_oauth_and_form_credentials_are_found() {
        let mut found = BTreeSet::new();
        collect_authorization("Basic Y2xpZW50OnMlM0FjcmV0LXZhbHVl", &mut found);
        assert!(found.contains("s:cret-value"), "{found:?}");
        collect_authorization(
            r#"OAuth oauth_consumer_key="key", oauth_signature="ab%2Bcd%3D", oauth_token="tok-123""#,
            &mut found,
        );
        assert!(found.contains("ab+cd="));
        assert!(found.contains("tok-123"));
        assert!(!found.contains("key"));
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        collect_body(
            &headers,
            b"grant_type=password&username=u&password=p%40ss-word",
            &mut found,
        );
        assert!(found.contains("p@ss-word"));
        assert!(!found.contains("password"));
    }
}
