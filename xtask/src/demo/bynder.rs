//! Demo rows for Bynder: a permanent-token call, and the temporary-token handshake
//! followed by a call and, 30 days on, the typed expiry. The document names no API
//! endpoint, so the signed call goes to the embedded portal's stand-in resource
//! (`/api/v4/media/`) and the rows do not name it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_bynder::{AccessToken, Bynder, BynderConfig, ConsumerKey};
use auth_core::{Clock, ManualClock, SecretString, SystemClock};
use auth_testkit::bynder::{BynderConsumer, BynderServer, sign_in_and_approve};

use super::{Row, timed};

const KEY: &str = "DEMO0000-C0NS-UMER-KEY0-000000001EFA";
const SECRET: &str = "demo-consumer-secret-7Qz";
const PERMANENT: &str = "DEMO0000-PERM-ANEN-TTOK-000000000001";
const PERMANENT_SECRET: &str = "demo-permanent-secret-Lw3";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[SECRET, PERMANENT, PERMANENT_SECRET];

fn setup() -> Result<(BynderServer, Bynder), String> {
    // The portal keeps real time: the client signs with the system clock, as in
    // production.
    let consumer = BynderConsumer::new(KEY, SECRET).clock(Arc::new(SystemClock));
    let server =
        BynderServer::start(consumer).map_err(|e| format!("cannot start the server: {e}"))?;
    server.add_permanent_token(PERMANENT, PERMANENT_SECRET);
    // The portal URL is the customer's own: always given, here the embedded one's.
    let bynder = Bynder::new(config(&server)?).map_err(|e| e.to_string())?;
    Ok((server, bynder))
}

fn config(server: &BynderServer) -> Result<BynderConfig, String> {
    BynderConfig::new(
        server.base_url().as_str(),
        ConsumerKey::new(KEY),
        SecretString::from(SECRET),
    )
    .and_then(|c| c.with_permanent_token(PERMANENT, SecretString::from(PERMANENT_SECRET)))
    .map_err(|e| e.to_string())
}

/// A signed `GET` of the embedded portal's stand-in resource (`/api/v4/media/`, not a
/// path of the document) with `token`: the number of items listed.
pub(crate) async fn media(
    bynder: &Bynder,
    token: AccessToken,
) -> Result<usize, auth_bynder::Error> {
    let client = bynder.authorized_client(token)?;
    let url = bynder.config().api_url("api/v4/media/")?;
    let request = http::Request::get(url.as_str())
        .body(Default::default())
        .map_err(|e| auth_core::Error::Request(e.to_string()))?;
    let answer = client.send(request).await?.error_for_status()?;
    let assets: Vec<serde_json::Value> = answer.json()?;
    Ok(assets.len())
}

pub(crate) async fn rows() -> Vec<Row> {
    let (server, bynder) = match setup() {
        Ok(s) => s,
        Err(e) => {
            return vec![timed("bynder", "set-up", async { Err::<(String, u64), _>(e) }).await];
        }
    };
    let s = &server;
    let requests = || s.server().total_requests();
    let e = |e: auth_bynder::Error| e.to_string();
    vec![
        timed("bynder", "permanent token: a signed API call", async {
            s.server().reset_counters();
            let token = AccessToken::permanent(PERMANENT, SecretString::from(PERMANENT_SECRET));
            let assets = media(&bynder, token).await.map_err(e)?;
            Ok((format!("HMAC-SHA1 verified, {assets} items"), requests()))
        })
        .await,
        timed(
            "bynder",
            "temporary token: handshake, call, day 30",
            async {
                s.server().reset_counters();
                let request = bynder.request_token().await.map_err(e)?;
                let url = bynder.authorise_url(&request, Some("https://demo.example/done"));
                sign_in_and_approve(url.as_str())
                    .await
                    .map_err(|e| e.without_url().to_string())?;
                let access = bynder.access_token(&request).await.map_err(e)?;
                let assets = media(&bynder, access.clone()).await.map_err(e)?;
                // The same portal seen by a process 30 days on.
                let later: Arc<dyn Clock> = Arc::new(ManualClock::starting_at(
                    SystemTime::now() + Duration::from_secs(30 * 24 * 3600),
                ));
                let month_on = Bynder::builder(config(s)?)
                    .clock(later)
                    .build()
                    .map_err(e)?;
                match media(&month_on, access).await {
                    Err(auth_bynder::Error::AccessTokenExpired { .. }) => Ok((
                        format!(
                            "authorise: auth_token + oauth_token; {assets} items; \
                             day 30: AccessTokenExpired, not sent"
                        ),
                        requests(),
                    )),
                    other => Err(format!("after 30 days: {other:?}")),
                }
            },
        )
        .await,
    ]
}
