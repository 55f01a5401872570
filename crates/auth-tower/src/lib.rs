//! A [`tower`](https://docs.rs/tower) layer that puts any
//! [`CredentialProvider`](auth_core::CredentialProvider) in your own tower or hyper
//! client stack: OAuth 1.0a signatures, OAuth 2.0 bearer tokens, API keys, whatever the
//! provider does, on whatever HTTP client you use.
//!
//! ```
//! use std::sync::Arc;
//! use auth_apikey::ApiKey;
//! use auth_core::{CredentialProvider, SecretString};
//! use auth_testkit::{ServerBuilder, TestResponse};
//! use auth_tower::{AuthBody, AuthLayer};
//! use bytes::Bytes;
//! use http::{Method, Request, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//! use tower::{ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // An API that wants a key in a header (an embedded server on loopback here).
//! let api = ServerBuilder::new("api")
//!     .route(Method::GET, "/things", |r| match r.header("x-api-key") {
//!         Some("k3y") => TestResponse::text(StatusCode::OK, "things"),
//!         _ => TestResponse::empty(StatusCode::UNAUTHORIZED),
//!     })
//!     .start()?;
//!
//! // Any provider: an API key, a Bynder signer, a caching OAuth 2.0 provider, ...
//! let key = ApiKey::builder(SecretString::from("k3y")).header("x-api-key")?.build()?;
//! let provider: Arc<dyn CredentialProvider> = Arc::new(key);
//!
//! // Your own client, here hyper's, with the layer in front of it.
//! let client = Client::builder(TokioExecutor::new()).build_http::<AuthBody<Full<Bytes>>>();
//! let service = ServiceBuilder::new()
//!     .layer(AuthLayer::new(provider))
//!     .service(client);
//!
//! let request = Request::get(api.url("/things").as_str()).body(Full::new(Bytes::new()))?;
//! let response = service.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! assert_eq!(response.into_body().collect().await?.to_bytes(), "things");
//! # Ok(()) }
//! ```
//!
//! [`AuthLayer::new`] takes an `Arc<dyn CredentialProvider>` and wraps a service `S`
//! into an [`AuthService<S>`]. For each request it:
//!
//! 1. asks the provider whether it reads the body of this request
//!    ([`reads_body`](auth_core::CredentialProvider::reads_body): an OAuth 1.0a
//!    signature over a form body, a body hash). Only then is the body buffered, up to
//!    [`AuthLayer::with_body_limit`] bytes (1 MiB by default, [`Error::BodyTooLarge`]
//!    past it). Otherwise the provider sees the request with an empty body, and the
//!    caller's body goes to the inner service untouched, streamed;
//! 2. authorizes an [`AuthRequest`](auth_core::AuthRequest) (method, URI, version,
//!    headers, extensions, and the body when read) and copies back what a provider
//!    changes: the headers and the URI (an API key in the query);
//! 3. sends it with `S` as an [`AuthBody<B>`];
//! 4. after a `401`, calls [`invalidate`](auth_core::CredentialProvider::invalidate)
//!    with the request the provider saw, so that a cache drops the refused credential.
//!    If the provider says the next credential will differ, *and* the body can be sent
//!    again (it was buffered, or it is known to be empty), the request is authorized
//!    afresh from the caller's original head (no credential on top of the refused one;
//!    an OAuth 1.0a signature with a new nonce) and sent once more. Never more than
//!    once; any other status, and the second answer, whatever it is, go back to the
//!    caller as they are.
//!
//! # The body type
//!
//! The inner service receives `http::Request<`[`AuthBody<B>`]`>`, which is
//! [`http_body_util::Either`]`<B, Full<Bytes>>`: `Left` is the caller's body, passed
//! through; `Right` is a buffered body (signed by the provider) or a replay. This keeps
//! the caller's body type without boxing it (no allocation and no dynamic dispatch per
//! frame, no extra bounds on bodies the layer never reads), and it is a body hyper's
//! clients take as it is. The caller's body must have `Data = Bytes`, which is what
//! hyper's and most bodies have, since a buffered body is handed to the provider as
//! [`Bytes`](bytes::Bytes).
//!
//! # Errors
//!
//! One [`Error`]: the provider's [`auth_core::Error`], the inner service's error
//! (boxed, as the source), a body that could not be read, or a body past the cap. No
//! message carries a secret.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod service;
mod transport;

pub use error::{BoxError, Error};
pub use service::{AuthBody, AuthLayer, AuthService, DEFAULT_BODY_LIMIT, ResponseFuture};
pub use transport::{Classifier, ServiceTransport, connect_refused};

#[cfg(test)]
mod tests;
