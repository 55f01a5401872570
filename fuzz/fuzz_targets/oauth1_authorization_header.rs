//! The `Authorization: OAuth ...` parser: never a panic; what parses has unique names.
#![no_main]

use auth_oauth1::AuthorizationHeader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(header) = AuthorizationHeader::parse(text) {
        let mut names: Vec<&str> = header.params.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }
});
