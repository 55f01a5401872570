//! Demo rows on the generic client-credentials server: a bearer token through the
//! core caching provider, reuse from the cache, and the 401 retry.

use std::sync::Arc;
use std::time::Duration;

use auth_core::http::HttpPolicy;
use auth_core::http::{AuthorizedClient, HttpClient};
use auth_core::{CachingProvider, Clock, CredentialProvider, ManualClock, SecretString};
use auth_testkit::generic::{GenericTokenServer, GenericTokenSource, RESOURCE_PATH, TOKEN_PATH};

use super::{Row, timed};

const CLIENT_ID: &str = "demo-app";
const CLIENT_SECRET: &str = "demo-app-secret-7Hq2";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[CLIENT_SECRET];

struct Setup {
    server: GenericTokenServer,
    api: AuthorizedClient,
}

fn setup() -> Result<Setup, String> {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let server = GenericTokenServer::start(
        Arc::clone(&clock),
        CLIENT_ID,
        CLIENT_SECRET,
        Duration::from_secs(3600),
    )
    .map_err(|e| format!("cannot start the server: {e}"))?;
    let source = GenericTokenSource::new(
        HttpPolicy::default(),
        server.token_url(),
        CLIENT_ID,
        SecretString::from(CLIENT_SECRET),
        Arc::clone(&clock),
    )
    .map_err(|e| e.to_string())?;
    let provider: Arc<dyn CredentialProvider> =
        Arc::new(CachingProvider::builder(source).clock(clock).build());
    let http = HttpClient::with_defaults().map_err(|e| e.to_string())?;
    let api = AuthorizedClient::new(http, provider);
    Ok(Setup { server, api })
}

async fn call(setup: &Setup) -> Result<(), String> {
    let request = http::Request::get(setup.server.resource_url().as_str())
        .body(bytes::Bytes::new())
        .map_err(|e| e.to_string())?;
    let response = setup.api.send(request).await.map_err(|e| e.to_string())?;
    response
        .error_for_status()
        .map(drop)
        .map_err(|e| e.to_string())
}

pub(crate) async fn rows() -> Vec<Row> {
    let setup = match setup() {
        Ok(s) => s,
        Err(e) => {
            return vec![timed("generic", "set-up", async { Err::<(String, u64), _>(e) }).await];
        }
    };
    let s = &setup;
    let counts = || {
        (
            s.server.server().requests(TOKEN_PATH),
            s.server.server().requests(RESOURCE_PATH),
        )
    };
    vec![
        timed(
            "generic",
            "client credentials token + protected call",
            async {
                s.server.server().reset_counters();
                call(s).await?;
                let (tokens, calls) = counts();
                Ok((
                    format!("{tokens} token request, {calls} call"),
                    tokens + calls,
                ))
            },
        )
        .await,
        timed("generic", "100 calls on the cached token", async {
            s.server.server().reset_counters();
            for _ in 0..100 {
                call(s).await?;
            }
            let (tokens, calls) = counts();
            if tokens != 0 {
                return Err(format!(
                    "{tokens} token requests; the cache should have served all"
                ));
            }
            Ok((
                format!("{calls} calls, {tokens} token requests"),
                tokens + calls,
            ))
        })
        .await,
        timed("generic", "401 -> fresh token -> retried once", async {
            s.server.server().reset_counters();
            s.server.revoke_all();
            call(s).await?;
            let (tokens, calls) = counts();
            if (tokens, calls) != (1, 2) {
                return Err(format!(
                    "expected 1 token request and 2 calls, saw {tokens} and {calls}"
                ));
            }
            Ok(("401, new token, 200".into(), tokens + calls))
        })
        .await,
    ]
}
