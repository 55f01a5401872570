//! A [`reqwest_middleware::Middleware`] that authorizes every request with any
//! [`CredentialProvider`] (OAuth 1.0a, OAuth 2.0, an API key, a vendor's provider), and
//! sends a request once more after a `401` that invalidated the credentials.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::{CachingProvider, CredentialProvider, SecretString};
//! use auth_oauth2::{ClientAuth, ClientCredentials, GrantParams, OAuth2Client};
//! use auth_reqwest_middleware::AuthMiddleware;
//! use auth_testkit::oauth2::{AuthServer, AuthServerConfig, RESOURCE_PATH};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An embedded authorization server stands in for the real one.
//! let server = AuthServer::start(AuthServerConfig::new("svc", "svc-secret"))?;
//! let grant = ClientCredentials::new(
//!     OAuth2Client::builder("svc", server.token_url().as_str())
//!         .secret(SecretString::from("svc-secret"))
//!         .auth(ClientAuth::Basic)
//!         .build()?,
//!     GrantParams::default(),
//! );
//! let provider: Arc<dyn CredentialProvider> = Arc::new(CachingProvider::new(grant));
//!
//! // The application's own client (rustls with ring, see below), with the
//! // middleware in its stack.
//! auth_core::reqwest::ensure_crypto_provider();
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(AuthMiddleware::new(provider))
//!     .build();
//! let response = client.get(server.server().url(RESOURCE_PATH)).send().await?;
//! assert_eq!(response.status(), 200);
//! # Ok(()) }
//! ```
//!
//! # What it does with each request
//!
//! 1. The provider authorizes the request through
//!    [`auth_core::reqwest::authorize_reqwest`]: it sees the method, URL, headers and,
//!    when the body is in memory (bytes, a string, a serialized form or JSON), the
//!    body, and what it adds (a header, query parameters) is copied onto the request.
//! 2. The request goes down the rest of the stack ([`Next::run`]).
//! 3. On `401 Unauthorized` the middleware reports the rejected credentials with
//!    [`CredentialProvider::invalidate`], handing it the request as the provider saw
//!    it. If the provider answers that another attempt could succeed (a cache dropped
//!    its token) and the request could be copied before it was sent
//!    ([`reqwest::Request::try_clone`]: any body but a stream), the copy is authorized
//!    afresh and sent once more down the same stack ([`Next`] is `Clone`). That second
//!    answer is returned whatever its status: there is at most one retry. Otherwise
//!    the `401` is returned as it is.
//!
//! The copy is taken before authorization, so a provider that adds query parameters
//! does not add them twice, and a signature (an OAuth 1.0a nonce) is made anew.
//!
//! # Bodies
//!
//! A scheme that signs the body (an OAuth 1.0a form body, `oauth_body_hash`) says so in
//! [`CredentialProvider::reads_body`]. A streamed body cannot be read without being
//! consumed, so when the provider reads the body and the body is a stream the request
//! is not sent and fails with [`Error::StreamedBody`], rather than being signed over a
//! body the provider never saw. Providers that look only at the method, URL and
//! headers (bearer tokens, API keys) authorize streamed bodies as they are; such a
//! request cannot be copied, so it is not retried after a `401` (the credentials are
//! still invalidated, so the next request carries fresh ones).
//!
//! # Where it goes in a stack
//!
//! Put it after (inside) a retrying middleware such as `reqwest-retry`, so that every
//! attempt is authorized anew: an OAuth 1.0a nonce is single use, and a token may have
//! been renewed in between. Middleware added after it sees the authorized request.
//!
//! # TLS
//!
//! The workspace builds reqwest with rustls and no crypto provider of its own
//! (`rustls-no-provider`), so that ring serves TLS, signatures and tokens alike.
//! Building a `reqwest::Client` then needs a process-wide provider: call
//! [`auth_core::reqwest::ensure_crypto_provider`] (ring's, unless one is installed
//! already) before building yours.
//!
//! # Errors
//!
//! The middleware fails with [`Error`], inside
//! [`reqwest_middleware::Error::Middleware`]; [`Error::downcast`] finds it again, and
//! [`Error::auth_error`] gives the provider's [`auth_core::Error`] with its
//! classification (transient, credentials rejected, sign-in required). No message
//! holds a secret. Errors of the client and of other middleware pass through
//! unchanged.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;

use std::sync::Arc;

use auth_core::{AuthRequest, CredentialProvider};
use http::{Extensions, StatusCode};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

pub use error::Error;

/// Authorizes every request with a [`CredentialProvider`]; one retry after a `401`
/// that invalidated the credentials. See the [crate documentation](crate).
///
/// Cloning is cheap: the clones share the provider.
#[derive(Debug, Clone)]
pub struct AuthMiddleware {
    provider: Arc<dyn CredentialProvider>,
}

impl AuthMiddleware {
    /// Authorizes requests with `provider`.
    pub fn new(provider: Arc<dyn CredentialProvider>) -> Self {
        Self { provider }
    }

    /// The provider.
    pub fn provider(&self) -> &Arc<dyn CredentialProvider> {
        &self.provider
    }

    /// Authorizes `request` in place and returns it as the provider saw it (for
    /// [`CredentialProvider::invalidate`]).
    async fn authorize(&self, request: &mut Request) -> Result<AuthRequest, Error> {
        let streamed = request.body().is_some_and(|body| body.as_bytes().is_none());
        if streamed && self.provider.reads_body(&parts_of(request)?) {
            return Err(Error::StreamedBody);
        }
        auth_core::reqwest::authorize_reqwest(&*self.provider, request)
            .await
            .map_err(Error::Authorize)
    }
}

/// The head of `request` as `http` parts, for [`CredentialProvider::reads_body`].
fn parts_of(request: &Request) -> Result<http::request::Parts, Error> {
    let uri = request.url().as_str().parse::<http::Uri>().map_err(|_| {
        Error::Authorize(auth_core::Error::Request(
            "the request URL cannot be represented as an HTTP URI".into(),
        ))
    })?;
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = request.method().clone();
    parts.uri = uri;
    parts.version = request.version();
    parts.headers = request.headers().clone();
    Ok(parts)
}

#[async_trait::async_trait]
impl Middleware for AuthMiddleware {
    async fn handle(
        &self,
        mut request: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        // Copied before authorization, so a retry is authorized from scratch (a header
        // map and a URL; the body's bytes are shared). `None` for a streamed body.
        let copy = request.try_clone();
        let seen = self.authorize(&mut request).await?;
        let response = next.clone().run(request, extensions).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        // Invalidated even when the request cannot be repeated: the next one then
        // carries fresh credentials.
        if !self.provider.invalidate(&seen) {
            return Ok(response);
        }
        let Some(mut retry) = copy else {
            tracing::debug!("credentials rejected (401); the streamed request is not repeated");
            return Ok(response);
        };
        drop(response);
        tracing::debug!("credentials rejected (401); sending the request once more");
        self.authorize(&mut retry).await?;
        // The second answer is the caller's, whatever its status: a fresh credential
        // refused as well points at permissions, not at a stale cache, so the provider
        // is not asked to drop it (as in auth-tower).
        next.run(retry, extensions).await
    }
}

#[cfg(test)]
mod tests;
