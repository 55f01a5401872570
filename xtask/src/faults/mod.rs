//! `cargo xtask faults`: every vendor's token flow and API flow against each of the
//! test kit's faults, one fresh set of servers per case. Each case must end in the
//! outcome its fault calls for (a bounded retry that succeeds, or a typed error) with
//! the number of requests that outcome takes; the table lists what happened.

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

/// The timeout every case's HTTP client has: the slow faults go past it.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// The faults, in table order.
pub fn faults() -> Vec<Fault> {
    vec![
        Fault::ServerError,
        Fault::TooManyRequests {
            retry_after: Duration::from_secs(1),
        },
        Fault::Delay(TIMEOUT * 3),
        Fault::TrickleBody(Duration::from_millis(50)),
        Fault::MalformedJson,
        Fault::HtmlPage(StatusCode::FORBIDDEN),
        Fault::TruncatedBody,
        Fault::OversizedBody(2 * 1024 * 1024),
        Fault::Redirect("https://login.example/sign-in".into()),
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
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flow::Token => "token",
            Flow::Api => "api",
        })
    }
}

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

/// The outcome a fault calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Retried within the policy's bound, then successful: one request more than
    /// without the fault.
    Recovered,
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
    /// The outcome `fault` calls for (`None` for a fault this table does not know).
    pub fn of(fault: &Fault) -> Option<Self> {
        Some(match fault {
            Fault::ServerError | Fault::TooManyRequests { .. } => Self::Recovered,
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
    fn requests(self, baseline: u64) -> u64 {
        match self {
            Self::Recovered => baseline + 1,
            _ => 1,
        }
    }
}

/// One row of the table.
#[derive(Debug)]
pub struct Cell {
    /// The vendor.
    pub vendor: &'static str,
    /// The flow.
    pub flow: Flow,
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
    /// Whether the outcome and the count are the expected ones.
    pub pass: bool,
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

/// Runs every vendor, flow and fault (each vendor and flow first without a fault, for
/// the baseline count) and returns the rows. Cases run concurrently, each on its own
/// servers.
pub async fn matrix() -> Result<Vec<Cell>, String> {
    let mut plans = Vec::new();
    for vendor in VENDORS {
        for flow in [Flow::Token, Flow::Api] {
            plans.push(async move {
                let baseline = run_case(vendor, flow, None).await?;
                baseline
                    .result
                    .as_ref()
                    .map_err(|e| format!("{vendor} {flow} fails without a fault: {e}"))?;
                let cases = faults().into_iter().map(|fault| async move {
                    let started = Instant::now();
                    let name = fault.name();
                    let expected = Expected::of(&fault)
                        .ok_or_else(|| format!("no expected outcome for {name}"))?;
                    let observed = run_case(vendor, flow, Some(fault)).await?;
                    let expected_requests = expected.requests(baseline.requests);
                    Ok::<_, String>(Cell {
                        vendor,
                        flow,
                        fault: name,
                        path: observed.path.clone(),
                        outcome: match &observed.result {
                            Ok(()) => "ok".to_owned(),
                            Err(e) => format!("{}: {e}", kind(e)),
                        },
                        pass: expected.matches(&observed.result)
                            && observed.requests == expected_requests,
                        requests: observed.requests,
                        expected_requests,
                        expected,
                        elapsed: started.elapsed(),
                    })
                });
                futures_util::future::try_join_all(cases).await
            });
        }
    }
    let rows = futures_util::future::try_join_all(plans).await?;
    Ok(rows.into_iter().flatten().collect())
}

/// The variant of a core error, for the table.
fn kind(error: &auth_core::Error) -> &'static str {
    use auth_core::Error as E;
    match error {
        E::OAuth(_) => "OAuth",
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
        "{:<12} {:<6} {:<22} {:<32} {:>4} {:>4} {:>7}  outcome",
        "vendor", "flow", "fault", "path", "reqs", "want", "time"
    );
    println!("{}", "-".repeat(130));
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
            "{:<12} {:<6} {:<22} {:<32} {:>4} {:>4} {:>6.2}s  {}{}",
            c.vendor,
            c.flow.to_string(),
            c.fault,
            c.path,
            c.requests,
            c.expected_requests,
            c.elapsed.as_secs_f64(),
            if c.pass { "" } else { "UNEXPECTED " },
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
    let failed = cells.iter().filter(|c| !c.pass).count();
    if failed == 0 {
        println!("{} cases, all as expected", cells.len());
        Ok(())
    } else {
        Err(format!(
            "{failed} of {} cases were not as expected",
            cells.len()
        ))
    }
}
