//! The revocation endpoint (RFC 7009).

use http::StatusCode;

use super::client_auth::{authenticate, grant_error, params};
use super::state::{Ctx, lock};
use crate::{TestRequest, TestResponse};

pub(super) fn revoke(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    let p = params(req);
    let client = match authenticate(req, &p, ctx) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Some(token) = p.get("token") else {
        return grant_error("invalid_request", "token is missing");
    };
    let mut st = lock(&ctx.state);
    // RFC 7009 §2.2: unknown tokens are not an error; other clients' tokens are left.
    if let Some(t) = st
        .access
        .get_mut(token)
        .filter(|t| t.grant.client_id == client.id)
    {
        t.revoked = true;
    }
    if let Some(t) = st
        .refresh
        .get_mut(token)
        .filter(|t| t.client_id == client.id)
    {
        t.revoked = true;
    }
    TestResponse::empty(StatusCode::OK)
}
