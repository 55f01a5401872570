//! An adapter for users of the [`oauth2`] crate (oauth2-rs 5): the client they
//! already have becomes an [`auth_core::TokenSource`], so that
//! [`auth_core::CachingProvider`] caches its tokens (lock-free reads, single-flight
//! and proactive refresh, a store shared by a fleet of processes) and its requests go
//! through auth-core's HTTP policy, without rewriting the client.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::http::HttpClient;
//! use auth_core::{AuthRequest, CachingProvider, CredentialProvider};
//! use auth_oauth2rs::ClientCredentialsSource;
//! use oauth2::basic::BasicClient;
//! use oauth2::{ClientId, ClientSecret, Scope, TokenUrl};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # use auth_testkit::oauth2::{AuthServer, AuthServerConfig};
//! # let server = AuthServer::start(AuthServerConfig::new("my-app", "my-secret"))?;
//! # let token_endpoint = server.token_url().to_string();
//! // The client an oauth2-rs application already has.
//! let client = BasicClient::new(ClientId::new("my-app".into()))
//!     .set_client_secret(ClientSecret::new("my-secret".into()))
//!     .set_token_uri(TokenUrl::new(token_endpoint)?);
//!
//! // Its client_credentials grant as a source, its tokens cached.
//! let source = ClientCredentialsSource::new(client, HttpClient::with_defaults()?)?
//!     .with_scope(Scope::new("read".into()));
//! let provider: Arc<dyn CredentialProvider> = Arc::new(CachingProvider::new(source));
//!
//! let mut request = AuthRequest::new(Default::default());
//! provider.authorize(&mut request).await?;
//! provider.authorize(&mut request).await?;
//! assert!(request.headers()["authorization"].to_str()?.starts_with("Bearer "));
//! # assert_eq!(server.grants("client_credentials"), 1);
//! # Ok(()) }
//! ```
//!
//! - [`ClientCredentialsSource`]: the `client_credentials` grant, repeated after a 5xx
//!   or a 429 ([`Repeat::Safe`](auth_core::http::Repeat::Safe)).
//! - [`RefreshTokenSource`]: a user's tokens from a refresh token, or from the answer
//!   of the application's own code exchange; rotation kept, never sent twice once it
//!   may have arrived ([`Repeat::Unsent`](auth_core::http::Repeat::Unsent)), a refused
//!   refresh as [`auth_core::Error::SignInRequired`].
//! - [`OAuth2HttpClient`]: auth-core's [`HttpClient`](auth_core::http::HttpClient) as
//!   the `oauth2` crate's [`AsyncHttpClient`](oauth2::AsyncHttpClient), for the
//!   requests an application sends itself (`exchange_code`, revocation): HTTPS only,
//!   timeouts, the body cap, no redirects, the retry classes, any transport.
//! - [`core_error`]: the `oauth2` crate's `RequestTokenError` as an
//!   [`auth_core::Error`], without secrets; an OAuth error response is an
//!   [`auth_core::Error::Refused`] sorted by its code ([`auth_core::Refusal`]), with
//!   the `oauth2` crate's parsed response inside ([`TokenEndpointError`]).
//! - [`TokenClient`]: the `oauth2` clients the sources take, whatever their typestate;
//!   [`BasicTokenClient`] names the plain one.
//!
//! The `oauth2` crate is used without its `reqwest` feature: nothing in it sends a
//! request. This crate's `reqwest` feature (on by default) turns on auth-core's
//! reqwest transport: [`HttpClient::with_defaults`](auth_core::http::HttpClient), or
//! `HttpClient::from_reqwest` with the `reqwest::Client` the application has.
//!
//! Secrets: tokens are copied into [`SecretString`](auth_core::SecretString)s as soon
//! as a response is parsed, and never appear in errors or `Debug`. The `oauth2`
//! crate's own types (`ClientSecret`, `AccessToken`, `RefreshToken`) redact their
//! `Debug` but are not zeroized on drop; the copies this crate makes for a request
//! live only as long as the request.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod error;
mod http;
mod source;

pub use client::{BasicTokenClient, TokenClient};
pub use error::{TokenEndpointError, core_error};
pub use http::{OAuth2HttpClient, OAuth2HttpFuture};
pub use source::{ClientCredentialsSource, RefreshTokenSource};

/// The `oauth2` crate this adapter is built against, for matching versions.
pub use oauth2;
