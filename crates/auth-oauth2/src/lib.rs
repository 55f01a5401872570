//! OAuth 2.0 (RFC 6749) for clients: the grants as token sources with refresh and
//! rotation, client authentication by Basic, form or JSON body, PKCE (S256), token
//! responses read tolerantly, revocation (RFC 7009), and OpenID Connect.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::{CachingProvider, CredentialProvider, AuthRequest, SecretString};
//! use auth_oauth2::{ClientAuth, ClientCredentials, GrantParams, OAuth2Client};
//! use auth_testkit::oauth2::{AuthServer, AuthServerConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An embedded authorization server stands in for the real one.
//! let server = AuthServer::start(AuthServerConfig::new("svc", "svc-secret"))?;
//!
//! let client = OAuth2Client::builder("svc", server.token_url().as_str())
//!     .secret(SecretString::from("svc-secret"))
//!     .auth(ClientAuth::Basic)
//!     .build()?;
//! let grant = ClientCredentials::new(client, GrantParams::default().scope("read"));
//! let provider = CachingProvider::builder(grant).build();
//!
//! let mut request = AuthRequest::new(Default::default());
//! provider.authorize(&mut request).await?;
//! assert!(request.headers()["authorization"].to_str()?.starts_with("Bearer "));
//! # Ok(()) }
//! ```
//!
//! - [`OAuth2Client`]: one client at one token endpoint; every grant request and
//!   revocation.
//! - [`ClientCredentials`], [`Password`], [`RefreshToken`], [`AuthorizationCode`]:
//!   the grants as [`TokenSource`](auth_core::TokenSource)s, see [`grants`].
//! - [`parse_token_response`]: `expires_in` as number or string, any `token_type`
//!   case, refresh-token-only answers, extra fields kept, RFC 6749 §5.2 errors typed.
//! - [`PkceVerifier`]: RFC 7636 S256.
//! - [`oidc`]: discovery, authorize URLs, callbacks, ID token validation, userinfo,
//!   end session.
//!
//! The `oauth2` crate is not used: its token response types refuse what vendors send
//! (a string `expires_in`, a missing `token_type`, no access token), and what would
//! remain, PKCE and a few newtypes, cost 8 second versions of crates (`rand` 0.8,
//! `digest` 0.10, `thiserror` 1, ...) and 9 s of a cold build on a 2-core machine.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod client_auth;
mod error;
pub mod grants;
mod oauth_error;
pub mod oidc;
mod pkce;
mod response;

pub use client::{OAuth2Client, OAuth2ClientBuilder, TokenTypeHint};
pub use client_auth::ClientAuth;
pub use error::{Error, IdTokenError};
pub use grants::{AuthorizationCode, ClientCredentials, GrantParams, Password, RefreshToken};
pub use oauth_error::{OAuthError, OAuthErrorCode, error_for_status};
pub use pkce::{PkceVerifier, challenge_s256, random_token};
pub use response::{TokenResponse, parse_token_response};
