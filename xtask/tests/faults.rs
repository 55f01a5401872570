//! The fault suite: every vendor's token and API flow against each test-kit fault
//! (500, 429 with Retry-After, slower than the timeout, a trickling body, malformed
//! JSON, an HTML page, a truncated body, an oversized body, a redirect). Each case
//! ends in a bounded, successful retry or a typed error, with the request count that
//! outcome takes, and the whole suite ends well within a minute: no hang.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::time::Duration;

use xtask::faults::{self, Expected, Flow, VENDORS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vendor_flow_meets_every_fault_with_a_bounded_typed_outcome() {
    let cells = tokio::time::timeout(Duration::from_secs(60), faults::matrix())
        .await
        .expect("the fault suite hung")
        .unwrap();
    faults::print_table(&cells);

    assert_eq!(cells.len(), VENDORS.len() * 2 * faults::faults().len());
    for vendor in VENDORS {
        for flow in [Flow::Token, Flow::Api] {
            let cases = cells
                .iter()
                .filter(|c| c.vendor == vendor && c.flow == flow)
                .count();
            assert_eq!(cases, faults::faults().len(), "{vendor} {flow}");
        }
    }
    let unexpected: Vec<_> = cells.iter().filter(|c| !c.pass).collect();
    assert!(unexpected.is_empty(), "not as expected: {unexpected:#?}");
    // Retries are bounded: a recovered case took exactly one request more, and no
    // failing case was retried at all.
    for cell in &cells {
        match cell.expected {
            Expected::Recovered => assert_eq!(cell.outcome, "ok"),
            _ => assert_eq!(cell.requests, 1, "{cell:?}"),
        }
        // A case ends within the timeout and the longest Retry-After honoured.
        assert!(cell.elapsed < Duration::from_secs(8), "{cell:?}");
    }
}
