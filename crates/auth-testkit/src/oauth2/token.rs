//! The token endpoint: its grants, the resource parameter, strict mode's token families
//! and reuse detection, and the token response.

use std::collections::HashMap;

use auth_core::internal::constant_time_eq;
use auth_core::unix_seconds;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::StatusCode;
use serde_json::{Value, json};

use super::client_auth::{authenticate, grant_error, invalid_client, params};
use super::state::{Ctx, Issued, Refresh, lock};
use super::{AccessGrant, RegisteredClient};
use crate::{TestRequest, TestResponse};

pub(super) fn token(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    if ctx.config.json_only && !req.content_type_is("application/json") {
        return grant_error("invalid_request", "the body must be application/json");
    }
    let p = params(req);
    let grant_type = p.get("grant_type").map(String::as_str).unwrap_or_default();
    let identified_only = ctx.config.refresh_with_client_id
        && grant_type == "refresh_token"
        && req.basic_auth().is_none()
        && !p.contains_key("client_secret");
    let client = if identified_only {
        let id = p.get("client_id");
        match ctx.config.clients.iter().find(|c| Some(&c.id) == id) {
            Some(c) => c,
            None => return invalid_client(),
        }
    } else {
        match authenticate(req, &p, ctx) {
            Ok(c) => c,
            Err(r) => return *r,
        }
    };
    let resource = match requested_resource(&p, client, grant_type, ctx) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let outcome = match grant_type {
        "client_credentials" => Ok(Holder::new(None, p.get("scope").cloned())),
        "password" => {
            let user = p.get("username").and_then(|u| ctx.user(u));
            match (user, p.get("password")) {
                (Some(u), Some(pw)) if constant_time_eq(pw.as_bytes(), u.password.as_bytes()) => {
                    Ok(Holder::new(
                        Some(u.username.clone()),
                        p.get("scope").cloned(),
                    ))
                }
                _ => Err(Box::new(grant_error(
                    "invalid_grant",
                    "wrong username or password",
                ))),
            }
        }
        "refresh_token" => refresh_grant(&p, client, ctx),
        "authorization_code" => code_grant(&p, client, ctx),
        _ => Err(Box::new(grant_error(
            "unsupported_grant_type",
            "unknown grant_type",
        ))),
    };
    let holder = match outcome {
        Ok(h) => Holder { resource, ..h },
        Err(r) => return *r,
    };
    issue(ctx, client, grant_type, holder)
}

/// The resource an answer's access token is for, when the server takes a resource
/// parameter and the answer carries an access token.
fn requested_resource(
    p: &HashMap<String, String>,
    client: &RegisteredClient,
    grant_type: &str,
    ctx: &Ctx,
) -> Result<Option<String>, Box<TestResponse>> {
    let Some(name) = &ctx.config.resource_parameter else {
        return Ok(None);
    };
    let carries_access = grant_type == "refresh_token" || !ctx.config.style.refresh_first;
    if !carries_access {
        return Ok(None);
    }
    let Some(wanted) = p.get(name) else {
        return Err(Box::new(grant_error(
            "invalid_request",
            &format!("{name} is missing"),
        )));
    };
    if !client.resources.iter().any(|r| r == wanted) {
        return Err(Box::new(grant_error(
            "invalid_target",
            &format!("the client may not access this {name}"),
        )));
    }
    Ok(Some(wanted.clone()))
}

/// Whom and what an answer's tokens are for.
struct Holder {
    username: Option<String>,
    scope: Option<String>,
    nonce: Option<String>,
    resource: Option<String>,
    /// The token family the tokens join (`None`: a new one).
    family: Option<u64>,
}

impl Holder {
    fn new(username: Option<String>, scope: Option<String>) -> Self {
        Self {
            username,
            scope,
            nonce: None,
            resource: None,
            family: None,
        }
    }
}

type GrantOutcome = Result<Holder, Box<TestResponse>>;

fn refresh_grant(
    p: &HashMap<String, String>,
    client: &RegisteredClient,
    ctx: &Ctx,
) -> GrantOutcome {
    let Some(presented) = p.get("refresh_token") else {
        return Err(Box::new(grant_error(
            "invalid_request",
            "refresh_token is missing",
        )));
    };
    let mut st = lock(&ctx.state);
    let now = ctx.now();
    let reused = st
        .refresh
        .get(presented)
        .filter(|r| ctx.config.strict && r.rotated && r.client_id == client.id)
        .map(|r| r.family);
    if let Some(family) = reused {
        st.reuse_detections += 1;
        st.revoke_family(family);
        return Err(Box::new(grant_error(
            "invalid_grant",
            "refresh token reused: every token of its grant is revoked",
        )));
    }
    let Some(r) = st
        .refresh
        .get_mut(presented)
        .filter(|r| !r.revoked && r.client_id == client.id && r.expires.is_none_or(|e| now < e))
    else {
        return Err(Box::new(grant_error(
            "invalid_grant",
            "unknown, expired or revoked refresh token",
        )));
    };
    if ctx.config.rotates() {
        r.revoked = true;
        r.rotated = true;
    }
    Ok(Holder {
        family: Some(r.family),
        ..Holder::new(r.username.clone(), r.scope.clone())
    })
}

fn code_grant(p: &HashMap<String, String>, client: &RegisteredClient, ctx: &Ctx) -> GrantOutcome {
    let mut st = lock(&ctx.state);
    let now = ctx.now();
    let reused = p
        .get("code")
        .and_then(|c| st.codes.get(c))
        .filter(|g| ctx.config.strict && g.used)
        .map(|g| g.family);
    if let Some(family) = reused {
        st.reuse_detections += 1;
        st.revoke_family(family);
        return Err(Box::new(grant_error(
            "invalid_grant",
            "the code was already redeemed: every token issued from it is revoked",
        )));
    }
    let Some(grant) = p.get("code").and_then(|c| st.codes.get_mut(c)) else {
        return Err(Box::new(grant_error("invalid_grant", "unknown code")));
    };
    if grant.used || now >= grant.expires || grant.client_id != client.id {
        grant.used = true;
        return Err(Box::new(grant_error(
            "invalid_grant",
            "the code is spent, expired or not yours",
        )));
    }
    grant.used = true;
    if p.get("redirect_uri") != Some(&grant.redirect_uri) {
        return Err(Box::new(grant_error(
            "invalid_grant",
            "redirect_uri does not match",
        )));
    }
    if let Some(challenge) = &grant.challenge {
        let computed = p.get("code_verifier").map(|v| {
            URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, v.as_bytes()))
        });
        match computed {
            Some(c) if constant_time_eq(c.as_bytes(), challenge.as_bytes()) => {}
            _ => {
                return Err(Box::new(grant_error(
                    "invalid_grant",
                    "PKCE verification failed",
                )));
            }
        }
    }
    Ok(Holder {
        nonce: grant.nonce.clone(),
        family: Some(grant.family),
        ..Holder::new(Some(grant.username.clone()), grant.scope.clone())
    })
}

fn issue(ctx: &Ctx, client: &RegisteredClient, grant_type: &str, holder: Holder) -> TestResponse {
    let Holder {
        username,
        scope,
        nonce,
        resource,
        family,
    } = holder;
    let style = &ctx.config.style;
    let mut st = lock(&ctx.state);
    // The grant was checked under an earlier lock; a replay may have revoked its
    // family since.
    if family.is_some_and(|f| st.revoked_families.contains(&f)) {
        return grant_error("invalid_grant", "the grant was revoked");
    }
    let family = family.unwrap_or_else(|| st.new_family());
    *st.grants.entry(grant_type.to_owned()).or_default() += 1;
    if let Some(r) = &resource {
        *st.resource_grants.entry(r.clone()).or_default() += 1;
    }
    let cc = grant_type == "client_credentials";
    let refresh_only = grant_type != "refresh_token" && style.refresh_first;
    let mut body = serde_json::Map::new();
    if !refresh_only {
        let access = if ctx.config.jwt_access_tokens {
            let now = unix_seconds(ctx.now());
            let jti = ctx.new_token(&mut st, "jti");
            let key = &ctx.keys[st.current_key];
            key.sign(
                &json!({"typ": "JWT", "alg": "RS256", "jti": jti}),
                &json!({
                    "aud": client.id, "jti": jti, "iat": now, "nbf": now,
                    "exp": now + ctx.config.access_lifetime.as_secs(),
                    "sub": username.clone().unwrap_or_default(), "scopes": [],
                }),
            )
        } else {
            ctx.new_token(&mut st, "at")
        };
        st.access.insert(
            access.clone(),
            Issued {
                grant: AccessGrant {
                    client_id: client.id.clone(),
                    username: username.clone(),
                    resource,
                    scope: scope.clone(),
                },
                expires: ctx.now() + ctx.config.access_lifetime,
                revoked: false,
                family,
            },
        );
        body.insert("access_token".into(), Value::from(access));
        let lifetime = ctx.config.access_lifetime.as_secs();
        body.insert(
            "expires_in".into(),
            if style.expires_in_as_string {
                Value::from(lifetime.to_string())
            } else {
                Value::from(lifetime)
            },
        );
        if let Some(t) = &style.token_type {
            body.insert("token_type".into(), Value::from(t.clone()));
        }
    }
    let wants_refresh = !cc || ctx.config.client_credentials_refresh || refresh_only;
    let rotated = grant_type != "refresh_token" || ctx.config.rotates();
    let scoped = ctx.config.refresh_scope.as_deref().is_none_or(|needed| {
        scope
            .as_deref()
            .is_some_and(|s| s.split(' ').any(|s| s == needed))
    });
    if wants_refresh && rotated && scoped {
        let refresh = ctx.new_token(&mut st, "rt");
        let lifetime = ctx.config.refresh_lifetime;
        st.refresh.insert(
            refresh.clone(),
            Refresh {
                client_id: client.id.clone(),
                username: username.clone(),
                scope: scope.clone(),
                expires: lifetime.map(|l| ctx.now() + l),
                revoked: false,
                rotated: false,
                family,
            },
        );
        body.insert("refresh_token".into(), Value::from(refresh));
        if refresh_only {
            if let Some(t) = &style.token_type {
                body.insert("token_type".into(), Value::from(t.clone()));
            }
            if let Some(l) = lifetime {
                body.insert("expires_in".into(), Value::from(l.as_secs()));
            }
        }
    }
    drop(st);
    if let Some(scope) = &scope {
        body.insert("scope".into(), Value::from(scope.clone()));
        if let Some(user) = username
            .as_deref()
            .filter(|_| scope.split(' ').any(|s| s == "openid"))
        {
            body.insert(
                "id_token".into(),
                Value::from(ctx.id_token(&client.id, user, nonce.as_deref(), None)),
            );
        }
    }
    for (k, v) in &style.extra {
        body.insert(k.clone(), v.clone());
    }
    TestResponse::json(StatusCode::OK, &Value::Object(body))
        .with_header("cache-control", "no-store")
}
