//! An OAuth 2.0 authorization server and OpenID Connect provider, checking what
//! RFC 6749, RFC 7636, RFC 7009 and OpenID Connect Core ask a server to check.
//!
//! - `GET /.well-known/openid-configuration` and `GET /jwks` (RS256 keys; key rotation
//!   with [`AuthServer::rotate_keys`]).
//! - `GET /authorize`: a simulated user (the `login_hint`, else the first user) signs
//!   in and consents at once; `response_type=code` redirects with `code`, `state` and
//!   `iss` (RFC 9207) in the query, `response_type=id_token token` with the tokens in
//!   the fragment. PKCE is S256 only and required for public clients.
//! - `POST /token`: `client_credentials`, `password`, `refresh_token` (rotating when
//!   configured) and `authorization_code` (single use, 60 s, redirect URI and PKCE
//!   verifier checked); each client authenticates the way it is registered (Basic,
//!   form body or JSON body; public clients send only their id).
//! - `GET /userinfo`, `POST /revoke` (RFC 7009), `GET /end_session`, and a protected
//!   `GET /resource`.
//!
//! Tokens are timed by the shared clock; ID tokens are RS256 JWTs with a `kid`.
//!
//! In [strict mode](AuthServerConfig::strict) the server also acts on replays, as
//! RFC 6749 §4.1.2 and RFC 9700 §4.14.2 describe: a second redemption of a code, or a
//! refresh token presented after it was rotated away, is refused with `invalid_grant`
//! and revokes the whole token family (every access and refresh token descending from
//! the same original grant). [`AuthServer::reuse_detections`],
//! [`AuthServer::revoked_families`], [`AuthServer::redemptions`] and
//! [`AuthServer::refreshes`] count what happened.

mod authorize;
mod client_auth;
mod config;
mod helpers;
mod oidc;
mod resource;
mod revoke;
mod server;
mod state;
mod token;

pub use config::{
    AUTHORIZE_PATH, AuthServerConfig, ClientAuthMethod, DISCOVERY_PATH, END_SESSION_PATH,
    Endpoints, JWKS_PATH, RESOURCE_PATH, REVOKE_PATH, RegisteredClient, TOKEN_PATH, TestUser,
    TokenStyle, USERINFO_PATH,
};
pub use helpers::{consent, hs256_token, unsigned_token, with_fragment_param, with_query_param};
pub use resource::{AccessChecker, AccessGrant};
pub use server::AuthServer;
