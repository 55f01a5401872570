//! dudect (Reparaz, Balasch, Verbauwhede, 2017) checks for the comparisons that handle
//! secrets: for each, inputs of two classes go through the same code in random order,
//! and Welch's t-test compares their timings. `|t|` above 5 means the timings tell
//! the classes apart, i.e. the comparison leaks where the inputs differ.
//!
//! - `oauth1_verify`: a full OAuth 1.0a verification (header parsing, HMAC-SHA1,
//!   comparison) of a request whose signature differs from the right one in its last
//!   character (left class: equal prefix) or in its first (right class).
//! - `state_compare`: the OAuth `state` check (`auth_core::internal::constant_time_eq`), equal
//!   but for the last byte against differing from the first byte.
//!
//! - `early_exit_control`: a byte-by-byte comparison that stops at the first
//!   difference, on the same inputs as `state_compare`: the leak the tool must see
//!   (its `|t|` must be above 5, or the run proves nothing).
//!
//! `CT_SAMPLES` sets the samples per class (default 1,500,000). Run with
//! `cargo xtask dudect`, which builds this in release mode and checks every `|t|`.

use std::sync::Arc;

use auth_core::internal::constant_time_eq;
use auth_core::{ManualClock, SecretString};
use auth_oauth1::{
    Consumer, IncomingRequest, SignOptions, Signer, TokenCredentials, Verifier, VerifyingKey,
};
use dudect_bencher::rand::RngExt;
use dudect_bencher::{BenchRng, Class, CtRunner, ctbench_main};

const URI: &str = "https://api.example.com/v4/media/?page=2&limit=50";
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn samples() -> usize {
    std::env::var("CT_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_500_000)
}

/// A class chosen at random, so that both classes meet the same machine noise.
fn class(rng: &mut BenchRng) -> Class {
    if rng.random::<bool>() {
        Class::Left
    } else {
        Class::Right
    }
}

/// `text` with the byte at `at` replaced by a different alphanumeric one.
fn altered(text: &str, at: usize, rng: &mut BenchRng) -> String {
    let mut bytes = text.as_bytes().to_vec();
    loop {
        let b = ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())];
        if b != bytes[at] {
            bytes[at] = b;
            break;
        }
    }
    String::from_utf8(bytes).expect("ASCII")
}

fn oauth1_verify(runner: &mut CtRunner, rng: &mut BenchRng) {
    let clock = Arc::new(ManualClock::starting_at_unix(1_760_000_000));
    let signer = Signer::builder(Consumer::new(
        "ct-consumer",
        SecretString::from("ct-consumer-secret"),
    ))
    .token(TokenCredentials::new(
        "ct-token",
        SecretString::from("ct-token-secret"),
    ))
    .clock(clock.clone())
    .build()
    .expect("a signer");
    let uri: http::Uri = URI.parse().expect("a URI");
    let signed = signer
        .sign_parts("GET", &uri, None, b"", &SignOptions::default())
        .expect("signed");
    // The header with its signature cut out: `{before}{signature}{after}`.
    let encoded = auth_oauth1::encode(&signed.signature).into_owned();
    let (before, after) = signed
        .authorization
        .split_once(&encoded)
        .expect("the signature is in the header");
    // The signature's last base64 data character (before the `=` pad).
    let last = signed.signature.trim_end_matches('=').len() - 1;
    let verifier = Verifier::new().clock(clock);
    let key = VerifyingKey::Shared {
        consumer_secret: SecretString::from("ct-consumer-secret"),
        token_secret: Some(SecretString::from("ct-token-secret")),
    };

    let inputs: Vec<(Class, String)> = (0..2 * samples())
        .map(|_| {
            let class = class(rng);
            let at = match class {
                Class::Left => last,
                Class::Right => 0,
            };
            let signature = altered(&signed.signature, at, rng);
            let header = format!("{before}{}{after}", auth_oauth1::encode(&signature));
            (class, header)
        })
        .collect();
    for (class, header) in inputs {
        let request = IncomingRequest {
            method: "GET",
            uri: &uri,
            content_type: None,
            body: b"",
            authorization: &header,
        };
        runner.run_one(class, || {
            let outcome = verifier.verify(&request, |_, _| Some(key.clone()));
            assert!(outcome.is_err(), "an altered signature was accepted");
        });
    }
}

/// A state as the crates make one (43 base64url characters), and inputs of both
/// classes: equal but for the last byte, or differing from the first.
fn state_inputs(rng: &mut BenchRng) -> (String, Vec<(Class, String)>) {
    let expected: String = (0..43)
        .map(|_| char::from(ALPHANUMERIC[rng.random_range(0..ALPHANUMERIC.len())]))
        .collect();
    let inputs = (0..2 * samples())
        .map(|_| {
            let class = class(rng);
            let at = match class {
                Class::Left => expected.len() - 1,
                Class::Right => 0,
            };
            (class, altered(&expected, at, rng))
        })
        .collect();
    (expected, inputs)
}

fn state_compare(runner: &mut CtRunner, rng: &mut BenchRng) {
    let (expected, inputs) = state_inputs(rng);
    for (class, received) in inputs {
        runner.run_one(class, || {
            std::hint::black_box(constant_time_eq(
                std::hint::black_box(expected.as_bytes()),
                std::hint::black_box(received.as_bytes()),
            ))
        });
    }
}

/// The comparison not to write: it returns at the first difference.
fn early_exit_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for (x, y) in a.iter().zip(b) {
        if std::hint::black_box(x) != std::hint::black_box(y) {
            return false;
        }
    }
    true
}

fn early_exit_control(runner: &mut CtRunner, rng: &mut BenchRng) {
    let (expected, inputs) = state_inputs(rng);
    for (class, received) in inputs {
        runner.run_one(class, || {
            std::hint::black_box(early_exit_eq(
                std::hint::black_box(expected.as_bytes()),
                std::hint::black_box(received.as_bytes()),
            ))
        });
    }
}

ctbench_main!(oauth1_verify, state_compare, early_exit_control);
