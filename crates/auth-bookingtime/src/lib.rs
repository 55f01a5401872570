//! bookingtime: app authentication in two stages, as its developer documentation
//! describes them. Client credentials give a refresh token (30 days) and no access
//! token; that refresh token, the client ID and an `organization_id` give an access
//! token for that organization, valid 5 minutes.
//!
//! ```
//! use std::sync::Arc;
//! use auth_bookingtime::{Bookingtime, BookingtimeConfig, NewCustomer, OrganizationId};
//! use auth_core::{Clock, ManualClock, SecretString};
//! use auth_testkit::bookingtime::{App, BookingtimeServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
//! let server = BookingtimeServer::start(
//!     Arc::clone(&clock),
//!     &[App::new("app-1", "s3cret", &["org-demo"])],
//! )?;
//!
//! let config = BookingtimeConfig::app("app-1", SecretString::from("s3cret"))
//!     .with_auth_base(server.auth_url().as_str())?
//!     .with_api_base(server.api_url().as_str())?;
//! let bookingtime = Bookingtime::new(config, clock)?;
//!
//! let demo = bookingtime.app().organization(&OrganizationId::new("org-demo")?);
//! let organization = demo.show().await?;
//! let customer = demo.add_customer(&NewCustomer::new("John", "Doe")).await?;
//! assert_eq!(customer.organization_id, organization.id);
//! # Ok(()) }
//! ```
//!
//! - [`BookingtimeConfig`]: [`app`](BookingtimeConfig::app) (ID and secret) or
//!   [`module`](BookingtimeConfig::module) (the Module API: no secret); the auth
//!   base (`https://auth.bookingtime.com/`), the App API base
//!   (`https://api.bookingtime.com/app/v3/`) and the locale (`de`), all overridable.
//! - [`Bookingtime::app`]: the app's [`Access`]. One refresh token, renewed before
//!   its 30 days end, shared by every [`Organization`]. Each organization's access
//!   token is cached and renewed before its 5 minutes end. Concurrent callers share
//!   one request per stage.
//! - [`Bookingtime::authorization_request`] and [`Bookingtime::sign_in`]: user
//!   authentication with the authorization code flow (PKCE, `state`), which yields
//!   the user's own refresh token and then works the same way.
//! - [`Organization::show`] and [`Organization::add_customer`]: the documented
//!   endpoints, typed. An [`Organization`] is also a
//!   [`CredentialProvider`](auth_core::CredentialProvider) for any other endpoint.
//! - [`Error`]: `InvalidClient`, `OrganizationNotPermitted`, `SignInRequired`,
//!   `Api`, ...
//!
//! What the documentation leaves open, and what this crate does:
//! - The exchange example sends no client secret, so neither does this crate: the
//!   refresh token is the credential there.
//! - It does not say how a refused organization is answered. RFC 8707's
//!   `invalid_target`, `access_denied` and `unauthorized_client` are all read as
//!   [`Error::OrganizationNotPermitted`].
//! - It names the authorization code flow but not its endpoint. This crate uses
//!   `oauth/authorize` on the auth base.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod api;
mod client;
mod config;
mod error;
mod tokens;

pub use api::{Customer, InheritableText, NewCustomer, OrganizationInfo};
pub use client::{Access, Bookingtime, Organization, OrganizationId};
pub use config::{BookingtimeConfig, DEFAULT_API_BASE, DEFAULT_AUTH_BASE, DEFAULT_LOCALE};
pub use error::Error;
