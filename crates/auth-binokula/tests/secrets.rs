//! Property: no configuration, token, URL or error of this crate shows a secret in
//! `Debug` or `Display`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::time::UNIX_EPOCH;

use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, Error, FunctionKey, SsoToken};
use auth_core::SecretString;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn no_secret_in_debug_or_display(secret in "[A-Za-z0-9+/=_-]{12,40}", code in "[A-Za-z0-9+/=_-]{12,40}") {
        let config = BinokulaConfig::new("acme", ClientSecret::new(secret.clone()), FunctionKey::new(code.clone())).unwrap();
        let client = Binokula::new(config.clone()).unwrap();
        let sessions = client.user(&Email::parse("a@b.c").unwrap());
        let token = SsoToken {
            email: "a@b.c".into(),
            access_token: SecretString::from(secret.clone()),
            expires_at: UNIX_EPOCH,
        };
        let url = client.external_access_url(&token);
        prop_assert!(url.expose().contains(&url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()));
        let errors = [
            Error::CredentialsRejected { status: http::StatusCode::UNAUTHORIZED, message: String::new() },
            Error::CredentialsRejected { status: http::StatusCode::FORBIDDEN, message: "Invalid tenant or client secret".into() },
            Error::NoToken { message: "Invalid tenant or client secret".into() },
            Error::MalformedExpiry,
            Error::EmailMismatch { requested: "a@b.c".into() },
        ];
        let mut shown = format!("{config:?} {client:?} {sessions:?} {token:?} {url:?}");
        for e in errors {
            shown.push_str(&format!(" {e} {e:?}"));
        }
        prop_assert!(!shown.contains(&secret), "{}", shown);
        prop_assert!(!shown.contains(&code), "{}", shown);
    }
}
