//! bookingtime: an organization's access token (client_credentials for the refresh
//! token, then its exchange, both on `POST /oauth/token`) and Show an Organization
//! with it.

use auth_bookingtime::{Bookingtime, BookingtimeConfig, OrganizationId};
use auth_core::SecretString;
use auth_core::http::HttpClient;
use auth_testkit::Fault;
use auth_testkit::bookingtime::{App, BookingtimeServer, BookingtimeServerConfig, TOKEN_PATH};

use super::{Flow, Observed, policy};

const APP: &str = "fault-bookingtime-app";
const SECRET: &str = "fault-bookingtime-secret";
const ORG: &str = "fault-organization";

pub(super) async fn run(flow: Flow, fault: Option<Fault>) -> Result<Observed, String> {
    if matches!(flow, Flow::Write | Flow::Refresh) {
        return Err(format!("bookingtime has no {flow} flow"));
    }
    let server =
        BookingtimeServer::start(BookingtimeServerConfig::new().app(App::new(APP, SECRET, &[ORG])))
            .map_err(|e| e.to_string())?;
    let config = BookingtimeConfig::new(APP, SecretString::from(SECRET))
        .and_then(|c| c.with_auth_url(server.auth_url().as_str()))
        .and_then(|c| c.with_api_url(server.api_url().as_str()))
        .map_err(|e| e.to_string())?;
    let http = HttpClient::with_policy(policy()).map_err(|e| e.to_string())?;
    let bookingtime = Bookingtime::builder(config)
        .http(http)
        .build()
        .map_err(|e| e.to_string())?;
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
