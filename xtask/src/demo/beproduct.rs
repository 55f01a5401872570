//! Demo rows for BeProduct: sign-in (code with PKCE at the document's fixed
//! endpoints, ID token validated), userinfo, REST calls to a path the demo names (the
//! document names none; `Style` and the paging parameters are the test server's),
//! counted against the organization's daily quota, and the sign-out URL.

use auth_beproduct::{
    BeProduct, BeProductConfig, Chunking, ClientId, OrganizationId, Paging, Plan, Session,
};
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
    let config = OrganizationId::new("demo-organization")
        .and_then(|org| Ok((org, ClientId::new(ID)?)))
        .and_then(|(org, id)| {
            BeProductConfig::new(
                org,
                id,
                SecretString::from(SECRET),
                REDIRECT,
                Plan::business(4),
            )
        })
        .and_then(|c| c.with_identity_url(server.identity_url()))
        .and_then(|c| c.with_api_url(server.api_url().as_str()))
        .map_err(|e| e.to_string())?
        .with_offline_access();
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
        "sign-in (code + PKCE, offline_access, ID token checked)",
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
                format!("consent, exchange, keys' location, JWKS; sub {sub:?}"),
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
        timed(
            "beproduct",
            "REST to a caller-named path: 450 records in chunks, paged back",
            async {
                reset();
                let records: Vec<serde_json::Value> = (0..450)
                    .map(|i| serde_json::json!({ "name": format!("S{i:05}") }))
                    .collect();
                let answers = session
                    .post("Style")
                    .chunks(&records, &Chunking::default())
                    .await
                    .map_err(|e| e.to_string())?;
                let written: usize = answers.iter().map(|a| a.entities().len()).sum();
                let writes = s.api().total_requests();
                let read = session
                    .get("Style")
                    .pages(&Paging::default())
                    .await
                    .map_err(|e| e.to_string())?;
                let reads = s.api().total_requests() - writes;
                let echoed = session
                    .get("Style")
                    .echo("requestId", "demo-1")
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let echoed = echoed.echoed().is_some_and(|v| *v == "demo-1");
                Ok((
                    format!(
                        "{written} in {writes} writes (advised <=100), {} in {reads} reads (advised <=200), echo {echoed}; quota {}/{} (warn past {})",
                        read.len(),
                        beproduct.requests_today().await,
                        beproduct.daily_limit(),
                        beproduct.warning_limit().unwrap_or_default(),
                    ),
                    requests(),
                ))
            },
        )
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
