//! Property: for arbitrary secrets, no `Debug` or `Display` of a configuration, token or
//! error type contains the secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use auth_core::http::{HttpPolicy, HttpResponse, ensure_secure_url};
use auth_core::{CachingProvider, Error, ManualClock, Refusal, SecretString, Token};
use auth_testkit::generic::GenericTokenSource;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use proptest::prelude::*;

fn secret_strategy() -> impl Strategy<Value = String> {
    // Long enough not to occur by chance in field names; printable, with characters
    // that need escaping in URLs and JSON.
    "[A-Za-z0-9+/=_~.-]{12,40}"
}

fn check(text: &str, secret: &str) -> Result<(), TestCaseError> {
    prop_assert!(!text.contains(secret), "secret leaked in: {}", text);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn no_secret_in_debug_or_display(secret in secret_strategy()) {
        let token = Token::bearer(secret.clone(), UNIX_EPOCH)
            .expires_in(Duration::from_secs(60))
            .with_refresh_token(secret.clone());
        check(&format!("{token:?}"), &secret)?;
        check(&format!("{:?}", token.authorization_header().expect("header")), &secret)?;

        let clock = ManualClock::starting_at_unix(0);
        let source = GenericTokenSource::new(
            HttpPolicy::default(),
            url::Url::parse("http://127.0.0.1:1/token").expect("url"),
            "client",
            SecretString::from(secret.clone()),
            Arc::new(clock.clone()),
        ).expect("source");
        check(&format!("{source:?}"), &secret)?;
        let provider = CachingProvider::builder(source).clock(Arc::new(clock)).build();
        check(&format!("{provider:?}"), &secret)?;

        // Errors built from places a secret can hide: URLs, JSON bodies, HTML bodies.
        let url = url::Url::parse(&format!(
            "http://user:{}@api.example.com/p?client_secret={}#{}",
            urlencoding(&secret), urlencoding(&secret), urlencoding(&secret)
        )).expect("url");
        let insecure = ensure_secure_url(&url, true).expect_err("insecure");
        check(&format!("{insecure} {insecure:?}"), &secret)?;

        for (status, body) in [
            (200, format!(r#"{{"access_token":{}, "expires_in":"x"}}"#, serde_json::json!(secret))),
            (400, format!(r#"{{"access_token":{}}}"#, serde_json::json!(secret))),
            (200, format!(r#"{{"access_token":"{secret}"#)),
            (200, format!(r#"{{"expires_in":"{secret}"}}"#)),
        ] {
            let response = HttpResponse {
                status: StatusCode::from_u16(status).expect("status"),
                headers: HeaderMap::new(),
                body: Bytes::from(body),
                attempts: 1,
            };
            #[derive(serde::Deserialize, Debug)]
            #[allow(dead_code)]
            struct Wire { expires_in: u64 }
            let errors: Vec<Error> = vec![
                response.to_error(),
                response.json::<Wire>().expect_err("wrong shape"),
            ];
            for e in errors {
                check(&format!("{e} {e:?}"), &secret)?;
            }
        }
        #[derive(Debug, thiserror::Error)]
        #[error("refused (HTTP {0})")]
        struct Said(StatusCode);
        let refused = Error::refused(Refusal::GrantRejected, Said(StatusCode::BAD_REQUEST));
        check(&format!("{refused} {refused:?}"), &secret)?;
    }
}

fn urlencoding(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
