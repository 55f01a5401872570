//! A Bindeo API: the token endpoint of its API reference and a protected resource.
//!
//! What the reference (`vendor-docs/001_fa8ab44cec28da13.txt`) specifies, and this
//! server follows:
//!
//! - line 29: "send a **POST** request to `https://api.bindeo.com/access_token`":
//!   `POST /access_token`, the one endpoint of every grant (lines 106, 187);
//! - lines 52-54 and 88-89: the body is JSON (`content-type: application/json`) with
//!   `grant_type`, `client_id` and `client_secret` (tables at lines 110-114 and
//!   191-197, all "Required");
//! - lines 112, 193: `grant_type` `client_credentials`, and `password` with `username`
//!   and `password`;
//! - lines 95-99, 175-180: the answer `{"token_type":"Bearer","expires_in":3600,
//!   "access_token":"eyJ0eXAi…"}`, with a `refresh_token` for the password grant
//!   only; the access token is a JWT whose header carries `typ`, `alg` (`RS256`) and
//!   `jti`, and whose claims are `aud`, `jti`, `iat`, `nbf`, `exp`, `sub`, `scopes`;
//! - line 30: calls carry `Authorization: Bearer YOURTOKEN`.
//!
//! What this server assumes, because the capture stops at line 199 ("## Refresh
//! Token Grant", no body) and the front matter's `includes: - errors` (line 13)
//! names an errors page that was not captured:
//!
//! - a body that is not `application/json` is refused with 400 `invalid_request`
//!   (the reference shows JSON bodies only);
//! - the refresh grant is RFC 6749 §6 in the same JSON encoding at the same endpoint:
//!   `grant_type` `refresh_token`, `client_id`, `client_secret`, `refresh_token`; it
//!   rotates: a new refresh token each time, the one presented revoked (the access
//!   token it replaces stays valid until it expires); refresh tokens do not expire;
//! - the error answers, in one of the styles of [`ErrorStyle`]:
//!   [`ErrorStyle::rfc6749`] (the default: RFC 6749 §5.2) or [`ErrorStyle::league`]
//!   (the PHP League's oauth2-server 5.x, the server whose access tokens look like
//!   the reference's: `jti` in the JWT header and a `scopes` claim); a test may set
//!   each answer on its own;
//! - a missing parameter is 400 `invalid_request`; an unknown `grant_type` 400
//!   `unsupported_grant_type`;
//! - the access token is JWT-shaped but not verifiable: its signature segment is
//!   random, and this server looks its tokens up;
//! - `GET /resource` stands for any API call: 200 with a live Bearer token, else
//!   401 `invalid_token` with `WWW-Authenticate: Bearer error="invalid_token"`
//!   (RFC 6750 §3.1). The reference documents no API call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use auth_core::{Clock, SystemClock, unix_seconds};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// The token endpoint (reference, line 29).
pub const ACCESS_TOKEN_PATH: &str = "/access_token";
/// A protected resource (our stand-in for any API call; the reference documents none).
pub const RESOURCE_PATH: &str = crate::oauth2::RESOURCE_PATH;
/// Access tokens live 3600 s (reference, lines 97 and 177).
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// One refusal as the server answers it: the HTTP status and the `error` code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `error` member.
    pub error: String,
    /// The human-readable text.
    pub text: String,
}

impl ErrorAnswer {
    /// An answer with this status, code and text.
    pub fn new(status: StatusCode, error: &str, text: &str) -> Self {
        Self {
            status,
            error: error.into(),
            text: text.into(),
        }
    }
}

/// How the server answers the refusals the reference does not document (its errors
/// page is missing from the capture).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorStyle {
    /// A wrong or unknown client ID or secret.
    pub wrong_client: ErrorAnswer,
    /// A wrong username or password (password grant).
    pub wrong_password: ErrorAnswer,
    /// An unknown, revoked or rotated-away refresh token (refresh grant).
    pub bad_refresh_token: ErrorAnswer,
    /// Whether the text is in `message` with a `hint` (the League's body) rather than
    /// in RFC 6749's `error_description`.
    pub league_body: bool,
}

impl ErrorStyle {
    /// RFC 6749 §5.2: `invalid_client` (401), and `invalid_grant` (400) for a wrong
    /// password and a bad refresh token alike; text in `error_description`. This is
    /// also what later releases of the League's server answer.
    pub fn rfc6749() -> Self {
        Self {
            wrong_client: ErrorAnswer::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            ),
            wrong_password: ErrorAnswer::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The user credentials were incorrect.",
            ),
            bad_refresh_token: ErrorAnswer::new(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "The refresh token is invalid.",
            ),
            league_body: false,
        }
    }

    /// The PHP League's oauth2-server 5.x (`OAuthServerException`): `invalid_client`
    /// (401), `invalid_credentials` (401) for a wrong password (`invalidCredentials`),
    /// `invalid_request` (401) for a bad refresh token (`invalidRefreshToken`); bodies
    /// `{"error","message","hint"}`.
    pub fn league() -> Self {
        Self {
            wrong_client: ErrorAnswer::new(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed",
            ),
            wrong_password: ErrorAnswer::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "The user credentials were incorrect.",
            ),
            bad_refresh_token: ErrorAnswer::new(
                StatusCode::UNAUTHORIZED,
                "invalid_request",
                "The refresh token is invalid.",
            ),
            league_body: true,
        }
    }
}

impl Default for ErrorStyle {
    fn default() -> Self {
        Self::rfc6749()
    }
}

/// What a [`BindeoServer`] knows: one client, its users, its clock, and how it
/// answers refusals.
#[derive(Debug, Clone)]
pub struct BindeoServerConfig {
    /// The client ID.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// Users, as `(username, password)`.
    pub users: Vec<(String, String)>,
    /// The clock tokens are issued by (default: the system clock).
    pub clock: Arc<dyn Clock>,
    /// How refusals are answered (default: [`ErrorStyle::rfc6749`]).
    pub errors: ErrorStyle,
}

impl BindeoServerConfig {
    /// One client, no users yet, the system clock, RFC 6749 refusals.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            users: Vec::new(),
            clock: Arc::new(SystemClock),
            errors: ErrorStyle::rfc6749(),
        }
    }

    /// With a user who can sign in with the password grant.
    #[must_use]
    pub fn user(mut self, username: &str, password: &str) -> Self {
        self.users.push((username.into(), password.into()));
        self
    }

    /// With a clock (a [`ManualClock`](crate::ManualClock) to move time in a test).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// With refusals answered in `style`.
    #[must_use]
    pub fn errors(mut self, style: ErrorStyle) -> Self {
        self.errors = style;
        self
    }
}

#[derive(Debug)]
struct AccessToken {
    expires: SystemTime,
}

#[derive(Debug)]
struct RefreshGrant {
    username: String,
    revoked: bool,
}

#[derive(Debug, Default)]
struct State {
    next: u64,
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshGrant>,
    grants: HashMap<String, u64>,
}

#[derive(Debug)]
struct Ctx {
    config: BindeoServerConfig,
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running Bindeo API.
#[derive(Debug)]
pub struct BindeoServer {
    server: TestServer,
    ctx: Arc<Ctx>,
}

impl BindeoServer {
    /// Starts a server for `config`'s client and users.
    pub fn start(config: BindeoServerConfig) -> std::io::Result<Self> {
        let ctx = Arc::new(Ctx {
            config,
            state: Mutex::new(State::default()),
        });
        let (token, resource) = (Arc::clone(&ctx), Arc::clone(&ctx));
        let server = ServerBuilder::new("bindeo")
            .route(Method::POST, ACCESS_TOKEN_PATH, move |r| token.token(r))
            .route(Method::GET, RESOURCE_PATH, move |r| resource.resource(r))
            .start()?;
        Ok(Self { server, ctx })
    }

    /// The API's base URL (what `https://api.bindeo.com/` is in production).
    pub fn base_url(&self) -> &Url {
        self.server.base_url()
    }

    /// The server, for counters, faults and URLs.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// Successful grants by `grant_type`.
    pub fn grants(&self, grant_type: &str) -> u64 {
        lock(&self.ctx.state)
            .grants
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// Whether a refresh token has been revoked (a rotated one is).
    pub fn is_revoked(&self, token: &str) -> bool {
        lock(&self.ctx.state)
            .refresh
            .get(token)
            .is_some_and(|r| r.revoked)
    }

    /// Revokes every refresh token (as an administrator ending every session).
    pub fn revoke_refresh_tokens(&self) {
        for r in lock(&self.ctx.state).refresh.values_mut() {
            r.revoked = true;
        }
    }
}

impl Ctx {
    fn refuse(&self, answer: &ErrorAnswer, hint: Option<&str>) -> TestResponse {
        let mut body = Map::new();
        body.insert("error".into(), Value::from(answer.error.clone()));
        if self.config.errors.league_body {
            body.insert("message".into(), Value::from(answer.text.clone()));
            if let Some(hint) = hint {
                body.insert("hint".into(), Value::from(hint));
            }
        } else {
            body.insert("error_description".into(), Value::from(answer.text.clone()));
        }
        let response = TestResponse::json(answer.status, &Value::Object(body));
        if answer.error == "invalid_client" {
            // As the League's server adds it to every invalid_client answer.
            response.with_header("www-authenticate", "Basic realm=\"OAuth\"")
        } else {
            response
        }
    }

    fn missing(&self, parameter: &str) -> TestResponse {
        let answer = ErrorAnswer::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The request is missing a required parameter.",
        );
        self.refuse(&answer, Some(&format!("Check the `{parameter}` parameter")))
    }

    fn token(&self, req: &TestRequest) -> TestResponse {
        if !req.content_type_is("application/json") {
            let answer = ErrorAnswer::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The body must be application/json.",
            );
            return self.refuse(&answer, None);
        }
        let Some(Value::Object(body)) = req.json::<Value>() else {
            return self.missing("body");
        };
        let get = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let Some(grant_type) = get("grant_type") else {
            return self.missing("grant_type");
        };
        let Some(client_id) = get("client_id") else {
            return self.missing("client_id");
        };
        let Some(secret) = get("client_secret") else {
            return self.missing("client_secret");
        };
        let errors = &self.config.errors;
        if client_id != self.config.client_id || secret != self.config.client_secret {
            return self.refuse(&errors.wrong_client, None);
        }
        let user = match grant_type.as_str() {
            "client_credentials" => None,
            "password" => {
                let (Some(username), Some(password)) = (get("username"), get("password")) else {
                    return self.missing("username");
                };
                let known = self
                    .config
                    .users
                    .iter()
                    .any(|(u, p)| *u == username && *p == password);
                if !known {
                    return self.refuse(&errors.wrong_password, None);
                }
                Some(username)
            }
            "refresh_token" => {
                let Some(presented) = get("refresh_token") else {
                    return self.missing("refresh_token");
                };
                let mut st = lock(&self.state);
                match st.refresh.get_mut(&presented) {
                    Some(r) if !r.revoked => {
                        // Rotation: the one presented is spent.
                        r.revoked = true;
                        Some(r.username.clone())
                    }
                    Some(_) => {
                        drop(st);
                        return self
                            .refuse(&errors.bad_refresh_token, Some("Token has been revoked"));
                    }
                    None => {
                        drop(st);
                        return self.refuse(
                            &errors.bad_refresh_token,
                            Some("Cannot decrypt the refresh token"),
                        );
                    }
                }
            }
            _ => {
                let answer = ErrorAnswer::new(
                    StatusCode::BAD_REQUEST,
                    "unsupported_grant_type",
                    "The authorization grant type is not supported by the authorization server.",
                );
                return self.refuse(&answer, Some("Check the `grant_type` parameter"));
            }
        };
        self.issue(&grant_type, user)
    }

    /// Issues an access token (and, for a user, a refresh token) as the reference's
    /// examples show them.
    fn issue(&self, grant_type: &str, user: Option<String>) -> TestResponse {
        let now = self.config.clock.now();
        let mut st = lock(&self.state);
        st.next += 1;
        let jti = format!("{:016x}{:016x}", st.next, rand::random::<u64>());
        let iat = unix_seconds(now);
        let header = json!({ "typ": "JWT", "alg": "RS256", "jti": jti });
        let claims = json!({
            "aud": self.config.client_id,
            "jti": jti,
            "iat": iat,
            "nbf": iat,
            "exp": iat + ACCESS_TOKEN_LIFETIME.as_secs(),
            "sub": user.clone().unwrap_or_default(),
            "scopes": [],
        });
        let access = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()),
        );
        st.access.insert(
            access.clone(),
            AccessToken {
                expires: now + ACCESS_TOKEN_LIFETIME,
            },
        );
        let mut answer = json!({
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
            "access_token": access,
        });
        if let Some(username) = user {
            let refresh = STANDARD.encode(rand::random::<[u8; 48]>());
            st.refresh.insert(
                refresh.clone(),
                RefreshGrant {
                    username,
                    revoked: false,
                },
            );
            answer["refresh_token"] = Value::from(refresh);
        }
        *st.grants.entry(grant_type.to_owned()).or_default() += 1;
        TestResponse::json(StatusCode::OK, &answer)
    }

    fn resource(&self, req: &TestRequest) -> TestResponse {
        let now = self.config.clock.now();
        let live = req.bearer().is_some_and(|token| {
            lock(&self.state)
                .access
                .get(token)
                .is_some_and(|t| now < t.expires)
        });
        if live {
            TestResponse::json(StatusCode::OK, &json!({ "ok": true }))
        } else {
            TestResponse::oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "no live token")
                .with_header("www-authenticate", "Bearer error=\"invalid_token\"")
        }
    }
}
