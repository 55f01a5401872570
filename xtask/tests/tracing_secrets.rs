//! A full demo run traced at the most verbose level (every span, every event, the
//! `log` records of reqwest and hyper) shows none of the secrets, tokens or
//! signatures that the run used: the configured ones and every one that crossed the
//! wire, as the embedded servers recorded them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::io;
use std::sync::{Arc, Mutex};

use auth_testkit::wire;
use tracing_subscriber::fmt::format::FmtSpan;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The forms a secret may take in a log line: as it is, percent-encoded, and
/// form-encoded.
fn forms(secret: &str) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    let encoded = auth_oauth1_encode(secret);
    if encoded != secret {
        forms.push(encoded);
    }
    forms
}

fn auth_oauth1_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[test]
fn a_full_demo_run_at_trace_level_logs_no_secret_token_or_signature() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(FmtSpan::NEW | FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();

    let recording = wire::record();
    let rows = xtask::demo::rows().unwrap();
    let failed: Vec<_> = rows.iter().filter(|r| r.result.is_err()).collect();
    assert!(failed.is_empty(), "demo flows failed: {failed:?}");

    let mut secrets = recording.sensitive_values();
    secrets.extend(
        xtask::demo::configured_secrets()
            .into_iter()
            .map(str::to_owned),
    );
    drop(recording);
    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();

    // The run was traced in full: spans of every kind, and the lower layers' logs.
    for expected in [
        "token_fetch",
        "token_request",
        "oauth1_sign",
        "oauth1_credentials",
        "grant=\"refresh_token\"",
        "outcome=\"ok\"",
        "vendor=\"bookingtime\"",
        "vendor=\"binokula\"",
        "vendor=\"bindeo\"",
        "vendor=\"beproduct\"",
        "TRACE",
    ] {
        assert!(log.contains(expected), "the log has no {expected:?}");
    }
    // And the servers saw plenty to look for: client secrets, passwords, access,
    // refresh and ID tokens, codes, OAuth 1.0a signatures and token secrets.
    assert!(
        secrets.len() > 40,
        "only {} secrets recorded",
        secrets.len()
    );
    assert!(secrets.contains("demo-permanent-secret-Lw3"));

    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|secret| forms(secret).iter().any(|form| log.contains(form)))
        .collect();
    assert!(
        leaked.is_empty(),
        "{} of {} secrets appear in {} bytes of trace output: {leaked:?}",
        leaked.len(),
        secrets.len(),
        log.len()
    );
    // The check can fail: a secret written to a trace is found.
    let probe = secrets.iter().next().unwrap();
    tracing::trace!(probe = %probe, "deliberate leak");
    let after = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(after.contains(probe.as_str()));

    println!(
        "{} flows, {} secrets, tokens and signatures checked against {} lines ({} bytes) of trace output: none found",
        rows.len(),
        secrets.len(),
        log.lines().count(),
        log.len()
    );
}
