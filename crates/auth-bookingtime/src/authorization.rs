//! [`AuthorizationOptions`]: what a user's authorization request asks for beyond the
//! plain authorization code flow.

use auth_oauth2::oidc::{AuthorizationRequest, PendingAuthorization};
use url::Url;

/// What an authorization request carries besides `response_type=code`, `client_id`,
/// `redirect_uri`, `state` and PKCE (S256).
///
/// The document names the Authorization Code Flow (line 14: "User Authentication …
/// Using the Authorization Code Flow") and nothing of OpenID Connect, so by default
/// the request is plain OAuth 2.0 (RFC 6749 §4.1.1): no `scope` (the document names
/// none) and no `nonce`. A plain OAuth server may answer `scope=openid` with
/// `invalid_scope`; OpenID Connect's parameters are sent only when asked for with
/// [`openid_connect`](Self::openid_connect).
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct AuthorizationOptions {
    scope: Option<String>,
    openid_connect: bool,
    extra: Vec<(String, String)>,
}

impl AuthorizationOptions {
    /// A plain OAuth 2.0 request: no `scope`, no `nonce`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The `scope` parameter, as given (none by default: the document names no
    /// scope).
    pub fn scope(mut self, scope: &str) -> Self {
        self.scope = Some(scope.to_owned());
        self
    }

    /// OpenID Connect: `openid` is added to the scope (Core §3.1.2.1) and a `nonce`
    /// is sent ([`PendingAuthorization::nonce`] gives it back). Only for an
    /// authorization server that speaks OpenID Connect: the document does not say
    /// bookingtime's does.
    pub fn openid_connect(mut self) -> Self {
        self.openid_connect = true;
        self
    }

    /// Whether OpenID Connect's parameters are sent.
    pub fn is_openid_connect(&self) -> bool {
        self.openid_connect
    }

    /// One more parameter (`login_hint`, `prompt`, a vendor's own). `scope` and
    /// `nonce` are set by [`scope`](Self::scope) and
    /// [`openid_connect`](Self::openid_connect), not here.
    pub fn extra(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The request to `endpoint`, with fresh `state` (and `nonce`) and PKCE.
    pub(crate) fn request(
        &self,
        endpoint: &Url,
        client_id: &str,
        redirect_uri: &str,
    ) -> PendingAuthorization {
        let mut request = if self.openid_connect {
            AuthorizationRequest::new(endpoint.clone(), client_id, redirect_uri)
        } else {
            AuthorizationRequest::oauth2(endpoint.clone(), client_id, redirect_uri)
        };
        if let Some(scope) = &self.scope {
            request = request.scope(scope);
        }
        for (name, value) in &self.extra {
            if name != "scope" && name != "nonce" {
                request = request.extra(name, value);
            }
        }
        request.code()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn pairs(pending: &PendingAuthorization) -> Vec<(String, String)> {
        pending.url.query_pairs().into_owned().collect()
    }

    fn get<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn scope_is_the_callers_own_unless_openid_connect_is_asked_for() {
        let endpoint = Url::parse("https://auth.example/oauth/authorize?tenant=t").unwrap();
        let plain = AuthorizationOptions::new()
            .scope("customer:read")
            .extra("prompt", "login")
            .request(&endpoint, "app", "https://app.example/cb");
        let p = pairs(&plain);
        assert_eq!(get(&p, "scope"), Some("customer:read"));
        assert_eq!(get(&p, "nonce"), None);
        assert_eq!(get(&p, "tenant"), Some("t"));
        assert_eq!(get(&p, "prompt"), Some("login"));

        let oidc = AuthorizationOptions::new()
            .scope("customer:read")
            .openid_connect()
            .request(&endpoint, "app", "https://app.example/cb");
        let p = pairs(&oidc);
        assert_eq!(get(&p, "scope"), Some("openid customer:read"));
        assert_eq!(get(&p, "nonce"), oidc.nonce());
    }
}
