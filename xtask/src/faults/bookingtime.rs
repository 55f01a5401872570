//! bookingtime: an organization's access token (client_credentials for the refresh
//! token, then its exchange, both on `POST /oauth/token`) and Show an Organization
//! with it.

use std::sync::Arc;

use auth_bookingtime::{Bookingtime, BookingtimeConfig, OrganizationId};
use auth_core::reqwest::HttpClient;
use auth_core::{Clock, ManualClock, SecretString};
use auth_testkit::Fault;
use auth_testkit::bookingtime::{App, BookingtimeServer, TOKEN_PATH};

use super::{Flow, Observed, policy};

const APP: &str = "fault-bookingtime-app";
const SECRET: &str = "fault-bookingtime-secret";
const ORG: &str = "fault-organization";

pub(super) async fn run(flow: Flow, fault: Option<Fault>) -> Result<Observed, String> {
    if matches!(flow, Flow::Write | Flow::Refresh) {
        return Err(format!("bookingtime has no {flow} flow"));
    }
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let server = BookingtimeServer::start(Arc::clone(&clock), &[App::new(APP, SECRET, &[ORG])])
        .map_err(|e| e.to_string())?;
    let config = BookingtimeConfig::app(APP, SecretString::from(SECRET))
        .with_auth_base(server.auth_url().as_str())
        .and_then(|c| c.with_api_base(server.api_url().as_str()))
        .map_err(|e| e.to_string())?;
    let http = HttpClient::new(policy()).map_err(|e| e.to_string())?;
    let bookingtime = Bookingtime::with_http(config, http, clock).map_err(|e| e.to_string())?;
    let org = OrganizationId::new(ORG).map_err(|e| e.to_string())?;
    let organization = bookingtime.app().organization(&org);
    let show = format!("/app/v3/de/organization/{ORG}/show");
    let (target, path) = match flow {
        Flow::Token => (server.auth(), TOKEN_PATH.to_owned()),
        _ => {
            organization.token().await.map_err(|e| e.to_string())?;
            (server.api(), show)
        }
    };
    if let Some(fault) = fault {
        target.inject_on(&path, fault, 1);
    }
    let result = match flow {
        Flow::Token => organization.token().await.map(drop),
        _ => organization.show().await.map(drop),
    };
    Ok(Observed {
        result: result.map_err(Into::into),
        requests: target.requests(&path),
        path,
    })
}
