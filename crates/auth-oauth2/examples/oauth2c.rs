//! `oauth2c`: runs one grant against a provider and prints the token response as JSON,
//! to check a provider's configuration before writing code (in the spirit of
//! `oauth2c`).
//!
//! ```text
//! cargo run -p auth-oauth2 --example oauth2c -- \
//!     --issuer https://login.example.com --client-id app --client-secret s3cret \
//!     --auth basic --grant client_credentials --scope "read write"
//! ```
//!
//! Options:
//!
//! - `--issuer URL` (discovery), or `--token-url URL` and, for the code flow,
//!   `--authorize-url URL`
//! - `--client-id ID`, `--client-secret SECRET` (or the `OAUTH2C_CLIENT_SECRET`
//!   environment variable; none: a public client)
//! - `--auth basic|form|json` (default `basic`)
//! - `--grant client_credentials|password|refresh_token|authorization_code`
//! - `--scope S`, `--username U`, `--password P`, `--refresh-token R`,
//!   `--redirect-uri URI` (default `http://127.0.0.1:9876/callback`),
//!   `--param NAME=VALUE` (repeatable: extra parameters)
//! - `--reveal`: print tokens in full (they are masked by default)
//!
//! For `authorization_code` it prints the authorize URL (PKCE, state and nonce
//! included), reads the URL the browser was redirected to from stdin, checks the
//! state (and `iss`), exchanges the code, validates the ID token against the JWKS
//! and prints its claims (with `--issuer`; with explicit endpoints there is no JWKS,
//! and the ID token is only shown, masked).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use auth_core::http::HttpClient;
use auth_core::{Clock, ExposeSecret, SecretString, SystemClock};
use auth_oauth2::oidc::{AuthorizationRequest, OidcProvider};
use auth_oauth2::{ClientAuth, OAuth2Client, TokenResponse};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

/// Parsed command line.
#[derive(Debug, Default)]
pub(crate) struct Options {
    issuer: Option<String>,
    token_url: Option<String>,
    authorize_url: Option<String>,
    client_id: String,
    client_secret: Option<String>,
    auth: Option<ClientAuth>,
    grant: String,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    redirect_uri: Option<String>,
    params: Vec<(String, String)>,
    reveal: bool,
}

pub(crate) fn parse_args(args: &[String], env_secret: Option<String>) -> Result<Options, String> {
    let mut o = Options {
        client_secret: env_secret,
        ..Options::default()
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--reveal" {
            o.reveal = true;
            continue;
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?
            .clone();
        match flag.as_str() {
            "--issuer" => o.issuer = Some(value),
            "--token-url" => o.token_url = Some(value),
            "--authorize-url" => o.authorize_url = Some(value),
            "--client-id" => o.client_id = value,
            "--client-secret" => o.client_secret = Some(value),
            "--auth" => {
                o.auth = Some(
                    ClientAuth::parse(&value).ok_or_else(|| format!("unknown --auth {value:?}"))?,
                );
            }
            "--grant" => o.grant = value,
            "--scope" => o.scope = Some(value),
            "--username" => o.username = Some(value),
            "--password" => o.password = Some(value),
            "--refresh-token" => o.refresh_token = Some(value),
            "--redirect-uri" => o.redirect_uri = Some(value),
            "--param" => {
                let (k, v) = value.split_once('=').ok_or("--param wants NAME=VALUE")?;
                o.params.push((k.to_owned(), v.to_owned()));
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if o.client_id.is_empty() {
        return Err("--client-id is required".into());
    }
    if o.issuer.is_none() && o.token_url.is_none() {
        return Err("give --issuer or --token-url".into());
    }
    Ok(o)
}

/// `abcd…(40)`: enough to tell tokens apart, not enough to use one.
fn mask(secret: &str, reveal: bool) -> Value {
    if reveal {
        return Value::from(secret);
    }
    let head: String = secret.chars().take(4).collect();
    Value::from(format!("{head}…({} chars)", secret.chars().count()))
}

fn response_json(r: &TokenResponse, reveal: bool) -> Value {
    let mut out = Map::new();
    if let Some(t) = &r.access_token {
        out.insert("access_token".into(), mask(t.expose_secret(), reveal));
    }
    if let Some(t) = &r.token_type {
        out.insert("token_type".into(), Value::from(t.clone()));
    }
    if let Some(d) = r.expires_in {
        out.insert("expires_in".into(), Value::from(d.as_secs()));
    }
    if let Some(t) = &r.refresh_token {
        out.insert("refresh_token".into(), mask(t.expose_secret(), reveal));
    }
    if let Some(s) = &r.scope {
        out.insert("scope".into(), Value::from(s.clone()));
    }
    if let Some(t) = &r.id_token {
        out.insert("id_token".into(), mask(t.expose_secret(), reveal));
    }
    for (k, v) in &r.extra {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// Runs the grant; lines of stdin arrive on `lines`; JSON goes to `out`.
pub(crate) async fn run(
    o: Options,
    mut lines: mpsc::Receiver<String>,
    out: &mut (dyn Write + Send),
) -> Result<(), String> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let http = HttpClient::with_defaults().map_err(|e| e.to_string())?;
    let provider = match &o.issuer {
        Some(issuer) => Some(
            OidcProvider::discover(issuer, http.clone(), Arc::clone(&clock))
                .await
                .map_err(|e| format!("discovery: {e}"))?,
        ),
        None => None,
    };
    let auth = o.auth.unwrap_or(ClientAuth::Basic);
    let secret = o.client_secret.clone().map(SecretString::from);
    let client = match (&provider, &o.token_url) {
        (_, Some(url)) => {
            let mut b = OAuth2Client::builder(&o.client_id, url)
                .auth(auth)
                .http(http.clone())
                .clock(Arc::clone(&clock));
            if let Some(s) = secret.clone() {
                b = b.secret(s);
            }
            b.build()
        }
        (Some(p), None) => p.client(&o.client_id, secret, auth),
        (None, None) => return Err("give --issuer or --token-url".into()),
    }
    .map_err(|e| e.to_string())?;
    let extra: Vec<(&str, &str)> = o
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let scope = o.scope.as_deref();
    let mut report = BTreeMap::new();
    let response = match o.grant.as_str() {
        "client_credentials" => client.client_credentials(scope, &extra).await,
        "password" => {
            let user = o.username.as_deref().ok_or("--username is required")?;
            let pw = SecretString::from(o.password.clone().ok_or("--password is required")?);
            client.password(user, &pw, scope, &extra).await
        }
        "refresh_token" => {
            let rt = SecretString::from(
                o.refresh_token
                    .clone()
                    .ok_or("--refresh-token is required")?,
            );
            client.refresh(&rt, scope, &extra).await
        }
        "authorization_code" => {
            let redirect = o
                .redirect_uri
                .clone()
                .unwrap_or_else(|| "http://127.0.0.1:9876/callback".into());
            let mut request = match (&provider, &o.authorize_url) {
                (_, Some(url)) => AuthorizationRequest::new(
                    url::Url::parse(url).map_err(|_| "--authorize-url is not a URL".to_owned())?,
                    &o.client_id,
                    &redirect,
                ),
                (Some(p), None) => p.authorization_request(&o.client_id, &redirect),
                (None, None) => {
                    return Err("the code flow needs --issuer or --authorize-url".into());
                }
            };
            if let Some(p) = &provider {
                request = request.issuer(&p.metadata().issuer);
            }
            if let Some(s) = scope {
                request = request.scope(s);
            }
            for (k, v) in &extra {
                request = request.extra(k, v);
            }
            let pending = request.code();
            writeln!(out, "{}", json!({ "authorize_url": pending.url.as_str() }))
                .map_err(|e| e.to_string())?;
            out.flush().map_err(|e| e.to_string())?;
            let line = lines.recv().await.ok_or("no redirect URL on stdin")?;
            let back = url::Url::parse(line.trim()).map_err(|_| "not a URL on stdin".to_owned())?;
            let code = pending.code_from(&back).map_err(|e| e.to_string())?;
            let response = client
                .exchange_code(
                    code.expose_secret(),
                    pending.verifier(),
                    pending.redirect_uri(),
                    &[],
                )
                .await;
            if let Ok(r) = &response
                && let Some(id_token) = &r.id_token
                && let Some(provider) = &provider
            {
                let claims = provider
                    .id_token_verifier(&o.client_id)
                    .verify(id_token.expose_secret(), pending.nonce())
                    .await
                    .map_err(|e| e.to_string())?;
                let mut shown = claims.other.clone();
                shown.insert("iss".into(), Value::from(claims.iss.clone()));
                shown.insert("sub".into(), Value::from(claims.sub.clone()));
                shown.insert("aud".into(), Value::from(claims.aud.clone()));
                shown.insert("exp".into(), Value::from(claims.exp));
                shown.insert("iat".into(), Value::from(claims.iat));
                report.insert("id_token_claims", Value::Object(shown));
            }
            response
        }
        other => return Err(format!("unknown --grant {other:?}")),
    }
    .map_err(|e| e.to_string())?;
    report.insert("token_response", response_json(&response, o.reveal));
    writeln!(out, "{}", json!(report)).map_err(|e| e.to_string())?;
    Ok(())
}

#[allow(dead_code)] // the tests include this file for `run`
fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse_args(&args, std::env::var("OAUTH2C_CLIENT_SECRET").ok()) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("oauth2c: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let (tx, rx) = mpsc::channel(1);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines().map_while(Result::ok) {
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("oauth2c: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    match runtime.block_on(run(options, rx, &mut stdout)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oauth2c: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
