//! Signs requests described as JSON lines on stdin and prints, per line, the base
//! string, the signature and the `Authorization` header: what to compare with a
//! vendor's expectations when it answers 401.
//!
//! ```text
//! echo '{"method":"GET","url":"http://photos.example.net/photos?file=vacation.jpg&size=original",
//!        "consumer_key":"dpf43f3p2l4k3l03","consumer_secret":"kd94hf93k423kf44",
//!        "token":"nnch734d00sl2jdk","token_secret":"pfkkdhi9sl3r4s00",
//!        "nonce":"chapoH","timestamp":137131202}' | cargo run -p auth-oauth1 --example sign
//! ```
//!
//! Fields: `method`, `url`, optional `body` (form-encoded when `content_type` is absent
//! or `application/x-www-form-urlencoded`), `consumer_key`, `consumer_secret`,
//! optional `token` and `token_secret`, `signature_method` (default `HMAC-SHA1`;
//! `RSA-SHA256` reads `rsa_key_file`, a PKCS#8 DER key), `nonce`, `timestamp`,
//! optional `callback`, `verifier`, `realm`, `body_hash`. A line that cannot be signed
//! prints `{"error": ...}`; the exit status is non-zero if any line failed.

#![allow(clippy::print_stdout)]

use std::io::{BufRead, Write};
use std::process::ExitCode;

use auth_core::SecretString;
use auth_oauth1::{
    Consumer, RsaPrivateKey, SignOptions, SignatureMethod, Signer, TokenCredentials,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct Line {
    method: String,
    url: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    consumer_key: String,
    consumer_secret: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    token_secret: Option<String>,
    #[serde(default)]
    signature_method: Option<String>,
    #[serde(default)]
    rsa_key_file: Option<String>,
    nonce: String,
    timestamp: u64,
    #[serde(default)]
    callback: Option<String>,
    #[serde(default)]
    verifier: Option<String>,
    #[serde(default)]
    realm: Option<String>,
    #[serde(default)]
    body_hash: bool,
}

fn sign(line: &str) -> Result<serde_json::Value, String> {
    let line: Line = serde_json::from_str(line).map_err(|e| format!("invalid JSON line: {e}"))?;
    let method_name = line.signature_method.as_deref().unwrap_or("HMAC-SHA1");
    let method = SignatureMethod::parse(method_name)
        .ok_or_else(|| format!("unknown signature method {method_name}"))?;
    let mut builder = Signer::builder(Consumer::new(
        line.consumer_key,
        SecretString::from(line.consumer_secret),
    ))
    .method(method)
    .body_hash(line.body_hash);
    if let Some(token) = line.token {
        builder = builder.token(TokenCredentials::new(
            token,
            SecretString::from(line.token_secret.unwrap_or_default()),
        ));
    }
    if let Some(realm) = line.realm {
        builder = builder.realm(realm);
    }
    if let Some(path) = line.rsa_key_file {
        let der = std::fs::read(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
        builder = builder.rsa_key(RsaPrivateKey::from_pkcs8_der(&der).map_err(|e| e.to_string())?);
    }
    let signer = builder.build().map_err(|e| e.to_string())?;
    let uri: http::Uri = line.url.parse().map_err(|e| format!("invalid url: {e}"))?;
    let body = line.body.unwrap_or_default();
    let content_type = match (&line.content_type, body.is_empty()) {
        (Some(t), _) => Some(t.as_str()),
        (None, false) => Some("application/x-www-form-urlencoded"),
        (None, true) => None,
    };
    let signed = signer
        .sign_parts(
            &line.method,
            &uri,
            content_type,
            body.as_bytes(),
            &SignOptions {
                nonce: Some(&line.nonce),
                timestamp: Some(line.timestamp),
                callback: line.callback.as_deref(),
                verifier: line.verifier.as_deref(),
            },
        )
        .map_err(|e| e.to_string())?;
    Ok(serde_json::json!({
        "base_string": signed.base_string,
        "signature": signed.signature,
        "authorization": signed.authorization,
    }))
}

fn main() -> ExitCode {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    let mut failed = false;
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let out = sign(&line).unwrap_or_else(|e| {
            failed = true;
            serde_json::json!({ "error": e })
        });
        if writeln!(stdout, "{out}").is_err() {
            return ExitCode::FAILURE;
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
