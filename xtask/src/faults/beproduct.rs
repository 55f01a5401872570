//! BeProduct: the sign-in's code exchange on the IdentityServer (`POST
//! /ids/connect/token`, the document's fixed endpoint, after the user's consent), a
//! page of records from the REST API (`GET /api/v1/colors`), a record written (`POST
//! /api/v1/colors`; both paths are the test server's, the document names none), and a
//! page read once the access token is due, which first spends the rotating refresh
//! token (`POST /ids/connect/token`; issued for `offline_access`).

use std::sync::Arc;
use std::time::Duration;

use auth_beproduct::{BeProduct, BeProductConfig, ClientId, OrganizationId, Plan};
use auth_core::http::HttpClient;
use auth_core::{Clock, ManualClock, SecretString};
use auth_testkit::Fault;
use auth_testkit::beproduct::{Account, BeProductServer, Edition};
use auth_testkit::oauth2::consent;
use serde_json::json;

use super::{Flow, Observed, policy};

const ID: &str = "fault-beproduct-client";
const SECRET: &str = "fault-beproduct-secret";
const TOKEN_PATH: &str = "/ids/connect/token";
const RECORDS_PATH: &str = "/api/v1/colors";

/// Past the embedded identity server's one-hour access tokens.
const PAST_EXPIRY: Duration = Duration::from_secs(3601);

pub(super) async fn run(flow: Flow, fault: Option<Fault>) -> Result<Observed, String> {
    let manual = ManualClock::new();
    let clock: Arc<dyn Clock> = Arc::new(manual.clone());
    let server = BeProductServer::start(
        Account::new(ID, SECRET, Edition::Business, 4).clock(Arc::clone(&clock)),
    )
    .map_err(|e| e.to_string())?;
    server.seed("colors", 5);
    let config = OrganizationId::new("fault-organization")
        .and_then(|org| Ok((org, ClientId::new(ID)?)))
        .and_then(|(org, id)| {
            BeProductConfig::new(
                org,
                id,
                SecretString::from(SECRET),
                "https://myapp.example/callback",
                Plan::business(4),
            )
        })
        .and_then(|c| c.with_identity_url(server.identity_url()))
        .and_then(|c| c.with_api_url(server.api_url().as_str()))
        .map_err(|e| e.to_string())?
        .with_offline_access();
    let http = HttpClient::with_policy(policy()).map_err(|e| e.to_string())?;
    let beproduct = BeProduct::builder(config)
        .http(http)
        .clock(clock)
        .build()
        .map_err(|e| e.to_string())?;
    let pending = beproduct
        .authorization_request()
        .await
        .map_err(|e| e.to_string())?;
    let redirect = consent(pending.url.as_str()).await?;
    let (target, path) = match flow {
        Flow::Token | Flow::Refresh => (server.identity(), TOKEN_PATH),
        Flow::Api | Flow::Write => (server.api(), RECORDS_PATH),
    };
    let session = match flow {
        Flow::Token => None,
        Flow::Api | Flow::Write | Flow::Refresh => Some(
            beproduct
                .sign_in(&pending, &redirect)
                .await
                .map_err(|e| e.to_string())?,
        ),
    };
    if flow == Flow::Refresh {
        manual.advance(PAST_EXPIRY);
    }
    // The sign-in's exchange is on the token path too: count what follows it.
    let before = target.requests(path);
    if let Some(fault) = fault {
        target.inject_on(path, fault, 1);
    }
    let result = match (&session, flow) {
        (None, _) => beproduct.sign_in(&pending, &redirect).await.map(drop),
        (Some(session), Flow::Write) => match session
            .post("colors")
            .json(&json!({ "data": [{ "name": "fault" }] }))
        {
            Ok(call) => call.send().await.map(drop),
            Err(e) => Err(e),
        },
        (Some(session), _) => session
            .get("colors")
            .query("pageSize", "5")
            .query("pageNumber", "1")
            .send()
            .await
            .map(drop),
    };
    Ok(Observed {
        result: result.map_err(Into::into),
        requests: target.requests(path) - before,
        path: path.to_owned(),
    })
}
