//! bookingtime as its developer documentation (`vendor-docs/004_c9fbee28ab304842.txt`)
//! describes it, on two servers as in production, plus the authorization endpoint.
//!
//! What the document specifies, and this server follows:
//!
//! - lines 43-50: "a POST request to the oauth/token endpoint" with `grant_type=
//!   client_credentials`, `client_id`, `client_secret` (form parameters, `curl -d`) at
//!   `https://auth.bookingtime.com/oauth/token`: `POST /oauth/token`;
//! - lines 15-20, 52-56: it answers with only a refresh token, `"token_type":
//!   "Bearer"`, `"expires_in": 2592000` (30 days);
//! - lines 58-66: the exchange sends `grant_type=refresh_token`, `client_id`,
//!   `refresh_token` and `organization_id`, and no secret; lines 68-74: it answers
//!   with an access token, `"expires_in": 300`, "valid for 5 minutes";
//! - line 38: Module API clients send no client secret, or an empty one;
//! - lines 26, 76-77: `GET /app/v3/{locale}/organization/{id}/show` with
//!   `Authorization: Bearer …`, answered as lines 79-92 show; lines 97-108:
//!   `POST /app/v3/{locale}/organization/{id}/customer/add` with a JSON body
//!   `{"firstName","lastName"}`, answered as lines 101-108 show;
//! - line 14: user authentication "Using the Authorization Code Flow", whose code
//!   is exchanged at the same `oauth/token` (line 15: it "responds first with an
//!   refresh token").
//!
//! What this server assumes, the document being silent:
//!
//! - the authorization endpoint: the document gives no URL; it is `GET
//!   /oauth/authorize` here, served apart from the token endpoint (the crate takes
//!   its URL as an argument). It is a plain OAuth 2.0 authorization endpoint (RFC
//!   6749 §4.1), since the document names the Authorization Code Flow and nothing of
//!   OpenID Connect: a `scope` with `openid` is answered with `error=invalid_scope`
//!   (RFC 6749 §4.1.2.1), unless [`BookingtimeServerConfig::openid_connect`] is on;
//!   `nonce` is ignored, as RFC 6749 §3.1 has a server ignore unknown parameters.
//!   The simulated user `alice` consents at once; PKCE (S256) is checked when sent;
//! - a refused organization is answered `invalid_target` (RFC 8707), a refused
//!   refresh token `invalid_grant`, a wrong client `invalid_client` (RFC 6749 §5.2);
//! - refresh tokens do not rotate: the exchange's answer (lines 68-72) carries no
//!   new one;
//! - a token for another organization gets 403, an unknown organization or locale
//!   404, the API's refusals `{"status","message"}` (the document shows none);
//! - access tokens are JWTs (line 26: "These tokens are a JSON Web Tokens").
//!
//! The authorization server is the [`AuthServer`] configured that way, with the
//! authorization endpoint in front of its own.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::{Clock, SystemClock};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use url::Url;

use crate::oauth2::{
    AccessChecker, AuthServer, AuthServerConfig, ClientAuthMethod, Endpoints, RegisteredClient,
    consent,
};
use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// The token endpoint, on the authorization server.
pub const TOKEN_PATH: &str = "/oauth/token";
/// The authorization endpoint (user authentication), on the authorization server.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Show an organization, on the API server.
pub const SHOW_ORGANIZATION_PATH: &str = "/app/v3/{locale}/organization/{organizationId}/show";
/// Add a customer, on the API server.
pub const ADD_CUSTOMER_PATH: &str = "/app/v3/{locale}/organization/{organizationId}/customer/add";
/// Access tokens live 5 minutes.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(300);
/// Refresh tokens live 30 days.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A registered app or module and the organizations it may access.
#[derive(Debug, Clone)]
pub struct App {
    /// Client ID.
    pub client_id: String,
    /// Client secret; empty for a Module API client.
    pub client_secret: String,
    /// Organization IDs it may access.
    pub organizations: Vec<String>,
}

impl App {
    /// An App API client with a secret.
    pub fn new(client_id: &str, client_secret: &str, organizations: &[&str]) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            organizations: organizations.iter().map(|o| (*o).to_owned()).collect(),
        }
    }

    /// A Module API client: no secret.
    pub fn module(client_id: &str, organizations: &[&str]) -> Self {
        Self::new(client_id, "", organizations)
    }
}

/// What a [`BookingtimeServer`] knows: the registered apps and modules, and its clock.
#[derive(Debug, Clone)]
pub struct BookingtimeServerConfig {
    /// Registered apps and modules.
    pub apps: Vec<App>,
    /// The clock tokens are issued by (default: the system clock).
    pub clock: Arc<dyn Clock>,
    /// Whether the authorization endpoint takes OpenID Connect's `openid` scope
    /// (default: no, a plain OAuth 2.0 server answers it with `invalid_scope`).
    pub openid_connect: bool,
}

impl BookingtimeServerConfig {
    /// No apps yet, the system clock, a plain OAuth 2.0 authorization endpoint.
    pub fn new() -> Self {
        Self {
            apps: Vec::new(),
            clock: Arc::new(SystemClock),
            openid_connect: false,
        }
    }

    /// Whether the authorization endpoint takes the `openid` scope (default: no).
    #[must_use]
    pub fn openid_connect(mut self, on: bool) -> Self {
        self.openid_connect = on;
        self
    }

    /// With a registered app or module.
    #[must_use]
    pub fn app(mut self, app: App) -> Self {
        self.apps.push(app);
        self
    }

    /// With a clock (a [`ManualClock`](crate::ManualClock) to move time in a test).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

impl Default for BookingtimeServerConfig {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Default)]
struct Customers {
    next: u64,
    by_organization: HashMap<String, Vec<Value>>,
}

/// A running bookingtime: authorization server and App API.
#[derive(Debug)]
pub struct BookingtimeServer {
    auth: AuthServer,
    authorize: TestServer,
    api: TestServer,
    customers: Arc<Mutex<Customers>>,
}

impl BookingtimeServer {
    /// Starts both servers for `config`'s apps. Every organization an app names
    /// exists. The user who signs in at the authorization endpoint is `alice`.
    pub fn start(config: BookingtimeServerConfig) -> std::io::Result<Self> {
        let BookingtimeServerConfig {
            apps,
            clock,
            openid_connect,
        } = config;
        let mut config = AuthServerConfig::new("unused", "unused").clock(clock);
        config.clients = apps
            .iter()
            .map(|a| RegisteredClient {
                id: a.client_id.clone(),
                secret: a.client_secret.clone(),
                auth: if a.client_secret.is_empty() {
                    ClientAuthMethod::None
                } else {
                    ClientAuthMethod::FormBody
                },
                resources: a.organizations.clone(),
            })
            .collect();
        config.paths = Endpoints {
            authorize: AUTHORIZE_PATH.into(),
            token: TOKEN_PATH.into(),
            ..Endpoints::default()
        };
        config.style.refresh_first = true;
        config.rotate_refresh_tokens = false;
        config.access_lifetime = ACCESS_TOKEN_LIFETIME;
        config.refresh_lifetime = Some(REFRESH_TOKEN_LIFETIME);
        config.resource_parameter = Some("organization_id".into());
        config.refresh_with_client_id = true;
        config.jwt_access_tokens = true;
        let auth = AuthServer::start(config)?;
        let front = Authorize {
            inner: auth.endpoint(|e| &e.authorize),
            clients: apps.iter().map(|a| a.client_id.clone()).collect(),
            openid_connect,
        };
        let authorize = ServerBuilder::new("bookingtime-authorize")
            .route(Method::GET, AUTHORIZE_PATH, move |r| front.authorize(r))
            .start()?;

        let mut organizations: Vec<String> =
            apps.iter().flat_map(|a| a.organizations.clone()).collect();
        organizations.sort();
        organizations.dedup();
        let organizations = Arc::new(organizations);
        let customers = Arc::new(Mutex::new(Customers::default()));
        let api = Api {
            tokens: auth.access_checker(),
            organizations,
            customers: Arc::clone(&customers),
        };
        let (show, add) = (api.clone(), api);
        let api = ServerBuilder::new("bookingtime-api")
            .route(Method::GET, SHOW_ORGANIZATION_PATH, move |r| show.show(r))
            .route(Method::POST, ADD_CUSTOMER_PATH, move |r| {
                add.add_customer(r)
            })
            .start()?;
        Ok(Self {
            auth,
            authorize,
            api,
            customers,
        })
    }

    /// The authorization server's base URL (`https://auth.bookingtime.com/`).
    pub fn auth_url(&self) -> &Url {
        self.auth.server().base_url()
    }

    /// The authorization endpoint, for user authentication (the documentation gives
    /// no URL for it).
    pub fn authorize_url(&self) -> Url {
        self.authorize.url(AUTHORIZE_PATH)
    }

    /// The authorization endpoint's server, for counters and faults.
    pub fn authorization(&self) -> &TestServer {
        &self.authorize
    }

    /// The App API's base URL (`https://api.bookingtime.com/app/v3/`).
    pub fn api_url(&self) -> Url {
        self.api.url("/app/v3/")
    }

    /// The authorization server, for counters and faults.
    pub fn auth(&self) -> &TestServer {
        self.auth.server()
    }

    /// The API server, for counters and faults.
    pub fn api(&self) -> &TestServer {
        &self.api
    }

    /// Successful token requests by `grant_type`.
    pub fn grants(&self, grant_type: &str) -> u64 {
        self.auth.grants(grant_type)
    }

    /// Access tokens issued for `organization_id`.
    pub fn access_tokens_for(&self, organization_id: &str) -> u64 {
        self.auth.grants_for(organization_id)
    }

    /// Revokes every refresh token.
    pub fn revoke_refresh_tokens(&self) {
        self.auth.revoke_refresh_tokens();
    }

    /// The customers added to an organization.
    pub fn customers(&self, organization_id: &str) -> Vec<Value> {
        self.customers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_organization
            .get(organization_id)
            .cloned()
            .unwrap_or_default()
    }
}

/// The authorization endpoint: a plain OAuth 2.0 one unless told to take OpenID
/// Connect's `openid` scope; what it takes is handed to the [`AuthServer`]'s own
/// endpoint, whose redirect (with the code) it answers with.
#[derive(Debug)]
struct Authorize {
    inner: Url,
    clients: Vec<String>,
    openid_connect: bool,
}

impl Authorize {
    fn authorize(&self, req: &TestRequest) -> TestResponse {
        let known = req
            .query("client_id")
            .is_some_and(|id| self.clients.contains(&id));
        let Some(redirect_uri) = req.query("redirect_uri").and_then(|u| Url::parse(&u).ok()) else {
            return TestResponse::html(StatusCode::BAD_REQUEST, "Missing or invalid redirect_uri");
        };
        if !known {
            return TestResponse::html(StatusCode::BAD_REQUEST, "Unknown client");
        }
        let openid = req
            .query("scope")
            .is_some_and(|s| s.split(' ').any(|s| s == "openid"));
        if openid && !self.openid_connect {
            // RFC 6749 §4.1.2.1: the error goes back to the client's redirect URI.
            let mut back = redirect_uri;
            back.query_pairs_mut()
                .append_pair("error", "invalid_scope")
                .append_pair("error_description", "unknown scope: openid")
                .append_pair("state", &req.query("state").unwrap_or_default());
            return TestResponse::redirect(back.as_str());
        }
        let mut inner = self.inner.clone();
        inner.query_pairs_mut().extend_pairs(req.query_pairs());
        // The handler is synchronous: the hand-over runs on a thread of its own.
        let handed = std::thread::scope(|s| {
            s.spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())
                    .and_then(|rt| rt.block_on(consent(inner.as_str())))
            })
            .join()
        });
        match handed {
            Ok(Ok(location)) => TestResponse::redirect(location.as_str()),
            Ok(Err(e)) => TestResponse::html(StatusCode::BAD_GATEWAY, e),
            Err(_) => TestResponse::html(StatusCode::INTERNAL_SERVER_ERROR, "hand-over failed"),
        }
    }
}

#[derive(Debug, Clone)]
struct Api {
    tokens: AccessChecker,
    organizations: Arc<Vec<String>>,
    customers: Arc<Mutex<Customers>>,
}

fn problem(status: StatusCode, message: &str) -> TestResponse {
    TestResponse::json(
        status,
        &json!({ "status": status.as_u16(), "message": message }),
    )
}

impl Api {
    /// The organization of the path, if the request's token was issued for it.
    fn organization(&self, req: &TestRequest) -> Result<String, Box<TestResponse>> {
        let grant = self.tokens.check(req)?;
        let locale = req.param("locale").unwrap_or_default();
        if locale.len() != 2 || !locale.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Box::new(problem(StatusCode::NOT_FOUND, "unknown locale")));
        }
        let id = req.param("organizationId").unwrap_or_default();
        if !self.organizations.iter().any(|o| o == id) {
            return Err(Box::new(problem(
                StatusCode::NOT_FOUND,
                "unknown organization",
            )));
        }
        if grant.resource.as_deref() != Some(id) {
            return Err(Box::new(problem(
                StatusCode::FORBIDDEN,
                "the token is not for this organization",
            )));
        }
        Ok(id.to_owned())
    }

    fn show(&self, req: &TestRequest) -> TestResponse {
        let id = match self.organization(req) {
            Ok(id) => id,
            Err(r) => return *r,
        };
        let text = "This is an example text for more information about the entity.";
        TestResponse::json(
            StatusCode::OK,
            &json!({
                "class": "ORGANIZATION",
                "id": id,
                "customId": 123456,
                "timestampAdd": "3219-02-04T08:00:00.000Z",
                "timestampEdit": "3219-02-04T08:00:00.000Z",
                "name": format!("Organization {id}"),
                "rootOrganizationFlag": true,
                "description": { "value": text, "inheritance": "OFF", "result": text },
            }),
        )
    }

    fn add_customer(&self, req: &TestRequest) -> TestResponse {
        let organization = match self.organization(req) {
            Ok(id) => id,
            Err(r) => return *r,
        };
        if !req.content_type_is("application/json") {
            return problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send application/json");
        }
        let Some(Value::Object(body)) = req.json::<Value>() else {
            return problem(StatusCode::BAD_REQUEST, "the body is not a JSON object");
        };
        let name = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
                .map(str::to_owned)
        };
        let (Some(first), Some(last)) = (name("firstName"), name("lastName")) else {
            return problem(
                StatusCode::BAD_REQUEST,
                "firstName and lastName are required",
            );
        };
        let mut customers = self.customers.lock().unwrap_or_else(|p| p.into_inner());
        customers.next += 1;
        let customer = json!({
            "class": "CUSTOMER_SHORT",
            "id": format!("d3{:014x}", customers.next),
            "customId": "",
            "firstName": first,
            "lastName": last,
            "organizationId": organization,
        });
        customers
            .by_organization
            .entry(organization)
            .or_default()
            .push(customer.clone());
        TestResponse::json(StatusCode::OK, &customer)
    }
}
