//! The single-flight and lease state machine under many interleavings: a seeded,
//! deterministic exploration on tokio's paused clock.
//!
//! Three holders (three `CachingProvider`s, as three processes would have) share one
//! model [`TokenStore`] whose every operation takes a random delay, whose leases run
//! out by the same clock, and which goes down for random outages. Their source is a
//! model of a strict authorization server with rotating refresh tokens and reuse
//! detection: each refresh must present the newest refresh token, else the family is
//! revoked. Fetches take random times, some longer than the lease (so it must be
//! renewed), and some fail before the server acts. Holders are restarted at random
//! (a new provider with the configured first refresh token and nothing in memory).
//!
//! Checked for every seed:
//! - at most one fetch at a time, each under a live lease (one fetch per lease epoch);
//! - no write from a superseded lease: every accepted write is the current lease's,
//!   and the stored generation never goes back;
//! - no refresh from a token older than the newest (no reuse detected, no family
//!   revoked, no `SignInRequired`);
//! - during an outage, a caller gets the cached token or `StoreUnavailable`;
//! - refreshes stay within a small factor of the access-token lifetimes elapsed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use auth_core::{
    AuthRequest, CachingProvider, Clock, CredentialProvider, Error, ExposeSecret, Lease,
    RefreshPolicy, StoreKey, Token, TokenSource, TokenStore,
};
use tokio::time::Instant;

const LEASE_TTL: Duration = Duration::from_secs(1);
const ACCESS_LIFETIME: Duration = Duration::from_secs(2);
const SIMULATED: Duration = Duration::from_secs(120);
const SEEDS: u64 = 40;

/// xorshift64*: small, seeded, deterministic.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn millis(&mut self, max: u64) -> Duration {
        Duration::from_millis(self.below(max + 1))
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Wall time that moves with tokio's (paused) clock.
#[derive(Debug)]
struct TokioClock {
    base: SystemTime,
    start: Instant,
}

impl Clock for TokioClock {
    fn now(&self) -> SystemTime {
        self.base + self.start.elapsed()
    }
}

#[derive(Debug, Default)]
struct Violations(Mutex<Vec<String>>);

impl Violations {
    fn add(&self, what: String) {
        self.0.lock().unwrap().push(what);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

fn generation(token: &Token) -> u64 {
    let text = token.access_token().expose_secret();
    text.trim_start_matches("access-").parse().unwrap()
}

fn refresh_generation(token: &Token) -> Option<u64> {
    let refresh = token.refresh_token()?.expose_secret();
    Some(refresh.trim_start_matches("refresh-").parse().unwrap())
}

#[derive(Debug, Default)]
struct StoreState {
    token: Option<Token>,
    lease: Option<(Lease, Instant)>,
    fences: u64,
    down_until: Option<Instant>,
    accepted_writes: u64,
    refused_writes: u64,
}

/// A store shared by the holders: random delays, leases timed by tokio's clock, outages.
#[derive(Debug)]
struct ModelStore {
    state: Mutex<StoreState>,
    rng: Mutex<Rng>,
    violations: Arc<Violations>,
    /// Percent of renewals and writes that stall past the lease (a process paused, a
    /// slow network), so that another holder takes the lease meanwhile.
    stalls: u64,
}

impl ModelStore {
    async fn step(&self) -> Result<(), Error> {
        let delay = self.rng.lock().unwrap().millis(5);
        tokio::time::sleep(delay).await;
        self.available()
    }

    /// A renewal or a write: sometimes stalled for one to three leases.
    async fn stalling_step(&self) -> Result<(), Error> {
        let delay = {
            let mut rng = self.rng.lock().unwrap();
            if rng.chance(self.stalls) {
                LEASE_TTL + rng.millis(2 * LEASE_TTL.as_millis() as u64)
            } else {
                rng.millis(5)
            }
        };
        tokio::time::sleep(delay).await;
        self.available()
    }

    fn available(&self) -> Result<(), Error> {
        let state = self.state.lock().unwrap();
        if state.down_until.is_some_and(|until| Instant::now() < until) {
            return Err(Error::Store("model outage".into()));
        }
        Ok(())
    }

    /// The live lease's fence, if one is held.
    fn live_fence(&self) -> Option<u64> {
        let state = self.state.lock().unwrap();
        state
            .lease
            .filter(|(_, until)| *until > Instant::now())
            .map(|(lease, _)| lease.fence)
    }

    /// Starts an outage unless one ended less than a lease ago.
    fn outage(&self, length: Duration) {
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        if state
            .down_until
            .is_some_and(|until| until + LEASE_TTL > now)
        {
            return;
        }
        state.down_until = Some(now + length);
    }

    fn is_down(&self) -> bool {
        let state = self.state.lock().unwrap();
        state.down_until.is_some_and(|until| Instant::now() < until)
    }
}

#[async_trait]
impl TokenStore for ModelStore {
    async fn get(&self, _: &StoreKey) -> Result<Option<Token>, Error> {
        self.step().await?;
        Ok(self.state.lock().unwrap().token.clone())
    }

    async fn put(&self, _: &StoreKey, token: &Token, lease: Lease) -> Result<(), Error> {
        self.stalling_step().await?;
        let mut state = self.state.lock().unwrap();
        let current = state
            .lease
            .is_some_and(|(held, until)| held == lease && until > Instant::now());
        if !current {
            state.refused_writes += 1;
            return Err(Error::LeaseLost);
        }
        if let Some(old) = &state.token
            && generation(old) >= generation(token)
        {
            self.violations.add(format!(
                "write of generation {} over generation {}",
                generation(token),
                generation(old)
            ));
        }
        state.token = Some(token.clone());
        state.accepted_writes += 1;
        Ok(())
    }

    async fn remove(&self, _: &StoreKey) -> Result<(), Error> {
        self.step().await?;
        self.state.lock().unwrap().token = None;
        Ok(())
    }

    async fn try_lease(&self, _: &StoreKey, ttl: Duration) -> Result<Option<Lease>, Error> {
        self.step().await?;
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        if state.lease.is_some_and(|(_, until)| until > now) {
            return Ok(None);
        }
        state.fences += 1;
        let lease = Lease {
            fence: state.fences,
        };
        state.lease = Some((lease, now + ttl));
        Ok(Some(lease))
    }

    async fn renew(&self, _: &StoreKey, lease: Lease, ttl: Duration) -> Result<bool, Error> {
        self.stalling_step().await?;
        let mut state = self.state.lock().unwrap();
        let now = Instant::now();
        match state.lease {
            Some((held, until)) if held == lease && until > now => {
                state.lease = Some((lease, now + ttl));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(&self, _: &StoreKey, lease: Lease) -> Result<(), Error> {
        self.step().await?;
        let mut state = self.state.lock().unwrap();
        if state.lease.is_some_and(|(held, _)| held == lease) {
            state.lease = None;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct ServerState {
    /// The generation of the newest refresh token issued (0: the configured one).
    newest: u64,
    in_flight: u32,
    refreshes: u64,
    reuse_detected: u64,
    /// The lease fence each fetch ran under.
    fences: Vec<u64>,
}

/// A strict server's refresh grant: rotation, reuse detection revoking the family; or,
/// with `rotating` false, a grant without that hazard (client credentials).
#[derive(Debug)]
struct Rotating {
    rotating: bool,
    server: Arc<Mutex<ServerState>>,
    store: Arc<ModelStore>,
    rng: Arc<Mutex<Rng>>,
    clock: Arc<TokioClock>,
    violations: Arc<Violations>,
}

struct InFlight<'a>(&'a Mutex<ServerState>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().in_flight -= 1;
    }
}

#[async_trait]
impl TokenSource for Rotating {
    fn grant(&self) -> &'static str {
        "refresh_token"
    }

    fn invalidates_previous(&self) -> bool {
        self.rotating
    }

    async fn fetch(&self, previous: Option<&Token>) -> Result<Token, Error> {
        let Some(fence) = self.store.live_fence() else {
            self.violations.add("a fetch without a live lease".into());
            return Err(Error::Store("no lease".into()));
        };
        {
            let mut server = self.server.lock().unwrap();
            server.in_flight += 1;
            if self.rotating && server.in_flight > 1 {
                self.violations
                    .add(format!("{} fetches at once", server.in_flight));
            }
            if server.fences.contains(&fence) {
                self.violations
                    .add(format!("a second fetch under lease {fence}"));
            }
            server.fences.push(fence);
        }
        let _guard = InFlight(&self.server);
        // The configured refresh token is generation 0.
        let presented = previous.and_then(refresh_generation).unwrap_or(0);
        let (delay, fails) = {
            let mut rng = self.rng.lock().unwrap();
            // Up to 2.5 lease lifetimes: the lease must be renewed to survive.
            (rng.millis(2_500), rng.chance(10))
        };
        tokio::time::sleep(delay).await;
        if fails {
            // Failed before the server acted (a connect error, say).
            return Err(Error::Timeout {
                limit: Duration::from_secs(1),
            });
        }
        let mut server = self.server.lock().unwrap();
        if self.rotating && presented != server.newest {
            server.reuse_detected += 1;
            self.violations.add(format!(
                "refresh with generation {presented}, newest is {}",
                server.newest
            ));
            return Err(Error::SignInRequired {
                reason: "reuse detected".into(),
            });
        }
        server.newest += 1;
        server.refreshes += 1;
        let n = server.newest;
        Ok(Token::bearer(format!("access-{n}"), self.clock.now())
            .expires_in(ACCESS_LIFETIME)
            .with_refresh_token(format!("refresh-{n}")))
    }
}

struct World {
    rotating: bool,
    store: Arc<ModelStore>,
    server: Arc<Mutex<ServerState>>,
    rng: Arc<Mutex<Rng>>,
    clock: Arc<TokioClock>,
    violations: Arc<Violations>,
}

impl World {
    fn holder(&self) -> Arc<CachingProvider<Rotating>> {
        let source = Rotating {
            rotating: self.rotating,
            server: Arc::clone(&self.server),
            store: Arc::clone(&self.store),
            rng: Arc::clone(&self.rng),
            clock: Arc::clone(&self.clock),
            violations: Arc::clone(&self.violations),
        };
        Arc::new(
            CachingProvider::builder(source)
                .clock(Arc::clone(&self.clock) as Arc<dyn Clock>)
                .store(
                    Arc::clone(&self.store) as Arc<dyn TokenStore>,
                    StoreKey::new(["model", "rotating"]),
                )
                .policy(RefreshPolicy::default())
                .lease_ttl(LEASE_TTL)
                .build(),
        )
    }
}

#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    unavailable: u64,
    unavailable_while_up: u64,
    transient: u64,
    restarts: u64,
}

async fn explore(seed: u64, rotating: bool) -> (Vec<String>, Tally, ServerState, StoreState) {
    let violations = Arc::new(Violations::default());
    let world = World {
        rotating,
        store: Arc::new(ModelStore {
            state: Mutex::default(),
            rng: Mutex::new(Rng::new(seed ^ 0x5EED)),
            violations: Arc::clone(&violations),
            // A rotating grant cannot survive a holder stalled past its lease between
            // the server's rotation and the store's write (no lease can): stalls are
            // explored with the grant that has no such hazard.
            stalls: if rotating { 0 } else { 3 },
        }),
        server: Arc::default(),
        rng: Arc::new(Mutex::new(Rng::new(seed))),
        clock: Arc::new(TokioClock {
            base: UNIX_EPOCH + Duration::from_secs(1_750_000_000),
            start: Instant::now(),
        }),
        violations: Arc::clone(&violations),
    };
    let mut holders: Vec<_> = (0..3).map(|_| world.holder()).collect();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut calls = Vec::new();
    let end = Instant::now() + SIMULATED;
    while Instant::now() < end {
        let (pause, who, restart, outage) = {
            let mut rng = world.rng.lock().unwrap();
            (
                rng.millis(150),
                rng.below(3) as usize,
                rng.chance(1),
                rng.chance(1).then(|| rng.millis(600)),
            )
        };
        tokio::time::sleep(pause).await;
        // Outages are explored with the rotating grant: the other one fetches on its
        // own while the store is down (by design), outside any lease.
        if let Some(length) = outage.filter(|_| rotating) {
            // Shorter than two thirds of the lease, a lease apart: a holder renewing
            // every third of it keeps its lease through the outage. (A longer outage
            // during a fetch is one no lease survives: see the crate README.)
            world.store.outage(length);
        }
        if restart {
            holders[who] = world.holder();
            tally.lock().unwrap().restarts += 1;
        }
        let provider = Arc::clone(&holders[who]);
        let tally = Arc::clone(&tally);
        let store = Arc::clone(&world.store);
        let violations = Arc::clone(&violations);
        calls.push(tokio::spawn(async move {
            let mut request = AuthRequest::new(Default::default());
            let outcome = provider.authorize(&mut request).await;
            let mut tally = tally.lock().unwrap();
            match outcome {
                Ok(()) => tally.ok += 1,
                Err(Error::StoreUnavailable { .. }) => {
                    tally.unavailable += 1;
                    if !store.is_down() {
                        tally.unavailable_while_up += 1;
                    }
                }
                Err(Error::Timeout { .. }) => tally.transient += 1,
                Err(other) => violations.add(format!("authorize failed: {other}")),
            }
        }));
    }
    for call in calls {
        call.await.unwrap();
    }
    // Let flights still running finish before the counts are read.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let tally = std::mem::take(&mut *tally.lock().unwrap());
    let server = std::mem::take(&mut *world.server.lock().unwrap());
    let store = std::mem::take(&mut *world.store.state.lock().unwrap());
    (violations.take(), tally, server, store)
}

#[test]
fn three_holders_never_fetch_twice_per_lease_nor_refresh_from_an_old_token() {
    run_model(true);
}

#[test]
fn stalled_holders_never_write_over_a_newer_lease() {
    let refused = run_model(false);
    assert!(
        refused > 0,
        "the stalls superseded no lease: the model explored nothing"
    );
}

/// Explores every seed; returns how many superseded writes the store refused.
fn run_model(rotating: bool) -> u64 {
    let mut report = Vec::new();
    for seed in 0..SEEDS {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let (violations, tally, server, store) = runtime.block_on(explore(seed, rotating));
        assert!(
            violations.is_empty(),
            "seed {seed}: {violations:#?}\n{tally:?}\n{server:?}"
        );
        assert_eq!(server.reuse_detected, 0, "seed {seed}");
        assert!(tally.ok > 0, "seed {seed}: no call succeeded: {tally:?}");
        // Each refresh serves about half an access-token lifetime (the margin is at most
        // half); failures and restarts add a few.
        let lifetimes = SIMULATED.as_secs_f64() / ACCESS_LIFETIME.as_secs_f64();
        assert!(
            (server.refreshes as f64) < 3.0 * lifetimes,
            "seed {seed}: {} refreshes for {lifetimes} lifetimes",
            server.refreshes
        );
        assert!(store.accepted_writes > 0, "seed {seed}");
        report.push((seed, tally, server.refreshes, store.refused_writes));
    }
    let unavailable: u64 = report.iter().map(|r| r.1.unavailable).sum();
    let while_up: u64 = report.iter().map(|r| r.1.unavailable_while_up).sum();
    let ok: u64 = report.iter().map(|r| r.1.ok).sum();
    let restarts: u64 = report.iter().map(|r| r.1.restarts).sum();
    let refreshes: u64 = report.iter().map(|r| r.2).sum();
    let refused: u64 = report.iter().map(|r| r.3).sum();
    eprintln!(
        "lease model ({}): {SEEDS} seeds x {}s simulated: {ok} calls served, \
         {unavailable} store-unavailable ({while_up} while the store was up), {refreshes} \
         refreshes, {restarts} restarts, {refused} superseded writes refused, 0 violations",
        if rotating {
            "rotating refresh tokens"
        } else {
            "client credentials, stalls"
        },
        SIMULATED.as_secs()
    );
    refused
}
