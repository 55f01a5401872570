//! Project automation. `cargo xtask <command>`:
//!
//! - `demo`: starts the embedded servers and runs every flow through the public
//!   crates, one row per flow; exits non-zero if any fails.
//! - `ci`: everything CI checks (see [`ci`]).
//! - `deny`: cargo-deny licences, bans, sources and (offline) advisories.
//! - `fuzz [--seconds N] [TARGET...]`: runs fuzz targets for N seconds each.
//! - `bench [ARGS...]`: the criterion benchmarks (`cargo bench -p auth-benches`).

#![forbid(unsafe_code)]

mod ci;
mod demo;
mod fuzz;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let outcome = match command {
        "demo" => demo::run(),
        "ci" => ci::run(rest),
        "fuzz" => fuzz::run(rest),
        "deny" => ci::deny(),
        "bench" => ci::cargo(
            &[
                &["bench", "-p", "auth-benches", "--"][..],
                &as_strs(rest)[..],
            ]
            .concat(),
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask <demo|ci [--fuzz-seconds N]|deny|fuzz [--seconds N] [TARGET...]|bench [ARGS...]>"
            );
            Err("unknown command".into())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask {command}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// An xtask failure, as text.
pub(crate) type Outcome = Result<(), String>;
