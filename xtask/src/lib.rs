//! Project automation. `cargo xtask <command>`:
//!
//! - `demo`: starts the embedded servers and runs every flow through the public
//!   crates, one row per flow; exits non-zero if any fails.
//! - `ci`: everything CI checks (see [`ci`]).
//! - `faults`: every vendor's token and API flow against each test-kit fault; the
//!   outcome and request count per case, checked against what the fault calls for.
//! - `dudect [--samples N]`: the constant-time checks in `ct/` (OAuth 1.0a
//!   verification, state comparison), `|t|` below 5 with N samples per class.
//! - `deny`: cargo-deny licences, bans, sources and (offline) advisories.
//! - `fuzz [--seconds N] [TARGET...]`: runs fuzz targets for N seconds each.
//! - `bench [--report] [ARGS...]`: the criterion benchmarks (`cargo bench -p
//!   auth-benches`); with `--report`, every group with short settings and one table
//!   of medians, ratios and targets (see [`bench`](mod@bench)).
//! - `fleet-worker`: one process of a fleet sharing a Redis, spawned by the
//!   multi-process tests (see [`fleet`] and, for the soak, [`soak`]); not for use
//!   by hand.

#![forbid(unsafe_code)]

pub mod bench;
pub mod ci;
pub mod demo;
pub mod dudect;
pub mod faults;
pub mod fleet;
pub mod fuzz;
pub mod soak;

/// An xtask failure, as text.
pub type Outcome = Result<(), String>;
