//! Demo rows for BeProduct: sign-in (code with PKCE, ID token validated), userinfo,
//! a REST write counted against the daily quota, and the sign-out URL.

use auth_beproduct::{BeProduct, BeProductConfig, ClientId, Plan, Session};
use auth_core::SecretString;
use auth_testkit::beproduct::{Account, BeProductServer, Edition};
use auth_testkit::oauth2::consent;

use super::{Row, timed};

const ID: &str = "demo-beproduct-client";
const SECRET: &str = "demo-beproduct-secret-Lw3";
const REDIRECT: &str = "https://myapp.example/callback";

/// What this module configures that must stay secret.
pub(super) const SECRETS: &[&str] = &[SECRET];

fn set_up() -> Result<(BeProductServer, BeProduct), String> {
    let server = BeProductServer::start(Account::new(ID, SECRET, Edition::Business, 4))
        .map_err(|e| format!("cannot start the servers: {e}"))?;
    let config = ClientId::new(ID)
        .and_then(|id| {
            BeProductConfig::new(id, SecretString::from(SECRET), REDIRECT, Plan::business(4))
        })
        .and_then(|c| c.with_identity_url(server.identity_url()))
        .and_then(|c| c.with_api_url(server.api_url().as_str()))
        .map_err(|e| e.to_string())?;
    let beproduct = BeProduct::new(config).map_err(|e| e.to_string())?;
    Ok((server, beproduct))
}

pub(crate) async fn rows() -> Vec<Row> {
    let (server, beproduct) = match set_up() {
        Ok(s) => s,
        Err(e) => {
            let row = timed("beproduct", "set-up", async { Err::<(String, u64), _>(e) });
            return vec![row.await];
        }
    };
    let s = &server;
    let requests = || s.identity().total_requests() + s.api().total_requests();
    let reset = || {
        s.identity().reset_counters();
        s.api().reset_counters();
    };
    let mut session: Option<Session> = None;
    let sign_in = timed(
        "beproduct",
        "sign-in (code + PKCE, ID token checked)",
        async {
            reset();
            let pending = beproduct
                .authorization_request()
                .await
                .map_err(|e| e.to_string())?;
            let redirect = consent(pending.url.as_str()).await?;
            let signed_in = beproduct
                .sign_in(&pending, &redirect)
                .await
                .map_err(|e| e.to_string())?;
            let sub = signed_in.claims().sub.clone();
            session = Some(signed_in);
            Ok((
                format!("discovery, consent, exchange, JWKS; sub {sub:?}"),
                requests(),
            ))
        },
    )
    .await;
    let Some(session) = session else {
        return vec![sign_in];
    };
    vec![
        sign_in,
        timed("beproduct", "userinfo (typed profile)", async {
            reset();
            let profile = session.userinfo().await.map_err(|e| e.to_string())?;
            Ok((
                format!(
                    "{} <{}>, verified {}",
                    profile.preferred_username.unwrap_or_default(),
                    profile.email.unwrap_or_default(),
                    profile.email_verified
                ),
                requests(),
            ))
        })
        .await,
        timed("beproduct", "REST: 450 records written, read back", async {
            reset();
            let records: Vec<serde_json::Value> = (0..450)
                .map(|i| serde_json::json!({ "name": format!("S{i:05}") }))
                .collect();
            let styles = session.records("Style");
            styles.write(&records).await.map_err(|e| e.to_string())?;
            let writes = s.api().total_requests();
            let read = styles.read_all().await.map_err(|e| e.to_string())?;
            let reads = s.api().total_requests() - writes;
            Ok((
                format!(
                    "{writes} writes of <=100, {reads} reads of <=200 ({} records); quota {}/{}",
                    read.len(),
                    beproduct.requests_today().await,
                    beproduct.daily_limit()
                ),
                requests(),
            ))
        })
        .await,
        timed("beproduct", "sign-out URL (endsession)", async {
            reset();
            let url = session
                .end_session_url(Some("https://myapp.example/"))
                .map_err(|e| e.to_string())?;
            let back = consent(url.as_str()).await?;
            Ok((
                format!("id_token_hint sent, back to {}", back.as_str()),
                requests(),
            ))
        })
        .await,
    ]
}
