//! Demo rows for Binokula: an SSO link for a user, and a user's lifecycle.

use std::sync::Arc;

use auth_binokula::{BinokulaClient, BinokulaConfig, Email, SsoSessions};
use auth_core::http::HttpPolicy;
use auth_core::{Clock, ManualClock, SecretString};
use auth_testkit::binokula::{BinokulaServer, BinokulaTenant, HOME_PATH, LOGIN_PATH, landing};

use super::{Row, timed};

const TENANT: &str = "demo-tenant";
const SECRET: &str = "demo-client-secret-4Kx9";
const CODE: &str = "demo-function-key==";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[SECRET, CODE];

fn setup() -> Result<(BinokulaServer, BinokulaClient), String> {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let server = BinokulaServer::start(
        Arc::clone(&clock),
        BinokulaTenant {
            tenant: TENANT.into(),
            client_secret: SECRET.into(),
            code: CODE.into(),
        },
    )
    .map_err(|e| format!("cannot start the server: {e}"))?;
    let base = server.server().base_url().as_str().to_owned();
    let config = BinokulaConfig::new(TENANT, SecretString::from(SECRET), SecretString::from(CODE))
        .and_then(|c| c.with_api_base(&base))
        .and_then(|c| c.with_app_base(&base))
        .map_err(|e| e.to_string())?;
    let client =
        BinokulaClient::with(config, HttpPolicy::default(), clock).map_err(|e| e.to_string())?;
    Ok((server, client))
}

async fn land(url: &str) -> Result<String, String> {
    landing(url).await.map_err(|e| e.without_url().to_string())
}

pub(crate) async fn rows() -> Vec<Row> {
    let (server, client) = match setup() {
        Ok(s) => s,
        Err(e) => {
            return vec![timed("binokula", "set-up", async { Err::<(String, u64), _>(e) }).await];
        }
    };
    let s = &server;
    let requests = || s.server().total_requests();
    vec![
        timed(
            "binokula",
            "SSO link for a user (10 concurrent asks)",
            async {
                s.server().reset_counters();
                let sessions = Arc::new(SsoSessions::new(client.clone()));
                let user = Email::parse("ada@example.com").map_err(|e| e.to_string())?;
                let mut tasks = Vec::new();
                for _ in 0..10 {
                    let (sessions, user) = (Arc::clone(&sessions), user.clone());
                    tasks.push(tokio::spawn(async move { sessions.sso_url(&user).await }));
                }
                let mut url = None;
                for task in tasks {
                    url = Some(
                        task.await
                            .map_err(|e| e.to_string())?
                            .map_err(|e| e.to_string())?,
                    );
                }
                let url = url.ok_or("no URL")?;
                let landed = land(url.expose()).await?;
                if landed != HOME_PATH || s.tokens_issued() != 1 {
                    return Err(format!(
                        "landed on {landed} after {} issuances",
                        s.tokens_issued()
                    ));
                }
                Ok(("1 token issued, ExternalAccess -> home".into(), requests()))
            },
        )
        .await,
        timed("binokula", "user lifecycle", async {
            s.server().reset_counters();
            let user = Email::parse("grace@example.com").map_err(|e| e.to_string())?;
            let e = |e: auth_binokula::Error| e.to_string();
            client.register_user(&user).await.map_err(e)?;
            let token = client.issue_token(&user, true).await.map_err(e)?;
            let url = client.sso_url(&token);
            client.set_user_enabled(&user, false).await.map_err(e)?;
            let disabled = land(url.expose()).await?;
            client.set_user_enabled(&user, true).await.map_err(e)?;
            let enabled = land(url.expose()).await?;
            client.delete_user(&user).await.map_err(e)?;
            if disabled != LOGIN_PATH || enabled != HOME_PATH {
                return Err(format!("disabled -> {disabled}, enabled -> {enabled}"));
            }
            Ok((
                "register, token, disable -> login, enable -> home, delete".into(),
                requests(),
            ))
        })
        .await,
    ]
}
