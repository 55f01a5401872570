//! `cargo xtask faults`: every vendor's token flow and API flow (and, where a vendor
//! has them, a write and a rotating refresh) against each of the test kit's faults,
//! one fresh set of servers per case. Each case must end in the outcome its fault
//! calls for, given what the faulted request is ([`Kind`]: a bounded retry that
//! succeeds, or a typed error) with the number of requests that outcome takes; the
//! table lists what happened.
//!
//! The retry rules checked (`auth_core::http::Repeat`): a request that may be repeated
//! (an idempotent method, the `client_credentials` grant) is retried after a 5xx or a
//! 429, a 502 after the server committed included; a request that spends a single-use
//! credential or has effects (a code exchange, a rotating refresh, an OAuth 1.0a
//! credential request, a `POST`) is not sent again once it may have reached the
//! server, and the caller gets the status as a typed error.

mod beproduct;
mod bindeo;
mod binokula;
mod bookingtime;
mod bynder;

use std::fmt;
use std::time::{Duration, Instant};

use auth_core::http::HttpPolicy;
use auth_testkit::Fault;
use http::StatusCode;

use crate::Outcome;

/// The timeout every case's HTTP client has: the slow faults go past it. Three
/// seconds, so that an ordinary answer on a loaded two-core machine running all 130
/// cases at once stays well inside it (at one second, a baseline run timed out).
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The faults, in table order.
pub fn faults() -> Vec<Fault> {
    vec![
        Fault::ServerError,
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        Fault::Delay(TIMEOUT * 3),
        // A body of 8 bytes or more trickles past the timeout.
        Fault::TrickleBody(Duration::from_millis(400)),
        Fault::MalformedJson,
        Fault::HtmlPage(StatusCode::FORBIDDEN),
        Fault::TruncatedBody,
        Fault::OversizedBody(2 * 1024 * 1024),
        Fault::Redirect("https://login.example/sign-in".into()),
        Fault::CommitThen(StatusCode::BAD_GATEWAY),
    ]
}

/// The HTTP limits of every case: the defaults (1 MiB bodies, two retries with
/// backoff, `Retry-After` up to 5 s) with a one-second timeout.
pub fn policy() -> HttpPolicy {
    HttpPolicy::default().with_request_timeout(TIMEOUT)
}

/// Which of a vendor's flows a case runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Getting a token (or credentials) from nothing.
    Token,
    /// An API call with credentials already in hand.
    Api,
    /// An API call that changes something (a `POST`), with credentials in hand.
    Write,
    /// An API call whose access token is due, refreshed first with a rotating refresh
    /// token: the faulted request is the refresh.
    Refresh,
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flow::Token => "token",
            Flow::Api => "api",
            Flow::Write => "write",
            Flow::Refresh => "refresh",
        })
    }
}

/// What the faulted request of a flow is, by the retry rules. Stated here by hand,
/// not read from the crates, so that a request sent again when it must not be (or not
/// retried when it may be) shows as an unexpected row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// May be sent again after it reached the server: an idempotent method (`GET`,
    /// `PUT`, `DELETE`) or the `client_credentials` grant. Retried after a 5xx or 429.
    Repeatable,
    /// Spends a single-use credential or has effects the server may have committed
    /// (a code exchange, a rotating refresh, an OAuth 1.0a credential request, a
    /// `POST`): sent again only when it never reached the server.
    Once,
}

/// One vendor flow of the table and what its faulted request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// The vendor.
    pub vendor: &'static str,
    /// The flow.
    pub flow: Flow,
    /// The faulted request's kind.
    pub kind: Kind,
}

const fn plan(vendor: &'static str, flow: Flow, kind: Kind) -> Plan {
    Plan { vendor, flow, kind }
}

/// The vendor flows, in table order.
pub const PLANS: [Plan; 13] = [
    // `GET /api/Token`: a GET (it issues a new token, and that is what a repeat does).
    plan("binokula", Flow::Token, Kind::Repeatable),
    // `PUT /api/User`: idempotent by method, but a second registration is a conflict,
    // so the crate sends it once.
    plan("binokula", Flow::Api, Kind::Once),
    // `POST /api/UserStatus`.
    plan("binokula", Flow::Write, Kind::Once),
    // `POST /access_token`, client_credentials.
    plan("bindeo", Flow::Token, Kind::Repeatable),
    // `GET /resource`.
    plan("bindeo", Flow::Api, Kind::Repeatable),
    // `POST /api/v4/oauth/request_token/`: an OAuth 1.0a credential request.
    plan("bynder", Flow::Token, Kind::Once),
    // `GET /api/v4/media/`: repeated, signed afresh (a new nonce) for each attempt.
    plan("bynder", Flow::Api, Kind::Repeatable),
    // The first of two requests on `POST /oauth/token` is client_credentials (the
    // second, the exchange, is marked repeatable by the crate: no rotation).
    plan("bookingtime", Flow::Token, Kind::Repeatable),
    // `GET .../organization/{id}/show`.
    plan("bookingtime", Flow::Api, Kind::Repeatable),
    // `POST /ids/connect/token`, authorization_code: a single-use code.
    plan("beproduct", Flow::Token, Kind::Once),
    // `GET /api/v1/colors`.
    plan("beproduct", Flow::Api, Kind::Repeatable),
    // `POST /api/v1/colors`: records written.
    plan("beproduct", Flow::Write, Kind::Once),
    // `POST /ids/connect/token`, refresh_token: the refresh token rotates.
    plan("beproduct", Flow::Refresh, Kind::Once),
];

/// What one run of a flow did.
#[derive(Debug)]
pub struct Observed {
    /// The flow's result, as the core error the vendor error converts to.
    pub result: Result<(), auth_core::Error>,
    /// Requests the server saw on the faulted path.
    pub requests: u64,
    /// The faulted path, for the table.
    pub path: String,
}

/// A row whose outcome is not the one the rules call for, because of a defect outside
/// the suite (`reason`). It must behave exactly as recorded (this status as a typed
/// error, after this many requests) and prints as `KNOWN`; anything else, a fix
/// included, is unexpected, and then the entry goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The vendor.
    pub vendor: &'static str,
    /// The flow.
    pub flow: Flow,
    /// The fault's short name.
    pub fault: &'static str,
    /// The status of the typed error the row ends in today.
    pub status: StatusCode,
    /// The requests it takes today.
    pub requests: u64,
    /// What is wrong, and where it would be fixed.
    pub reason: &'static str,
}

/// The known deviations (see [`Known`]).
pub const KNOWN: [Known; 0] = [];

/// The outcome a fault calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Retried within the policy's bound, then successful: one request more than
    /// without the fault.
    Recovered,
    /// Not sent again: the status as a typed error (`Error::Status`, or the vendor's
    /// own error carrying it), after one request.
    Refused(StatusCode),
    /// `Error::Timeout` after one request.
    Timeout,
    /// A typed error for a body that is not the answer expected, after one request.
    Invalid,
    /// `Error::Transport` (the connection broke mid-body), after one request.
    Transport,
    /// `Error::BodyTooLarge`, after one request.
    TooLarge,
    /// A redirect refused as an error, after one request.
    Redirect,
}

impl Expected {
    /// The outcome `fault` calls for on a request of `kind` (`None` for a fault this
    /// table does not know).
    pub fn of(fault: &Fault, kind: Kind) -> Option<Self> {
        let retried_or = |status| match kind {
            Kind::Repeatable => Self::Recovered,
            Kind::Once => Self::Refused(status),
        };
        Some(match fault {
            Fault::ServerError => retried_or(StatusCode::INTERNAL_SERVER_ERROR),
            Fault::TooManyRequests { .. } => retried_or(StatusCode::TOO_MANY_REQUESTS),
            Fault::CommitThen(status) => retried_or(*status),
            Fault::Delay(_) | Fault::TrickleBody(_) => Self::Timeout,
            Fault::MalformedJson | Fault::HtmlPage(_) => Self::Invalid,
            Fault::TruncatedBody => Self::Transport,
            Fault::OversizedBody(_) => Self::TooLarge,
            Fault::Redirect(_) => Self::Redirect,
            _ => return None,
        })
    }

    /// Whether `result` is this outcome.
    fn matches(self, result: &Result<(), auth_core::Error>) -> bool {
        use auth_core::Error as E;
        match (self, result) {
            (Self::Recovered, Ok(())) => true,
            (Self::Refused(want), Err(e)) => status_of(e) == Some(want),
            (Self::Timeout, Err(E::Timeout { .. })) => true,
            // Malformed JSON or an HTML page: refused by the core reader, or by the
            // vendor crate's own typed error for an answer it cannot use.
            (Self::Invalid, Err(E::InvalidResponse { .. } | E::Scheme(_))) => true,
            (Self::Transport, Err(E::Transport { .. })) => true,
            (Self::TooLarge, Err(E::BodyTooLarge { .. })) => true,
            (Self::Redirect, Err(E::Redirect { .. })) => true,
            _ => false,
        }
    }

    /// Requests the outcome takes, given those of the flow without a fault.
    pub fn requests(self, baseline: u64) -> u64 {
        match self {
            Self::Recovered => baseline + 1,
            _ => 1,
        }
    }

    /// Whether `observed` is this outcome with the requests it takes.
    pub fn met_by(self, observed: &Observed, baseline: u64) -> bool {
        self.matches(&observed.result) && observed.requests == self.requests(baseline)
    }
}

/// The HTTP status a typed error carries: `Error::Status`, or a vendor error for an
/// API status (BeProduct's `Api`, Binokula's `UserExists` for its 409).
fn status_of(error: &auth_core::Error) -> Option<StatusCode> {
    if let auth_core::Error::Status { status, .. } = error {
        return Some(*status);
    }
    if let Some(auth_beproduct::Error::Api { status, .. }) =
        error.scheme_error::<auth_beproduct::Error>()
    {
        return StatusCode::from_u16(*status).ok();
    }
    match error.scheme_error::<auth_binokula::Error>() {
        Some(auth_binokula::Error::UserExists { .. }) => Some(StatusCode::CONFLICT),
        _ => None,
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct Cell {
    /// The vendor.
    pub vendor: &'static str,
    /// The flow.
    pub flow: Flow,
    /// The faulted request's kind.
    pub kind: Kind,
    /// The fault's short name.
    pub fault: &'static str,
    /// The faulted path.
    pub path: String,
    /// The outcome, as text (`ok`, or the error's kind and message).
    pub outcome: String,
    /// Requests the server saw on the path.
    pub requests: u64,
    /// Requests the expected outcome takes.
    pub expected_requests: u64,
    /// The expected outcome.
    pub expected: Expected,
    /// Whether the outcome and the count are the expected ones (for a [`Known`] row:
    /// the recorded ones).
    pub pass: bool,
    /// Why the row is a known deviation, when it is one.
    pub known: Option<&'static str>,
    /// How long the case took.
    pub elapsed: Duration,
}

/// Runs one case of `vendor`.
async fn run_case(vendor: &str, flow: Flow, fault: Option<Fault>) -> Result<Observed, String> {
    match vendor {
        "binokula" => binokula::run(flow, fault).await,
        "bindeo" => bindeo::run(flow, fault).await,
        "bynder" => bynder::run(flow, fault).await,
        "bookingtime" => bookingtime::run(flow, fault).await,
        "beproduct" => beproduct::run(flow, fault).await,
        other => Err(format!("no fault cases for {other}")),
    }
}

/// The vendors, in table order.
pub const VENDORS: [&str; 5] = ["binokula", "bindeo", "bynder", "bookingtime", "beproduct"];

/// Runs every vendor flow of [`PLANS`] and every fault (each flow first without a
/// fault, for the baseline count) and returns the rows. Cases run concurrently, each
/// on its own servers.
pub async fn matrix() -> Result<Vec<Cell>, String> {
    let mut plans = Vec::new();
    for Plan { vendor, flow, kind } in PLANS {
        plans.push(async move {
            let baseline = run_case(vendor, flow, None).await?;
            baseline
                .result
                .as_ref()
                .map_err(|e| format!("{vendor} {flow} fails without a fault: {e}"))?;
            let cases = faults().into_iter().map(|fault| async move {
                let started = Instant::now();
                let name = fault.name();
                let expected = Expected::of(&fault, kind)
                    .ok_or_else(|| format!("no expected outcome for {name}"))?;
                let observed = run_case(vendor, flow, Some(fault)).await?;
                let expected_requests = expected.requests(baseline.requests);
                let known = KNOWN
                    .iter()
                    .find(|k| k.vendor == vendor && k.flow == flow && k.fault == name);
                let pass = match known {
                    Some(k) => {
                        observed.result.as_ref().err().and_then(status_of) == Some(k.status)
                            && observed.requests == k.requests
                    }
                    None => expected.met_by(&observed, baseline.requests),
                };
                Ok::<_, String>(Cell {
                    vendor,
                    flow,
                    kind,
                    fault: name,
                    path: observed.path.clone(),
                    outcome: match &observed.result {
                        Ok(()) => "ok".to_owned(),
                        Err(e) => format!("{}: {e}", variant(e)),
                    },
                    pass,
                    known: known.map(|k| k.reason),
                    requests: observed.requests,
                    expected_requests,
                    expected,
                    elapsed: started.elapsed(),
                })
            });
            futures_util::future::try_join_all(cases).await
        });
    }
    let rows = futures_util::future::try_join_all(plans).await?;
    Ok(rows.into_iter().flatten().collect())
}

/// The variant of a core error, for the table.
fn variant(error: &auth_core::Error) -> &'static str {
    use auth_core::Error as E;
    match error {
        E::Refused { .. } => "Refused",
        E::Status { .. } => "Status",
        E::InvalidResponse { .. } => "InvalidResponse",
        E::BodyTooLarge { .. } => "BodyTooLarge",
        E::Timeout { .. } => "Timeout",
        E::Redirect { .. } => "Redirect",
        E::Connect { .. } => "Connect",
        E::Transport { .. } => "Transport",
        E::Scheme(_) => "Scheme",
        _ => "other",
    }
}

/// Prints the table.
pub fn print_table(cells: &[Cell]) {
    println!(
        "{:<12} {:<7} {:<6} {:<22} {:<32} {:>4} {:>4} {:>7}  outcome",
        "vendor", "flow", "kind", "fault", "path", "reqs", "want", "time"
    );
    println!("{}", "-".repeat(138));
    for c in cells {
        let mut outcome = c.outcome.clone();
        if outcome.len() > 90 {
            let cut = (0..=90)
                .rev()
                .find(|&i| outcome.is_char_boundary(i))
                .unwrap_or(0);
            outcome.truncate(cut);
            outcome.push('…');
        }
        println!(
            "{:<12} {:<7} {:<6} {:<22} {:<32} {:>4} {:>4} {:>6.2}s  {}{}",
            c.vendor,
            c.flow.to_string(),
            match c.kind {
                Kind::Repeatable => "repeat",
                Kind::Once => "once",
            },
            c.fault,
            c.path,
            c.requests,
            c.expected_requests,
            c.elapsed.as_secs_f64(),
            match (c.pass, c.known) {
                (false, _) => "UNEXPECTED ",
                (true, Some(_)) => "KNOWN ",
                (true, None) => "",
            },
            outcome
        );
    }
}

/// `cargo xtask faults`: the table; fails if any case is not as expected.
pub fn run() -> Outcome {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let cells = runtime.block_on(matrix())?;
    print_table(&cells);
    for c in cells.iter().filter(|c| c.pass) {
        if let Some(reason) = c.known {
            println!("KNOWN {} {} {}: {reason}", c.vendor, c.flow, c.fault);
        }
    }
    let failed = cells.iter().filter(|c| !c.pass).count();
    if failed == 0 {
        let known = cells.iter().filter(|c| c.known.is_some()).count();
        println!(
            "{} cases, all as expected ({known} of them known deviations, above)",
            cells.len()
        );
        Ok(())
    } else {
        Err(format!(
            "{failed} of {} cases were not as expected",
            cells.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(result: Result<(), auth_core::Error>, requests: u64) -> Observed {
        Observed {
            result,
            requests,
            path: "/token".into(),
        }
    }

    fn status(status: StatusCode) -> auth_core::Error {
        auth_core::Error::Status {
            status,
            excerpt: String::new(),
        }
    }

    #[test]
    fn a_single_use_request_sent_twice_is_unexpected() {
        let commit = Fault::CommitThen(StatusCode::BAD_GATEWAY);
        let once = Expected::of(&commit, Kind::Once).unwrap();
        assert_eq!(once, Expected::Refused(StatusCode::BAD_GATEWAY));
        // What the rules call for: one request, the 502 typed.
        assert!(once.met_by(&observed(Err(status(StatusCode::BAD_GATEWAY)), 1), 1));
        // The old behaviour: repeated after the 502, and "recovered" (or refused by the
        // spent code) on the second request.
        assert!(!once.met_by(&observed(Ok(()), 2), 1));
        assert!(!once.met_by(&observed(Err(status(StatusCode::BAD_GATEWAY)), 2), 1));
        assert!(!once.met_by(&observed(Err(status(StatusCode::BAD_REQUEST)), 2), 1));
        // Another status is not this one.
        assert!(!once.met_by(
            &observed(Err(status(StatusCode::INTERNAL_SERVER_ERROR)), 1),
            1
        ));

        for fault in [
            Fault::ServerError,
            Fault::TooManyRequests {
                retry_after: Duration::from_secs(1),
            },
        ] {
            let once = Expected::of(&fault, Kind::Once).unwrap();
            assert!(!once.met_by(&observed(Ok(()), 2), 1), "{fault:?}");
        }
    }

    #[test]
    fn a_repeatable_request_must_be_retried() {
        for fault in [
            Fault::ServerError,
            Fault::CommitThen(StatusCode::BAD_GATEWAY),
        ] {
            let repeat = Expected::of(&fault, Kind::Repeatable).unwrap();
            assert_eq!(repeat, Expected::Recovered);
            assert!(repeat.met_by(&observed(Ok(()), 3), 2));
            // Not retried: the status came back after one request.
            assert!(!repeat.met_by(&observed(Err(status(StatusCode::BAD_GATEWAY)), 1), 2));
        }
    }

    #[test]
    fn every_fault_has_an_outcome_for_every_kind() {
        for fault in faults() {
            for kind in [Kind::Repeatable, Kind::Once] {
                assert!(Expected::of(&fault, kind).is_some(), "{fault:?} {kind:?}");
            }
        }
    }
}
