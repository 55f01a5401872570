//! BeProduct as its API documentation describes it, on two servers as in production:
//!
//! - the identity server (`id.winks.io/ids`): an IdentityServer with discovery, keys,
//!   `connect/authorize` (a simulated sign-in and consent; `code` with PKCE, or
//!   `id_token token` into the fragment with `at_hash`), `connect/token`,
//!   `connect/userinfo` (with BeProduct's `userinfo` member and `email_verified` as
//!   the string `"true"`) and `connect/endsession`.
//! - the REST API (`developers.beproduct.com/api/v1`): `GET /api/v1/{kind}` pages
//!   records (`pageSize` at most 200, `pageNumber` from 0), `POST /api/v1/{kind}`
//!   writes `{"data": [...]}` (at most 100 records). Every call needs an access token
//!   with the `beproductDeveloper` scope, in the `Authorization` header or the
//!   `access_token` query parameter, and counts against the organization's daily
//!   limit (the lower of 2,000 and 250 per license on Business, of 25,000 and 500 per
//!   license on Enterprise, per UTC day); past it the answer is 429 with a
//!   `Retry-After` of the seconds left in the day.
//!
//! The identity server is the [`AuthServer`] configured that way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use auth_core::{Clock, SystemClock, unix_seconds};
use http::{Method, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use crate::oauth2::{AccessChecker, AuthServer, AuthServerConfig, Endpoints, TestUser};
use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// The identity server's path (the issuer is the base URL plus this).
pub const IDENTITY_PATH: &str = "/ids";
/// The REST API's path.
pub const API_PATH: &str = "/api/v1";
/// Records of one kind: `GET` pages, `POST` writes.
pub const RECORDS_PATH: &str = "/api/v1/{kind}";
/// The scope REST calls need.
pub const API_SCOPE: &str = "beproductDeveloper";
/// Most records per read.
pub const MAX_READ: usize = 200;
/// Most records per write.
pub const MAX_WRITE: usize = 100;
/// The user who signs in.
pub const USER: &str = "john.smith";

/// A BeProduct edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    /// Business: 2,000 a day or 250 per license, whichever is lower.
    Business,
    /// Enterprise: 25,000 a day or 500 per license, whichever is lower.
    Enterprise,
}

/// The organization the server hosts and its registered client: the servers'
/// configuration.
#[derive(Debug, Clone)]
pub struct Account {
    /// Client ID.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
    /// Edition.
    pub edition: Edition,
    /// User licenses.
    pub licenses: u32,
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
            edition,
            licenses,
            clock: Arc::new(SystemClock),
        }
    }

    /// Another clock (a `ManualClock`, to move the day along).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The daily request limit, as the documentation's rule says.
    pub fn daily_limit(&self) -> u64 {
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
        config.paths = Endpoints::identity_server(IDENTITY_PATH);
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
            clock,
            store: Arc::clone(&store),
        };
        let (read, write) = (api.clone(), api);
        let api = ServerBuilder::new("beproduct-api")
            .route(Method::GET, RECORDS_PATH, move |r| read.read(r))
            .route(Method::POST, RECORDS_PATH, move |r| write.write(r))
            .start()?;
        Ok(Self {
            identity,
            api,
            account,
            store,
        })
    }

    /// The identity server's base URL (in production `https://id.winks.io/ids`): the
    /// issuer, for `BeProductConfig::with_identity_url`. BeProduct has two servers, so
    /// there are two base URLs and no single `base_url`.
    pub fn identity_url(&self) -> &str {
        self.identity.issuer()
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

    fn read(&self, req: &TestRequest) -> TestResponse {
        let store = match self.admit(req) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        let number = |name: &str, default: usize| match req.query(name) {
            None => Some(default),
            Some(v) => v.parse::<usize>().ok(),
        };
        let (Some(size), Some(page)) = (number("pageSize", 20), number("pageNumber", 0)) else {
            return refusal(
                StatusCode::BAD_REQUEST,
                "pageSize and pageNumber are numbers",
            );
        };
        if size == 0 || size > MAX_READ {
            return refusal(
                StatusCode::BAD_REQUEST,
                "pageSize must be between 1 and 200",
            );
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
        TestResponse::json(
            StatusCode::OK,
            &json!({
                "kind": kind, "data": data, "total": all.len(),
                "pageSize": size, "pageNumber": page,
            }),
        )
    }

    fn write(&self, req: &TestRequest) -> TestResponse {
        let mut store = match self.admit(req) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        if !req.content_type_is("application/json") {
            return refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, "send application/json");
        }
        let Some(Value::Array(records)) = req
            .json::<Value>()
            .and_then(|mut v| v.get_mut("data").map(Value::take))
        else {
            return refusal(
                StatusCode::BAD_REQUEST,
                "the body must be {\"data\": [...]}",
            );
        };
        if records.is_empty() || records.len() > MAX_WRITE {
            return refusal(
                StatusCode::BAD_REQUEST,
                "write between 1 and 100 records per request",
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
        TestResponse::json(StatusCode::OK, &json!({ "kind": kind, "data": written }))
    }
}
