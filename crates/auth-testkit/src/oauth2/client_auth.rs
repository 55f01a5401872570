//! Client authentication at the token and revocation endpoints, with the request
//! parameters and error answers they share.

use std::collections::HashMap;

use auth_core::internal::constant_time_eq;
use http::StatusCode;
use serde_json::Value;

use super::state::Ctx;
use super::{ClientAuthMethod, RegisteredClient};
use crate::{TestRequest, TestResponse};

/// The request's parameters, form or JSON.
pub(super) fn params(req: &TestRequest) -> HashMap<String, String> {
    if req.content_type_is("application/json") {
        let Some(Value::Object(map)) = req.json::<Value>() else {
            return HashMap::new();
        };
        map.into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect()
    } else if req.content_type_is("application/x-www-form-urlencoded") {
        req.form_pairs().into_iter().collect()
    } else {
        HashMap::new()
    }
}

pub(super) fn invalid_client() -> TestResponse {
    TestResponse::oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "client authentication failed",
    )
    .with_header("www-authenticate", "Basic realm=\"token\"")
}

/// Authenticates the client the way it is registered.
pub(super) fn authenticate<'a>(
    req: &TestRequest,
    p: &HashMap<String, String>,
    ctx: &'a Ctx,
) -> Result<&'a RegisteredClient, Box<TestResponse>> {
    let basic = req.basic_auth();
    let id = basic
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| p.get("client_id").cloned())
        .ok_or_else(|| Box::new(invalid_client()))?;
    let client = ctx
        .config
        .clients
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| Box::new(invalid_client()))?;
    let json = req.content_type_is("application/json");
    let given = match client.auth {
        ClientAuthMethod::Basic => basic.map(|(_, s)| s),
        ClientAuthMethod::FormBody if !json && basic.is_none() => p.get("client_secret").cloned(),
        ClientAuthMethod::JsonBody if json && basic.is_none() => p.get("client_secret").cloned(),
        // A public client sends no secret, or an empty one (bookingtime's Module API).
        ClientAuthMethod::None
            if basic.is_none() && p.get("client_secret").is_none_or(String::is_empty) =>
        {
            return Ok(client);
        }
        _ => None,
    };
    match given {
        Some(s) if constant_time_eq(s.as_bytes(), client.secret.as_bytes()) => Ok(client),
        _ => Err(Box::new(invalid_client())),
    }
}

pub(super) fn grant_error(code: &str, description: &str) -> TestResponse {
    TestResponse::oauth_error(StatusCode::BAD_REQUEST, code, description)
}
