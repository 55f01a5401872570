//! Demo rows for Binokula: an SSO link for a user, and a user's lifecycle. The rows
//! claim what the developer guide describes (one active token per user, the
//! `ExternalAccess` link to the user's homepage, register, disable/enable, delete);
//! what disabling does to a sign-in is not described, so no row claims it.

use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, FunctionKey};
use auth_testkit::binokula::{BinokulaServer, BinokulaTenant, HOME_PATH, landing};

use super::{Row, timed};

const TENANT: &str = "demo-tenant";
const SECRET: &str = "demo-client-secret-4Kx9";
const CODE: &str = "demo-function-key==";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[SECRET, CODE];

fn setup() -> Result<(BinokulaServer, Binokula), String> {
    // The server keeps real time here: the client's tokens are timed by the system
    // clock, as in production.
    let tenant = BinokulaTenant::new(TENANT, SECRET, CODE)
        .clock(std::sync::Arc::new(auth_core::SystemClock));
    let server =
        BinokulaServer::start(tenant).map_err(|e| format!("cannot start the server: {e}"))?;
    let base = server.base_url().as_str().to_owned();
    let config = BinokulaConfig::new(TENANT, ClientSecret::new(SECRET), FunctionKey::new(CODE))
        .and_then(|c| c.with_api_url(&base))
        .and_then(|c| c.with_app_url(&base))
        .map_err(|e| e.to_string())?;
    let client = Binokula::new(config).map_err(|e| e.to_string())?;
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
                let user = Email::parse("ada@example.com").map_err(|e| e.to_string())?;
                let mut tasks = Vec::new();
                for _ in 0..10 {
                    let (binokula, user) = (client.clone(), user.clone());
                    tasks.push(tokio::spawn(async move { binokula.sso_url(&user).await }));
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
            let url = client.external_access_url(&token);
            let landed = land(url.expose()).await?;
            client.set_user_enabled(&user, false).await.map_err(e)?;
            client.set_user_enabled(&user, true).await.map_err(e)?;
            client.delete_user(&user).await.map_err(e)?;
            if landed != HOME_PATH {
                return Err(format!("ExternalAccess -> {landed}"));
            }
            Ok((
                "register, token, ExternalAccess -> home, disable, enable, delete".into(),
                requests(),
            ))
        })
        .await,
    ]
}
