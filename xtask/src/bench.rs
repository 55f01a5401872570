//! `cargo xtask bench [ARGS...]`: the criterion benchmarks, `cargo bench -p
//! auth-benches -- ARGS` (a filter, `--save-baseline`, criterion's settings).
//!
//! `cargo xtask bench --report [ARGS...]`: every group with short settings
//! (`--warm-up-time 1 --measurement-time 3`, then `ARGS`), and one table of what
//! that run measured: group, function, median, ratio, target, met. The medians are
//! criterion's point estimates (`<target>/criterion/<group>/<function>/new/estimates.json`,
//! or under `CRITERION_HOME`); a result older than the run (a group left out by a
//! filter) is not reported. The ratios are the performance targets of
//! `../shared/DESIGN.md` (and `id_token_validate`'s own), each between two functions of
//! one group, measured side by side in the one run: ratios, not absolute times, are
//! what compares across machines. Missed targets are reported, not failed on.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::Outcome;
use crate::ci::{cargo, workspace_root};

/// The criterion settings of a report run: short, so that every group fits in a few
/// minutes on a small machine.
const SHORT: [&str; 4] = ["--warm-up-time", "1", "--measurement-time", "3"];

/// What a ratio between two functions of a group is held to.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// `time(function) / time(against)` at most this.
    TimeAtMost(f64),
    /// `time(function) / time(against)` at least this (`against` is faster).
    TimeAtLeast(f64),
    /// `time(against) / time(function)`, the throughput kept, at least this.
    ThroughputAtLeast(f64),
    /// `time(function) / time(against)`, shown without a target.
    Time,
    /// `time(against) / time(function)`, shown without a target.
    Throughput,
}

/// One ratio of the table.
#[derive(Debug)]
struct Target {
    group: &'static str,
    function: &'static str,
    against: &'static str,
    check: Check,
}

const fn target(
    group: &'static str,
    function: &'static str,
    against: &'static str,
    check: Check,
) -> Target {
    Target {
        group,
        function,
        against,
        check,
    }
}

/// The targets, in the order of the table (groups, then functions, as listed here).
const TARGETS: &[Target] = &[
    target(
        "authorize_cached",
        "authorize",
        "prebuilt_header",
        Check::TimeAtMost(2.0),
    ),
    target(
        "authorize_contention",
        "authorize-2-thread",
        "authorize-1-thread",
        Check::TimeAtMost(1.2),
    ),
    target(
        "authorize_contention",
        "prebuilt-2-thread",
        "prebuilt-1-thread",
        Check::Time,
    ),
    target(
        "authorize_contention",
        "unshared-2-thread",
        "unshared-1-thread",
        Check::Time,
    ),
    target(
        "oauth1_sign",
        "auth-oauth1",
        "hmac-sha1-precomputed",
        Check::TimeAtMost(2.0),
    ),
    target(
        "oauth1_sign",
        "oauth1-request",
        "auth-oauth1",
        Check::TimeAtLeast(1.5),
    ),
    target(
        "oauth1_sign",
        "raw-hmac-sha1",
        "hmac-sha1-precomputed",
        Check::Time,
    ),
    target(
        "id_token_validate",
        "auth-oauth2",
        "raw-rs256",
        Check::TimeAtMost(1.2),
    ),
    target(
        "e2e_overhead",
        "authorized-client",
        "http-client-prebuilt",
        Check::ThroughputAtLeast(0.95),
    ),
    target(
        "e2e_overhead",
        "tower-layer",
        "hyper-prebuilt",
        Check::ThroughputAtLeast(0.95),
    ),
    target(
        "e2e_overhead",
        "reqwest-middleware",
        "reqwest-prebuilt",
        Check::ThroughputAtLeast(0.95),
    ),
    target(
        "e2e_overhead",
        "reqwest-middleware-stack-prebuilt",
        "reqwest-prebuilt",
        Check::Throughput,
    ),
];

/// `cargo xtask bench [--report] [ARGS...]`.
pub fn run(args: &[String]) -> Outcome {
    let (report, rest) = match args.split_first() {
        Some((first, rest)) if first == "--report" => (true, rest),
        _ => (false, args),
    };
    let mut command = vec!["bench", "-p", "auth-benches", "--"];
    if report {
        command.extend(SHORT);
    }
    command.extend(rest.iter().map(String::as_str));
    if !report {
        return cargo(&command);
    }
    // A second's slack: file times may be coarser than the clock.
    let started = SystemTime::now() - std::time::Duration::from_secs(1);
    cargo(&command)?;
    let results = read_results(&criterion_home(), started)?;
    if results.is_empty() {
        return Err("the run left no criterion results".into());
    }
    println!("\nMedians of this run; ratios between functions of one group, side by side:\n");
    print!("{}", table(&results));
    Ok(())
}

/// Where criterion writes: `CRITERION_HOME`, else `<target dir>/criterion`.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let target = if target.is_relative() {
        workspace_root().join(target)
    } else {
        target
    };
    target.join("criterion")
}

/// One function's result: its median time per iteration, in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
struct Measured {
    group: String,
    function: String,
    median_ns: f64,
}

/// Every `<group>/<function>[/<value>]/new/` under `home` written since `since`.
fn read_results(home: &Path, since: SystemTime) -> Result<Vec<Measured>, String> {
    let mut found = Vec::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                if let Some(measured) = read_one(&path, since)? {
                    found.push(measured);
                }
            } else if path
                .file_name()
                .is_some_and(|n| n != "report" && n != "base")
            {
                stack.push(path);
            }
        }
    }
    Ok(found)
}

fn read_one(new: &Path, since: SystemTime) -> Result<Option<Measured>, String> {
    let estimates = new.join("estimates.json");
    let written = std::fs::metadata(&estimates).and_then(|m| m.modified());
    if written.map_or(true, |t| t < since) {
        return Ok(None);
    }
    let json = |path: &Path| -> Result<serde_json::Value, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("cannot parse {}: {e}", path.display()))
    };
    let benchmark = json(&new.join("benchmark.json"))?;
    let estimates = json(&estimates)?;
    let text = |key: &str| benchmark[key].as_str().map(str::to_owned);
    let (Some(group), Some(function)) = (text("group_id"), text("function_id")) else {
        return Err(format!("{}: no group or function id", new.display()));
    };
    let function = match text("value_str") {
        Some(value) => format!("{function}/{value}"),
        None => function,
    };
    let median_ns = estimates["median"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no median estimate", new.display()))?;
    Ok(Some(Measured {
        group,
        function,
        median_ns,
    }))
}

/// The table, as Markdown, with a line of totals after it.
fn table(results: &[Measured]) -> String {
    let median = |group: &str, function: &str| {
        results
            .iter()
            .find(|m| m.group == group && m.function == function)
            .map(|m| m.median_ns)
    };
    // Groups in the order of TARGETS, then any other group by name.
    let mut groups: Vec<&str> = Vec::new();
    for name in TARGETS
        .iter()
        .map(|t| t.group)
        .chain(sorted(results.iter().map(|m| m.group.as_str())))
    {
        if !groups.contains(&name) && results.iter().any(|m| m.group == name) {
            groups.push(name);
        }
    }

    let mut out = String::new();
    out.push_str("| group | function | median | ratio | target | met |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    let (mut met, mut checked) = (0, 0);
    for group in groups {
        let in_group = sorted(
            results
                .iter()
                .filter(|m| m.group == group)
                .map(|m| m.function.as_str()),
        );
        // Functions with a ratio in the order of TARGETS, then the others by name.
        let mut functions: Vec<&str> = Vec::new();
        for name in TARGETS
            .iter()
            .filter(|t| t.group == group)
            .flat_map(|t| [t.function, t.against])
            .chain(in_group.iter().copied())
        {
            if !functions.contains(&name) && in_group.contains(&name) {
                functions.push(name);
            }
        }
        for function in functions {
            let Some(time) = median(group, function) else {
                continue;
            };
            let mut rows = 0;
            for t in TARGETS
                .iter()
                .filter(|t| t.group == group && t.function == function)
            {
                let Some(other) = median(group, t.against) else {
                    continue;
                };
                // Times as a multiple of the other's; throughput as a fraction of it.
                let (ratio, bound) = match t.check {
                    Check::TimeAtMost(b) => (time / other, Some(format!("≤ {b:.2}×"))),
                    Check::TimeAtLeast(b) => (time / other, Some(format!("≥ {b:.2}×"))),
                    Check::ThroughputAtLeast(b) => (other / time, Some(format!("≥ {b:.2}"))),
                    Check::Time => (time / other, None),
                    Check::Throughput => (other / time, None),
                };
                let shown = match t.check {
                    Check::ThroughputAtLeast(_) | Check::Throughput => {
                        format!("{ratio:.2} of {} (throughput)", t.against)
                    }
                    _ => format!("{ratio:.2}× {}", t.against),
                };
                let verdict = match t.check {
                    Check::TimeAtMost(b) => Some(ratio <= b),
                    Check::TimeAtLeast(b) | Check::ThroughputAtLeast(b) => Some(ratio >= b),
                    Check::Time | Check::Throughput => None,
                };
                if let Some(ok) = verdict {
                    checked += 1;
                    met += usize::from(ok);
                }
                let _ = writeln!(
                    out,
                    "| {group} | {function} | {} | {shown} | {} | {} |",
                    human(time),
                    bound.as_deref().unwrap_or("—"),
                    match verdict {
                        Some(true) => "yes",
                        Some(false) => "**no**",
                        None => "—",
                    },
                );
                rows += 1;
            }
            if rows == 0 {
                let _ = writeln!(
                    out,
                    "| {group} | {function} | {} | — | — | — |",
                    human(time)
                );
            }
        }
    }
    let _ = writeln!(out, "\n{met} of {checked} targets met.");
    out
}

fn sorted<'a>(names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut names: Vec<&str> = names.collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// A time in nanoseconds with a unit that keeps three or four digits.
fn human(ns: f64) -> String {
    let (value, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(group: &str, function: &str, median_ns: f64) -> Measured {
        Measured {
            group: group.into(),
            function: function.into(),
            median_ns,
        }
    }

    #[test]
    fn ratios_and_verdicts() {
        let table = table(&[
            m("oauth1_sign", "auth-oauth1", 400.0),
            m("oauth1_sign", "hmac-sha1-precomputed", 190.0),
            m("oauth1_sign", "oauth1-request", 900.0),
            m("e2e_overhead", "tower-layer", 31.0e6),
            m("e2e_overhead", "hyper-prebuilt", 30.0e6),
            m("other", "alone", 12_345.0),
        ]);
        assert!(
            table.contains(
                "| oauth1_sign | auth-oauth1 | 400 ns | 2.11× hmac-sha1-precomputed | ≤ 2.00× | **no** |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| oauth1_sign | oauth1-request | 900 ns | 2.25× auth-oauth1 | ≥ 1.50× | yes |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| e2e_overhead | tower-layer | 31.0 ms | 0.97 of hyper-prebuilt (throughput) | ≥ 0.95 | yes |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| oauth1_sign | hmac-sha1-precomputed | 190 ns | — | — | — |"),
            "{table}"
        );
        assert!(
            table.contains("| other | alone | 12.3 µs | — | — | — |"),
            "{table}"
        );
        assert!(table.contains("2 of 3 targets met."), "{table}");
        // Groups in the order of the targets.
        assert!(table.find("| e2e_overhead").unwrap() > table.find("| oauth1_sign").unwrap());
    }

    #[test]
    fn human_times() {
        assert_eq!(human(57.26), "57.3 ns");
        assert_eq!(human(5.26), "5.26 ns");
        assert_eq!(human(1_234.0), "1.23 µs");
        assert_eq!(human(40_135_000.0), "40.1 ms");
    }
}
