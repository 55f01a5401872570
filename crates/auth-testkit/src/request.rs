//! [`TestRequest`] and [`TestResponse`]: what a route handler sees and answers.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use serde::de::DeserializeOwned;

/// A request as a route handler sees it, body read whole.
#[derive(Debug, Clone)]
pub struct TestRequest {
    /// The method.
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub raw_query: Option<String>,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The values of the route's `{name}` segments, in order.
    pub path_params: Vec<(String, String)>,
}

impl TestRequest {
    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.raw_query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first query parameter called `name`.
    pub fn query(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The decoded `application/x-www-form-urlencoded` body, in order.
    pub fn form_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    /// The value of the route's `{name}` segment (`/org/{id}/show` matched by
    /// `/org/42/show` has `id` = `42`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first form field called `name`.
    pub fn form(&self, name: &str) -> Option<String> {
        self.form_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Whether the `Content-Type` starts with `prefix` (case-insensitive).
    pub fn content_type_is(&self, prefix: &str) -> bool {
        self.header("content-type")
            .is_some_and(|v| v.to_ascii_lowercase().starts_with(prefix))
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The token of an `Authorization: Bearer <token>` header.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme
            .eq_ignore_ascii_case("bearer")
            .then_some(token.trim())
    }

    /// The user and password of an `Authorization: Basic` header, form-decoded as
    /// RFC 6749 §2.3.1 requires.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((form_decode(user), form_decode(password)))
    }
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A handler's answer.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl TestResponse {
    /// An empty response with `status`.
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
        }
    }

    /// A JSON response.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Self::empty(status)
            .with_header("content-type", "application/json")
            .with_body(value.to_string())
    }

    /// An OAuth error response (RFC 6749 §5.2).
    pub fn oauth_error(status: StatusCode, code: &str, description: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({ "error": code, "error_description": description }),
        )
    }

    /// A plain-text response.
    pub fn text(status: StatusCode, body: impl Into<String>) -> Self {
        Self::empty(status)
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_body(body.into())
    }

    /// An `application/x-www-form-urlencoded` response from pairs.
    pub fn form(status: StatusCode, pairs: &[(&str, &str)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Self::empty(status)
            .with_header("content-type", "application/x-www-form-urlencoded")
            .with_body(body)
    }

    /// An HTML page.
    pub fn html(status: StatusCode, body: impl Into<String>) -> Self {
        Self::empty(status)
            .with_header("content-type", "text/html; charset=utf-8")
            .with_body(body.into())
    }

    /// A `302 Found` to `location`.
    pub fn redirect(location: &str) -> Self {
        Self::empty(StatusCode::FOUND).with_header("location", location)
    }

    /// Adds a header; a name or value HTTP forbids is left out.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.insert(n, v);
        }
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

/// Per-path request counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) by_path: HashMap<String, u64>,
    pub(crate) total: u64,
}
