//! Binokula: issuing an SSO token (`GET /api/Token`), registering a user (`PUT
//! /api/User`) and disabling one (`POST /api/UserStatus`), all keyed by the client
//! secret and function key.

use std::sync::Arc;

use auth_binokula::{Binokula, BinokulaConfig, ClientSecret, Email, FunctionKey};
use auth_core::http::HttpClient;
use auth_core::{Clock, ManualClock};
use auth_testkit::Fault;
use auth_testkit::binokula::{
    BinokulaServer, BinokulaTenant, TOKEN_PATH, USER_PATH, USER_STATUS_PATH,
};

use super::{Flow, Observed, policy};

pub(super) async fn run(flow: Flow, fault: Option<Fault>) -> Result<Observed, String> {
    if matches!(flow, Flow::Refresh) {
        return Err(format!("binokula has no {flow} flow"));
    }
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let server = BinokulaServer::start(
        BinokulaTenant::new("fault-tenant", "fault-client-secret", "fault-function-key")
            .clock(Arc::clone(&clock)),
    )
    .map_err(|e| e.to_string())?;
    let base = server.base_url().as_str().to_owned();
    let config = BinokulaConfig::new(
        "fault-tenant",
        ClientSecret::new("fault-client-secret"),
        FunctionKey::new("fault-function-key"),
    )
    .and_then(|c| c.with_api_url(&base))
    .and_then(|c| c.with_app_url(&base))
    .map_err(|e| e.to_string())?;
    let http = HttpClient::with_policy(policy()).map_err(|e| e.to_string())?;
    let client = Binokula::builder(config)
        .http(http)
        .clock(clock)
        .build()
        .map_err(|e| e.to_string())?;
    let user = Email::parse("ada@example.com").map_err(|e| e.to_string())?;
    let path = match flow {
        Flow::Token => TOKEN_PATH,
        Flow::Api => USER_PATH,
        _ => {
            client
                .register_user(&user)
                .await
                .map_err(|e| e.to_string())?;
            USER_STATUS_PATH
        }
    };
    if let Some(fault) = fault {
        server.server().inject_on(path, fault, 1);
    }
    let result = match flow {
        Flow::Token => client.issue_token(&user, false).await.map(drop),
        Flow::Api => client.register_user(&user).await.map(drop),
        _ => client.set_user_enabled(&user, false).await.map(drop),
    };
    Ok(Observed {
        result: result.map_err(Into::into),
        requests: server.server().requests(path),
        path: path.to_owned(),
    })
}
