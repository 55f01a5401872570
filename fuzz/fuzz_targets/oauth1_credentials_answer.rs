//! Form-encoded flow answers of any status and content: typed results or typed
//! errors, never a panic.
#![no_main]

use auth_oauth1::parse_credentials_answer;
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let status = [200u16, 201, 400, 401, 403, 500][usize::from(selector) % 6];
    match parse_credentials_answer(status, &HeaderMap::new(), body) {
        Ok(answer) => assert!(!answer.credentials.token().is_empty()),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
