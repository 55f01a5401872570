//! The protected resource's side: what an access token grants, [`AccessChecker`], the
//! Bearer check, and the `/resource` endpoint.

use std::sync::Arc;

use http::StatusCode;
use serde_json::json;

#[cfg(doc)]
use super::AuthServer;
use super::state::{Ctx, lock};
use crate::{TestRequest, TestResponse};

/// What a live access token grants: the answer of [`AccessChecker::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessGrant {
    /// The client it was issued to.
    pub client_id: String,
    /// The user, for user grants.
    pub username: Option<String>,
    /// The resource it is for, when the server takes a resource parameter.
    pub resource: Option<String>,
    /// The granted scope.
    pub scope: Option<String>,
}

/// Checks Bearer tokens an [`AuthServer`] issued (see [`AuthServer::access_checker`]).
#[derive(Clone)]
pub struct AccessChecker {
    pub(super) ctx: Arc<Ctx>,
}

impl std::fmt::Debug for AccessChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessChecker")
            .field("issuer", &self.ctx.issuer())
            .finish()
    }
}

impl AccessChecker {
    /// What the request's live Bearer token grants, or the 401 (`invalid_token`,
    /// with `WWW-Authenticate`) to answer.
    pub fn check(&self, req: &TestRequest) -> Result<AccessGrant, Box<TestResponse>> {
        bearer(req, &self.ctx)
    }

    /// What `token` grants, if it is a live access token of this server.
    pub fn check_token(&self, token: &str) -> Option<AccessGrant> {
        live(token, &self.ctx)
    }
}

fn live(token: &str, ctx: &Ctx) -> Option<AccessGrant> {
    let st = lock(&ctx.state);
    let issued = st.access.get(token)?;
    (!issued.revoked && ctx.now() < issued.expires).then(|| issued.grant.clone())
}

/// The live access token on the request, or the 401 to answer.
pub(super) fn bearer(req: &TestRequest, ctx: &Ctx) -> Result<AccessGrant, Box<TestResponse>> {
    let refuse = || {
        Box::new(
            TestResponse::oauth_error(StatusCode::UNAUTHORIZED, "invalid_token", "no live token")
                .with_header("www-authenticate", "Bearer error=\"invalid_token\""),
        )
    };
    let token = req.bearer().ok_or_else(refuse)?;
    live(token, ctx).ok_or_else(refuse)
}

pub(super) fn resource(req: &TestRequest, ctx: &Ctx) -> TestResponse {
    match bearer(req, ctx) {
        Ok(i) => TestResponse::json(
            StatusCode::OK,
            &json!({ "ok": true, "client_id": i.client_id, "user": i.username, "resource": i.resource }),
        ),
        Err(r) => *r,
    }
}
