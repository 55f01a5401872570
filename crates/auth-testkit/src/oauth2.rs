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

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use auth_core::{Clock, ManualClock, constant_time_eq, unix_seconds};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Method, StatusCode};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};
use url::Url;

use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

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

const KEY_A: &[u8] = include_bytes!("../data/rsa2048-a-test-only.pk8.der");
const KEY_B: &[u8] = include_bytes!("../data/rsa2048-b-test-only.pk8.der");

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

/// What a live access token grants: the answer of [`AccessChecker::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The user, for user grants.
    pub username: Option<String>,
    /// The resource it is for, when the server takes a resource parameter.
    pub resource: Option<String>,
    /// The granted scope.
    pub scope: Option<String>,
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
    fn rotates(&self) -> bool {
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

struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    jwk: Value,
}

impl SigningKey {
    fn load(kid: &str, der: &[u8]) -> std::io::Result<Self> {
        let pair = RsaKeyPair::from_pkcs8(der)
            .map_err(|e| std::io::Error::other(format!("test key: {e}")))?;
        let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
        let jwk = json!({
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
            "n": URL_SAFE_NO_PAD.encode(&public.n),
            "e": URL_SAFE_NO_PAD.encode(&public.e),
        });
        Ok(Self {
            kid: kid.into(),
            pair,
            jwk,
        })
    }

    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut signature = vec![0; self.pair.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        // Signing with a valid key into a buffer of the modulus length cannot fail.
        let _ = self
            .pair
            .sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut signature);
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

#[derive(Debug, Clone)]
struct CodeGrant {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    username: String,
    scope: Option<String>,
    nonce: Option<String>,
    expires: SystemTime,
    used: bool,
    /// The token family its redemption starts.
    family: u64,
}

#[derive(Debug, Clone)]
struct Issued {
    grant: AccessGrant,
    expires: SystemTime,
    revoked: bool,
    family: u64,
}

#[derive(Debug, Clone)]
struct Refresh {
    client_id: String,
    username: Option<String>,
    scope: Option<String>,
    expires: Option<SystemTime>,
    revoked: bool,
    /// Revoked because a refresh spent it (presenting it again is reuse).
    rotated: bool,
    family: u64,
}

#[derive(Default)]
struct State {
    next: u64,
    codes: HashMap<String, CodeGrant>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Refresh>,
    /// Index into the key list of the key that signs; the JWKS lists keys up to it.
    current_key: usize,
    grants: HashMap<String, u64>,
    resource_grants: HashMap<String, u64>,
    /// The last token family handed out (families are numbered from 1).
    last_family: u64,
    /// Families revoked for reuse (strict mode).
    revoked_families: HashSet<u64>,
    /// Reused codes and rotated-away refresh tokens presented (strict mode).
    reuse_detections: u64,
}

impl State {
    fn new_family(&mut self) -> u64 {
        self.last_family += 1;
        self.last_family
    }

    /// Revokes every access and refresh token of `family`, and refuses grants of it
    /// still in flight.
    fn revoke_family(&mut self, family: u64) {
        self.revoked_families.insert(family);
        for t in self.access.values_mut().filter(|t| t.family == family) {
            t.revoked = true;
        }
        for t in self.refresh.values_mut().filter(|t| t.family == family) {
            t.revoked = true;
        }
    }
}

struct Ctx {
    config: AuthServerConfig,
    issuer: OnceLock<String>,
    keys: Vec<SigningKey>,
    state: Mutex<State>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running authorization server.
pub struct AuthServer {
    server: TestServer,
    ctx: Arc<Ctx>,
}

impl std::fmt::Debug for AuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthServer")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

type Route = fn(&TestRequest, &Ctx) -> TestResponse;

impl AuthServer {
    /// Starts a server.
    pub fn start(config: AuthServerConfig) -> std::io::Result<Self> {
        let ctx = Arc::new(Ctx {
            config,
            issuer: OnceLock::new(),
            keys: vec![
                SigningKey::load("key-a", KEY_A)?,
                SigningKey::load("key-b", KEY_B)?,
            ],
            state: Mutex::new(State::default()),
        });
        let p = ctx.config.paths.clone();
        let routes: [(Method, &str, Route); 9] = [
            (Method::GET, &p.discovery, discovery),
            (Method::GET, &p.jwks, jwks),
            (Method::GET, &p.authorize, authorize),
            (Method::POST, &p.token, token),
            (Method::GET, &p.userinfo, userinfo),
            (Method::POST, &p.revoke, revoke),
            (Method::GET, &p.end_session, end_session),
            (Method::GET, &p.resource, resource),
            (Method::POST, &p.userinfo, userinfo),
        ];
        let mut builder = ServerBuilder::new("oauth2");
        for (method, path, handler) in routes {
            let ctx = Arc::clone(&ctx);
            builder = builder.route(method, path, move |r| handler(r, &ctx));
        }
        let server = builder.start()?;
        let issuer = format!(
            "{}{}",
            server.base_url().as_str().trim_end_matches('/'),
            ctx.config.paths.issuer
        );
        let _ = ctx.issuer.set(issuer);
        Ok(Self { server, ctx })
    }

    /// The server, for counters, faults and URLs.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// The issuer (the base URL without the trailing slash, plus the issuer path).
    pub fn issuer(&self) -> &str {
        self.ctx.issuer()
    }

    /// The token endpoint.
    pub fn token_url(&self) -> Url {
        self.server.url(&self.ctx.config.paths.token)
    }

    /// The URL of the endpoint `path` picks from the server's [`Endpoints`].
    pub fn endpoint(&self, path: impl FnOnce(&Endpoints) -> &str) -> Url {
        self.server.url(path(&self.ctx.config.paths))
    }

    /// A handle that checks Bearer tokens this server issued, for resource servers
    /// started beside it.
    pub fn access_checker(&self) -> AccessChecker {
        AccessChecker {
            ctx: Arc::clone(&self.ctx),
        }
    }

    /// Starts signing with the next key and publishes it in the JWKS (the old key stays
    /// listed). Returns the new `kid`.
    pub fn rotate_keys(&self) -> String {
        let mut state = lock(&self.ctx.state);
        state.current_key = (state.current_key + 1).min(self.ctx.keys.len() - 1);
        self.ctx.keys[state.current_key].kid.clone()
    }

    /// Signs `claims` as an ID token with the current key (for tests that need a token
    /// with particular claims).
    pub fn sign_id_token(&self, claims: &Value) -> String {
        self.ctx.sign(claims)
    }

    /// The JWK (public) of the current key.
    pub fn current_jwk(&self) -> Value {
        let state = lock(&self.ctx.state);
        self.ctx.keys[state.current_key].jwk.clone()
    }

    /// Successful grants by `grant_type`.
    pub fn grants(&self, grant_type: &str) -> u64 {
        lock(&self.ctx.state)
            .grants
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// Successful grants whose access token is for `resource` (see
    /// [`AuthServerConfig::resource_parameter`]).
    pub fn grants_for(&self, resource: &str) -> u64 {
        lock(&self.ctx.state)
            .resource_grants
            .get(resource)
            .copied()
            .unwrap_or(0)
    }

    /// Successful `authorization_code` grants (codes redeemed for tokens).
    pub fn redemptions(&self) -> u64 {
        self.grants("authorization_code")
    }

    /// Successful `refresh_token` grants.
    pub fn refreshes(&self) -> u64 {
        self.grants("refresh_token")
    }

    /// Replays detected in [strict mode](AuthServerConfig::strict): second
    /// redemptions of a code plus rotated-away refresh tokens presented.
    pub fn reuse_detections(&self) -> u64 {
        lock(&self.ctx.state).reuse_detections
    }

    /// Token families revoked for reuse in [strict mode](AuthServerConfig::strict)
    /// (each counted once, however often it is replayed).
    pub fn revoked_families(&self) -> u64 {
        lock(&self.ctx.state).revoked_families.len() as u64
    }

    /// Revokes every refresh token (as an administrator resetting sessions).
    pub fn revoke_refresh_tokens(&self) {
        for r in lock(&self.ctx.state).refresh.values_mut() {
            r.revoked = true;
        }
    }

    /// Whether `token` (access or refresh) has been revoked.
    pub fn is_revoked(&self, token: &str) -> bool {
        let state = lock(&self.ctx.state);
        state.access.get(token).is_some_and(|t| t.revoked)
            || state.refresh.get(token).is_some_and(|t| t.revoked)
    }
}

impl Ctx {
    fn issuer(&self) -> &str {
        self.issuer.get().map(String::as_str).unwrap_or_default()
    }

    fn now(&self) -> SystemTime {
        self.config.clock.now()
    }

    fn sign(&self, claims: &Value) -> String {
        let key = &self.keys[lock(&self.state).current_key];
        key.sign(
            &json!({"alg": "RS256", "typ": "JWT", "kid": key.kid}),
            claims,
        )
    }

    /// An ID token; with `access_token`, its `at_hash` (left half of its SHA-256).
    fn id_token(
        &self,
        client_id: &str,
        username: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> String {
        let now = unix_seconds(self.now());
        let mut claims = json!({
            "iss": self.issuer(),
            "sub": username,
            "aud": client_id,
            "azp": client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + self.config.id_token_lifetime.as_secs(),
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = Value::from(nonce);
        }
        if let Some(token) = access_token {
            let hash = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
            claims["at_hash"] = Value::from(URL_SAFE_NO_PAD.encode(&hash.as_ref()[..16]));
        }
        self.sign(&claims)
    }

    fn new_token(&self, state: &mut State, prefix: &str) -> String {
        state.next += 1;
        format!("{prefix}-{}-{:016x}", state.next, rand::random::<u64>())
    }

    fn user(&self, username: &str) -> Option<&TestUser> {
        self.config.users.iter().find(|u| u.username == username)
    }
}

fn discovery(_: &TestRequest, ctx: &Ctx) -> TestResponse {
    let i = ctx.issuer();
    let p = &ctx.config.paths;
    // The endpoints are on the server's root, the issuer may have a path.
    let root = i.strip_suffix(p.issuer.as_str()).unwrap_or(i);
    TestResponse::json(
        StatusCode::OK,
        &json!({
            "issuer": i,
            "authorization_endpoint": format!("{root}{}", p.authorize),
            "token_endpoint": format!("{root}{}", p.token),
            "userinfo_endpoint": format!("{root}{}", p.userinfo),
            "jwks_uri": format!("{root}{}", p.jwks),
            "revocation_endpoint": format!("{root}{}", p.revoke),
            "end_session_endpoint": format!("{root}{}", p.end_session),
            "response_types_supported": ["code", "id_token token"],
            "grant_types_supported": ["authorization_code", "client_credentials", "password", "refresh_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "authorization_response_iss_parameter_supported": true,
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
        }),
    )
}

fn jwks(_: &TestRequest, ctx: &Ctx) -> TestResponse {
    let current = lock(&ctx.state).current_key;
    let keys: Vec<Value> = ctx.keys[..=current].iter().map(|k| k.jwk.clone()).collect();
    TestResponse::json(StatusCode::OK, &json!({ "keys": keys }))
}

fn bad_page(text: &str) -> TestResponse {
    TestResponse::html(
        StatusCode::BAD_REQUEST,
        format!("<html><body>{text}</body></html>"),
    )
}

/// Sends the browser back to `redirect_uri` with `pairs` in the query or fragment.
fn back_to(redirect_uri: &Url, pairs: &[(&str, &str)], fragment: bool) -> TestResponse {
    let mut url = redirect_uri.clone();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.extend_pairs(pairs);
    let encoded = form.finish();
    if fragment {
        url.set_fragment(Some(&encoded));
    } else {
        let query = match url.query() {
            Some(q) if !q.is_empty() => format!("{q}&{encoded}"),
            _ => encoded,
        };
        url.set_query(Some(&query));
    }
    TestResponse::redirect(url.as_str())
}

fn authorize(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let q = |n: &str| req.query(n);
    let Some(client) = q("client_id").and_then(|id| ctx.config.clients.iter().find(|c| c.id == id))
    else {
        return bad_page("Unknown client");
    };
    let Some(redirect_uri) = q("redirect_uri").and_then(|u| Url::parse(&u).ok()) else {
        return bad_page("Missing or invalid redirect_uri");
    };
    let state = q("state").unwrap_or_default();
    let iss = ctx.issuer().to_owned();
    let error = |code: &str, description: &str, fragment: bool| {
        back_to(
            &redirect_uri,
            &[
                ("error", code),
                ("error_description", description),
                ("state", &state),
                ("iss", &iss),
            ],
            fragment,
        )
    };
    let username = q("login_hint").unwrap_or_else(|| {
        ctx.config
            .users
            .first()
            .map(|u| u.username.clone())
            .unwrap_or_default()
    });
    if ctx.user(&username).is_none() {
        return error("access_denied", "the user did not sign in", false);
    }
    let response_type = q("response_type").unwrap_or_default();
    match response_type.as_str() {
        "code" => {
            let challenge = q("code_challenge");
            let method = q("code_challenge_method");
            if challenge.is_some() && method.as_deref() != Some("S256") {
                return error(
                    "invalid_request",
                    "code_challenge_method must be S256",
                    false,
                );
            }
            if challenge.is_none() && client.auth == ClientAuthMethod::None {
                return error("invalid_request", "public clients must use PKCE", false);
            }
            let mut st = lock(&ctx.state);
            let code = ctx.new_token(&mut st, "code");
            let family = st.new_family();
            st.codes.insert(
                code.clone(),
                CodeGrant {
                    client_id: client.id.clone(),
                    redirect_uri: redirect_uri.as_str().to_owned(),
                    challenge,
                    username,
                    scope: q("scope"),
                    nonce: q("nonce"),
                    expires: ctx.now() + Duration::from_secs(60),
                    used: false,
                    family,
                },
            );
            drop(st);
            back_to(
                &redirect_uri,
                &[("code", &code), ("state", &state), ("iss", &iss)],
                false,
            )
        }
        "id_token token" | "token id_token" => {
            let Some(nonce) = q("nonce") else {
                return error("invalid_request", "nonce is required", true);
            };
            let mut st = lock(&ctx.state);
            let access = ctx.new_token(&mut st, "at");
            let family = st.new_family();
            st.access.insert(
                access.clone(),
                Issued {
                    grant: AccessGrant {
                        client_id: client.id.clone(),
                        username: Some(username.clone()),
                        resource: None,
                        scope: q("scope"),
                    },
                    expires: ctx.now() + ctx.config.access_lifetime,
                    revoked: false,
                    family,
                },
            );
            drop(st);
            let id_token = ctx.id_token(&client.id, &username, Some(&nonce), Some(&access));
            let expires = ctx.config.access_lifetime.as_secs().to_string();
            back_to(
                &redirect_uri,
                &[
                    ("access_token", &access),
                    ("token_type", "Bearer"),
                    ("expires_in", &expires),
                    ("id_token", &id_token),
                    ("state", &state),
                ],
                true,
            )
        }
        _ => error(
            "unsupported_response_type",
            "only code and id_token token",
            false,
        ),
    }
}

/// The request's parameters, form or JSON.
fn params(req: &TestRequest) -> HashMap<String, String> {
    if req.content_type_is("application/json") {
        let Some(Value::Object(map)) = req.json::<Value>() else {
            return HashMap::new();
        };
        map.into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect()
    } else if req.content_type_is("application/x-www-form-urlencoded") {
        req.form_pairs().into_iter().collect()
    } else {
        HashMap::new()
    }
}

fn invalid_client() -> TestResponse {
    TestResponse::oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
    .with_header("www-authenticate", "Basic realm=\"token\"")
}

/// Authenticates the client the way it is registered.
fn authenticate<'a>(
    req: &TestRequest,
    p: &HashMap<String, String>,
    ctx: &'a Ctx,
) -> Result<&'a RegisteredClient, Box<TestResponse>> {
    let basic = req.basic_auth();
    let id = basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| p.get("client_id").cloned())
        .ok_or_else(|| Box::new(invalid_client()))?;
    let client = ctx
        .config
        .clients
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| Box::new(invalid_client()))?;
    let json = req.content_type_is("application/json");
    let given = match client.auth {
        ClientAuthMethod::Basic => basic.map(|(_, s)| s),
        ClientAuthMethod::FormBody if !json && basic.is_none() => p.get("client_secret").cloned(),
        ClientAuthMethod::JsonBody if json && basic.is_none() => p.get("client_secret").cloned(),
        // A public client sends no secret, or an empty one (bookingtime's Module API).
        ClientAuthMethod::None
            if basic.is_none() && p.get("client_secret").is_none_or(String::is_empty) =>
        {
            return Ok(client);
        }
        _ => None,
    };
    match given {
        Some(s) if constant_time_eq(s.as_bytes(), client.secret.as_bytes()) => Ok(client),
        _ => Err(Box::new(invalid_client())),
    }
}

fn grant_error(code: &str, description: &str) -> TestResponse {
    TestResponse::oauth_error(StatusCode::BAD_REQUEST, code, description)
}

fn token(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    if ctx.config.json_only && !req.content_type_is("application/json") {
        return grant_error("invalid_request", "the body must be application/json");
    }
    let p = params(req);
    let grant_type = p.get("grant_type").map(String::as_str).unwrap_or_default();
    let identified_only = ctx.config.refresh_with_client_id
        && grant_type == "refresh_token"
        && req.basic_auth().is_none()
        && !p.contains_key("client_secret");
    let client = if identified_only {
        let id = p.get("client_id");
        match ctx.config.clients.iter().find(|c| Some(&c.id) == id) {
            Some(c) => c,
            None => return invalid_client(),
        }
    } else {
        match authenticate(req, &p, ctx) {
            Ok(c) => c,
            Err(r) => return *r,
        }
    };
    let resource = match requested_resource(&p, client, grant_type, ctx) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let outcome = match grant_type {
        "client_credentials" => Ok(Holder::new(None, p.get("scope").cloned())),
        "password" => {
            let user = p.get("username").and_then(|u| ctx.user(u));
            match (user, p.get("password")) {
                (Some(u), Some(pw)) if constant_time_eq(pw.as_bytes(), u.password.as_bytes()) => {
                    Ok(Holder::new(
                        Some(u.username.clone()),
                        p.get("scope").cloned(),
                    ))
                }
                _ => Err(Box::new(grant_error(
                    "invalid_grant",
                    "wrong username or password",
                ))),
            }
        }
        "refresh_token" => refresh_grant(&p, client, ctx),
        "authorization_code" => code_grant(&p, client, ctx),
        _ => Err(Box::new(grant_error(
            "unsupported_grant_type",
            "unknown grant_type",
        ))),
    };
    let holder = match outcome {
        Ok(h) => Holder { resource, ..h },
        Err(r) => return *r,
    };
    issue(ctx, client, grant_type, holder)
}

/// The resource an answer's access token is for, when the server takes a resource
/// parameter and the answer carries an access token.
fn requested_resource(
    p: &HashMap<String, String>,
    client: &RegisteredClient,
    grant_type: &str,
    ctx: &Ctx,
) -> Result<Option<String>, Box<TestResponse>> {
    let Some(name) = &ctx.config.resource_parameter else {
        return Ok(None);
    };
    let carries_access = grant_type == "refresh_token" || !ctx.config.style.refresh_first;
    if !carries_access {
        return Ok(None);
    }
    let Some(wanted) = p.get(name) else {
        return Err(Box::new(grant_error(
            "invalid_request",
            &format!("{name} is missing"),
        )));
    };
    if !client.resources.iter().any(|r| r == wanted) {
        return Err(Box::new(grant_error(
            "invalid_target",
            &format!("the client may not access this {name}"),
        )));
    }
    Ok(Some(wanted.clone()))
}

/// Whom and what an answer's tokens are for.
struct Holder {
    username: Option<String>,
    scope: Option<String>,
    nonce: Option<String>,
    resource: Option<String>,
    /// The token family the tokens join (`None`: a new one).
    family: Option<u64>,
}

impl Holder {
    fn new(username: Option<String>, scope: Option<String>) -> Self {
        Self {
            username,
            scope,
            nonce: None,
            resource: None,
            family: None,
        }
    }
}

type GrantOutcome = Result<Holder, Box<TestResponse>>;

fn refresh_grant(
    p: &HashMap<String, String>,
    client: &RegisteredClient,
    ctx: &Ctx,
) -> GrantOutcome {
    let Some(presented) = p.get("refresh_token") else {
        return Err(Box::new(grant_error(
            "invalid_request",
            "refresh_token is missing",
        )));
    };
    let mut st = lock(&ctx.state);
    let now = ctx.now();
    let reused = st
        .refresh
        .get(presented)
        .filter(|r| ctx.config.strict && r.rotated && r.client_id == client.id)
        .map(|r| r.family);
    if let Some(family) = reused {
        st.reuse_detections += 1;
        st.revoke_family(family);
        return Err(Box::new(grant_error(
            "invalid_grant",
            "refresh token reused: every token of its grant is revoked",
        )));
    }
    let Some(r) = st
        .refresh
        .get_mut(presented)
        .filter(|r| !r.revoked && r.client_id == client.id && r.expires.is_none_or(|e| now < e))
    else {
        return Err(Box::new(grant_error(
            "invalid_grant",
            "unknown, expired or revoked refresh token",
        )));
    };
    if ctx.config.rotates() {
        r.revoked = true;
        r.rotated = true;
    }
    Ok(Holder {
        family: Some(r.family),
        ..Holder::new(r.username.clone(), r.scope.clone())
    })
}

fn code_grant(p: &HashMap<String, String>, client: &RegisteredClient, ctx: &Ctx) -> GrantOutcome {
    let mut st = lock(&ctx.state);
    let now = ctx.now();
    let reused = p
        .get("code")
        .and_then(|c| st.codes.get(c))
        .filter(|g| ctx.config.strict && g.used)
        .map(|g| g.family);
    if let Some(family) = reused {
        st.reuse_detections += 1;
        st.revoke_family(family);
        return Err(Box::new(grant_error(
            "invalid_grant",
            "the code was already redeemed: every token issued from it is revoked",
        )));
    }
    let Some(grant) = p.get("code").and_then(|c| st.codes.get_mut(c)) else {
        return Err(Box::new(grant_error("invalid_grant", "unknown code")));
    };
    if grant.used || now >= grant.expires || grant.client_id != client.id {
        grant.used = true;
        return Err(Box::new(grant_error(
            "invalid_grant",
            "the code is spent, expired or not yours",
        )));
    }
    grant.used = true;
    if p.get("redirect_uri") != Some(&grant.redirect_uri) {
        return Err(Box::new(grant_error(
            "invalid_grant",
            "redirect_uri does not match",
        )));
    }
    if let Some(challenge) = &grant.challenge {
        let computed = p.get("code_verifier").map(|v| {
            URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, v.as_bytes()))
        });
        match computed {
            Some(c) if constant_time_eq(c.as_bytes(), challenge.as_bytes()) => {}
            _ => {
                return Err(Box::new(grant_error(
                    "invalid_grant",
                    "PKCE verification failed",
                )));
            }
        }
    }
    Ok(Holder {
        nonce: grant.nonce.clone(),
        family: Some(grant.family),
        ..Holder::new(Some(grant.username.clone()), grant.scope.clone())
    })
}

fn issue(ctx: &Ctx, client: &RegisteredClient, grant_type: &str, holder: Holder) -> TestResponse {
    let Holder {
        username,
        scope,
        nonce,
        resource,
        family,
    } = holder;
    let style = &ctx.config.style;
    let mut st = lock(&ctx.state);
    // The grant was checked under an earlier lock; a replay may have revoked its
    // family since.
    if family.is_some_and(|f| st.revoked_families.contains(&f)) {
        return grant_error("invalid_grant", "the grant was revoked");
    }
    let family = family.unwrap_or_else(|| st.new_family());
    *st.grants.entry(grant_type.to_owned()).or_default() += 1;
    if let Some(r) = &resource {
        *st.resource_grants.entry(r.clone()).or_default() += 1;
    }
    let cc = grant_type == "client_credentials";
    let refresh_only = grant_type != "refresh_token" && style.refresh_first;
    let mut body = serde_json::Map::new();
    if !refresh_only {
        let access = if ctx.config.jwt_access_tokens {
            let now = unix_seconds(ctx.now());
            let jti = ctx.new_token(&mut st, "jti");
            let key = &ctx.keys[st.current_key];
            key.sign(
                &json!({"typ": "JWT", "alg": "RS256", "jti": jti}),
                &json!({
                    "aud": client.id, "jti": jti, "iat": now, "nbf": now,
                    "exp": now + ctx.config.access_lifetime.as_secs(),
                    "sub": username.clone().unwrap_or_default(), "scopes": [],
                }),
            )
        } else {
            ctx.new_token(&mut st, "at")
        };
        st.access.insert(
            access.clone(),
            Issued {
                grant: AccessGrant {
                    client_id: client.id.clone(),
                    username: username.clone(),
                    resource,
                    scope: scope.clone(),
                },
                expires: ctx.now() + ctx.config.access_lifetime,
                revoked: false,
                family,
            },
        );
        body.insert("access_token".into(), Value::from(access));
        let lifetime = ctx.config.access_lifetime.as_secs();
        body.insert(
            "expires_in".into(),
            if style.expires_in_as_string {
                Value::from(lifetime.to_string())
            } else {
                Value::from(lifetime)
            },
        );
        if let Some(t) = &style.token_type {
            body.insert("token_type".into(), Value::from(t.clone()));
        }
    }
    let wants_refresh = !cc || ctx.config.client_credentials_refresh || refresh_only;
    let rotated = grant_type != "refresh_token" || ctx.config.rotates();
    if wants_refresh && rotated {
        let refresh = ctx.new_token(&mut st, "rt");
        let lifetime = ctx.config.refresh_lifetime;
        st.refresh.insert(
            refresh.clone(),
            Refresh {
                client_id: client.id.clone(),
                username: username.clone(),
                scope: scope.clone(),
                expires: lifetime.map(|l| ctx.now() + l),
                revoked: false,
                rotated: false,
                family,
            },
        );
        body.insert("refresh_token".into(), Value::from(refresh));
        if refresh_only {
            if let Some(t) = &style.token_type {
                body.insert("token_type".into(), Value::from(t.clone()));
            }
            if let Some(l) = lifetime {
                body.insert("expires_in".into(), Value::from(l.as_secs()));
            }
        }
    }
    drop(st);
    if let Some(scope) = &scope {
        body.insert("scope".into(), Value::from(scope.clone()));
        if let Some(user) = username
            .as_deref()
            .filter(|_| scope.split(' ').any(|s| s == "openid"))
        {
            body.insert(
                "id_token".into(),
                Value::from(ctx.id_token(&client.id, user, nonce.as_deref(), None)),
            );
        }
    }
    for (k, v) in &style.extra {
        body.insert(k.clone(), v.clone());
    }
    TestResponse::json(StatusCode::OK, &Value::Object(body))
        .with_header("cache-control", "no-store")
}

/// Checks Bearer tokens an [`AuthServer`] issued (see [`AuthServer::access_checker`]).
#[derive(Clone)]
pub struct AccessChecker {
    ctx: Arc<Ctx>,
}

impl std::fmt::Debug for AccessChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessChecker")
            .field("issuer", &self.ctx.issuer())
            .finish()
    }
}

impl AccessChecker {
    /// What the request's live Bearer token grants, or the 401 (`invalid_token`,
    /// with `WWW-Authenticate`) to answer.
    pub fn check(&self, req: &TestRequest) -> Result<AccessGrant, Box<TestResponse>> {
        bearer(req, &self.ctx)
    }

    /// What `token` grants, if it is a live access token of this server.
    pub fn check_token(&self, token: &str) -> Option<AccessGrant> {
        live(token, &self.ctx)
    }
}

fn live(token: &str, ctx: &Ctx) -> Option<AccessGrant> {
    let st = lock(&ctx.state);
    let issued = st.access.get(token)?;
    (!issued.revoked && ctx.now() < issued.expires).then(|| issued.grant.clone())
}

/// The live access token on the request, or the 401 to answer.
fn bearer(req: &TestRequest, ctx: &Ctx) -> Result<AccessGrant, Box<TestResponse>> {
    let refuse = || {
        Box::new(
            TestResponse::oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "no live token")
                .with_header("www-authenticate", "Bearer error=\"invalid_token\""),
        )
    };
    let token = req.bearer().ok_or_else(refuse)?;
    live(token, ctx).ok_or_else(refuse)
}

fn userinfo(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let issued = match bearer(req, ctx) {
        Ok(i) => i,
        Err(r) => return *r,
    };
    let Some(user) = issued.username.as_deref().and_then(|u| ctx.user(u)) else {
        return TestResponse::oauth_error(StatusCode::FORBIDDEN, "insufficient_scope", "no user");
    };
    let mut claims = json!({
        "sub": user.username,
        "preferred_username": user.username,
        "email": user.email,
        "email_verified": true,
    });
    if let (Some(extra), Value::Object(map)) =
        (ctx.config.userinfo_extra.get(&user.username), &mut claims)
    {
        map.extend(extra.clone());
    }
    TestResponse::json(StatusCode::OK, &claims)
}

fn resource(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    match bearer(req, ctx) {
        Ok(i) => TestResponse::json(
            StatusCode::OK,
            &json!({ "ok": true, "client_id": i.client_id, "user": i.username, "resource": i.resource }),
        ),
        Err(r) => *r,
    }
}

fn revoke(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let p = params(req);
    let client = match authenticate(req, &p, ctx) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Some(token) = p.get("token") else {
        return grant_error("invalid_request", "token is missing");
    };
    let mut st = lock(&ctx.state);
    // RFC 7009 §2.2: unknown tokens are not an error; other clients' tokens are left.
    if let Some(t) = st
        .access
        .get_mut(token)
        .filter(|t| t.grant.client_id == client.id)
    {
        t.revoked = true;
    }
    if let Some(t) = st
        .refresh
        .get_mut(token)
        .filter(|t| t.client_id == client.id)
    {
        t.revoked = true;
    }
    TestResponse::empty(StatusCode::OK)
}

fn end_session(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let _ = ctx;
    let Some(target) = req
        .query("post_logout_redirect_uri")
        .and_then(|u| Url::parse(&u).ok())
    else {
        return TestResponse::html(StatusCode::OK, "<html><body>Signed out</body></html>");
    };
    if req.query("id_token_hint").is_none() {
        return bad_page("id_token_hint is required with post_logout_redirect_uri");
    }
    let state = req.query("state").unwrap_or_default();
    back_to(&target, &[("state", &state)], false)
}

/// Builds an unsigned (`alg: none`) token with `claims`, for refusal tests.
pub fn unsigned_token(claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Builds an HS256 token whose HMAC key is `key` (the algorithm-confusion attack signs
/// with the provider's public key), for refusal tests.
pub fn hs256_token(claims: &Value, key: &[u8], kid: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        input.as_bytes(),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// `redirect` with its query parameter `name` set to `value` (a tampered callback, for
/// refusal tests).
pub fn with_query_param(redirect: &Url, name: &str, value: &str) -> Url {
    let pairs = replaced(redirect.query().unwrap_or_default(), name, value);
    let mut out = redirect.clone();
    out.set_query(Some(&pairs));
    out
}

/// `redirect` with its fragment member `name` set to `value` (a tampered `id_token
/// token` answer, for refusal tests).
pub fn with_fragment_param(redirect: &Url, name: &str, value: &str) -> Url {
    let pairs = replaced(redirect.fragment().unwrap_or_default(), name, value);
    let mut out = redirect.clone();
    out.set_fragment(Some(&pairs));
    out
}

fn replaced(encoded: &str, name: &str, value: &str) -> String {
    let pairs = url::form_urlencoded::parse(encoded.as_bytes())
        .into_owned()
        .map(|(k, v)| {
            if k == name {
                (k, value.to_owned())
            } else {
                (k, v)
            }
        });
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The user's browser at the authorization endpoint: follows nothing, returns the
/// `Location` the server redirects to.
pub async fn consent(authorize_url: &str) -> Result<Url, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let response = client
        .get(authorize_url)
        .send()
        .await
        .map_err(|e| e.without_url().to_string())?;
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| format!("no redirect (HTTP {})", response.status()))?;
    Url::parse(location).map_err(|e| e.to_string())
}
