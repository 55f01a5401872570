//! Bynder: the first leg of the temporary-token handshake (`POST
//! /api/v4/oauth/request_token/`, signed with the consumer) and a call signed with a
//! permanent token (`GET /api/v4/media/`, the embedded portal's stand-in resource: the
//! document names no API endpoint).

use std::sync::Arc;

use auth_bynder::{AccessToken, Bynder, BynderConfig, ConsumerKey};
use auth_core::http::HttpClient;
use auth_core::{Clock, ManualClock, SecretString};
use auth_testkit::Fault;
use auth_testkit::bynder::{BynderConsumer, BynderServer, MEDIA_PATH, REQUEST_TOKEN_PATH};

use super::{Flow, Observed, policy};
use crate::demo::bynder::media;

const KEY: &str = "FAULT000-C0NS-UMER-KEY0-000000000001";
const SECRET: &str = "fault-consumer-secret";
const PERMANENT: &str = "FAULT000-PERM-ANEN-TTOK-000000000001";
const PERMANENT_SECRET: &str = "fault-permanent-secret";

pub(super) async fn run(flow: Flow, fault: Option<Fault>) -> Result<Observed, String> {
    if matches!(flow, Flow::Write | Flow::Refresh) {
        return Err(format!("bynder has no {flow} flow"));
    }
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let server = BynderServer::start(BynderConsumer::new(KEY, SECRET).clock(Arc::clone(&clock)))
        .map_err(|e| e.to_string())?;
    server.add_permanent_token(PERMANENT, PERMANENT_SECRET);
    let config = BynderConfig::new(
        server.base_url().as_str(),
        ConsumerKey::new(KEY),
        SecretString::from(SECRET),
    )
    .map_err(|e| e.to_string())?;
    let http = HttpClient::with_policy(policy()).map_err(|e| e.to_string())?;
    let bynder = Bynder::builder(config)
        .http(http)
        .clock(clock)
        .build()
        .map_err(|e| e.to_string())?;
    let path = match flow {
        Flow::Token => REQUEST_TOKEN_PATH,
        _ => MEDIA_PATH,
    };
    if let Some(fault) = fault {
        server.server().inject_on(path, fault, 1);
    }
    let result = match flow {
        Flow::Token => bynder.request_token().await.map(drop),
        _ => {
            let token = AccessToken::permanent(PERMANENT, SecretString::from(PERMANENT_SECRET));
            media(&bynder, token).await.map(drop)
        }
    };
    Ok(Observed {
        result: result.map_err(Into::into),
        requests: server.server().requests(path),
        path: path.to_owned(),
    })
}
