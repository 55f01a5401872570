//! OAuth 1.0a (RFC 5849): signing, verification and the three-legged flow.
//!
//! ```
//! use auth_core::{CredentialProvider, SecretString};
//! use auth_oauth1::{Consumer, SignOptions, Signer, TokenCredentials};
//!
//! // Twitter's "Creating a signature" example.
//! let signer = Signer::builder(Consumer::new("xvz1evFS4wEEPTGEFPHBog",
//!         SecretString::from("kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw")))
//!     .token(TokenCredentials::new("370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
//!         SecretString::from("LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")))
//!     .build()?;
//! let mut request = http::Request::post("https://api.twitter.com/1.1/statuses/update.json?include_entities=true")
//!     .header("content-type", "application/x-www-form-urlencoded")
//!     .body(bytes::Bytes::from_static(
//!         b"status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21"))?;
//! signer.sign_with(&mut request, &SignOptions {
//!     nonce: Some("kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
//!     timestamp: Some(1318622958),
//!     ..Default::default()
//! })?;
//! let header = request.headers()["authorization"].to_str()?;
//! assert!(header.contains(r#"oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D""#));
//!
//! // As a provider: a fresh nonce and the clock's timestamp on every request.
//! # futures_free::block_on(async {
//! let provider: &dyn CredentialProvider = &signer;
//! provider.authorize(&mut request).await?;
//! # Ok::<(), auth_core::Error>(()) })?;
//! # mod futures_free { pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     let mut f = std::pin::pin!(f);
//! #     match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
//! #         std::task::Poll::Ready(v) => v, std::task::Poll::Pending => unreachable!() } } }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - [`base_string`] (§3.4.1), [`encode`] (§3.6), the header of §3.5.1 and
//!   [`AuthorizationHeader::parse`];
//! - [`Signer`]: HMAC-SHA1, HMAC-SHA256, HMAC-SHA512, PLAINTEXT and RSA-SHA256, an
//!   optional realm and `oauth_body_hash`, as a [`auth_core::CredentialProvider`];
//! - [`Flow`]: the three-legged flow over any transport (auth-core's `HttpClient`),
//!   with [`parse_credentials_answer`] for its form-encoded answers;
//! - [`Verifier`]: for servers and tests, constant-time, with a timestamp window and a
//!   [`NonceStore`] for replay detection.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod answer;
mod base_string;
mod encode;
mod error;
mod flow;
mod header;
mod hmac_sha1;
#[doc(hidden)]
pub mod internal;
mod prepared;
mod signature;
mod signer;
mod verifier;

pub use answer::{CredentialsAnswer, parse_credentials_answer};
pub use base_string::{ProtocolPairs, base_string, is_form_urlencoded};
pub use encode::{OAUTH_ENCODE_SET, encode};
pub use error::Error;
pub use flow::{Flow, FlowEndpoints};
pub use header::AuthorizationHeader;
pub use signature::{RsaPrivateKey, SignatureMethod, VerifyingKey, hmac_sha1};
pub use signer::{Consumer, SignOptions, Signed, Signer, SignerBuilder, TokenCredentials};
pub use verifier::{InMemoryNonceStore, IncomingRequest, NonceStore, VerifiedRequest, Verifier};
