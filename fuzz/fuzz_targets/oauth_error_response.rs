//! OAuth error bodies (RFC 6749 §5.2): any bytes parse to an error or to nothing, and
//! what is kept is bounded and printable.
#![no_main]

use auth_oauth2::OAuthError;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(error) = OAuthError::from_json(None, data) {
        let shown = error.to_string();
        assert!(shown.chars().all(|c| !c.is_control()));
        assert!(
            error
                .description
                .as_ref()
                .is_none_or(|d| d.chars().count() <= 201)
        );
        assert_eq!(
            error.code.as_str().is_empty(),
            error.code.to_string().is_empty()
        );
    }
});
