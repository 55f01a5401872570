//! Bindeo: a machine token (client_credentials with a JSON body, `POST /access_token`)
//! and a call with it.

use std::sync::Arc;

use auth_bindeo::{Bindeo, BindeoConfig};
use auth_core::SecretString;
use auth_core::http::{AuthorizedClient, HttpClient};
use auth_testkit::Fault;
use auth_testkit::bindeo::{ACCESS_TOKEN_PATH, BindeoServer, BindeoServerConfig, RESOURCE_PATH};

use super::{Flow, Observed, policy};

pub(super) async fn run(flow: Flow, fault: Option<Fault>) -> Result<Observed, String> {
    if matches!(flow, Flow::Write | Flow::Refresh) {
        return Err(format!("bindeo has no {flow} flow"));
    }
    let server = BindeoServer::start(BindeoServerConfig::new(
        "fault-bindeo",
        "fault-bindeo-secret",
    ))
    .map_err(|e| e.to_string())?;
    let config = BindeoConfig::new("fault-bindeo", SecretString::from("fault-bindeo-secret"))
        .and_then(|c| c.with_api_url(server.base_url().as_str()))
        .map_err(|e| e.to_string())?;
    let http = HttpClient::with_policy(policy()).map_err(|e| e.to_string())?;
    let bindeo = Bindeo::builder(config)
        .http(http.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let machine = bindeo.machine();
    let path = match flow {
        Flow::Token => ACCESS_TOKEN_PATH,
        _ => {
            machine.token().await.map_err(|e| e.to_string())?;
            RESOURCE_PATH
        }
    };
    if let Some(fault) = fault {
        server.server().inject_on(path, fault, 1);
    }
    let result = match flow {
        Flow::Token => machine.token().await.map(drop),
        _ => {
            let client = AuthorizedClient::new(http, Arc::new(machine));
            let request = http::Request::get(server.server().url(RESOURCE_PATH).as_str())
                .body(Default::default())
                .map_err(|e| e.to_string())?;
            match client.send(request).await {
                Ok(response) => response
                    .error_for_status()
                    .and_then(|r| r.json::<serde_json::Value>())
                    .map(drop),
                Err(e) => Err(e),
            }
        }
    };
    Ok(Observed {
        result,
        requests: server.server().requests(path),
        path: path.to_owned(),
    })
}
