//! A Binokula server as the developer guide describes it
//! (`vendor-docs/000_027729303c54bc9d.txt`): the API (`/api/Token`, `/api/User`,
//! `/api/UserStatus`) and the app's `/Account/ExternalAccess`.
//!
//! What the guide leaves open, and what this server does (the Azure Functions
//! conventions the `code` function key comes from):
//! - a missing or wrong `code` is `401` with an empty body;
//! - a wrong `client_secret` header or tenant is `403` with a `message`;
//! - an unknown user with `existingusersonly=true`, or deleted or changed while
//!   unknown, is `404` with a `message`; registering an existing user is `409`;
//! - `ExternalAccess` answers `302` to `/Home` when email, token and tenant are valid
//!   (the user exists and is enabled, the token is the user's one active token and has
//!   not expired), else `302` to `/Account/Login`;
//! - users are keyed by the address with only ASCII letters lower-cased, the same rule
//!   as `auth_binokula::Email::key` (so `\u{212A}im@corp.com`, with a KELVIN SIGN, and
//!   `kim@corp.com` are two users), and the token answer's `email` is that key.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use auth_core::Clock;
use auth_core::internal::constant_time_eq;
use base64::Engine as _;
use http::{Method, StatusCode};

use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// Token lifetime: "The access token is valid for one hour".
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Where a valid ExternalAccess lands.
pub const HOME_PATH: &str = "/Home";
/// Where an invalid ExternalAccess lands.
pub const LOGIN_PATH: &str = "/Account/Login";
/// The token endpoint.
pub const TOKEN_PATH: &str = "/api/Token";
/// Register and delete.
pub const USER_PATH: &str = "/api/User";
/// Enable and disable.
pub const USER_STATUS_PATH: &str = "/api/UserStatus";
/// The SSO entry point of the app.
pub const EXTERNAL_ACCESS_PATH: &str = "/Account/ExternalAccess";

/// A [`BinokulaServer`]'s settings: the tenant's credentials the server checks, and
/// the clock its tokens are timed by.
#[derive(Clone)]
pub struct BinokulaTenant {
    /// The tenant name.
    pub tenant: String,
    /// The tenant's client secret (`client_secret` header).
    pub client_secret: String,
    /// The function key (`code` parameter).
    pub code: String,
    /// The clock tokens are timed by (default: a new manual clock).
    pub clock: Arc<dyn Clock>,
}

impl BinokulaTenant {
    /// A tenant with its client secret and function key, on a new manual clock.
    pub fn new(tenant: &str, client_secret: &str, code: &str) -> Self {
        Self {
            tenant: tenant.into(),
            client_secret: client_secret.into(),
            code: code.into(),
            clock: Arc::new(crate::ManualClock::new()),
        }
    }

    /// With a clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl fmt::Debug for BinokulaTenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinokulaTenant")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct User {
    enabled: bool,
    active_token: Option<(String, SystemTime)>,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<String, User>,
    issued: u64,
    malformed_expiry: u32,
    email_for_next_token: Option<String>,
}

/// A running Binokula server (API and app on one port).
#[derive(Debug)]
pub struct BinokulaServer {
    server: TestServer,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl BinokulaServer {
    /// Starts a server for one tenant.
    pub fn start(tenant: BinokulaTenant) -> std::io::Result<Self> {
        let clock = Arc::clone(&tenant.clock);
        let state = Arc::new(Mutex::new(State::default()));
        let t = Arc::new(tenant);
        let (s1, s2, s3, s4, s5) = (
            Arc::clone(&state),
            Arc::clone(&state),
            Arc::clone(&state),
            Arc::clone(&state),
            Arc::clone(&state),
        );
        let (t1, t2, t3, t4, t5) = (
            Arc::clone(&t),
            Arc::clone(&t),
            Arc::clone(&t),
            Arc::clone(&t),
            Arc::clone(&t),
        );
        let c1 = Arc::clone(&clock);
        let server = ServerBuilder::new("binokula")
            .route(Method::GET, TOKEN_PATH, move |r| token(r, &t1, &s1, &*c1))
            .route(Method::PUT, USER_PATH, move |r| register(r, &t2, &s2))
            .route(Method::DELETE, USER_PATH, move |r| delete(r, &t3, &s3))
            .route(Method::POST, USER_STATUS_PATH, move |r| status(r, &t4, &s4))
            .route(Method::GET, EXTERNAL_ACCESS_PATH, move |r| {
                external_access(r, &t5, &s5, &*clock)
            })
            .route(Method::GET, HOME_PATH, |_| {
                TestResponse::html(StatusCode::OK, "<html><body>Reports</body></html>")
            })
            .route(Method::GET, LOGIN_PATH, |_| {
                TestResponse::html(StatusCode::OK, "<html><body>Sign in</body></html>")
            })
            .start()?;
        Ok(Self { server, state })
    }

    /// The base URL of the API and the app (what `https://api.binokula.app/` and
    /// `https://binokula.app/` are in production).
    pub fn base_url(&self) -> &url::Url {
        self.server.base_url()
    }

    /// The server, for counters, faults and URLs.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// Tokens issued so far.
    pub fn tokens_issued(&self) -> u64 {
        lock(&self.state).issued
    }

    /// Whether `email` is registered.
    pub fn has_user(&self, email: &str) -> bool {
        lock(&self.state)
            .users
            .contains_key(&email.to_ascii_lowercase())
    }

    /// Whether `email` is enabled.
    pub fn is_enabled(&self, email: &str) -> bool {
        lock(&self.state)
            .users
            .get(&email.to_ascii_lowercase())
            .is_some_and(|u| u.enabled)
    }

    /// The next `times` token answers carry an `expiry_date` that is not a date.
    pub fn serve_malformed_expiry(&self, times: u32) {
        lock(&self.state).malformed_expiry = times;
    }

    /// The next token answer carries `email` as its `email` instead of the address
    /// asked for (a server answering for another user); `None` withdraws a pending
    /// one. The token is still issued to, and active for, the user asked for.
    pub fn serve_email_for_next_token(&self, email: Option<&str>) {
        lock(&self.state).email_for_next_token = email.map(str::to_owned);
    }
}

/// `None` when the caller may proceed; else the refusal.
fn authenticate(req: &TestRequest, tenant: &BinokulaTenant) -> Option<TestResponse> {
    let code_ok = req
        .query("code")
        .is_some_and(|c| constant_time_eq(c.as_bytes(), tenant.code.as_bytes()));
    if !code_ok {
        return Some(TestResponse::empty(StatusCode::UNAUTHORIZED));
    }
    let secret_ok = req
        .header("client_secret")
        .is_some_and(|s| constant_time_eq(s.as_bytes(), tenant.client_secret.as_bytes()));
    let tenant_ok = req.query("tenant").as_deref() == Some(tenant.tenant.as_str());
    if !(secret_ok && tenant_ok) {
        return Some(message(
            StatusCode::FORBIDDEN,
            "Invalid tenant or client secret",
        ));
    }
    None
}

/// The guide's answer shape: `{"message": "\"...\""}`, a quoted string inside JSON.
fn message(status: StatusCode, text: &str) -> TestResponse {
    TestResponse::json(
        status,
        &serde_json::json!({ "message": format!("\"{text}\"") }),
    )
}

fn email(req: &TestRequest) -> Result<String, Box<TestResponse>> {
    match req.query("email") {
        Some(e) if e.contains('@') => Ok(e.to_ascii_lowercase()),
        _ => Err(Box::new(message(
            StatusCode::BAD_REQUEST,
            "A valid email is required",
        ))),
    }
}

fn token(
    req: &TestRequest,
    tenant: &BinokulaTenant,
    state: &Mutex<State>,
    clock: &dyn Clock,
) -> TestResponse {
    if let Some(refusal) = authenticate(req, tenant) {
        return refusal;
    }
    let email = match email(req) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let existing_only = req.query("existingusersonly").as_deref() == Some("true");
    let mut state = lock(state);
    if existing_only && !state.users.contains_key(&email) {
        return message(StatusCode::NOT_FOUND, &format!("User {email} not found"));
    }
    let user = state.users.entry(email.clone()).or_insert_with(|| User {
        enabled: true,
        active_token: None,
    });
    let token = base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>());
    let expiry = clock.now() + TOKEN_LIFETIME;
    // Only one token per user is active: the new one replaces the old.
    user.active_token = Some((token.clone(), expiry));
    state.issued += 1;
    let expiry_date = if state.malformed_expiry > 0 {
        state.malformed_expiry -= 1;
        "26/04/2018 3:08 AM".to_owned()
    } else {
        format_expiry(expiry)
    };
    let email = state.email_for_next_token.take().unwrap_or(email);
    TestResponse::json(
        StatusCode::OK,
        &serde_json::json!({ "email": email, "access_token": token, "expiry_date": expiry_date }),
    )
}

/// `2018-04-26T03:08:03.893495+00:00`: microseconds and an explicit offset, as in the
/// guide's example.
fn format_expiry(at: SystemTime) -> String {
    const FORMAT: &str = "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]+00:00";
    let Ok(items) = time::format_description::parse_borrowed::<1>(FORMAT) else {
        return String::new();
    };
    time::OffsetDateTime::from(at)
        .format(&items)
        .unwrap_or_default()
}

fn register(req: &TestRequest, tenant: &BinokulaTenant, state: &Mutex<State>) -> TestResponse {
    if let Some(refusal) = authenticate(req, tenant) {
        return refusal;
    }
    let email = match email(req) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let mut state = lock(state);
    if state.users.contains_key(&email) {
        return message(
            StatusCode::CONFLICT,
            &format!("User {email} already exists"),
        );
    }
    state.users.insert(
        email.clone(),
        User {
            enabled: true,
            active_token: None,
        },
    );
    message(StatusCode::OK, &format!("Successfully registered {email}"))
}

fn delete(req: &TestRequest, tenant: &BinokulaTenant, state: &Mutex<State>) -> TestResponse {
    if let Some(refusal) = authenticate(req, tenant) {
        return refusal;
    }
    let email = match email(req) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    match lock(state).users.remove(&email) {
        Some(_) => message(StatusCode::OK, &format!("Successfully removed {email}")),
        None => message(StatusCode::NOT_FOUND, &format!("User {email} not found")),
    }
}

fn status(req: &TestRequest, tenant: &BinokulaTenant, state: &Mutex<State>) -> TestResponse {
    if let Some(refusal) = authenticate(req, tenant) {
        return refusal;
    }
    let email = match email(req) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let enabled = match req.query("status").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return message(
                StatusCode::BAD_REQUEST,
                "status must be \"true\" or \"false\"",
            );
        }
    };
    match lock(state).users.get_mut(&email) {
        Some(user) => {
            user.enabled = enabled;
            message(StatusCode::OK, &format!("User Status set to {enabled}"))
        }
        None => message(StatusCode::NOT_FOUND, &format!("User {email} not found")),
    }
}

fn external_access(
    req: &TestRequest,
    tenant: &BinokulaTenant,
    state: &Mutex<State>,
    clock: &dyn Clock,
) -> TestResponse {
    let state = lock(state);
    let valid = (|| {
        let email = req.query("email")?.to_ascii_lowercase();
        let token = req.query("access_token")?;
        if req.query("tenant")? != tenant.tenant {
            return None;
        }
        let user = state.users.get(&email)?;
        let (active, expiry) = user.active_token.as_ref()?;
        let ok = user.enabled
            && clock.now() < *expiry
            && constant_time_eq(active.as_bytes(), token.as_bytes());
        ok.then_some(())
    })()
    .is_some();
    TestResponse::redirect(if valid { HOME_PATH } else { LOGIN_PATH })
}

/// Where a browser opening `sso_url` lands: the path of the `Location` the app answers
/// with ([`HOME_PATH`] or [`LOGIN_PATH`]). Opens the URL over HTTP without following
/// the redirect.
pub async fn landing(sso_url: &str) -> Result<String, reqwest::Error> {
    auth_core::reqwest::ensure_crypto_provider();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = client.get(sso_url).send().await?;
    Ok(response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned())
}
