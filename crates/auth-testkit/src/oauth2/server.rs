//! [`AuthServer`]: starting it (keys, state, routes), and what tests ask of it: URLs,
//! signing keys, counters, revocation, and codes from a consenting user.

use std::sync::{Arc, Mutex, OnceLock};

use http::Method;
use serde_json::Value;
use url::Url;

use super::authorize::authorize;
use super::oidc::{KEY_A, KEY_B, SigningKey, discovery, end_session, jwks, userinfo};
use super::resource::resource;
use super::revoke::revoke;
use super::state::{Ctx, State, lock};
use super::token::token;
use super::{AccessChecker, AuthServerConfig, Endpoints, consent};
use crate::{ServerBuilder, TestRequest, TestResponse, TestServer};

/// A running authorization server.
pub struct AuthServer {
    server: TestServer,
    ctx: Arc<Ctx>,
}

impl std::fmt::Debug for AuthServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthServer")
            .field("issuer", &self.issuer())
            .finish_non_exhaustive()
    }
}

type Route = fn(&TestRequest, &Ctx) -> TestResponse;

impl AuthServer {
    /// Starts a server.
    pub fn start(config: AuthServerConfig) -> std::io::Result<Self> {
        let ctx = Arc::new(Ctx {
            config,
            issuer: OnceLock::new(),
            keys: vec![
                SigningKey::load("key-a", KEY_A)?,
                SigningKey::load("key-b", KEY_B)?,
            ],
            state: Mutex::new(State::default()),
        });
        let p = ctx.config.paths.clone();
        let routes: [(Method, &str, Route); 9] = [
            (Method::GET, &p.discovery, discovery),
            (Method::GET, &p.jwks, jwks),
            (Method::GET, &p.authorize, authorize),
            (Method::POST, &p.token, token),
            (Method::GET, &p.userinfo, userinfo),
            (Method::POST, &p.revoke, revoke),
            (Method::GET, &p.end_session, end_session),
            (Method::GET, &p.resource, resource),
            (Method::POST, &p.userinfo, userinfo),
        ];
        let mut builder = ServerBuilder::new("oauth2");
        for (method, path, handler) in routes {
            let ctx = Arc::clone(&ctx);
            builder = builder.route(method, path, move |r| handler(r, &ctx));
        }
        let server = builder.start()?;
        let issuer = format!(
            "{}{}",
            server.base_url().as_str().trim_end_matches('/'),
            ctx.config.paths.issuer
        );
        let _ = ctx.issuer.set(issuer);
        Ok(Self { server, ctx })
    }

    /// The server, for counters, faults and URLs.
    pub fn server(&self) -> &TestServer {
        &self.server
    }

    /// The issuer (the base URL without the trailing slash, plus the issuer path).
    pub fn issuer(&self) -> &str {
        self.ctx.issuer()
    }

    /// The token endpoint.
    pub fn token_url(&self) -> Url {
        self.server.url(&self.ctx.config.paths.token)
    }

    /// The URL of the endpoint `path` picks from the server's [`Endpoints`].
    pub fn endpoint(&self, path: impl FnOnce(&Endpoints) -> &str) -> Url {
        self.server.url(path(&self.ctx.config.paths))
    }

    /// A handle that checks Bearer tokens this server issued, for resource servers
    /// started beside it.
    pub fn access_checker(&self) -> AccessChecker {
        AccessChecker {
            ctx: Arc::clone(&self.ctx),
        }
    }

    /// Starts signing with the next key and publishes it in the JWKS (the old key stays
    /// listed). Returns the new `kid`.
    pub fn rotate_keys(&self) -> String {
        let mut state = lock(&self.ctx.state);
        state.current_key = (state.current_key + 1).min(self.ctx.keys.len() - 1);
        self.ctx.keys[state.current_key].kid.clone()
    }

    /// Signs `claims` as an ID token with the current key (for tests that need a token
    /// with particular claims).
    pub fn sign_id_token(&self, claims: &Value) -> String {
        self.ctx.sign(claims)
    }

    /// The JWK (public) of the current key.
    pub fn current_jwk(&self) -> Value {
        let state = lock(&self.ctx.state);
        self.ctx.keys[state.current_key].jwk.clone()
    }

    /// Successful grants by `grant_type`.
    pub fn grants(&self, grant_type: &str) -> u64 {
        lock(&self.ctx.state)
            .grants
            .get(grant_type)
            .copied()
            .unwrap_or(0)
    }

    /// Successful grants whose access token is for `resource` (see
    /// [`AuthServerConfig::resource_parameter`]).
    pub fn grants_for(&self, resource: &str) -> u64 {
        lock(&self.ctx.state)
            .resource_grants
            .get(resource)
            .copied()
            .unwrap_or(0)
    }

    /// Successful `authorization_code` grants (codes redeemed for tokens).
    pub fn redemptions(&self) -> u64 {
        self.grants("authorization_code")
    }

    /// Successful `refresh_token` grants.
    pub fn refreshes(&self) -> u64 {
        self.grants("refresh_token")
    }

    /// Replays detected in [strict mode](AuthServerConfig::strict): second
    /// redemptions of a code plus rotated-away refresh tokens presented.
    pub fn reuse_detections(&self) -> u64 {
        lock(&self.ctx.state).reuse_detections
    }

    /// Token families revoked for reuse in [strict mode](AuthServerConfig::strict)
    /// (each counted once, however often it is replayed).
    pub fn revoked_families(&self) -> u64 {
        lock(&self.ctx.state).revoked_families.len() as u64
    }

    /// Revokes every refresh token (as an administrator resetting sessions).
    pub fn revoke_refresh_tokens(&self) {
        for r in lock(&self.ctx.state).refresh.values_mut() {
            r.revoked = true;
        }
    }

    /// Whether `token` (access or refresh) has been revoked.
    pub fn is_revoked(&self, token: &str) -> bool {
        let state = lock(&self.ctx.state);
        state.access.get(token).is_some_and(|t| t.revoked)
            || state.refresh.get(token).is_some_and(|t| t.revoked)
    }
}

impl AuthServer {
    /// A code, as a user who consents at the authorization endpoint would bring back
    /// to `redirect_uri` (with an S256 `pkce_challenge` when given).
    pub async fn code_for(
        &self,
        client_id: &str,
        redirect_uri: &str,
        pkce_challenge: Option<&str>,
    ) -> Result<String, String> {
        let mut url = self.endpoint(|e| &e.authorize);
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", "state");
        if let Some(challenge) = pkce_challenge {
            url.query_pairs_mut()
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        let back = consent(url.as_str()).await?;
        back.query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| "no code in the redirect".to_owned())
    }
}
