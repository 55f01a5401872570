//! `cargo xtask fuzz`: runs the cargo-fuzz targets in `fuzz/`, each for a given time,
//! seeded from `fuzz/seeds/<target>/` (examples from the RFCs and vendor documents).
//! cargo-fuzz needs nightly features; on stable it runs with `RUSTC_BOOTSTRAP=1`.

use std::path::PathBuf;
use std::process::Command;

use crate::Outcome;
use crate::ci::{exec, workspace_root};

/// The targets, from the file names in `fuzz/fuzz_targets/`.
pub fn targets() -> Result<Vec<String>, String> {
    let dir = workspace_root().join("fuzz/fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let path = entry.path();
            (path.extension()? == "rs").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    names.sort();
    Ok(names)
}

fn cargo_fuzz() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.arg("fuzz").env("RUSTC_BOOTSTRAP", "1");
    command
}

/// Builds every target once, then runs each for `seconds`.
pub fn smoke(seconds: u64) -> Outcome {
    let targets = targets()?;
    exec(cargo_fuzz().args(["build", "--release"]))?;
    for target in &targets {
        run_target(target, seconds)?;
    }
    eprintln!(
        "fuzz: {} targets ran {seconds} s each without a finding",
        targets.len()
    );
    Ok(())
}

fn run_target(target: &str, seconds: u64) -> Outcome {
    let root = workspace_root();
    let corpus: PathBuf = root.join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&corpus)
        .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
    let mut command = cargo_fuzz();
    command.args(["run", "--release", target]).arg(&corpus);
    let seeds = root.join("fuzz/seeds").join(target);
    if seeds.is_dir() {
        command.arg(&seeds);
    }
    command.args([
        "--",
        &format!("-max_total_time={seconds}"),
        "-print_final_stats=1",
        "-max_len=65536",
    ]);
    exec(&mut command)
}

/// `cargo xtask fuzz [--seconds N] [TARGET...]`.
pub fn run(args: &[String]) -> Outcome {
    let mut seconds = 60;
    let mut chosen = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--seconds" {
            seconds = iter
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or("--seconds needs a number")?;
        } else {
            chosen.push(arg.clone());
        }
    }
    let all = targets()?;
    if chosen.is_empty() {
        chosen = all.clone();
    }
    if let Some(unknown) = chosen.iter().find(|t| !all.contains(t)) {
        return Err(format!(
            "unknown target {unknown}; targets: {}",
            all.join(", ")
        ));
    }
    exec(cargo_fuzz().args(["build", "--release"]))?;
    for target in &chosen {
        run_target(target, seconds)?;
    }
    Ok(())
}
