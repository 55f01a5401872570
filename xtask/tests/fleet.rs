//! A fleet of real OS processes (`xtask fleet-worker`, see `xtask::fleet`) sharing
//! one `redis-server`: one token request for the fleet, one Binokula SSO token per
//! user, one BeProduct quota, and recovery when Redis goes away and comes back.
//!
//! Skipped with a notice where `redis-server` is missing; `.ci/run` installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use auth_core::{Clock, SystemClock};
use auth_testkit::beproduct::{Account, BeProductServer, Edition};
use auth_testkit::binokula::{BinokulaServer, BinokulaTenant, HOME_PATH, landing};
use auth_testkit::oauth2::{AuthServer, AuthServerConfig};
use auth_testkit::redis::RedisServer;
use xtask::fleet::{Round, Scenario};

const PROCESSES: usize = 4;
/// How long a worker may take to set up or to answer a round.
const PATIENCE: Duration = Duration::from_secs(60);

/// One fleet at a time: each is 4 processes on a 2-core machine.
fn one_fleet_at_a_time() -> MutexGuard<'static, ()> {
    static FLEETS: Mutex<()> = Mutex::new(());
    FLEETS.lock().unwrap_or_else(|p| p.into_inner())
}

/// A running `xtask fleet-worker` process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Worker {
    fn spawn(scenario: &Scenario) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("fleet-worker")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the xtask binary runs");
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", serde_json::to_string(scenario).unwrap()).unwrap();
        stdin.flush().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
        }
    }

    fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(RecvTimeoutError::Timeout) => panic!("a worker said nothing for {PATIENCE:?}"),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().unwrap();
                panic!("a worker exited ({status}); its error is on stderr above")
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `PROCESSES` workers of one scenario, set up and ready.
struct Fleet(Vec<Worker>);

impl Fleet {
    fn start(scenario: &Scenario) -> Self {
        let mut workers: Vec<Worker> = (0..PROCESSES).map(|_| Worker::spawn(scenario)).collect();
        for worker in &mut workers {
            assert_eq!(worker.next_line(), "ready");
        }
        Self(workers)
    }

    /// One round in every process at once: all are told before any is read.
    fn round(&mut self) -> Vec<Round> {
        for worker in &mut self.0 {
            writeln!(worker.stdin, "round").unwrap();
            worker.stdin.flush().unwrap();
        }
        self.0
            .iter_mut()
            .map(|w| serde_json::from_str(&w.next_line()).unwrap())
            .collect()
    }
}

fn no_errors(rounds: &[Round]) {
    for (i, round) in rounds.iter().enumerate() {
        assert!(round.errors.is_empty(), "process {i}: {:?}", round.errors);
    }
}

/// The distinct results of every process together.
fn distinct(rounds: &[Round]) -> std::collections::BTreeSet<String> {
    rounds.iter().flat_map(|r| r.distinct.clone()).collect()
}

const CLIENT_ID: &str = "fleet-service";
const CLIENT_SECRET: &str = "fleet-service-secret-9Qe";

fn tokens_scenario(redis: &RedisServer, auth: &AuthServer) -> Scenario {
    Scenario::Tokens {
        redis: redis.url(),
        token_url: auth.token_url().to_string(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        callers: 250,
    }
}

#[test]
fn four_processes_of_250_callers_on_an_empty_store_make_one_token_request() {
    let _fleet = one_fleet_at_a_time();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let auth = AuthServer::start(AuthServerConfig::new(CLIENT_ID, CLIENT_SECRET)).unwrap();
    let mut fleet = Fleet::start(&tokens_scenario(&redis, &auth));

    let rounds = fleet.round();
    no_errors(&rounds);
    assert_eq!(rounds.iter().map(|r| r.ok).sum::<usize>(), 1_000);
    assert_eq!(auth.grants("client_credentials"), 1, "one token request");
    assert_eq!(
        distinct(&rounds).len(),
        1,
        "every caller has the same token"
    );
}

#[test]
fn four_processes_asking_for_one_users_sso_url_get_one_token_and_every_url_works() {
    let _fleet = one_fleet_at_a_time();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let tenant = BinokulaTenant {
        tenant: "fleet-tenant".into(),
        client_secret: "fleet-binokula-secret-2Wd".into(),
        code: "fleet-function-key==".into(),
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let binokula = BinokulaServer::start(clock, tenant.clone()).unwrap();
    let mut fleet = Fleet::start(&Scenario::BinokulaSso {
        redis: redis.url(),
        base: binokula.server().base_url().to_string(),
        tenant: tenant.tenant,
        client_secret: tenant.client_secret,
        code: tenant.code,
        email: "ada@example.com".into(),
        callers: 50,
    });

    let rounds = fleet.round();
    no_errors(&rounds);
    assert_eq!(rounds.iter().map(|r| r.ok).sum::<usize>(), 200);
    assert_eq!(binokula.tokens_issued(), 1, "one SSO token for the user");
    let urls = distinct(&rounds);
    assert_eq!(urls.len(), 1, "every process hands out the same URL");
    // Each process's URL, opened as a browser would: the app lets the user in (a
    // token replaced by a later one would land on the login page).
    let browser = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for round in &rounds {
        for url in &round.distinct {
            assert_eq!(browser.block_on(landing(url)).unwrap(), HOME_PATH);
        }
    }
}

#[test]
fn a_quota_of_100_shared_by_4_processes_of_50_requests_lets_exactly_100_through() {
    let _fleet = one_fleet_at_a_time();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let account = Account {
        client_id: "fleet-beproduct".into(),
        client_secret: "fleet-beproduct-secret-7Hn".into(),
        edition: Edition::Business,
        licenses: 4,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let beproduct = BeProductServer::start(clock, account.clone()).unwrap();
    let mut fleet = Fleet::start(&Scenario::BeproductQuota {
        redis: redis.url(),
        identity_base: beproduct.identity_url().to_owned(),
        api_base: beproduct.api_url().to_string(),
        client_id: account.client_id,
        client_secret: account.client_secret,
        redirect_uri: "https://fleet.example/callback".into(),
        daily_limit: 100,
        requests: 50,
    });

    let rounds = fleet.round();
    no_errors(&rounds);
    assert_eq!(rounds.iter().map(|r| r.ok).sum::<usize>(), 100);
    assert_eq!(rounds.iter().map(|r| r.refused).sum::<usize>(), 100);
    assert_eq!(
        beproduct.api().requests("/api/v1/Style"),
        100,
        "exactly the quota reached the server"
    );
}

#[test]
fn redis_stopped_mid_run_and_started_again_across_processes() {
    let _fleet = one_fleet_at_a_time();
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let auth = AuthServer::start(AuthServerConfig::new(CLIENT_ID, CLIENT_SECRET)).unwrap();
    let mut fleet = Fleet::start(&tokens_scenario(&redis, &auth));
    let grants = || auth.grants("client_credentials");

    let shared = fleet.round();
    no_errors(&shared);
    assert_eq!(grants(), 1);

    // Redis goes away under the running processes: every call still gets a token,
    // each process fetching its own (once, for its 250 callers).
    redis.stop();
    let alone = fleet.round();
    no_errors(&alone);
    assert_eq!(alone.iter().map(|r| r.ok).sum::<usize>(), 1_000);
    assert_eq!(grants(), 1 + PROCESSES as u64, "one fetch per process");
    for round in &alone {
        assert_eq!(round.distinct.len(), 1, "one token within each process");
    }

    // Back (and empty): once the stores have reconnected, the fleet shares again.
    redis.start_again().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rounds_until_shared = 0;
    loop {
        rounds_until_shared += 1;
        let before = grants();
        let again = fleet.round();
        no_errors(&again);
        assert_eq!(again.iter().map(|r| r.ok).sum::<usize>(), 1_000);
        if grants() - before <= 1 && distinct(&again).len() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "sharing did not resume");
        std::thread::sleep(Duration::from_millis(300));
    }
    eprintln!(
        "sharing resumed in round {rounds_until_shared} after the restart; {} token requests in all",
        grants()
    );
}
