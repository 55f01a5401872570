//! The `oauth2c` example, run in-process against the embedded provider: a machine
//! grant with masked and revealed output, and the code flow reading the redirect URL
//! from its input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

#[path = "../examples/oauth2c.rs"]
#[allow(dead_code, unreachable_pub)]
mod oauth2c;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth_core::SystemClock;
use auth_testkit::oauth2::{AuthServer, AuthServerConfig, ClientAuthMethod, consent};
use serde_json::Value;
use tokio::sync::mpsc;

/// A writer the test can read while the example runs.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn lines(&self) -> Vec<Value> {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn server() -> AuthServer {
    AuthServer::start(
        AuthServerConfig::new("cli", "cli-secret")
            .auth(ClientAuthMethod::FormBody)
            .clock(Arc::new(SystemClock)),
    )
    .unwrap()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

async fn run(argv: Vec<String>) -> Result<Vec<Value>, String> {
    let options = oauth2c::parse_args(&argv, None)?;
    let (_tx, rx) = mpsc::channel(1);
    let mut out = Shared::default();
    oauth2c::run(options, rx, &mut out).await?;
    Ok(out.lines())
}

#[tokio::test]
async fn client_credentials_masked_unless_revealed() {
    let s = server();
    let base = [
        "--issuer",
        s.issuer(),
        "--client-id",
        "cli",
        "--client-secret",
        "cli-secret",
        "--auth",
        "form",
        "--grant",
        "client_credentials",
        "--scope",
        "read",
    ];
    let masked = run(args(&base)).await.unwrap();
    let token = masked[0]["token_response"]["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        token.starts_with("at-") && token.contains("chars)"),
        "{token}"
    );
    assert_eq!(masked[0]["token_response"]["expires_in"], 3600);

    let mut revealed = args(&base);
    revealed.push("--reveal".into());
    let shown = run(revealed).await.unwrap();
    let token = shown[0]["token_response"]["access_token"].as_str().unwrap();
    assert!(!token.contains('…') && token.starts_with("at-"));

    // Explicit endpoints and a wrong secret: a clear error, no secret in it.
    let token_url = s.token_url().to_string();
    let err = run(args(&[
        "--token-url",
        &token_url,
        "--client-id",
        "cli",
        "--client-secret",
        "WRONG-SECRET",
        "--auth",
        "form",
        "--grant",
        "client_credentials",
    ]))
    .await
    .unwrap_err();
    assert!(
        err.contains("invalid_client") && !err.contains("WRONG-SECRET"),
        "{err}"
    );
}

#[tokio::test]
async fn the_code_flow_reads_the_redirect_and_prints_the_claims() {
    let s = server();
    let options = oauth2c::parse_args(
        &args(&[
            "--issuer",
            s.issuer(),
            "--client-id",
            "cli",
            "--client-secret",
            "cli-secret",
            "--auth",
            "form",
            "--grant",
            "authorization_code",
            "--scope",
            "openid email",
            "--redirect-uri",
            "http://127.0.0.1:9/cb",
        ]),
        None,
    )
    .unwrap();
    let (tx, rx) = mpsc::channel(1);
    let out = Shared::default();
    let mut writer = out.clone();
    let task = tokio::spawn(async move { oauth2c::run(options, rx, &mut writer).await });

    // Wait for the authorize URL, play the user, hand back the redirect.
    let url = loop {
        if let Some(line) = out.lines().first() {
            break line["authorize_url"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let redirect = consent(&url).await.unwrap();
    tx.send(redirect.to_string()).await.unwrap();
    task.await.unwrap().unwrap();

    let lines = out.lines();
    let report = &lines[1];
    assert_eq!(report["id_token_claims"]["sub"], "alice");
    assert_eq!(report["id_token_claims"]["iss"], s.issuer());
    assert!(
        report["token_response"]["refresh_token"]
            .as_str()
            .unwrap()
            .contains("chars)")
    );
}

#[test]
fn bad_command_lines_are_explained() {
    assert!(oauth2c::parse_args(&args(&["--grant", "password"]), None).is_err());
    assert!(
        oauth2c::parse_args(&args(&["--client-id", "x"]), None)
            .unwrap_err()
            .contains("--issuer")
    );
    assert!(
        oauth2c::parse_args(
            &args(&["--client-id", "x", "--token-url", "u", "--auth", "magic"]),
            None
        )
        .unwrap_err()
        .contains("--auth")
    );
}
