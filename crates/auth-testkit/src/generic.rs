//! A generic OAuth 2.0 client-credentials server ([`GenericTokenServer`]) with a
//! protected resource, and the minimal [`GenericTokenSource`] that talks to it: enough
//! to exercise the core caching provider over real HTTP before any vendor exists.
//! (`auth-oauth2` is the complete client.)

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use auth_core::http::HttpClient;
use auth_core::http::HttpPolicy;
use auth_core::internal::constant_time_eq;
use auth_core::{Clock, Error, ExposeSecret, SecretString, Token, TokenSource};
use http::{Method, StatusCode};
use serde::Deserialize;
use url::Url;

use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/oauth/token";
/// Path of the protected resource.
pub const RESOURCE_PATH: &str = "/resource";

/// A client-credentials token server. Clients authenticate with HTTP Basic or with
/// `client_id` and `client_secret` in the form body; tokens live for the configured
/// lifetime by the shared clock; `GET /resource` wants a live bearer token.
#[derive(Debug)]
pub struct GenericTokenServer {
    server: TestServer,
    state: Arc<Mutex<IssuedTokens>>,
}

#[derive(Default)]
struct IssuedTokens {
    next: u64,
    live: HashMap<String, SystemTime>,
}

impl fmt::Debug for IssuedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedTokens")
            .field("issued", &self.next)
            .finish()
    }
}

impl GenericTokenServer {
    /// Starts a server for one client.
    pub fn start(
        clock: Arc<dyn Clock>,
        client_id: &str,
        client_secret: &str,
        lifetime: Duration,
    ) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(IssuedTokens::default()));
        let (id, secret) = (client_id.to_owned(), client_secret.to_owned());
        let token_state = Arc::clone(&state);
        let token_clock = Arc::clone(&clock);
        let resource_state = Arc::clone(&state);
        let server = ServerBuilder::new("generic-oauth2")
            .route(Method::POST, TOKEN_PATH, move |req| {
                issue(req, &id, &secret, lifetime, &*token_clock, &token_state)
            })
            .route(Method::GET, RESOURCE_PATH, move |req| {
                resource(req, &*clock, &resource_state)
            })
            .start()?;
        Ok(Self { server, state })
    }

    /// The token endpoint.
    pub fn token_url(&self) -> Url {
        self.server.url(TOKEN_PATH)
    }

    /// The protected resource.
    pub fn resource_url(&self) -> Url {
        self.server.url(RESOURCE_PATH)
    }

    /// The server, for counters and faults.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// Tokens issued so far.
    pub fn issued(&self) -> u64 {
        self.lock().next
    }

    /// Revokes every token issued so far (the resource answers 401 to them).
    pub fn revoke_all(&self) {
        self.lock().live.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, IssuedTokens> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn issue(
    req: &TestRequest,
    client_id: &str,
    client_secret: &str,
    lifetime: Duration,
    clock: &dyn Clock,
    state: &Mutex<IssuedTokens>,
) -> TestResponse {
    if !req.content_type_is("application/x-www-form-urlencoded") {
        return TestResponse::oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "form body required",
        );
    }
    if req.form("grant_type").as_deref() != Some("client_credentials") {
        return TestResponse::oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials",
        );
    }
    let presented = req
        .basic_auth()
        .or_else(|| Some((req.form("client_id")?, req.form("client_secret")?)));
    let authenticated = presented.is_some_and(|(id, secret)| {
        constant_time_eq(id.as_bytes(), client_id.as_bytes())
            & constant_time_eq(secret.as_bytes(), client_secret.as_bytes())
    });
    if !authenticated {
        return TestResponse::oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        )
        .with_header("www-authenticate", "Basic realm=\"generic\"");
    }
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    state.next += 1;
    let token = format!("gen-{}-{:016x}", state.next, rand::random::<u64>());
    state.live.insert(token.clone(), clock.now() + lifetime);
    TestResponse::json(
        StatusCode::OK,
        &serde_json::json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": lifetime.as_secs(),
        }),
    )
    .with_header("cache-control", "no-store")
}

fn resource(req: &TestRequest, clock: &dyn Clock, state: &Mutex<IssuedTokens>) -> TestResponse {
    let state = state.lock().unwrap_or_else(|p| p.into_inner());
    let live = req
        .bearer()
        .and_then(|t| state.live.get(t))
        .is_some_and(|expiry| clock.now() < *expiry);
    if live {
        TestResponse::json(StatusCode::OK, &serde_json::json!({ "ok": true }))
    } else {
        TestResponse::text(StatusCode::UNAUTHORIZED, "invalid token")
            .with_header("www-authenticate", "Bearer error=\"invalid_token\"")
    }
}

/// Fetches client-credentials tokens from a [`GenericTokenServer`] (HTTP Basic).
pub struct GenericTokenSource {
    http: HttpClient,
    token_url: Url,
    client_id: String,
    client_secret: SecretString,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for GenericTokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GenericTokenSource")
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .finish()
    }
}

impl GenericTokenSource {
    /// A source for `token_url` with the given policy and clock.
    pub fn new(
        policy: HttpPolicy,
        token_url: Url,
        client_id: &str,
        client_secret: SecretString,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let http = HttpClient::with_policy(policy)?;
        http.check_url(&token_url)?;
        Ok(Self {
            http,
            token_url,
            client_id: client_id.to_owned(),
            client_secret,
            clock,
        })
    }
}

#[derive(Deserialize)]
struct Wire {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[async_trait]
impl TokenSource for GenericTokenSource {
    fn grant(&self) -> &'static str {
        "client_credentials"
    }

    async fn fetch(&self, _previous: Option<&Token>) -> Result<Token, Error> {
        use base64::Engine as _;
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            self.client_id,
            self.client_secret.expose_secret()
        ));
        let request = http::Request::post(self.token_url.as_str())
            .header("authorization", format!("Basic {credentials}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(bytes::Bytes::from_static(b"grant_type=client_credentials"))
            .map_err(|e| Error::Request(format!("cannot build the request: {e}")))?;
        // client_credentials spends nothing: repeated after a 5xx or 429 like a read.
        let response = self
            .http
            .send_as(request, auth_core::http::Repeat::Safe)
            .await?
            .error_for_status()?;
        let wire: Wire = response.json()?;
        let mut token = Token::new(
            wire.token_type.unwrap_or_else(|| "Bearer".into()),
            wire.access_token,
            self.clock.now(),
        );
        if let Some(secs) = wire.expires_in {
            token = token.expires_in(Duration::from_secs(secs));
        }
        Ok(token)
    }
}
