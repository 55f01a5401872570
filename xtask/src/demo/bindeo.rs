//! Demo rows for Bindeo: a machine token and a call; a user's sign-in, a call, and the
//! refresh before the hour ends.

use std::sync::Arc;
use std::time::Duration;

use auth_bindeo::{Bindeo, BindeoConfig};
use auth_core::reqwest::AuthorizedClient;
use auth_core::{Clock, CredentialProvider, ExposeSecret, ManualClock, SecretString};
use auth_testkit::bindeo::{BindeoServer, RESOURCE_PATH};

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
    let client = AuthorizedClient::new(bindeo.oauth2().http().clone(), provider);
    let request = client
        .http()
        .reqwest()
        .get(server.server().url(RESOURCE_PATH))
        .build()
        .map_err(|e| e.without_url().to_string())?;
    let response = client.send(request).await.map_err(|e| e.to_string())?;
    Ok(response.status.as_u16())
}

pub(crate) async fn rows() -> Vec<Row> {
    let clock = ManualClock::new();
    let shared: Arc<dyn Clock> = Arc::new(clock.clone());
    let setup = BindeoServer::start(Arc::clone(&shared), ID, SECRET, &[(USER, PASSWORD)])
        .map_err(|e| format!("cannot start the server: {e}"))
        .and_then(|server| {
            let config = BindeoConfig::new(ID, SecretString::from(SECRET))
                .with_base_url(server.base_url().as_str())
                .map_err(|e| e.to_string())?;
            let bindeo = Bindeo::new(config, Arc::clone(&shared)).map_err(|e| e.to_string())?;
            Ok((server, bindeo))
        });
    let (server, bindeo) = match setup {
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
        timed("bindeo", "user sign-in, call, refresh at 55 min", async {
            s.server().reset_counters();
            let session = Arc::new(
                bindeo
                    .sign_in(USER, SecretString::from(PASSWORD))
                    .await
                    .map_err(|e| e.to_string())?,
            );
            let status = call(&bindeo, s, session.clone()).await?;
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
            Ok((
                format!("password once, call -> {status}, refresh_token rotated"),
                requests(),
            ))
        })
        .await,
    ]
}
