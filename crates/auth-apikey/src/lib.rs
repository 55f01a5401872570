//! API keys: a secret key in a named header, a query parameter or both, plus fixed
//! extra query parameters, as a [`CredentialProvider`].
//!
//! ```
//! use auth_apikey::ApiKey;
//! use auth_core::{AuthRequest, CredentialProvider, SecretString};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let provider = ApiKey::builder(SecretString::from("k3y"))
//!     .header("client_secret")?
//!     .extra_query("tenant", "acme")
//!     .extra_secret_query("code", SecretString::from("functi0n"))
//!     .build()?;
//!
//! let mut request = AuthRequest::new(Default::default());
//! *request.uri_mut() = "https://api.example.com/api/Token?email=a%40b.c".parse()?;
//! provider.authorize(&mut request).await?;
//! assert_eq!(request.headers()["client_secret"], "k3y");
//! assert_eq!(
//!     request.uri().to_string(),
//!     "https://api.example.com/api/Token?email=a%40b.c&tenant=acme&code=functi0n"
//! );
//! assert!(!format!("{provider:?}").contains("k3y"));
//! # Ok(()) }
//! ```
//!
//! Parameters this provider adds replace any of the same name already on the request,
//! so a key is never sent twice with different values.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

use auth_core::{AuthRequest, Authorize, CredentialProvider, ExposeSecret, SecretString};
use http::header::{HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Uri};

/// What can go wrong building or applying an [`ApiKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The header name is not a valid HTTP header name.
    #[error("invalid header name {0:?}")]
    InvalidHeaderName(String),
    /// The key contains characters HTTP forbids in a header value.
    #[error("the key cannot be sent in a header (it contains characters HTTP forbids)")]
    KeyNotHeaderSafe,
    /// Neither a header nor a query parameter was chosen for the key.
    #[error("choose a header, a query parameter or both for the key")]
    NoPlacement,
    /// A query parameter name is empty.
    #[error("query parameter names must not be empty")]
    EmptyParameterName,
}

impl From<Error> for auth_core::Error {
    fn from(e: Error) -> Self {
        auth_core::Error::Config(e.to_string())
    }
}

/// Builds an [`ApiKey`].
pub struct ApiKeyBuilder {
    key: SecretString,
    header: Option<HeaderName>,
    query: Option<String>,
    extra: Vec<(String, Param)>,
}

enum Param {
    Plain(String),
    Secret(SecretString),
}

impl Param {
    fn value(&self) -> &str {
        match self {
            Param::Plain(v) => v,
            Param::Secret(v) => v.expose_secret(),
        }
    }
}

impl fmt::Debug for ApiKeyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyBuilder")
            .field("key", &"[REDACTED]")
            .field("header", &self.header)
            .field("query", &self.query)
            .field("extra", &DebugParams(&self.extra))
            .finish()
    }
}

struct DebugParams<'a>(&'a [(String, Param)]);

impl fmt::Debug for DebugParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let shown = match v {
                    Param::Plain(v) => v.as_str(),
                    Param::Secret(_) => "[REDACTED]",
                };
                (k, shown)
            }))
            .finish()
    }
}

impl ApiKeyBuilder {
    /// Sends the key in the header `name` (for example `x-api-key`, `client_secret`).
    pub fn header(mut self, name: &str) -> Result<Self, Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::InvalidHeaderName(name.to_owned()))?;
        self.header = Some(name);
        Ok(self)
    }

    /// Sends the key as the query parameter `name`.
    pub fn query(mut self, name: &str) -> Result<Self, Error> {
        if name.is_empty() {
            return Err(Error::EmptyParameterName);
        }
        self.query = Some(name.to_owned());
        Ok(self)
    }

    /// Adds a fixed, non-secret query parameter (for example a tenant name).
    #[must_use]
    pub fn extra_query(mut self, name: &str, value: &str) -> Self {
        self.extra
            .push((name.to_owned(), Param::Plain(value.to_owned())));
        self
    }

    /// Adds a fixed, secret query parameter (for example a function key): redacted in
    /// `Debug` like the key.
    #[must_use]
    pub fn extra_secret_query(mut self, name: &str, value: SecretString) -> Self {
        self.extra.push((name.to_owned(), Param::Secret(value)));
        self
    }

    /// The provider.
    pub fn build(self) -> Result<ApiKey, Error> {
        if self.header.is_none() && self.query.is_none() {
            return Err(Error::NoPlacement);
        }
        if self.extra.iter().any(|(name, _)| name.is_empty()) {
            return Err(Error::EmptyParameterName);
        }
        let header = match self.header {
            Some(name) => {
                let mut value = HeaderValue::from_str(self.key.expose_secret())
                    .map_err(|_| Error::KeyNotHeaderSafe)?;
                value.set_sensitive(true);
                Some((name, value))
            }
            None => None,
        };
        let mut params: Vec<(String, Param)> = Vec::new();
        if let Some(name) = self.query {
            params.push((name, Param::Secret(self.key.clone())));
        }
        params.extend(self.extra);
        Ok(ApiKey { header, params })
    }
}

/// An API key provider. See the crate documentation.
pub struct ApiKey {
    header: Option<(HeaderName, HeaderValue)>,
    params: Vec<(String, Param)>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("header", &self.header.as_ref().map(|(name, _)| name))
            .field("params", &DebugParams(&self.params))
            .finish()
    }
}

impl ApiKey {
    /// A builder for `key`.
    pub fn builder(key: SecretString) -> ApiKeyBuilder {
        ApiKeyBuilder {
            key,
            header: None,
            query: None,
            extra: Vec::new(),
        }
    }

    /// `uri` with this provider's parameters, replacing any of the same names.
    fn with_params(&self, uri: &Uri) -> Result<Uri, auth_core::Error> {
        if self.params.is_empty() {
            return Ok(uri.clone());
        }
        let ours = |name: &str| self.params.iter().any(|(n, _)| n == name);
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some(existing) = uri.query() {
            for (name, value) in url::form_urlencoded::parse(existing.as_bytes()) {
                if !ours(&name) {
                    query.append_pair(&name, &value);
                }
            }
        }
        for (name, value) in &self.params {
            query.append_pair(name, value.value());
        }
        let query = query.finish();
        let path_and_query = format!("{}?{query}", uri.path());
        let mut parts = uri.clone().into_parts();
        parts.path_and_query =
            Some(PathAndQuery::try_from(path_and_query).map_err(|_| {
                auth_core::Error::Request("cannot add the query parameters".into())
            })?);
        Uri::from_parts(parts)
            .map_err(|_| auth_core::Error::Request("cannot add the query parameters".into()))
    }
}

impl CredentialProvider for ApiKey {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        if let Some((name, value)) = &self.header {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let result = self
            .with_params(request.uri())
            .map(|uri| *request.uri_mut() = uri);
        Authorize::ready(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util_free::block_on;

    /// A tiny executor: `ApiKey::authorize` is always ready.
    mod futures_util_free {
        use std::future::Future;
        use std::pin::pin;
        use std::task::{Context, Poll, Waker};

        pub(super) fn block_on<F: Future>(f: F) -> F::Output {
            let mut f = pin!(f);
            match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(out) => out,
                Poll::Pending => panic!("ApiKey::authorize never waits"),
            }
        }
    }

    fn request(uri: &str) -> AuthRequest {
        let mut r = AuthRequest::new(Default::default());
        *r.uri_mut() = uri.parse().unwrap();
        r
    }

    #[test]
    fn header_only() {
        let p = ApiKey::builder("k".into())
            .header("X-Api-Key")
            .unwrap()
            .build()
            .unwrap();
        let mut r = request("https://h.example/p?a=1");
        block_on(p.authorize(&mut r)).unwrap();
        assert_eq!(r.headers()["x-api-key"], "k");
        assert!(r.headers()["x-api-key"].is_sensitive());
        assert_eq!(r.uri().to_string(), "https://h.example/p?a=1");
    }

    #[test]
    fn query_and_header_replace_existing_names_and_encode() {
        let p = ApiKey::builder("a b&c=d".into())
            .query("api_key")
            .unwrap()
            .extra_query("tenant", "Ünïcode tenant")
            .build()
            .unwrap();
        let mut r = request("https://h.example/p?api_key=stale&x=%2F&tenant=old");
        block_on(p.authorize(&mut r)).unwrap();
        assert_eq!(
            r.uri().to_string(),
            "https://h.example/p?x=%2F&api_key=a+b%26c%3Dd&tenant=%C3%9Cn%C3%AFcode+tenant"
        );
        // Both placements.
        let both = ApiKey::builder("k".into())
            .header("k-h")
            .unwrap()
            .query("k")
            .unwrap()
            .build()
            .unwrap();
        let mut r = request("http://127.0.0.1/p");
        block_on(both.authorize(&mut r)).unwrap();
        assert_eq!(r.headers()["k-h"], "k");
        assert_eq!(r.uri().to_string(), "http://127.0.0.1/p?k=k");
    }

    #[test]
    fn construction_errors() {
        assert_eq!(
            ApiKey::builder("k".into()).build().unwrap_err(),
            Error::NoPlacement
        );
        assert!(matches!(
            ApiKey::builder("k".into()).header("bad header"),
            Err(Error::InvalidHeaderName(_))
        ));
        assert_eq!(
            ApiKey::builder("k".into()).query("").unwrap_err(),
            Error::EmptyParameterName
        );
        let not_header_safe = ApiKey::builder("line\nbreak".into())
            .header("x")
            .unwrap()
            .build();
        assert_eq!(not_header_safe.unwrap_err(), Error::KeyNotHeaderSafe);
        let empty_extra = ApiKey::builder("k".into())
            .query("k")
            .unwrap()
            .extra_query("", "v")
            .build();
        assert_eq!(empty_extra.unwrap_err(), Error::EmptyParameterName);
    }
}
