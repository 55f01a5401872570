//! Demo rows for Bindeo: a machine token and a call; a user's sign-in and a call; on a
//! manual clock, the session's refresh before the hour ends (the refresh grant is our
//! reading of RFC 6749 §6: the reference stops at its heading); and the refusals the
//! reference does not document, answered as the PHP League's oauth2-server 5.x does.

use std::sync::Arc;
use std::time::Duration;

use auth_bindeo::{Bindeo, BindeoConfig, Error};
use auth_core::http::AuthorizedClient;
use auth_core::{Clock, CredentialProvider, ExposeSecret, ManualClock, SecretString};
use auth_testkit::bindeo::{BindeoServer, BindeoServerConfig, ErrorStyle, RESOURCE_PATH};

use super::{Row, timed};

const ID: &str = "demo-bindeo-client";
const SECRET: &str = "demo-bindeo-secret-R2d";
const USER: &str = "grace";
const PASSWORD: &str = "demo-password-Zx8";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[SECRET, PASSWORD];

async fn call(
    bindeo: &Bindeo,
    server: &BindeoServer,
    provider: Arc<dyn CredentialProvider>,
) -> Result<u16, String> {
    let client = AuthorizedClient::new(bindeo.http().clone(), provider);
    let request = http::Request::get(server.server().url(RESOURCE_PATH).as_str())
        .body(Default::default())
        .map_err(|e| e.to_string())?;
    let response = client.send(request).await.map_err(|e| e.to_string())?;
    Ok(response.status.as_u16())
}

pub(crate) async fn rows() -> Vec<Row> {
    let clock = ManualClock::new();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let setup = BindeoServer::start(
        BindeoServerConfig::new(ID, SECRET)
            .user(USER, PASSWORD)
            .clock(Arc::clone(&shared)),
    )
    .map_err(|e| format!("cannot start the server: {e}"))
    .and_then(|server| {
        let config = BindeoConfig::new(ID, SecretString::from(SECRET))
            .and_then(|c| c.with_api_url(server.base_url().as_str()))
            .map_err(|e| e.to_string())?;
        // The system clock and the default transport.
        let bindeo = Bindeo::new(config.clone()).map_err(|e| e.to_string())?;
        // The same client on the demo's manual clock, to show the refresh.
        let timed_bindeo = Bindeo::builder(config)
            .clock(Arc::clone(&shared))
            .build()
            .map_err(|e| e.to_string())?;
        Ok((server, bindeo, timed_bindeo))
    });
    let (server, bindeo, timed_bindeo) = match setup {
        Ok(s) => s,
        Err(e) => {
            return vec![timed("bindeo", "set-up", async { Err::<(String, u64), _>(e) }).await];
        }
    };
    let s = &server;
    let requests = || s.server().total_requests();
    vec![
        timed("bindeo", "machine token (JSON body) + call", async {
            s.server().reset_counters();
            let machine = Arc::new(bindeo.machine());
            let status = call(&bindeo, s, machine).await?;
            Ok((
                format!("client_credentials, JWT Bearer, call -> {status}"),
                requests(),
            ))
        })
        .await,
        timed("bindeo", "user sign-in + call", async {
            s.server().reset_counters();
            let session = Arc::new(
                bindeo
                    .user(USER, SecretString::from(PASSWORD))
                    .await
                    .map_err(|e| e.to_string())?,
            );
            let status = call(&bindeo, s, session).await?;
            Ok((format!("password grant once, call -> {status}"), requests()))
        })
        .await,
        timed(
            "bindeo",
            "session refresh at 55 min (manual clock)",
            async {
                s.server().reset_counters();
                let session = Arc::new(
                    timed_bindeo
                        .user(USER, SecretString::from(PASSWORD))
                        .await
                        .map_err(|e| e.to_string())?,
                );
                let first = session.token().await.map_err(|e| e.to_string())?;
                clock.advance(Duration::from_secs(55 * 60));
                let mut renewed = false;
                for _ in 0..200 {
                    let now = session.token().await.map_err(|e| e.to_string())?;
                    if now.token().access_token().expose_secret()
                        != first.token().access_token().expose_secret()
                    {
                        renewed = true;
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                if !renewed || s.grants("refresh_token") != 1 {
                    return Err("the session did not refresh".into());
                }
                let status = call(&timed_bindeo, s, session).await?;
                Ok((
                    format!("refresh_token (assumed RFC 6749 §6) before expiry, call -> {status}"),
                    requests(),
                ))
            },
        )
        .await,
        timed(
            "bindeo",
            "undocumented refusals (League 5.x style)",
            refusals(),
        )
        .await,
    ]
}

/// A wrong password answered `invalid_credentials` (401) and a refused refresh token
/// answered `invalid_request` (401), as the League's oauth2-server 5.x answers them:
/// the reference's errors page is missing, so the crate sorts every plausible code.
async fn refusals() -> Result<(String, u64), String> {
    let clock = ManualClock::new();
    let server = BindeoServer::start(
        BindeoServerConfig::new(ID, SECRET)
            .user(USER, PASSWORD)
            .clock(Arc::new(clock.clone()))
            .errors(ErrorStyle::league()),
    )
    .map_err(|e| format!("cannot start the server: {e}"))?;
    let config = BindeoConfig::new(ID, SecretString::from(SECRET))
        .and_then(|c| c.with_api_url(server.base_url().as_str()))
        .map_err(|e| e.to_string())?;
    let bindeo = Bindeo::builder(config)
        .clock(Arc::new(clock.clone()))
        .build()
        .map_err(|e| e.to_string())?;
    match bindeo
        .user(USER, SecretString::from("not-the-password"))
        .await
    {
        Err(Error::InvalidCredentials) => {}
        other => {
            return Err(format!(
                "wrong password: expected InvalidCredentials, got {other:?}"
            ));
        }
    }
    let session = bindeo
        .user(USER, SecretString::from(PASSWORD))
        .await
        .map_err(|e| e.to_string())?;
    session.token().await.map_err(|e| e.to_string())?;
    server.revoke_refresh_tokens();
    clock.advance(Duration::from_secs(3600));
    match session.token().await {
        Err(Error::SignInRequired) => {}
        other => {
            return Err(format!(
                "refused refresh: expected SignInRequired, got {other:?}"
            ));
        }
    }
    Ok((
        "invalid_credentials -> InvalidCredentials, invalid_request -> SignInRequired".into(),
        server.server().total_requests(),
    ))
}
