//! `cargo xtask dudect [--samples N]`: builds the dudect program in `ct/` (release),
//! runs it with N samples per class (default 1,500,000) and checks the result: every
//! comparison of secrets has `|t|` below 5, and the early-exit control above it (the
//! run could tell a leak from none).

use std::process::Command;

use crate::Outcome;
use crate::ci::{exec, workspace_root};

/// The `|t|` above which dudect's two classes are told apart.
const T_LIMIT: f64 = 5.0;

/// One bench's line: name, samples in its largest test, max t.
#[derive(Debug, Clone, PartialEq)]
pub struct CtResult {
    /// The bench.
    pub name: String,
    /// Samples (both classes) in the test with the largest `|t|`, in millions.
    pub million_samples: f64,
    /// That test's t.
    pub max_t: f64,
}

/// Reads `bench NAME ... : n == +0.200M, max t = +1.04562, ...` lines.
pub fn parse(output: &str) -> Vec<CtResult> {
    output
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("bench ")?;
            let (name, stats) = rest.split_once(" ... : ")?;
            let n = stats.split("n == ").nth(1)?.split('M').next()?;
            let t = stats.split("max t = ").nth(1)?.split(',').next()?;
            Some(CtResult {
                name: name.trim().to_owned(),
                million_samples: n.trim().parse().ok()?,
                max_t: t.trim().parse().ok()?,
            })
        })
        .collect()
}

/// Builds and runs the program with `samples` per class and checks it.
pub fn check(samples: u64) -> Outcome {
    let root = workspace_root();
    let manifest = root.join("ct/Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    exec(
        Command::new(&cargo)
            .args(["build", "--release", "--manifest-path"])
            .arg(&manifest),
    )?;
    let binary = root.join("ct/target/release/auth-ct");
    eprintln!("==> {} (CT_SAMPLES={samples})", binary.display());
    let output = Command::new(&binary)
        .env("CT_SAMPLES", samples.to_string())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let text = String::from_utf8_lossy(&output.stdout);
    print!("{text}");
    if !output.status.success() {
        return Err(format!("the dudect program failed: {}", output.status));
    }
    let results = parse(&text);
    let mut problems = Vec::new();
    for want in ["oauth1_verify", "state_compare", "early_exit_control"] {
        let Some(result) = results.iter().find(|r| r.name == want) else {
            problems.push(format!("{want}: no result"));
            continue;
        };
        let control = want.ends_with("_control");
        if control && result.max_t.abs() <= T_LIMIT {
            problems.push(format!(
                "{want}: |t| = {:.2}, the leak was not seen; the run proves nothing",
                result.max_t.abs()
            ));
        }
        if !control && result.max_t.abs() >= T_LIMIT {
            problems.push(format!(
                "{want}: |t| = {:.2} >= {T_LIMIT}: timing depends on where the inputs differ",
                result.max_t.abs()
            ));
        }
    }
    if problems.is_empty() {
        eprintln!(
            "dudect: {samples} samples per class; comparisons of secrets |t| < {T_LIMIT}, control above"
        );
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// `cargo xtask dudect [--samples N]`.
pub fn run(args: &[String]) -> Outcome {
    let samples = args
        .windows(2)
        .find(|w| w[0] == "--samples")
        .map(|w| w[1].parse::<u64>().map_err(|_| "--samples needs a number"))
        .transpose()?
        .unwrap_or(1_500_000);
    check(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_programs_lines() {
        let out = "running 2 benches\nbench oauth1_verify seeded with 0x1\n\
                   bench oauth1_verify      ... : n == +0.190M, max t = +2.59532, max tau = +0.00596, (5/tau)^2 = 703985\n\
                   bench early_exit_control ... : n == +0.157M, max t = -939.39487, max tau = +2.36708, (5/tau)^2 = 4\n";
        assert_eq!(
            parse(out),
            vec![
                CtResult {
                    name: "oauth1_verify".into(),
                    million_samples: 0.190,
                    max_t: 2.59532
                },
                CtResult {
                    name: "early_exit_control".into(),
                    million_samples: 0.157,
                    max_t: -939.39487
                },
            ]
        );
    }
}
