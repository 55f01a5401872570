//! `cargo xtask ci`: formatting, clippy with warnings denied, the README's test
//! command, docs with warnings denied, benches built, no reqwest in the crates that
//! must build without it, the library crates packaged and verified, cargo-deny
//! (licences, bans, sources, and advisories from the offline copy when
//! `../shared/advisory-db` is there), a fuzz smoke run of every target and a short
//! dudect run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::Outcome;

/// Runs `cargo` with `args` in the workspace root; fails on a non-zero exit.
pub fn cargo(args: &[&str]) -> Outcome {
    exec(Command::new(env_cargo()).args(args))
}

fn env_cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

pub fn exec(command: &mut Command) -> Outcome {
    command.current_dir(workspace_root());
    let shown = format!("{command:?}");
    eprintln!("==> {shown}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn run(args: &[String]) -> Outcome {
    let fuzz_seconds = args
        .windows(2)
        .find(|w| w[0] == "--fuzz-seconds")
        .and_then(|w| w[1].parse::<u64>().ok())
        .unwrap_or(10);
    let mut timings = Vec::new();
    let mut step = |name: &str, f: &dyn Fn() -> Outcome| -> Outcome {
        let started = Instant::now();
        eprintln!("\n=== ci: {name}");
        let outcome = f();
        timings.push((name.to_owned(), started.elapsed().as_secs()));
        outcome
    };
    step("fmt", &|| cargo(&["fmt", "--all", "--check"]))?;
    step("clippy", &|| {
        cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
    })?;
    // The README's test command.
    step("test", &|| cargo(&["test", "--workspace", "--locked"]))?;
    step("doc", &|| {
        exec(
            Command::new(env_cargo())
                .args(["doc", "--workspace", "--no-deps", "--locked"])
                .env("RUSTDOCFLAGS", "-D warnings"),
        )
    })?;
    step("benches built", &|| {
        cargo(&["bench", "--workspace", "--no-run", "--locked"])
    })?;
    step("no reqwest", &no_reqwest)?;
    step("package", &|| {
        let mut args = vec!["package", "--workspace", "--locked", "--allow-dirty"];
        for unpublished in UNPUBLISHED {
            args.extend(["--exclude", unpublished]);
        }
        cargo(&args)
    })?;
    step("cargo-deny", &deny)?;
    step("fuzz smoke", &|| crate::fuzz::smoke(fuzz_seconds))?;
    // A short constant-time run (the full one: `cargo xtask dudect`).
    step("dudect smoke", &|| crate::dudect::check(200_000))?;
    eprintln!("\n=== ci: all steps passed");
    for (name, secs) in timings {
        eprintln!("    {name:<14} {secs:>5} s");
    }
    Ok(())
}

/// The packages that are never published.
const UNPUBLISHED: [&str; 3] = ["auth-testkit", "xtask", "auth-benches"];

/// Crates that must build without reqwest: the core and the schemes without their
/// default transport, every vendor crate without its `reqwest` feature, and the
/// second transport's path (auth-tower over any `tower::Service`).
const WITHOUT_REQWEST: [&str; 10] = [
    "auth-core",
    "auth-oauth1",
    "auth-oauth2",
    "auth-apikey",
    "auth-tower",
    "auth-bindeo",
    "auth-binokula",
    "auth-beproduct",
    "auth-bookingtime",
    "auth-bynder",
];

/// `cargo tree` of each crate that must build without reqwest, default features off, names no
/// reqwest.
pub fn no_reqwest() -> Outcome {
    for package in WITHOUT_REQWEST {
        let mut command = Command::new(env_cargo());
        command
            .args([
                "tree",
                "--locked",
                "--no-default-features",
                "-e",
                "normal",
                "-p",
                package,
            ])
            .current_dir(workspace_root());
        let output = command
            .output()
            .map_err(|e| format!("cannot run cargo tree: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "cargo tree -p {package} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let tree = String::from_utf8_lossy(&output.stdout);
        if let Some(line) = tree.lines().find(|l| l.contains("reqwest")) {
            return Err(format!(
                "{package} without default features depends on reqwest: {}",
                line.trim()
            ));
        }
        eprintln!(
            "    {package}: no reqwest ({} crates)",
            tree.lines().count()
        );
    }
    Ok(())
}

pub fn deny() -> Outcome {
    cargo(&["deny", "--locked", "check", "licenses", "bans", "sources"])?;
    let root = workspace_root();
    let offline = root.join("../shared/advisory-db");
    if !offline.join("install.sh").is_file() {
        eprintln!(
            "notice: {} is absent; the advisory check is skipped (the other checks ran)",
            offline.display()
        );
        return Ok(());
    }
    let db = root.join("target/advisory-db");
    exec(
        Command::new("bash")
            .arg(offline.join("install.sh"))
            .arg(&db),
    )?;
    let config = root.join("target/deny-advisories.toml");
    let base = std::fs::read_to_string(root.join("deny.toml"))
        .map_err(|e| format!("cannot read deny.toml: {e}"))?;
    let with_db = base.replace(
        "[advisories]",
        &format!("[advisories]\ndb-path = {:?}", db.display().to_string()),
    );
    std::fs::write(&config, with_db)
        .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let config = config.display().to_string();
    cargo(&[
        "deny",
        "--locked",
        "--offline",
        "--config",
        &config,
        "check",
        "advisories",
    ])
}
