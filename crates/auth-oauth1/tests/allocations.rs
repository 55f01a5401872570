//! Heap allocations per sign, counted with a counting global allocator. The target is
//! at most 3; a sign makes 1: the header, sized exactly so that the header value takes
//! it over without copying (the parameters are on the stack, the base string in a
//! buffer the thread keeps).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::alloc::System;

use auth_core::SecretString;
use auth_oauth1::{Consumer, Signer, TokenCredentials};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn a_sign_makes_one_allocation() {
    let signer = Signer::builder(Consumer::new(
        "dpf43f3p2l4k3l03",
        SecretString::from("kd94hf93k423kf44"),
    ))
    .token(TokenCredentials::new(
        "nnch734d00sl2jdk",
        SecretString::from("pfkkdhi9sl3r4s00"),
    ))
    .build()
    .unwrap();
    let template: auth_core::AuthRequest = http::Request::get(
        "http://photos.example.net/photos?file=vacation.jpg&size=original&page=2",
    )
    .body(bytes::Bytes::new())
    .unwrap();
    // Warm up: thread-local RNG and the clock's first use.
    signer.sign(&mut template.clone()).unwrap();

    let mut counts = Vec::new();
    for _ in 0..20 {
        let mut request = template.clone();
        // A cloned header map has no spare room; growing it is the caller's
        // allocation, not the signer's.
        request.headers_mut().reserve(4);
        let region = Region::new(GLOBAL);
        signer.sign(&mut request).unwrap();
        let stats = region.change();
        counts.push(stats.allocations + stats.reallocations);
        assert!(request.headers().contains_key("authorization"));
    }
    let most = counts.iter().copied().max().unwrap();
    assert!(most <= 1, "allocations per sign: {counts:?}");
    println!("allocations per sign: {most}");
}
