//! Demo rows for bookingtime: the app's refresh token (stage one), an organization
//! shown with its 5-minute token (stage two), a customer added, the Module API, and a
//! user's sign-in with the Authorization Code Flow (a plain OAuth 2.0 request: the
//! document names nothing of OpenID Connect).

use std::time::SystemTime;

use auth_bookingtime::{Bookingtime, BookingtimeConfig, NewCustomer, OrganizationId};
use auth_core::{SecretString, unix_seconds};
use auth_testkit::bookingtime::{App, BookingtimeServer, BookingtimeServerConfig};
use auth_testkit::oauth2::consent;

use super::{Row, timed};

const APP: &str = "demo-bookingtime-app";
const SECRET: &str = "demo-bookingtime-secret-4Kp";
const MODULE: &str = "demo-bookingtime-module";
const ORG: &str = "f6-demo-organization";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[SECRET];

/// `config` against the embedded servers, with the system clock and the default
/// transport.
fn client(
    server: &BookingtimeServer,
    config: Result<BookingtimeConfig, auth_bookingtime::Error>,
) -> Result<Bookingtime, String> {
    let config = config
        .and_then(|c| c.with_auth_url(server.auth_url().as_str()))
        .and_then(|c| c.with_api_url(server.api_url().as_str()))
        .map_err(|e| e.to_string())?;
    Bookingtime::new(config).map_err(|e| e.to_string())
}

pub(crate) async fn rows() -> Vec<Row> {
    let setup = BookingtimeServer::start(
        BookingtimeServerConfig::new()
            .app(App::new(APP, SECRET, &[ORG]))
            .app(App::module(MODULE, &[ORG])),
    )
    .map_err(|e| format!("cannot start the servers: {e}"))
    .and_then(|server| {
        let app = client(
            &server,
            BookingtimeConfig::new(APP, SecretString::from(SECRET)),
        )?;
        let org = OrganizationId::new(ORG).map_err(|e| e.to_string())?;
        Ok((server, app, org))
    });
    let (server, app, org) = match setup {
        Ok(s) => s,
        Err(e) => {
            let row = timed("bookingtime", "set-up", async {
                Err::<(String, u64), _>(e)
            });
            return vec![row.await];
        }
    };
    let s = &server;
    let requests = || {
        s.auth().total_requests() + s.api().total_requests() + s.authorization().total_requests()
    };
    let reset = || {
        s.auth().reset_counters();
        s.api().reset_counters();
        s.authorization().reset_counters();
    };
    let organization = app.app().organization(&org);
    vec![
        timed("bookingtime", "app token (client_credentials)", async {
            reset();
            let expiry = app
                .app()
                .refresh_token_expiry()
                .await
                .map_err(|e| e.to_string())?
                .ok_or("the refresh token has no expiry")?;
            // A minute's grace: the request took a moment of the system clock.
            let left = unix_seconds(expiry).saturating_sub(unix_seconds(SystemTime::now()));
            let days = (left + 60) / 86_400;
            Ok((format!("refresh token only, valid {days} days"), requests()))
        })
        .await,
        timed("bookingtime", "organization show (stage two)", async {
            reset();
            let shown = organization.show().await.map_err(|e| e.to_string())?;
            let token = organization.token().await.map_err(|e| e.to_string())?;
            let lifetime = token.token().lifetime().map_or(0, |l| l.as_secs());
            Ok((
                format!("{:?}, access token for {lifetime} s", shown.name),
                requests(),
            ))
        })
        .await,
        timed("bookingtime", "customer add (cached token)", async {
            reset();
            let customer = organization
                .add_customer(&NewCustomer::new("John", "Doe"))
                .await
                .map_err(|e| e.to_string())?;
            Ok((
                format!(
                    "{} {} added as {}",
                    customer.first_name, customer.last_name, customer.class
                ),
                requests(),
            ))
        })
        .await,
        timed("bookingtime", "Module API (no client secret)", async {
            reset();
            let module = client(s, BookingtimeConfig::module(MODULE))?;
            let shown = module
                .app()
                .organization(&org)
                .show()
                .await
                .map_err(|e| e.to_string())?;
            Ok((
                format!("client ID alone, showed {:?}", shown.id),
                requests(),
            ))
        })
        .await,
        timed("bookingtime", "user sign-in (authorization code)", async {
            reset();
            let pending = app
                .authorization_request(&s.authorize_url(), "https://app.example/callback")
                .map_err(|e| e.to_string())?;
            let redirect = consent(pending.url.as_str()).await?;
            let user = app
                .sign_in(&pending, &redirect)
                .await
                .map_err(|e| e.to_string())?;
            let shown = user
                .organization(&org)
                .show()
                .await
                .map_err(|e| e.to_string())?;
            Ok((
                format!(
                    "plain OAuth 2.0 (no scope, no nonce), showed {:?}",
                    shown.id
                ),
                requests(),
            ))
        })
        .await,
    ]
}
