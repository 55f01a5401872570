//! `cargo xtask demo`: starts the embedded servers, runs every flow through the
//! public crates and prints one row per flow. Each vendor adds its module.

mod beproduct;
mod bindeo;
mod binokula;
mod bookingtime;
pub(crate) mod bynder;
mod generic;

use std::time::{Duration, Instant};

use crate::Outcome;

/// One flow's outcome.
#[derive(Debug)]
pub struct Row {
    pub vendor: &'static str,
    pub flow: &'static str,
    pub result: Result<String, String>,
    /// Requests the embedded server(s) saw during the flow.
    pub requests: u64,
    pub elapsed: Duration,
}

/// Times `flow`, which returns its summary and the requests the server saw.
pub async fn timed<F>(vendor: &'static str, name: &'static str, flow: F) -> Row
where
    F: std::future::Future<Output = Result<(String, u64), String>>,
{
    let started = Instant::now();
    let (result, requests) = match flow.await {
        Ok((summary, requests)) => (Ok(summary), requests),
        Err(e) => (Err(e), 0),
    };
    Row {
        vendor,
        flow: name,
        result,
        requests,
        elapsed: started.elapsed(),
    }
}

/// Runs every flow on a fresh runtime and returns its rows.
pub fn rows() -> Result<Vec<Row>, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    Ok(runtime.block_on(async {
        let mut rows = Vec::new();
        rows.extend(generic::rows().await);
        rows.extend(binokula::rows().await);
        rows.extend(bindeo::rows().await);
        rows.extend(bynder::rows().await);
        rows.extend(bookingtime::rows().await);
        rows.extend(beproduct::rows().await);
        rows
    }))
}

/// The secrets the demo configures (client secrets, passwords, token secrets): with
/// what crosses the wire, what must never appear in its logs.
pub fn configured_secrets() -> Vec<&'static str> {
    [
        generic::SECRETS,
        binokula::SECRETS,
        bindeo::SECRETS,
        bynder::SECRETS,
        bookingtime::SECRETS,
        beproduct::SECRETS,
    ]
    .concat()
}

/// `cargo xtask demo`: the rows as a table; fails if any flow failed.
pub fn run() -> Outcome {
    let rows = rows()?;
    print_table(&rows);
    let failed = rows.iter().filter(|r| r.result.is_err()).count();
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} of {} flows failed", rows.len()))
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "{:<12} {:<44} {:<6} {:>8} {:>9}  detail",
        "vendor", "flow", "result", "requests", "time"
    );
    println!("{}", "-".repeat(114));
    for row in rows {
        let (status, detail) = match &row.result {
            Ok(summary) => ("ok", summary.as_str()),
            Err(e) => ("FAIL", e.as_str()),
        };
        println!(
            "{:<12} {:<44} {:<6} {:>8} {:>7.1}ms  {}",
            row.vendor,
            row.flow,
            status,
            row.requests,
            row.elapsed.as_secs_f64() * 1000.0,
            detail
        );
    }
}
