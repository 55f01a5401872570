//! BeProduct's two servers, on loopback, as its document (`../shared/vendor-docs/
//! 002_575778697db5374a.txt`, cited by line below) describes them where it is exact,
//! and as we assume where it is silent. A client that passes here has only shown that
//! it shares our reading: the lists below say which parts are the document's.
//!
//! **The identity server** (an [`AuthServer`] in IdentityServer's layout under `/ids`).
//!
//! - Documented: the authorization code grant (l. 37 "BeProduct uses OAuth 2.0's
//!   authorization code grant flow"); `GET /ids/connect/authorize` with `client_id`,
//!   `scope=openid email roles beproductDeveloper`, `response_type=id_token token`,
//!   `redirect_uri`, `state`, `nonce` (l. 56); `POST /ids/connect/token` with
//!   `grant_type=authorization_code`, `code`, `redirect_uri` (l. 62-67); `GET
//!   /ids/connect/userinfo` with `Authorization: Bearer` answering `sub`,
//!   `preferred_username`, `email`, `email_verified` as the string `"true"` and a
//!   `userinfo` member (l. 73-88); the logout endpoint with `id_token_hint` and
//!   `post_logout_redirect_uri` (l. 92-98, printed there as
//!   `https://id.winks.io/ids//connect/endsession`; served here at
//!   `/ids/connect/endsession`, the single-slash path of the other three).
//! - Assumed: the discovery document (`/ids/.well-known/openid-configuration`) and
//!   the keys (`/ids/.well-known/jwks`), which the document never locates; the
//!   issuer (the identity URL unless [`Account::issuer_path`] says otherwise); the
//!   code flow's PKCE; client authentication by HTTP Basic (or the form body, see
//!   [`Account::client_auth`]) where the document's token example shows
//!   `Authorization: Bearer <access_token>` (l. 63), which no client has before its
//!   first token; one-hour access tokens, rotating refresh tokens, and a refresh token
//!   only when the granted scope includes `offline_access` (IdentityServer's rule; the
//!   document names no refresh token at all); `invalid_client` / `invalid_grant`
//!   answers (RFC 6749 §5.2).
//!
//! **The REST API** (`/api/v1`).
//!
//! - Documented: the base `https://*developers.beproduct.com/api/v1` (l. 109);
//!   every request carries the token in the `Authorization` header or the
//!   `access_token` parameter (l. 11); the token needs one of the method's scopes
//!   (l. 19; here `beproductDeveloper`, the only API-looking scope of l. 56); answers
//!   are JSON with the entity type in `kind` and the entities in `data` (l. 19); "the
//!   client can pass an additional parameter in the request, which also will be
//!   included in the response" (l. 19); the daily limits, per organization (l. 117-118).
//! - Assumed (the document's "API Methods" section, l. 102-110, names no method):
//!   `GET /api/v1/{kind}` pages records with `pageSize` and `pageNumber` from 0
//!   ([`Account::paging`] renames them), serving any page size asked (the document's
//!   200 per read, l. 121, is advice to the client, "To optimize your API usage");
//!   `GET /api/v1/{kind}/{id}` answers one record bare, without `kind` or `data`, in
//!   the shape of the document's one example (l. 22-27); `POST /api/v1/{kind}`
//!   writes `{"data": [...]}` or a bare array, any number of records (100 per write,
//!   l. 121, is advice too); the additional parameter is any query parameter other
//!   than the token and the paging parameters, echoed as a top-level member of the
//!   answer (the document names neither the parameter nor where it comes back);
//!   refusals as JSON `{"message": ...}` with 401, 403 and 400.
//! - The daily limit: the document's rule (l. 117-118) and its example (l. 122)
//!   disagree (10 Business licenses: the rule's "whichever is lower" gives 2,000,
//!   the example 2,500). The server counts every REST call of the organization per
//!   UTC day (the day's boundary is not documented) and enforces the rule as written
//!   by default ([`Account::daily_limit`]); [`Account::limit`] sets another reading.
//!   Past it: 429 with `Retry-After` (the document says only "your additional API
//!   requests will not be processed", l. 123).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use auth_core::{Clock, SystemClock, unix_seconds};
use http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use crate::oauth2::{
    AccessChecker, AuthServer, AuthServerConfig, ClientAuthMethod, Endpoints, RegisteredClient,
    TestUser,
};
use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// The identity server's path: its URL is the base URL plus this.
pub const IDENTITY_PATH: &str = "/ids";
/// The REST API's path.
pub const API_PATH: &str = "/api/v1";
/// Records of one kind (our assumption, see the module docs): `GET` pages, `POST`
/// writes.
pub const RECORDS_PATH: &str = "/api/v1/{kind}";
/// One record, answered bare (our assumption, in the document's example shape).
pub const RECORD_PATH: &str = "/api/v1/{kind}/{id}";
/// The scope REST calls need.
pub const API_SCOPE: &str = "beproductDeveloper";
/// The scope without which the identity server issues no refresh token.
pub const OFFLINE_SCOPE: &str = "offline_access";
/// The user who signs in.
pub const USER: &str = "john.smith";

/// A BeProduct edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    /// Business: "2000 request/day/organization or 250 request /user license
    /// whichever is lower" (l. 117).
    Business,
    /// Enterprise: "25000 requests/day/organization or 500 requests /user license
    /// whichever is lower" (l. 118).
    Enterprise,
}

/// The organization the servers host and its registered clients: the servers'
/// configuration.
#[derive(Debug, Clone)]
pub struct Account {
    /// Client ID.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// More clients of the same organization (ID, secret): they share its quota.
    pub other_clients: Vec<(String, String)>,
    /// How the clients authenticate at the token endpoint (default Basic).
    pub client_auth: ClientAuthMethod,
    /// Edition.
    pub edition: Edition,
    /// User licenses.
    pub licenses: u32,
    /// The daily limit the REST API enforces (`None`: the rule as written).
    pub limit: Option<u64>,
    /// The issuer's path, when it is not [`IDENTITY_PATH`] (an issuer string that
    /// differs from the identity URL).
    pub issuer_path: Option<String>,
    /// The names of the page size and page number parameters (default `pageSize`,
    /// `pageNumber`).
    pub paging: (String, String),
    /// The servers' clock: tokens' lifetimes and the quota's day (default: the
    /// system clock).
    pub clock: Arc<dyn Clock>,
}

impl Account {
    /// The client `client_id` with `client_secret`, of an organization with
    /// `licenses` user licenses of `edition`; the system clock.
    pub fn new(client_id: &str, client_secret: &str, edition: Edition, licenses: u32) -> Self {
        Self {
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            other_clients: Vec::new(),
            client_auth: ClientAuthMethod::Basic,
            edition,
            licenses,
            limit: None,
            issuer_path: None,
            paging: ("pageSize".into(), "pageNumber".into()),
            clock: Arc::new(SystemClock),
        }
    }

    /// Another clock (a `ManualClock`, to move the day along).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Another client of the same organization.
    #[must_use]
    pub fn also_client(mut self, client_id: &str, client_secret: &str) -> Self {
        self.other_clients
            .push((client_id.to_owned(), client_secret.to_owned()));
        self
    }

    /// How the clients must authenticate at the token endpoint.
    #[must_use]
    pub fn client_auth(mut self, auth: ClientAuthMethod) -> Self {
        self.client_auth = auth;
        self
    }

    /// Enforces `limit` requests a day instead of the rule as written (for the
    /// example's reading, 2,500 for 10 Business licenses).
    #[must_use]
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Issues ID tokens with the issuer `{base}{path}` instead of the identity URL.
    #[must_use]
    pub fn issuer_path(mut self, path: &str) -> Self {
        self.issuer_path = Some(path.to_owned());
        self
    }

    /// Other names for the page size and page number parameters.
    #[must_use]
    pub fn paging(mut self, size: &str, number: &str) -> Self {
        self.paging = (size.to_owned(), number.to_owned());
        self
    }

    /// The daily request limit the REST API enforces: [`limit`](Self::limit), or
    /// the document's rule as written, "whichever is lower" (l. 117-118).
    pub fn daily_limit(&self) -> u64 {
        if let Some(limit) = self.limit {
            return limit;
        }
        let (cap, per_license) = match self.edition {
            Edition::Business => (2_000, 250),
            Edition::Enterprise => (25_000, 500),
        };
        (per_license * u64::from(self.licenses)).min(cap)
    }
}

#[derive(Debug, Default)]
struct Store {
    day: u64,
    used_today: u64,
    next_id: u64,
    records: HashMap<String, Vec<Value>>,
}

/// A running BeProduct: identity server and REST API.
#[derive(Debug)]
pub struct BeProductServer {
    identity: AuthServer,
    identity_url: String,
    api: TestServer,
    account: Account,
    store: Arc<Mutex<Store>>,
}

fn locked(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

impl BeProductServer {
    /// Starts both servers for `account`; the user [`USER`] signs in. They are at
    /// [`identity_url`](Self::identity_url) and [`api_url`](Self::api_url).
    pub fn start(account: Account) -> std::io::Result<Self> {
        let clock = Arc::clone(&account.clock);
        let mut config = AuthServerConfig::new(&account.client_id, &account.client_secret)
            .clock(Arc::clone(&clock));
        for client in &mut config.clients {
            client.auth = account.client_auth;
        }
        for (id, secret) in &account.other_clients {
            config.clients.push(RegisteredClient {
                id: id.clone(),
                secret: secret.clone(),
                auth: account.client_auth,
                resources: Vec::new(),
            });
        }
        config.paths = Endpoints::identity_server(IDENTITY_PATH);
        if let Some(issuer) = &account.issuer_path {
            config.paths.issuer = issuer.clone();
        }
        config.refresh_scope = Some(OFFLINE_SCOPE.into());
        config.users = vec![TestUser {
            username: USER.into(),
            password: "not used".into(),
            email: "john.smith@beproduct.com".into(),
        }];
        let mut extra = Map::new();
        extra.insert("email_verified".into(), Value::from("true"));
        extra.insert(
            "userinfo".into(),
            json!({ "id": "1", "firstname": "John", "lastname": "Smith" }),
        );
        config.userinfo_extra.insert(USER.into(), extra);
        let identity = AuthServer::start(config)?;

        let store = Arc::new(Mutex::new(Store::default()));
        let api = Api {
            tokens: identity.access_checker(),
            limit: account.daily_limit(),
            paging: account.paging.clone(),
            clock,
            store: Arc::clone(&store),
        };
        let (read, one, write) = (api.clone(), api.clone(), api);
        let api = ServerBuilder::new("beproduct-api")
            .route(Method::GET, RECORDS_PATH, move |r| read.read(r))
            .route(Method::GET, RECORD_PATH, move |r| one.read_one(r))
            .route(Method::POST, RECORDS_PATH, move |r| write.write(r))
            .start()?;
        let identity_url = identity
            .server()
            .url(IDENTITY_PATH)
            .as_str()
            .trim_end_matches('/')
            .to_owned();
        Ok(Self {
            identity,
            identity_url,
            api,
            account,
            store,
        })
    }

    /// The identity server's URL (in production `https://id.winks.io/ids`, l. 108),
    /// for `BeProductConfig::with_identity_url`. BeProduct has two servers, so there
    /// are two base URLs and no single `base_url`.
    pub fn identity_url(&self) -> &str {
        &self.identity_url
    }

    /// The issuer of its ID tokens: the identity URL unless
    /// [`Account::issuer_path`] set another.
    pub fn issuer(&self) -> &str {
        self.identity.issuer()
    }

    /// The URL of one of the identity server's endpoints (`|e| &e.jwks`).
    pub fn identity_endpoint(&self, path: impl FnOnce(&Endpoints) -> &str) -> Url {
        self.identity.endpoint(path)
    }

    /// The REST API's base URL (in production
    /// `https://developers.beproduct.com/api/v1/`), for `BeProductConfig::with_api_url`.
    pub fn api_url(&self) -> Url {
        self.api.url(&format!("{API_PATH}/"))
    }

    /// The identity server, for counters and faults.
    pub fn identity(&self) -> &TestServer {
        self.identity.server()
    }

    /// The identity server's endpoints.
    pub fn auth_server(&self) -> &AuthServer {
        &self.identity
    }

    /// The REST API, for counters and faults.
    pub fn api(&self) -> &TestServer {
        &self.api
    }

    /// The organization and client.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// REST calls counted against today's limit.
    pub fn used_today(&self) -> u64 {
        locked(&self.store).used_today
    }

    /// Adds `count` records of `kind`.
    pub fn seed(&self, kind: &str, count: usize) {
        let mut store = locked(&self.store);
        for _ in 0..count {
            store.next_id += 1;
            let id = store.next_id;
            store
                .records
                .entry(kind.to_owned())
                .or_default()
                .push(json!({ "id": id.to_string(), "name": format!("{kind} {id}") }));
        }
    }

    /// Adds `record` to `kind` as given (its `id` is the one `GET {kind}/{id}` finds).
    pub fn put(&self, kind: &str, record: Value) {
        locked(&self.store)
            .records
            .entry(kind.to_owned())
            .or_default()
            .push(record);
    }

    /// The records of `kind`.
    pub fn records(&self, kind: &str) -> Vec<Value> {
        locked(&self.store)
            .records
            .get(kind)
            .cloned()
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
struct Api {
    tokens: AccessChecker,
    limit: u64,
    paging: (String, String),
    clock: Arc<dyn Clock>,
    store: Arc<Mutex<Store>>,
}

fn refusal(status: StatusCode, message: &str) -> TestResponse {
    TestResponse::json(status, &json!({ "message": message }))
}

impl Api {
    /// Authenticates and counts the call; the store for the handler, or the refusal.
    fn admit(&self, req: &TestRequest) -> Result<MutexGuard<'_, Store>, Box<TestResponse>> {
        let grant = match req.query("access_token") {
            Some(token) if req.bearer().is_none() => {
                self.tokens.check_token(&token).ok_or_else(|| {
                    Box::new(refusal(StatusCode::UNAUTHORIZED, "invalid access_token"))
                })?
            }
            _ => self.tokens.check(req)?,
        };
        let scoped = grant
            .scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|s| s == API_SCOPE));
        if !scoped {
            return Err(Box::new(refusal(
                StatusCode::FORBIDDEN,
                "the token lacks the beproductDeveloper scope",
            )));
        }
        let mut store = locked(&self.store);
        let day = unix_seconds(self.clock.now()) / 86_400;
        if store.day != day {
            store.day = day;
            store.used_today = 0;
        }
        if store.used_today >= self.limit {
            let until_tomorrow = (day + 1) * 86_400 - unix_seconds(self.clock.now());
            return Err(Box::new(
                refusal(
                    StatusCode::TOO_MANY_REQUESTS,
                    "the organization's daily API limit is reached",
                )
                .with_header("retry-after", &until_tomorrow.to_string()),
            ));
        }
        store.used_today += 1;
        Ok(store)
    }

    /// The additional parameters of the request (neither the token nor paging),
    /// echoed into `answer`.
    fn echo(&self, req: &TestRequest, answer: &mut Map<String, Value>) {
        for (name, value) in req.query_pairs() {
            if name != "access_token" && name != self.paging.0 && name != self.paging.1 {
                answer.insert(name, Value::from(value));
            }
        }
    }

    fn read(&self, req: &TestRequest) -> TestResponse {
        let store = match self.admit(req) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        let number = |name: &str, default: usize| match req.query(name) {
            None => Some(default),
            Some(v) => v.parse::<usize>().ok(),
        };
        let (Some(size), Some(page)) = (number(&self.paging.0, 20), number(&self.paging.1, 0))
        else {
            return refusal(StatusCode::BAD_REQUEST, "the paging parameters are numbers");
        };
        if size == 0 {
            return refusal(StatusCode::BAD_REQUEST, "the page size is at least 1");
        }
        let kind = req.param("kind").unwrap_or_default();
        let all = store
            .records
            .get(kind)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let data: Vec<Value> = all
            .iter()
            .skip(page.saturating_mul(size))
            .take(size)
            .cloned()
            .collect();
        let mut answer = Map::new();
        self.echo(req, &mut answer);
        answer.insert("kind".into(), Value::from(kind));
        answer.insert("data".into(), Value::from(data));
        TestResponse::json(StatusCode::OK, &Value::Object(answer))
    }

    fn read_one(&self, req: &TestRequest) -> TestResponse {
        let store = match self.admit(req) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        let (kind, id) = (
            req.param("kind").unwrap_or_default(),
            req.param("id").unwrap_or_default(),
        );
        let found = store
            .records
            .get(kind)
            .and_then(|all| all.iter().find(|r| r["id"] == id))
            .cloned();
        match found {
            Some(Value::Object(mut record)) => {
                self.echo(req, &mut record);
                TestResponse::json(StatusCode::OK, &Value::Object(record))
            }
            _ => refusal(StatusCode::NOT_FOUND, "no such record"),
        }
    }

    fn write(&self, req: &TestRequest) -> TestResponse {
        let mut store = match self.admit(req) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        if !req.content_type_is("application/json") {
            return refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send application/json");
        }
        let records = match req.json::<Value>() {
            Some(Value::Array(records)) => records,
            Some(Value::Object(mut body)) => match body.remove("data") {
                Some(Value::Array(records)) => records,
                _ => Vec::new(),
            },
            _ => Vec::new(),
        };
        if records.is_empty() {
            return refusal(
                StatusCode::BAD_REQUEST,
                "the body must be {\"data\": [...]} or [...], with at least one record",
            );
        }
        let kind = req.param("kind").unwrap_or_default().to_owned();
        let mut written = Vec::with_capacity(records.len());
        for mut record in records {
            store.next_id += 1;
            if let Value::Object(map) = &mut record {
                map.insert("id".into(), Value::from(store.next_id.to_string()));
            }
            written.push(record);
        }
        store
            .records
            .entry(kind.clone())
            .or_default()
            .extend(written.iter().cloned());
        let mut answer = Map::new();
        self.echo(req, &mut answer);
        answer.insert("kind".into(), Value::from(kind));
        answer.insert("data".into(), Value::from(written));
        TestResponse::json(StatusCode::OK, &Value::Object(answer))
    }
}
