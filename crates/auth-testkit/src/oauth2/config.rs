//! The server's settings: endpoint paths, registered clients, users, the style of token
//! responses, and strict mode.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use auth_core::{Clock, ManualClock};
use serde_json::Value;

#[cfg(doc)]
use super::{AccessChecker, AuthServer};

/// Discovery document path.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
/// JWKS path.
pub const JWKS_PATH: &str = "/jwks";
/// Authorization endpoint path.
pub const AUTHORIZE_PATH: &str = "/authorize";
/// Token endpoint path.
pub const TOKEN_PATH: &str = "/token";
/// Userinfo endpoint path.
pub const USERINFO_PATH: &str = "/userinfo";
/// Revocation endpoint path.
pub const REVOKE_PATH: &str = "/revoke";
/// End-session endpoint path.
pub const END_SESSION_PATH: &str = "/end_session";
/// Protected resource path.
pub const RESOURCE_PATH: &str = "/resource";

/// How a registered client authenticates at the token and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `Authorization: Basic` (identifiers form-encoded first).
    Basic,
    /// `client_id` and `client_secret` in a form body.
    FormBody,
    /// `client_id` and `client_secret` in a JSON body.
    JsonBody,
    /// A public client: `client_id` only.
    None,
}

/// A registered client.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    /// `client_id`.
    pub id: String,
    /// `client_secret` (empty for a public client, which may also send it empty).
    pub secret: String,
    /// How it must authenticate.
    pub auth: ClientAuthMethod,
    /// The resources it may ask tokens for, when the server takes a
    /// [`AuthServerConfig::resource_parameter`].
    pub resources: Vec<String>,
}

/// Where an [`AuthServer`] serves each endpoint (paths on its base URL).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// The issuer's path: the issuer is the base URL plus this (`""` by default).
    pub issuer: String,
    /// Discovery document.
    pub discovery: String,
    /// JWKS.
    pub jwks: String,
    /// Authorization endpoint.
    pub authorize: String,
    /// Token endpoint.
    pub token: String,
    /// Userinfo endpoint.
    pub userinfo: String,
    /// Revocation endpoint.
    pub revoke: String,
    /// End-session endpoint.
    pub end_session: String,
    /// A protected resource.
    pub resource: String,
}

impl Default for Endpoints {
    /// The paths of the constants above ([`TOKEN_PATH`], ...), issuer at the root.
    fn default() -> Self {
        Self {
            issuer: String::new(),
            discovery: DISCOVERY_PATH.into(),
            jwks: JWKS_PATH.into(),
            authorize: AUTHORIZE_PATH.into(),
            token: TOKEN_PATH.into(),
            userinfo: USERINFO_PATH.into(),
            revoke: REVOKE_PATH.into(),
            end_session: END_SESSION_PATH.into(),
            resource: RESOURCE_PATH.into(),
        }
    }
}

impl Endpoints {
    /// IdentityServer's layout under `prefix` (for example `/ids`): the issuer is
    /// `prefix`, discovery at `prefix/.well-known/openid-configuration`, keys at
    /// `prefix/.well-known/jwks`, and `prefix/connect/{authorize,token,userinfo,
    /// revocation,endsession}`.
    pub fn identity_server(prefix: &str) -> Self {
        let p = prefix.trim_end_matches('/');
        Self {
            issuer: p.into(),
            discovery: format!("{p}{DISCOVERY_PATH}"),
            jwks: format!("{p}/.well-known/jwks"),
            authorize: format!("{p}/connect/authorize"),
            token: format!("{p}/connect/token"),
            userinfo: format!("{p}/connect/userinfo"),
            revoke: format!("{p}/connect/revocation"),
            end_session: format!("{p}/connect/endsession"),
            resource: format!("{p}{RESOURCE_PATH}"),
        }
    }
}

/// A user who can sign in.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Username (also `sub` and `preferred_username`).
    pub username: String,
    /// Password.
    pub password: String,
    /// Email, for userinfo.
    pub email: String,
}

/// How token responses are written, to exercise tolerant clients.
#[derive(Debug, Clone, Default)]
pub struct TokenStyle {
    /// Send `expires_in` as a string (`"3600"`).
    pub expires_in_as_string: bool,
    /// The `token_type` sent (`None`: the member is left out).
    pub token_type: Option<String>,
    /// Every grant but `refresh_token` answers with only a refresh token (with its
    /// lifetime in `expires_in` when refresh tokens expire); the client then refreshes
    /// to get an access token.
    pub refresh_first: bool,
    /// Extra members added to every token response.
    pub extra: Vec<(String, Value)>,
}

/// An [`AuthServer`]'s settings.
#[derive(Debug, Clone)]
pub struct AuthServerConfig {
    /// The clients.
    pub clients: Vec<RegisteredClient>,
    /// The users.
    pub users: Vec<TestUser>,
    /// Access token lifetime.
    pub access_lifetime: Duration,
    /// ID token lifetime.
    pub id_token_lifetime: Duration,
    /// Whether a refresh issues a new refresh token and revokes the old one.
    pub rotate_refresh_tokens: bool,
    /// Whether `client_credentials` also issues a refresh token.
    pub client_credentials_refresh: bool,
    /// Response style.
    pub style: TokenStyle,
    /// The clock tokens are timed by.
    pub clock: Arc<dyn Clock>,
    /// The endpoints' paths.
    pub paths: Endpoints,
    /// Refresh token lifetime (`None`: they live until revoked).
    pub refresh_lifetime: Option<Duration>,
    /// A token request parameter naming the resource an access token is for (RFC 8707
    /// calls it `resource`; bookingtime's is `organization_id`). When set, every answer
    /// that carries an access token needs it, naming one of the client's
    /// [`RegisteredClient::resources`] (else `invalid_target`).
    pub resource_parameter: Option<String>,
    /// Whether the `refresh_token` grant takes the `client_id` alone, the refresh
    /// token being the credential (bookingtime's exchange documents no secret); a
    /// secret that is sent must still be right.
    pub refresh_with_client_id: bool,
    /// Claims added to a user's userinfo answer, by username.
    pub userinfo_extra: HashMap<String, serde_json::Map<String, Value>>,
    /// Whether the token endpoint takes JSON bodies only (a form body gets 400).
    pub json_only: bool,
    /// Whether access tokens are RS256 JWTs (`aud`, `jti`, `iat`, `nbf`, `exp`, `sub`,
    /// `scopes`) rather than opaque strings.
    pub jwt_access_tokens: bool,
    /// Strict replay handling (see [`AuthServerConfig::strict`]): refresh tokens rotate
    /// whatever [`rotate_refresh_tokens`](Self::rotate_refresh_tokens) says, and a
    /// reused code or rotated-away refresh token revokes its token family.
    pub strict: bool,
    /// A scope without which no refresh token is issued (IdentityServer's
    /// `offline_access`); `None` (the default): every grant but `client_credentials`
    /// issues one.
    pub refresh_scope: Option<String>,
}

impl AuthServerConfig {
    /// One confidential client using Basic, one user `alice`/`wonderland`, 1-hour
    /// tokens, rotating refresh tokens, `token_type: Bearer`, a manual clock.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            clients: vec![RegisteredClient {
                id: client_id.into(),
                secret: client_secret.into(),
                auth: ClientAuthMethod::Basic,
                resources: Vec::new(),
            }],
            users: vec![TestUser {
                username: "alice".into(),
                password: "wonderland".into(),
                email: "alice@example.com".into(),
            }],
            access_lifetime: Duration::from_secs(3600),
            id_token_lifetime: Duration::from_secs(300),
            rotate_refresh_tokens: true,
            client_credentials_refresh: false,
            style: TokenStyle {
                token_type: Some("Bearer".into()),
                ..TokenStyle::default()
            },
            clock: Arc::new(ManualClock::new()),
            paths: Endpoints::default(),
            refresh_lifetime: None,
            resource_parameter: None,
            refresh_with_client_id: false,
            userinfo_extra: HashMap::new(),
            json_only: false,
            jwt_access_tokens: false,
            strict: false,
            refresh_scope: None,
        }
    }

    /// With strict replay handling on or off (off by default).
    ///
    /// Every code grant, and every other grant that issues tokens, starts a token
    /// family; refreshes stay in the family of the refresh token they spend. When on:
    ///
    /// - a code is single use (as always) and its second redemption, successful first
    ///   or not, is refused with `invalid_grant` and revokes every access and refresh
    ///   token issued from it (RFC 6749 §4.1.2);
    /// - refresh tokens rotate: each refresh issues a new one and invalidates the one
    ///   presented; presenting one that was rotated away is reuse (RFC 9700 §4.14.2),
    ///   refused with `invalid_grant`, and revokes the whole family, so the newest
    ///   refresh token then fails with `invalid_grant` and the access tokens fail
    ///   [`AccessChecker`], `/userinfo` and `/resource`;
    /// - a grant still in flight when its family is revoked is refused too.
    ///
    /// Refresh tokens revoked otherwise (RFC 7009, [`AuthServer::revoke_refresh_tokens`],
    /// expiry) are refused as before, without revoking anything more.
    #[must_use]
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        if on {
            self.rotate_refresh_tokens = true;
        }
        self
    }

    /// With this access token lifetime.
    #[must_use]
    pub fn access_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_lifetime = lifetime;
        self
    }

    /// Whether a refresh rotates the refresh token.
    pub(super) fn rotates(&self) -> bool {
        self.rotate_refresh_tokens || self.strict
    }

    /// With one more client.
    #[must_use]
    pub fn client(mut self, id: &str, secret: &str, auth: ClientAuthMethod) -> Self {
        self.clients.push(RegisteredClient {
            id: id.into(),
            secret: secret.into(),
            auth,
            resources: Vec::new(),
        });
        self
    }

    /// With the first client's authentication method changed.
    #[must_use]
    pub fn auth(mut self, auth: ClientAuthMethod) -> Self {
        if let Some(c) = self.clients.first_mut() {
            c.auth = auth;
        }
        self
    }

    /// With a clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}
