//! Demo rows for bookingtime: the app's refresh token (stage one), an organization
//! shown with its 5-minute token (stage two), a customer added, and the Module API.

use std::sync::Arc;

use auth_bookingtime::{Bookingtime, BookingtimeConfig, NewCustomer, OrganizationId};
use auth_core::{Clock, ManualClock, SecretString, unix_seconds};
use auth_testkit::bookingtime::{App, BookingtimeServer};

use super::{Row, timed};

const APP: &str = "demo-bookingtime-app";
const SECRET: &str = "demo-bookingtime-secret-4Kp";
const MODULE: &str = "demo-bookingtime-module";
const ORG: &str = "f6-demo-organization";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[SECRET];

fn client(
    server: &BookingtimeServer,
    config: BookingtimeConfig,
    clock: &Arc<dyn Clock>,
) -> Result<Bookingtime, String> {
    let config = config
        .with_auth_base(server.auth_url().as_str())
        .and_then(|c| c.with_api_base(server.api_url().as_str()))
        .map_err(|e| e.to_string())?;
    Bookingtime::new(config, Arc::clone(clock)).map_err(|e| e.to_string())
}

pub(crate) async fn rows() -> Vec<Row> {
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let setup = BookingtimeServer::start(
        Arc::clone(&clock),
        &[App::new(APP, SECRET, &[ORG]), App::module(MODULE, &[ORG])],
    )
    .map_err(|e| format!("cannot start the servers: {e}"))
    .and_then(|server| {
        let app = client(
            &server,
            BookingtimeConfig::app(APP, SecretString::from(SECRET)),
            &clock,
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
    let requests = || s.auth().total_requests() + s.api().total_requests();
    let reset = || {
        s.auth().reset_counters();
        s.api().reset_counters();
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
            let days = (unix_seconds(expiry) - unix_seconds(clock.now())) / 86_400;
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
            let module = client(s, BookingtimeConfig::module(MODULE), &clock)?;
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
    ]
}
