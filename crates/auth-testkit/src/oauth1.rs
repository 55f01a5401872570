//! An OAuth 1.0a server (RFC 5849) that verifies every signature with
//! `auth_oauth1::Verifier` and runs the three-legged flow, with a simulated user who
//! approves at the authorization endpoint.
//!
//! Failures are answered with `401` and a form body `oauth_problem=...` (the OAuth
//! Problem Reporting extension): `signature_invalid`, `timestamp_refused`,
//! `nonce_used`, `consumer_key_unknown`, `token_rejected`, `token_expired`,
//! `token_used`, `parameter_absent`, `parameter_rejected` (with
//! `oauth_parameters_rejected`), `signature_method_rejected`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use auth_core::internal::constant_time_eq;
use auth_core::{Clock, SecretString};
use auth_oauth1::{
    Error as OAuth1Error, InMemoryNonceStore, IncomingRequest, VerifiedRequest, Verifier,
    VerifyingKey,
};
use http::{Method, StatusCode};

use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// Paths and lifetimes of an [`OAuth1Server`].
#[derive(Debug, Clone)]
pub struct OAuth1Config {
    /// The consumer key the server knows.
    pub consumer_key: String,
    /// Its secret.
    pub consumer_secret: String,
    /// Temporary credential request path.
    pub temporary_path: String,
    /// Authorization path (the user's browser).
    pub authorize_path: String,
    /// Token request path.
    pub token_path: String,
    /// A protected resource (GET).
    pub resource_path: String,
    /// How long temporary credentials live.
    pub temporary_lifetime: Duration,
    /// How long access tokens live (`None`: forever).
    pub access_lifetime: Option<Duration>,
    /// Whether to send `oauth_callback_confirmed=true` (RFC 5849 does; some servers do
    /// not).
    pub confirm_callback: bool,
    /// The query parameter the authorization endpoint reads the callback from, besides
    /// the `oauth_callback` given at step 1 (Bynder: `callback`).
    pub authorize_callback_param: Option<String>,
    /// The query parameters the authorization endpoint reads the temporary token from,
    /// the first one present winning (RFC 5849 §2.2: `oauth_token`; Bynder's parameter
    /// table says `auth_token`). A request carrying none of them is refused.
    pub authorize_token_params: Vec<String>,
    /// Whether step 1 must carry `oauth_callback` (OAuth 1.0a: yes; OAuth 1.0 as Bynder
    /// runs it: no, the callback goes in the authorize URL).
    pub require_callback: bool,
    /// Whether step 3 must carry the `oauth_verifier` the user was given (OAuth 1.0a:
    /// yes). Without it, step 3 still refuses temporary credentials the user has not
    /// authorized; a verifier that is sent must match.
    pub require_verifier: bool,
    /// What the resource answers once the signature checks out (`None`:
    /// `{"ok": true, "consumer": <key>}`).
    pub resource_body: Option<serde_json::Value>,
}

impl OAuth1Config {
    /// RFC 5849's paths (`/initiate`, `/authorize`, `/token`, `/resource`), 10-minute
    /// temporary credentials, permanent access tokens.
    pub fn rfc5849(consumer_key: &str, consumer_secret: &str) -> Self {
        Self {
            consumer_key: consumer_key.into(),
            consumer_secret: consumer_secret.into(),
            temporary_path: "/initiate".into(),
            authorize_path: "/authorize".into(),
            token_path: "/token".into(),
            resource_path: "/resource".into(),
            temporary_lifetime: Duration::from_secs(600),
            access_lifetime: None,
            confirm_callback: true,
            authorize_callback_param: None,
            authorize_token_params: vec!["oauth_token".into()],
            require_callback: true,
            require_verifier: true,
            resource_body: None,
        }
    }
}

#[derive(Debug)]
struct Temporary {
    secret: String,
    callback: Option<String>,
    verifier: Option<String>,
    expires: SystemTime,
    used: bool,
}

#[derive(Debug)]
struct Access {
    secret: String,
    expires: Option<SystemTime>,
}

#[derive(Debug, Default)]
struct State {
    temporary: HashMap<String, Temporary>,
    access: HashMap<String, Access>,
    next: u64,
}

/// A running OAuth 1.0a server.
#[derive(Debug)]
pub struct OAuth1Server {
    server: TestServer,
    config: OAuth1Config,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

struct Ctx {
    config: OAuth1Config,
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
    verifier: Verifier,
}

impl OAuth1Server {
    /// Starts a server.
    pub fn start(clock: Arc<dyn Clock>, config: OAuth1Config) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let ctx = Arc::new(Ctx {
            config: config.clone(),
            state: Arc::clone(&state),
            clock: Arc::clone(&clock),
            verifier: Verifier::new()
                .clock(clock)
                .nonce_store(Arc::new(InMemoryNonceStore::new())),
        });
        let (c1, c2, c3, c4) = (Arc::clone(&ctx), Arc::clone(&ctx), Arc::clone(&ctx), ctx);
        let server = ServerBuilder::new("oauth1")
            .route(Method::POST, &config.temporary_path, move |r| {
                temporary(r, &c1)
            })
            .route(Method::GET, &config.authorize_path, move |r| {
                authorize(r, &c2)
            })
            .route(Method::POST, &config.token_path, move |r| token(r, &c3))
            .route(Method::GET, &config.resource_path, move |r| {
                resource(r, &c4)
            })
            .start()?;
        Ok(Self {
            server,
            config,
            state,
        })
    }

    /// The server, for counters, faults and URLs.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// The configuration.
    pub fn config(&self) -> &OAuth1Config {
        &self.config
    }

    /// Registers access credentials (a vendor's "permanent token" made in its portal).
    pub fn add_access_token(&self, token: &str, secret: &str, expires: Option<SystemTime>) {
        lock(&self.state).access.insert(
            token.to_owned(),
            Access {
                secret: secret.to_owned(),
                expires,
            },
        );
    }

    /// Access tokens issued or registered.
    pub fn access_tokens(&self) -> usize {
        lock(&self.state).access.len()
    }
}

fn problem(problem: &str, extra: &[(&str, &str)]) -> TestResponse {
    let mut pairs = vec![("oauth_problem", problem)];
    pairs.extend_from_slice(extra);
    TestResponse::form(StatusCode::UNAUTHORIZED, &pairs)
}

fn problem_for(error: &OAuth1Error) -> TestResponse {
    match error {
        OAuth1Error::InvalidSignature => problem("signature_invalid", &[]),
        OAuth1Error::TimestampOutOfWindow => problem("timestamp_refused", &[]),
        OAuth1Error::NonceReplayed => problem("nonce_used", &[]),
        OAuth1Error::UnknownCredentials => problem("token_rejected", &[]),
        OAuth1Error::MissingParameter(p) => {
            problem("parameter_absent", &[("oauth_parameters_absent", p)])
        }
        OAuth1Error::UnsupportedSignatureMethod(_) => problem("signature_method_rejected", &[]),
        OAuth1Error::UnsupportedVersion => problem("version_rejected", &[]),
        _ => problem("parameter_rejected", &[]),
    }
}

/// Verifies `req` with the token secret `token_secret` looks up.
fn verify(
    req: &TestRequest,
    ctx: &Ctx,
    token_secret: impl FnOnce(&str) -> Option<String>,
    needs_token: bool,
) -> Result<VerifiedRequest, Box<TestResponse>> {
    let host = req.header("host").unwrap_or("127.0.0.1");
    let uri = match req.raw_query.as_deref() {
        Some(q) => format!("http://{host}{}?{q}", req.path),
        None => format!("http://{host}{}", req.path),
    };
    let uri: http::Uri = uri
        .parse()
        .map_err(|_| problem("parameter_rejected", &[]))?;
    let authorization = req.header("authorization").ok_or_else(|| {
        problem(
            "parameter_absent",
            &[("oauth_parameters_absent", "oauth_signature")],
        )
    })?;
    let config = &ctx.config;
    let mut consumer_known = true;
    let outcome = ctx.verifier.verify(
        &IncomingRequest {
            method: req.method.as_str(),
            uri: &uri,
            content_type: req.header("content-type"),
            body: &req.body,
            authorization,
        },
        |consumer, token| {
            if !constant_time_eq(consumer.as_bytes(), config.consumer_key.as_bytes()) {
                consumer_known = false;
                return None;
            }
            let token_secret = match (token, needs_token) {
                (Some(t), true) => Some(SecretString::from(token_secret(t)?)),
                (None, false) => None,
                _ => return None,
            };
            Some(VerifyingKey::Shared {
                consumer_secret: SecretString::from(config.consumer_secret.clone()),
                token_secret,
            })
        },
    );
    match outcome {
        Ok(v) => Ok(v),
        Err(OAuth1Error::UnknownCredentials) if !consumer_known => {
            Err(Box::new(problem("consumer_key_unknown", &[])))
        }
        Err(e) => Err(Box::new(problem_for(&e))),
    }
}

fn random_token(prefix: &str, n: u64) -> String {
    format!("{prefix}{n}-{:016x}", rand::random::<u64>())
}

fn temporary(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let verified = match verify(req, ctx, |_| None, false) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let callback = verified.callback;
    if callback.is_none() && ctx.config.require_callback {
        return problem(
            "parameter_absent",
            &[("oauth_parameters_absent", "oauth_callback")],
        );
    }
    let mut state = lock(&ctx.state);
    state.next += 1;
    let token = random_token("tmp", state.next);
    let secret = random_token("tmps", state.next);
    state.temporary.insert(
        token.clone(),
        Temporary {
            secret: secret.clone(),
            callback,
            verifier: None,
            expires: ctx.clock.now() + ctx.config.temporary_lifetime,
            used: false,
        },
    );
    let mut pairs = vec![
        ("oauth_token", token.as_str()),
        ("oauth_token_secret", secret.as_str()),
    ];
    if ctx.config.confirm_callback {
        pairs.push(("oauth_callback_confirmed", "true"));
    }
    TestResponse::form(StatusCode::OK, &pairs)
}

/// The simulated user signs in and approves: a verifier is issued and the browser is
/// sent to the callback (or shown the verifier for `oob`).
fn authorize(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let Some(token) = ctx
        .config
        .authorize_token_params
        .iter()
        .find_map(|name| req.query(name))
    else {
        return TestResponse::html(
            StatusCode::BAD_REQUEST,
            format!(
                "<html><body>Missing {}</body></html>",
                ctx.config.authorize_token_params.join(" or ")
            ),
        );
    };
    let mut state = lock(&ctx.state);
    let now = ctx.clock.now();
    let Some(temp) = state
        .temporary
        .get_mut(&token)
        .filter(|t| !t.used && now < t.expires)
    else {
        return TestResponse::html(
            StatusCode::BAD_REQUEST,
            "<html><body>This link has expired</body></html>",
        );
    };
    let verifier = format!("v{:016x}", rand::random::<u64>());
    temp.verifier = Some(verifier.clone());
    let callback = ctx
        .config
        .authorize_callback_param
        .as_deref()
        .and_then(|p| req.query(p))
        .or_else(|| temp.callback.clone())
        .unwrap_or_else(|| "oob".to_owned());
    if callback == "oob" {
        return TestResponse::text(
            StatusCode::OK,
            format!("oauth_token={token}&oauth_verifier={verifier}"),
        );
    }
    let Ok(mut url) = url::Url::parse(&callback) else {
        return TestResponse::html(
            StatusCode::BAD_REQUEST,
            "<html><body>Bad callback</body></html>",
        );
    };
    url.query_pairs_mut()
        .append_pair("oauth_token", &token)
        .append_pair("oauth_verifier", &verifier);
    TestResponse::redirect(url.as_str())
}

fn token(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let state_ref = &ctx.state;
    let verified = match verify(
        req,
        ctx,
        |t| {
            lock(state_ref)
                .temporary
                .get(t)
                .map(|temp| temp.secret.clone())
        },
        true,
    ) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut state = lock(&ctx.state);
    let now = ctx.clock.now();
    let Some(token) = verified.token else {
        return problem(
            "parameter_absent",
            &[("oauth_parameters_absent", "oauth_token")],
        );
    };
    let Some(temp) = state.temporary.get_mut(&token) else {
        return problem("token_rejected", &[]);
    };
    if temp.used {
        return problem("token_used", &[]);
    }
    if now >= temp.expires {
        return problem("token_expired", &[]);
    }
    let verifier_ok = match (&temp.verifier, &verified.verifier) {
        (Some(expected), Some(given)) => constant_time_eq(expected.as_bytes(), given.as_bytes()),
        // Authorized by the user, and this server does not insist on the verifier.
        (Some(_), None) => !ctx.config.require_verifier,
        _ => false,
    };
    if !verifier_ok {
        return problem(
            "parameter_rejected",
            &[("oauth_parameters_rejected", "oauth_verifier")],
        );
    }
    // The temporary credentials are spent as soon as they are exchanged.
    temp.used = true;
    state.next += 1;
    let access = random_token("acc", state.next);
    let secret = random_token("accs", state.next);
    state.access.insert(
        access.clone(),
        Access {
            secret: secret.clone(),
            expires: ctx.config.access_lifetime.map(|l| now + l),
        },
    );
    TestResponse::form(
        StatusCode::OK,
        &[("oauth_token", &access), ("oauth_token_secret", &secret)],
    )
}

fn resource(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let state_ref = &ctx.state;
    let verified = match verify(
        req,
        ctx,
        |t| lock(state_ref).access.get(t).map(|a| a.secret.clone()),
        true,
    ) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let expired = verified
        .token
        .as_deref()
        .and_then(|t| lock(&ctx.state).access.get(t).and_then(|a| a.expires))
        .is_some_and(|e| ctx.clock.now() >= e);
    if expired {
        return problem("token_expired", &[]);
    }
    let body =
        ctx.config.resource_body.clone().unwrap_or_else(
            || serde_json::json!({ "ok": true, "consumer": verified.consumer_key }),
        );
    TestResponse::json(StatusCode::OK, &body)
}
