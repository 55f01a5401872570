//! Tidy: the core stays scheme-, vendor- and client-free.
//!
//! Fails when a file of `auth-core/src`
//! - names a vendor (Binokula, Bindeo, BeProduct, Bynder, bookingtime) anywhere, docs
//!   and tests included: vendor knowledge belongs to the vendor crates;
//! - names OAuth in code (outside comments and doc comments, which may say which scheme
//!   a rule is for): OAuth's types and codes belong to auth-oauth2 and auth-oauth1;
//! - names reqwest anywhere but in `reqwest.rs` (the reqwest transport) and `lib.rs`
//!   (which declares that module behind its feature).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use std::path::{Path, PathBuf};

const VENDORS: [&str; 5] = ["binokula", "bindeo", "beproduct", "bynder", "bookingtime"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn is_comment(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("//") || t.starts_with("/*") || t.starts_with('*')
}

#[test]
fn the_core_names_no_vendor_no_oauth_and_no_reqwest_outside_its_transport() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 10, "found the sources");
    let mut found = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        let reqwest_allowed = relative == "reqwest.rs" || relative == "lib.rs";
        for (n, line) in text.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            let at = format!("{relative}:{}", n + 1);
            if let Some(vendor) = VENDORS.iter().find(|v| lower.contains(*v)) {
                found.push(format!("{at} names the vendor {vendor}: {line}"));
            }
            if !is_comment(line) && lower.contains("oauth") {
                found.push(format!("{at} names OAuth in code: {line}"));
            }
            if !reqwest_allowed && lower.contains("reqwest") {
                found.push(format!("{at} names reqwest outside its transport: {line}"));
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_tidy_rules_catch_what_they_are_for() {
    // The checks themselves, on lines that must be caught and lines that must not.
    assert!(is_comment("    /// OAuth 1.0a form bodies are signed"));
    assert!(!is_comment("    let oauth = parse(body);"));
    assert!(VENDORS.iter().any(|v| {
        "StoreKey::new([\"Bindeo\"])"
            .to_ascii_lowercase()
            .contains(v)
    }));
}
