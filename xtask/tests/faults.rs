//! The fault suite: every vendor's token and API flow (and BeProduct's and Binokula's
//! writes, BeProduct's rotating refresh) against each test-kit fault (500, 429 with
//! Retry-After, slower than the timeout, a trickling body, malformed JSON, an HTML
//! page, a truncated body, an oversized body, a redirect, a 502 after the server
//! committed). Each case ends in a bounded, successful retry or a typed error, with
//! the request count that outcome takes: a single-use or `POST` request is never sent
//! twice once it may have reached the server. The whole suite ends well within a
//! minute: no hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::time::Duration;

use xtask::faults::{self, Expected, KNOWN, Kind, PLANS, VENDORS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_flow_meets_every_fault_with_a_bounded_typed_outcome() {
    let cells = tokio::time::timeout(Duration::from_secs(60), faults::matrix())
        .await
        .expect("the fault suite hung")
        .unwrap();
    faults::print_table(&cells);

    assert_eq!(cells.len(), PLANS.len() * faults::faults().len());
    for plan in PLANS {
        let cases = cells
            .iter()
            .filter(|c| c.vendor == plan.vendor && c.flow == plan.flow)
            .count();
        assert_eq!(cases, faults::faults().len(), "{plan:?}");
    }
    for vendor in VENDORS {
        assert!(
            PLANS.iter().filter(|p| p.vendor == vendor).count() >= 2,
            "{vendor} has a token and an API flow"
        );
    }
    let unexpected: Vec<_> = cells.iter().filter(|c| !c.pass).collect();
    assert!(unexpected.is_empty(), "not as expected: {unexpected:#?}");
    // The known deviations are the listed ones, each behaving as recorded.
    let known: Vec<_> = cells.iter().filter(|c| c.known.is_some()).collect();
    assert_eq!(known.len(), KNOWN.len(), "{known:#?}");
    // Retries are bounded: a recovered case took exactly one request more, and no
    // failing case was retried at all.
    for cell in &cells {
        // A request that must not be repeated never is, whatever the fault.
        if cell.kind == Kind::Once {
            assert_eq!(cell.requests, 1, "{cell:?}");
            assert_ne!(cell.expected, Expected::Recovered, "{cell:?}");
        }
        if cell.known.is_none() {
            match cell.expected {
                Expected::Recovered => assert_eq!(cell.outcome, "ok"),
                _ => assert_eq!(cell.requests, 1, "{cell:?}"),
            }
        }
        // A case ends within the timeout and the longest Retry-After honoured.
        assert!(cell.elapsed < Duration::from_secs(8), "{cell:?}");
    }
}
