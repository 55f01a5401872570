//! A Binokula server after the developer guide
//! (`vendor-docs/000_027729303c54bc9d.txt`): the API (`/api/Token`, `/api/User`,
//! `/api/UserStatus`) and the app's `/Account/ExternalAccess`.
//!
//! What the guide specifies, line by line, and what this server does with it:
//! - lines 7, 36-45, 87-96: every API call carries the `client_secret` header and the
//!   `tenant` and `code` ("a function key provided to the customer") parameters; the
//!   server checks all three (in constant time for the secrets).
//! - lines 32-54: `GET /api/Token` with `email`, `tenant`, `code` and the optional
//!   `existingusersonly` ("detault set to \"false\"": users are created on first
//!   use; "When \"true\" a valid token is only generated for existing users");
//!   answers `200` `{"email", "access_token", "expiry_date"}`, the date as in the
//!   example, `2018-04-26T03:08:03.893495+00:00`.
//! - line 24: "The access token is valid for one hour" ([`TOKEN_LIFETIME`]); "Only one
//!   user token can be active at any given time": a new token replaces the user's
//!   previous one; "Binokula will check if the users email is registered as a system
//!   user and if the access token is valid before granting access".
//! - lines 58-71: `GET https://binokula.app/Account/ExternalAccess` with `email`,
//!   `access_token`, `tenant` ("Credentials are URL encoded"): "Redirects to users
//!   Binokula homepage"; line 24: "If authentication fails, a redirect to the
//!   Binokula login page will be executed".
//! - lines 81-103: `PUT /api/User` registers (`200`, `{"message":
//!   "\"Successfully registered <email>\""}`, a JSON string inside the string).
//! - lines 104-126: `DELETE /api/User` (`200`, `"\"Successfully removed <email>\""`).
//! - lines 127-150: `POST /api/UserStatus` with `status` `"true"` or `"false"` (`200`,
//!   `"\"User Status set to true/false\""`).
//!
//! What the guide leaves open, and what this server assumes:
//! - every failure's answer: the guide shows only `200 OK`. By default
//!   ([`Failures::Statuses`]) a missing or wrong `code` is `401` with an empty body
//!   (Azure Functions' answer to a wrong function key), a wrong `client_secret` or
//!   tenant `403`, an unknown user (with `existingusersonly=true`, or deleted or
//!   changed while unknown) `404`, registering an existing user `409`, a missing email
//!   or status `400`, each with a `message`. [`Failures::Ok200`] answers every failure
//!   `200` with a `message`, the only shape the guide shows;
//! - the homepage and the login page are `/Home` and `/Account/Login` ([`HOME_PATH`],
//!   [`LOGIN_PATH`]), reached by a `302` (the guide names neither path nor status);
//! - a disabled user's sign-in fails like any other (the guide does not say what
//!   disabling does to SSO);
//! - how addresses compare: by default ([`Addresses::AsciiCaseInsensitive`]) users
//!   are keyed by the address with only ASCII letters lower-cased, the same rule as
//!   `auth_binokula::Email::key` (so `\u{212A}im@corp.com`, with a KELVIN SIGN, and
//!   `kim@corp.com` are two users), and answers spell the address as that key;
//!   [`Addresses::Exact`] keys and answers by the address exactly as sent.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use auth_core::Clock;
use auth_core::internal::constant_time_eq;
use base64::Engine as _;
use http::{Method, StatusCode};

use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// Token lifetime: "The access token is valid for one hour" (line 24).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// Where a valid ExternalAccess lands ("Redirects to users Binokula homepage", line
/// 69; the path is the server's own).
pub const HOME_PATH: &str = "/Home";
/// Where an invalid ExternalAccess lands ("a redirect to the Binokula login page",
/// line 24; the path is the server's own).
pub const LOGIN_PATH: &str = "/Account/Login";
/// The token endpoint (`https://api.binokula.app/api/Token`, line 32).
pub const TOKEN_PATH: &str = "/api/Token";
/// Register and delete (`https://api.binokula.app/api/User`, lines 83, 106).
pub const USER_PATH: &str = "/api/User";
/// Enable and disable (`https://api.binokula.app/api/UserStatus`, line 129).
pub const USER_STATUS_PATH: &str = "/api/UserStatus";
/// The SSO entry point of the app (`https://binokula.app/Account/ExternalAccess`,
/// line 58).
pub const EXTERNAL_ACCESS_PATH: &str = "/Account/ExternalAccess";

/// How the server answers a failure; the guide shows no failure (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Failures {
    /// `401` (function key), `403` (client secret or tenant), `404` (unknown user),
    /// `409` (user exists), `400` (bad parameters), each but the `401` with a
    /// `message`. Our assumption, the default.
    #[default]
    Statuses,
    /// `200` with a `message` for every failure: the only answer shape the guide
    /// shows.
    Ok200,
}

/// How the server compares email addresses; the guide does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Addresses {
    /// Only ASCII letters lower-cased (`auth_binokula::Email::key`'s rule); answers
    /// spell the address lower-cased. The default.
    #[default]
    AsciiCaseInsensitive,
    /// Byte for byte, as sent; answers spell it as sent.
    Exact,
}

impl Addresses {
    /// The key of `email` under this rule.
    pub fn key(self, email: &str) -> String {
        match self {
            Self::AsciiCaseInsensitive => email.to_ascii_lowercase(),
            Self::Exact => email.to_owned(),
        }
    }
}

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
    /// How failures are answered (default: [`Failures::Statuses`]).
    pub failures: Failures,
    /// How addresses are compared (default: [`Addresses::AsciiCaseInsensitive`]).
    pub addresses: Addresses,
}

impl BinokulaTenant {
    /// A tenant with its client secret and function key, on a new manual clock.
    pub fn new(tenant: &str, client_secret: &str, code: &str) -> Self {
        Self {
            tenant: tenant.into(),
            client_secret: client_secret.into(),
            code: code.into(),
            clock: Arc::new(crate::ManualClock::new()),
            failures: Failures::default(),
            addresses: Addresses::default(),
        }
    }

    /// Answers failures in the `failures` shape.
    #[must_use]
    pub fn failures(mut self, failures: Failures) -> Self {
        self.failures = failures;
        self
    }

    /// Compares addresses by `addresses`.
    #[must_use]
    pub fn addresses(mut self, addresses: Addresses) -> Self {
        self.addresses = addresses;
        self
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
            .field("failures", &self.failures)
            .field("addresses", &self.addresses)
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
    addresses: Addresses,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl BinokulaServer {
    /// Starts a server for one tenant.
    pub fn start(tenant: BinokulaTenant) -> std::io::Result<Self> {
        let clock = Arc::clone(&tenant.clock);
        let addresses = tenant.addresses;
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
        Ok(Self {
            server,
            state,
            addresses,
        })
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
            .contains_key(&self.addresses.key(email))
    }

    /// Whether `email` is enabled.
    pub fn is_enabled(&self, email: &str) -> bool {
        lock(&self.state)
            .users
            .get(&self.addresses.key(email))
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
        return Some(match tenant.failures {
            Failures::Statuses => TestResponse::empty(StatusCode::UNAUTHORIZED),
            Failures::Ok200 => message(StatusCode::OK, "Invalid function key"),
        });
    }
    let secret_ok = req
        .header("client_secret")
        .is_some_and(|s| constant_time_eq(s.as_bytes(), tenant.client_secret.as_bytes()));
    let tenant_ok = req.query("tenant").as_deref() == Some(tenant.tenant.as_str());
    if !(secret_ok && tenant_ok) {
        return Some(failure(
            tenant,
            StatusCode::FORBIDDEN,
            "Invalid tenant or client secret",
        ));
    }
    None
}

/// A failure in the tenant's [`Failures`] shape: `status` with a `message`, or `200`
/// with it.
fn failure(tenant: &BinokulaTenant, status: StatusCode, text: &str) -> TestResponse {
    match tenant.failures {
        Failures::Statuses => message(status, text),
        Failures::Ok200 => message(StatusCode::OK, text),
    }
}

/// The guide's answer shape: `{"message": "\"...\""}`, a quoted string inside JSON.
fn message(status: StatusCode, text: &str) -> TestResponse {
    TestResponse::json(
        status,
        &serde_json::json!({ "message": format!("\"{text}\"") }),
    )
}

fn email(req: &TestRequest, tenant: &BinokulaTenant) -> Result<String, Box<TestResponse>> {
    match req.query("email") {
        Some(e) if e.contains('@') => Ok(tenant.addresses.key(&e)),
        _ => Err(Box::new(failure(
            tenant,
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
    let email = match email(req, tenant) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let existing_only = req.query("existingusersonly").as_deref() == Some("true");
    let mut state = lock(state);
    if existing_only && !state.users.contains_key(&email) {
        return failure(
            tenant,
            StatusCode::NOT_FOUND,
            &format!("User {email} not found"),
        );
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
    let email = match email(req, tenant) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let mut state = lock(state);
    if state.users.contains_key(&email) {
        return failure(
            tenant,
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
    let email = match email(req, tenant) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    match lock(state).users.remove(&email) {
        Some(_) => message(StatusCode::OK, &format!("Successfully removed {email}")),
        None => failure(
            tenant,
            StatusCode::NOT_FOUND,
            &format!("User {email} not found"),
        ),
    }
}

fn status(req: &TestRequest, tenant: &BinokulaTenant, state: &Mutex<State>) -> TestResponse {
    if let Some(refusal) = authenticate(req, tenant) {
        return refusal;
    }
    let email = match email(req, tenant) {
        Ok(e) => e,
        Err(r) => return *r,
    };
    let enabled = match req.query("status").as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return failure(
                tenant,
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
        None => failure(
            tenant,
            StatusCode::NOT_FOUND,
            &format!("User {email} not found"),
        ),
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
        let email = tenant.addresses.key(&req.query("email")?);
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
