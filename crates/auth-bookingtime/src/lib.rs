//! bookingtime: app authentication in two stages, as its developer documentation
//! describes them. Client credentials give a refresh token (30 days) and no access
//! token; that refresh token, the client ID and an `organization_id` give an access
//! token for that organization, valid 5 minutes.
//!
//! ```
//! use auth_bookingtime::{Bookingtime, BookingtimeConfig, NewCustomer, OrganizationId};
//! use auth_core::SecretString;
//! use auth_testkit::bookingtime::{App, BookingtimeServer, BookingtimeServerConfig};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = BookingtimeServer::start(
//!     BookingtimeServerConfig::new().app(App::new("app-1", "s3cret", &["org-demo"])),
//! )?;
//!
//! let config = BookingtimeConfig::new("app-1", SecretString::from("s3cret"))?
//!     .with_auth_url(server.auth_url().as_str())? // default: https://auth.bookingtime.com/
//!     .with_api_url(server.api_url().as_str())?; // default: https://api.bookingtime.com/app/v3/
//! let bookingtime = Bookingtime::new(config)?;
//!
//! let demo = bookingtime.app().organization(&OrganizationId::new("org-demo")?);
//! let organization = demo.show().await?;
//! let customer = demo.add_customer(&NewCustomer::new("John", "Doe")).await?;
//! assert_eq!(customer.organization_id, organization.id);
//! # Ok(()) }
//! ```
//!
//! - [`BookingtimeConfig::new`] (an app: ID and secret) or
//!   [`BookingtimeConfig::module`] (the Module API: no secret);
//!   [`with_auth_url`](BookingtimeConfig::with_auth_url) ([`DEFAULT_AUTH_URL`]),
//!   [`with_api_url`](BookingtimeConfig::with_api_url) ([`DEFAULT_API_URL`]) and
//!   [`with_locale`](BookingtimeConfig::with_locale) ([`DEFAULT_LOCALE`]).
//! - [`Bookingtime::new`]: the system clock and the default transport (reqwest, the
//!   `reqwest` feature, on by default); [`Bookingtime::builder`] for another
//!   [`HttpClient`](auth_core::http::HttpClient), a clock, a shared
//!   [`TokenStore`](auth_core::TokenStore), a
//!   [`RefreshPolicy`](auth_core::RefreshPolicy), and the organizations' cache
//!   ([`cache_capacity`](BookingtimeBuilder::cache_capacity),
//!   [`cache_idle`](BookingtimeBuilder::cache_idle)).
//! - [`Bookingtime::app`]: the app's [`Access`]. One refresh token, renewed before
//!   its 30 days end, shared by every [`Organization`]. Each organization's access
//!   token is cached and renewed before its 5 minutes end. Concurrent callers share
//!   one request per stage.
//! - [`Access::organization`]: the provider for one [`OrganizationId`], with the
//!   documented endpoints typed ([`Organization::show`],
//!   [`Organization::add_customer`]); for any other endpoint it is a
//!   [`CredentialProvider`](auth_core::CredentialProvider). Each access keeps its
//!   organizations in a bounded cache (by default 10,000, each dropped after 5
//!   minutes unused; never while an `Organization` is held); one that left it gets
//!   its token back from the store, if there is one, else from one exchange.
//! - [`Bookingtime::authorization_request`] and [`Bookingtime::sign_in`]: user
//!   authentication with the authorization code flow (PKCE, `state`), which yields
//!   the user's own refresh token and then works the same way. The request is plain
//!   OAuth 2.0 (no `scope`, no `nonce`); a scope, OpenID Connect's `openid` and
//!   `nonce`, or other parameters only when asked for
//!   ([`Bookingtime::authorization_request_with`], [`AuthorizationOptions`]).
//! - [`Error`]: `InvalidClient`, `OrganizationNotPermitted`, `SignInRequired`,
//!   `Api`, and the core's classified error for the rest.
//!
//! What the documentation leaves open, and what this crate does:
//! - The exchange example sends no client secret, so neither does this crate: the
//!   refresh token is the credential there.
//! - It does not say how a refused organization is answered. A refusal the OAuth
//!   layer does not sort (RFC 8707's `invalid_target`) and `access_denied` are read
//!   as [`Error::OrganizationNotPermitted`].
//! - It names the authorization code flow but gives no URL for its authorization
//!   endpoint: [`Bookingtime::authorization_request`] takes it as an argument. The
//!   code is exchanged at the documented `oauth/token`.
//! - It says nothing of OpenID Connect or of scopes: the authorization request is
//!   plain OAuth 2.0, which any server takes; a plain OAuth server may refuse
//!   `scope=openid` with `invalid_scope`, so it is sent only when asked for.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod app_api;
mod authorization;
mod client;
mod config;
mod error;
mod provider;
mod tokens;

pub use app_api::{Customer, InheritableText, NewCustomer, OrganizationInfo};
pub use authorization::AuthorizationOptions;
pub use client::{Bookingtime, BookingtimeBuilder};
pub use config::{
    BookingtimeConfig, DEFAULT_API_URL, DEFAULT_AUTH_URL, DEFAULT_LOCALE, OrganizationId,
};
pub use error::Error;
pub use provider::{Access, Organization};
