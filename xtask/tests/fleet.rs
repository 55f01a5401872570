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
use xtask::soak::{Soak, SoakReport};

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
        Self::of(PROCESSES, scenario)
    }

    /// `processes` workers of one scenario.
    fn of(processes: usize, scenario: &Scenario) -> Self {
        let mut workers: Vec<Worker> = (0..processes).map(|_| Worker::spawn(scenario)).collect();
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

/// A fleet at twice the size: 8 processes of 500 callers each on an empty store.
#[test]
fn eight_processes_of_500_callers_on_an_empty_store_make_one_token_request() {
    let _fleet = one_fleet_at_a_time();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let auth = AuthServer::start(AuthServerConfig::new(CLIENT_ID, CLIENT_SECRET)).unwrap();
    let scenario = Scenario::Tokens {
        redis: redis.url(),
        token_url: auth.token_url().to_string(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        callers: 500,
    };
    let mut fleet = Fleet::of(8, &scenario);
    let rounds = fleet.round();
    no_errors(&rounds);
    assert_eq!(rounds.iter().map(|r| r.ok).sum::<usize>(), 4_000);
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
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let tenant = BinokulaTenant::new(
        "fleet-tenant",
        "fleet-binokula-secret-2Wd",
        "fleet-function-key==",
    )
    .clock(clock);
    let binokula = BinokulaServer::start(tenant.clone()).unwrap();
    let mut fleet = Fleet::start(&Scenario::BinokulaSso {
        redis: redis.url(),
        base: binokula.base_url().to_string(),
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
    let account = Account::new(
        "fleet-beproduct",
        "fleet-beproduct-secret-7Hn",
        Edition::Business,
        4,
    );
    let beproduct = BeProductServer::start(account.clone()).unwrap();
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

/// A soak worker's stdout, read as it goes: whether it is inside a refresh, and its
/// latest counts.
struct SoakProcess {
    worker: Worker,
    in_refresh: bool,
    latest: SoakReport,
}

impl SoakProcess {
    fn spawn(scenario: &Scenario) -> Self {
        let mut worker = Worker::spawn(scenario);
        assert_eq!(worker.next_line(), "ready");
        Self {
            worker,
            in_refresh: false,
            latest: SoakReport::default(),
        }
    }

    /// Reads every line the worker has printed so far.
    fn drain(&mut self) {
        while let Ok(line) = self.worker.lines.try_recv() {
            match line.as_str() {
                "fetch-begin" => self.in_refresh = true,
                "fetch-end" => self.in_refresh = false,
                json => self.latest = serde_json::from_str(json).unwrap(),
            }
        }
    }
}

/// Counts of the processes the soak killed, and of those still running.
#[derive(Default, Debug)]
struct SoakTotals {
    ok: u64,
    store_unavailable: u64,
    other_failures: u64,
    messages: Vec<String>,
}

impl SoakTotals {
    fn add(&mut self, report: &SoakReport) {
        self.ok += report.ok;
        self.store_unavailable += report.store_unavailable;
        self.other_failures += report.other_failures;
        self.messages.extend(report.messages.iter().cloned());
    }
}

/// 4 processes on one redis-server and a strict server (rotating refresh tokens,
/// reuse revokes the family) with 2-second access tokens: 60 s of calls while
/// processes are killed (SIGKILL) and restarted at random and Redis is stopped and
/// started. A restarted process has only its configuration's refresh token, long
/// rotated away. Redis keeps its data across the restart (appendonly), as a fleet
/// whose refresh tokens rotate needs it to.
#[test]
fn soak_rotating_refresh_tokens_through_kills_and_a_redis_outage() {
    let _fleet = one_fleet_at_a_time();
    let Some(mut redis) = RedisServer::start_persistent() else {
        return;
    };
    let lifetime = Duration::from_secs(2);
    let auth = AuthServer::start(
        AuthServerConfig::new(CLIENT_ID, CLIENT_SECRET)
            .clock(Arc::new(SystemClock))
            .strict(true)
            .access_lifetime(lifetime),
    )
    .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let first = runtime.block_on(first_refresh_token(&auth));
    let scenario = Scenario::Soak(Soak {
        redis: redis.url(),
        token_url: auth.token_url().to_string(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        refresh_token: first,
        callers: 4,
        lease_ms: 3_000,
    });
    let mut processes: Vec<SoakProcess> = (0..PROCESSES)
        .map(|_| SoakProcess::spawn(&scenario))
        .collect();
    let mut totals = SoakTotals::default();
    let mut rng = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let soak = Duration::from_secs(60);
    let started = Instant::now();
    let (outage_at, outage_for) = (Duration::from_secs(25), Duration::from_secs(4));
    let mut outage_done = false;
    let mut next_kill = started + Duration::from_secs(3);
    let mut kills = 0;
    let mut outage_reports = SoakTotals::default();
    while started.elapsed() < soak {
        std::thread::sleep(Duration::from_millis(50));
        for p in &mut processes {
            p.drain();
        }
        if !outage_done && started.elapsed() >= outage_at {
            // Counts before the outage, so the outage's own can be told apart.
            let before: Vec<SoakReport> = processes.iter().map(|p| p.latest.clone()).collect();
            redis.stop();
            std::thread::sleep(outage_for);
            for (p, before) in processes.iter_mut().zip(&before) {
                p.drain();
                outage_reports.ok += p.latest.ok - before.ok;
                outage_reports.store_unavailable +=
                    p.latest.store_unavailable - before.store_unavailable;
                outage_reports.other_failures += p.latest.other_failures - before.other_failures;
            }
            redis.start_again().unwrap();
            outage_done = true;
        }
        if Instant::now() >= next_kill {
            let victim = (next() % PROCESSES as u64) as usize;
            let p = &mut processes[victim];
            p.drain();
            if p.in_refresh {
                // Inside the window between the server's rotation and the store's
                // write: try again in a moment.
                continue;
            }
            let _ = p.worker.child.kill();
            let _ = p.worker.child.wait();
            p.drain();
            totals.add(&p.latest);
            *p = SoakProcess::spawn(&scenario);
            kills += 1;
            next_kill = Instant::now() + Duration::from_millis(1_000 + next() % 4_000);
        }
    }
    for p in &mut processes {
        p.drain();
        totals.add(&p.latest);
    }
    drop(processes);
    let elapsed = started.elapsed();
    let lifetimes = elapsed.as_secs_f64() / lifetime.as_secs_f64();
    let refreshes = auth.refreshes();
    eprintln!(
        "soak: {:.0} s, {PROCESSES} processes, {kills} kills and restarts, Redis down {:?}: \
         {} calls ok, {} StoreUnavailable ({} during the outage), {} other failures; \
         {refreshes} refreshes for {lifetimes:.0} access-token lifetimes; \
         {} reuse detections, {} revoked families",
        elapsed.as_secs_f64(),
        outage_for,
        totals.ok,
        totals.store_unavailable,
        outage_reports.store_unavailable,
        totals.other_failures,
        auth.reuse_detections(),
        auth.revoked_families(),
    );
    assert_eq!(auth.reuse_detections(), 0, "{totals:?}");
    assert_eq!(auth.revoked_families(), 0);
    assert_eq!(totals.other_failures, 0, "{:?}", totals.messages);
    assert!(kills >= 8, "only {kills} kills");
    assert!(
        outage_reports.store_unavailable > 0,
        "the outage outlasted the tokens"
    );
    assert!(
        (refreshes as f64) <= 3.0 * lifetimes,
        "{refreshes} refreshes for {lifetimes:.0} lifetimes"
    );
    assert!(totals.ok > 1_000, "{totals:?}");
}

/// A code exchange on the strict server: the fleet's first refresh token.
async fn first_refresh_token(auth: &AuthServer) -> String {
    use auth_core::ExposeSecret as _;
    let redirect = "https://fleet.example/callback";
    let code = auth.code_for(CLIENT_ID, redirect, None).await.unwrap();
    let client = auth_oauth2::OAuth2Client::builder(CLIENT_ID, auth.token_url().as_str())
        .secret(auth_core::SecretString::from(CLIENT_SECRET))
        .build()
        .unwrap();
    let answer = client
        .exchange_code(&code, None, redirect, &[])
        .await
        .unwrap();
    answer.refresh_token.unwrap().expose_secret().to_owned()
}
