//! `cargo xtask <command>`: see the library's documentation for the commands.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use xtask::{bench, ci, demo, dudect, faults, fleet, fuzz};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let outcome = match command {
        "demo" => demo::run(),
        "faults" => faults::run(),
        "dudect" => dudect::run(rest),
        "ci" => ci::run(rest),
        "fuzz" => fuzz::run(rest),
        "deny" => ci::deny(),
        "fleet-worker" => fleet::worker(),
        "bench" => bench::run(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask <demo|faults|dudect [--samples N]|ci [--fuzz-seconds N]|deny|fuzz [--seconds N] [TARGET...]|bench [--report] [ARGS...]>"
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
