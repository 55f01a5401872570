//! `cargo xtask fleet-worker`: one process of a fleet sharing a Redis, for the
//! multi-process tests in `xtask/tests/fleet.rs` (they spawn several of these).
//!
//! The protocol, over stdin and stdout, keeps secrets off the command line:
//!
//! 1. the test writes one JSON line, a [`Scenario`];
//! 2. the worker sets it up (connects to Redis, signs in where the scenario needs a
//!    user) and prints `ready`;
//! 3. for every `round` line it runs one round of concurrent calls and prints one
//!    JSON [`Round`]; it exits when stdin closes.
//!
//! A round runs on a new provider over the process's long-lived store, as a token
//! that just came due does: nothing is cached in the process, so every caller
//! depends on the store (or on the process's own fetch when the store is away).

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufRead, Write};
use std::sync::Arc;
use std::time::Duration;

use auth_beproduct::{
    BeProduct, BeProductConfig, ClientId, Error as BeProductError, OrganizationId, Plan, Session,
};
use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, FunctionKey};
use auth_core::http::HttpClient;
use auth_core::{
    CachingProvider, Clock, ExposeSecret, QuotaStore, SecretString, StoreKey, SystemClock,
    TokenStore,
};
use auth_oauth2::{ClientAuth, ClientCredentials, GrantParams, OAuth2Client};
use auth_store_redis::RedisStore;
use auth_testkit::oauth2::consent;
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

/// What a worker does, sent as its first stdin line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "scenario", rename_all = "snake_case")]
pub enum Scenario {
    /// `callers` concurrent `token()` calls on a client-credentials provider.
    Tokens {
        /// The Redis URL.
        redis: String,
        /// The token endpoint.
        token_url: String,
        /// The client ID.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// Concurrent callers per round.
        callers: usize,
    },
    /// `callers` concurrent asks for one Binokula user's SSO URL.
    BinokulaSso {
        /// The Redis URL.
        redis: String,
        /// The API and app base.
        base: String,
        /// The tenant.
        tenant: String,
        /// The client secret.
        client_secret: String,
        /// The function key.
        code: String,
        /// The user.
        email: String,
        /// Concurrent callers per round.
        callers: usize,
    },
    /// `requests` concurrent BeProduct REST reads on one signed-in session, counted
    /// against a daily limit shared through Redis.
    BeproductQuota {
        /// The Redis URL.
        redis: String,
        /// The identity server.
        identity_base: String,
        /// The REST base.
        api_base: String,
        /// The client ID.
        client_id: String,
        /// The client secret.
        client_secret: String,
        /// The registered redirect URI.
        redirect_uri: String,
        /// The daily limit.
        daily_limit: u32,
        /// Concurrent requests per round.
        requests: usize,
    },
    /// Calls without pause on one long-lived provider of a rotating refresh-token grant
    /// until stdin closes; see [`crate::soak`].
    Soak(crate::soak::Soak),
}

/// What one round saw, printed as one JSON line.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Round {
    /// Calls that succeeded.
    pub ok: usize,
    /// Calls refused locally by a quota.
    pub refused: usize,
    /// Every other failure, as its message.
    pub errors: Vec<String>,
    /// The distinct results: token fingerprints, or SSO URLs.
    pub distinct: BTreeSet<String>,
}

impl Round {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok(value) => {
                self.ok += 1;
                self.distinct.extend(value);
            }
            Outcome::Refused => self.refused += 1,
            Outcome::Failed(message) => self.errors.push(message),
        }
    }
}

enum Outcome {
    Ok(Option<String>),
    Refused,
    Failed(String),
}

/// A token's fingerprint (the same in every process), so tokens can be told apart
/// without printing them.
fn fingerprint(token: &str) -> String {
    let mut hasher = DefaultHasher::new();
    token.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// A scenario, set up and ready for rounds.
enum Worker {
    Tokens {
        store: Arc<RedisStore>,
        client: OAuth2Client,
        callers: usize,
    },
    BinokulaSso {
        store: Arc<RedisStore>,
        // Boxed: two URLs and secrets would make this variant the enum's size.
        config: Box<BinokulaConfig>,
        http: HttpClient,
        email: Email,
        callers: usize,
    },
    BeproductQuota {
        session: Arc<Session>,
        requests: usize,
    },
}

const TOKEN_KEY: [&str; 3] = ["fleet", "client-credentials", "machine"];

fn redis(url: &str) -> Result<Arc<RedisStore>, String> {
    // A loaded CI machine runs several workers on two cores: a generous timeout keeps
    // a slow answer from counting as "Redis is away".
    RedisStore::builder(url)
        .timeout(Duration::from_secs(1))
        .build()
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

impl Worker {
    async fn set_up(scenario: Scenario) -> Result<Self, String> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        match scenario {
            Scenario::Tokens {
                redis: url,
                token_url,
                client_id,
                client_secret,
                callers,
            } => {
                let store = redis(&url)?;
                // Connects now, so that the round measures sharing, not connecting.
                store
                    .get(&StoreKey::new(TOKEN_KEY))
                    .await
                    .map_err(|e| e.to_string())?;
                let client = OAuth2Client::builder(client_id, &token_url)
                    .secret(SecretString::from(client_secret))
                    .auth(ClientAuth::Basic)
                    .build()
                    .map_err(|e| e.to_string())?;
                Ok(Self::Tokens {
                    store,
                    client,
                    callers,
                })
            }
            Scenario::BinokulaSso {
                redis: url,
                base,
                tenant,
                client_secret,
                code,
                email,
                callers,
            } => {
                let store = redis(&url)?;
                store
                    .get(&StoreKey::new(["fleet", "connect"]))
                    .await
                    .map_err(|e| e.to_string())?;
                let config = BinokulaConfig::new(
                    &tenant,
                    ClientSecret::new(client_secret),
                    FunctionKey::new(code),
                )
                .and_then(|c| c.with_api_url(&base))
                .and_then(|c| c.with_app_url(&base))
                .map_err(|e| e.to_string())?;
                let http = HttpClient::with_defaults().map_err(|e| e.to_string())?;
                let email = Email::parse(&email).map_err(|e| e.to_string())?;
                Ok(Self::BinokulaSso {
                    store,
                    config: Box::new(config),
                    http,
                    email,
                    callers,
                })
            }
            Scenario::Soak(_) => Err("the soak runs on its own (see worker)".into()),
            Scenario::BeproductQuota {
                redis: url,
                identity_base,
                api_base,
                client_id,
                client_secret,
                redirect_uri,
                daily_limit,
                requests,
            } => {
                let store = redis(&url)?;
                // One organization for every process: its quota is the fleet's.
                let config = OrganizationId::new("fleet-organization")
                    .and_then(|org| Ok((org, ClientId::new(client_id)?)))
                    .and_then(|(org, id)| {
                        BeProductConfig::new(
                            org,
                            id,
                            SecretString::from(client_secret),
                            &redirect_uri,
                            Plan::business(4),
                        )
                    })
                    .and_then(|c| c.with_identity_url(&identity_base))
                    .and_then(|c| c.with_api_url(&api_base))
                    .map_err(|e| e.to_string())?
                    .with_daily_limit(daily_limit)
                    .with_quota_store(store as Arc<dyn QuotaStore>);
                let beproduct = BeProduct::builder(config)
                    .clock(clock)
                    .build()
                    .map_err(|e| e.to_string())?;
                // Signing in is the identity server's business, not the REST quota's.
                let pending = beproduct
                    .authorization_request()
                    .await
                    .map_err(|e| e.to_string())?;
                let redirect = consent(pending.url.as_str()).await?;
                let session = beproduct
                    .sign_in(&pending, &redirect)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(Self::BeproductQuota {
                    session: Arc::new(session),
                    requests,
                })
            }
        }
    }

    async fn round(&self) -> Round {
        let outcomes: Vec<Outcome> = match self {
            Self::Tokens {
                store,
                client,
                callers,
            } => {
                let provider = Arc::new(
                    CachingProvider::builder(ClientCredentials::new(
                        client.clone(),
                        GrantParams::default(),
                    ))
                    .store(
                        Arc::clone(store) as Arc<dyn TokenStore>,
                        StoreKey::new(TOKEN_KEY),
                    )
                    .build(),
                );
                let calls = (0..*callers).map(|_| {
                    let provider = Arc::clone(&provider);
                    tokio::spawn(async move {
                        match provider.token().await {
                            Ok(t) => Outcome::Ok(Some(fingerprint(
                                t.token().access_token().expose_secret(),
                            ))),
                            Err(e) => Outcome::Failed(e.to_string()),
                        }
                    })
                });
                joined(calls).await
            }
            Self::BinokulaSso {
                store,
                config,
                http,
                email,
                callers,
            } => {
                // A new client per round: its users' tokens come from the store.
                let built = Binokula::builder(BinokulaConfig::clone(config))
                    .http(http.clone())
                    .store(Arc::clone(store) as Arc<dyn TokenStore>)
                    .build();
                match built {
                    Err(e) => vec![Outcome::Failed(e.to_string())],
                    Ok(binokula) => {
                        let calls = (0..*callers).map(|_| {
                            let (binokula, email) = (binokula.clone(), email.clone());
                            tokio::spawn(async move {
                                match binokula.sso_url(&email).await {
                                    Ok(url) => Outcome::Ok(Some(url.expose().to_owned())),
                                    Err(e) => Outcome::Failed(e.to_string()),
                                }
                            })
                        });
                        joined(calls).await
                    }
                }
            }
            Self::BeproductQuota { session, requests } => {
                let calls = (0..*requests).map(|_| {
                    let session = Arc::clone(session);
                    tokio::spawn(async move {
                        match session.get("Style").query("pageSize", "1").send().await {
                            Ok(_) => Outcome::Ok(None),
                            Err(BeProductError::QuotaExceeded { .. }) => Outcome::Refused,
                            Err(e) => Outcome::Failed(e.to_string()),
                        }
                    })
                });
                joined(calls).await
            }
        };
        let mut round = Round::default();
        for outcome in outcomes {
            round.add(outcome);
        }
        round
    }
}

async fn joined(calls: impl Iterator<Item = tokio::task::JoinHandle<Outcome>>) -> Vec<Outcome> {
    join_all(calls)
        .await
        .into_iter()
        .map(|joined| joined.unwrap_or_else(|e| Outcome::Failed(format!("a caller panicked: {e}"))))
        .collect()
}

/// Runs a worker on stdin and stdout (see the module documentation).
pub fn worker() -> Result<(), String> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let first = lines
        .next()
        .ok_or("no scenario on stdin")?
        .map_err(|e| e.to_string())?;
    // The position only: serde's message may quote a value, and values are secrets.
    let scenario: Scenario = serde_json::from_str(&first)
        .map_err(|e| format!("not a scenario (line {}, column {})", e.line(), e.column()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    if let Scenario::Soak(soak) = scenario {
        drop(lines);
        return runtime.block_on(crate::soak::run(soak));
    }
    let worker = runtime.block_on(Worker::set_up(scenario))?;
    let mut stdout = std::io::stdout();
    let mut say = |line: &str| -> Result<(), String> {
        writeln!(stdout, "{line}")
            .and_then(|()| stdout.flush())
            .map_err(|e| e.to_string())
    };
    say("ready")?;
    for line in lines {
        match line.map_err(|e| e.to_string())?.trim() {
            "round" => {
                let round = runtime.block_on(worker.round());
                say(&serde_json::to_string(&round).map_err(|e| e.to_string())?)?;
            }
            other => return Err(format!("unknown command {other:?}")),
        }
    }
    Ok(())
}
