//! Authorization requests (`code` with PKCE, and `id_token token`) and the checks on
//! the redirect that answers them.

use std::fmt;
use std::time::Duration;

use auth_core::internal::constant_time_eq;
use auth_core::{ExposeSecret, SecretString};

use crate::OAuthError;
use url::Url;

use crate::{Error, PkceVerifier, random_token};

/// What the client must remember between sending the user to the provider and the
/// redirect back: `state`, `nonce`, the PKCE verifier and the redirect URI.
pub struct PendingAuthorization {
    /// The URL to send the user's browser to.
    pub url: Url,
    pub(crate) state: SecretString,
    pub(crate) nonce: Option<SecretString>,
    pub(crate) verifier: Option<PkceVerifier>,
    pub(crate) redirect_uri: String,
    pub(crate) issuer: Option<String>,
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingAuthorization")
            .field("url", &"[contains state and nonce]")
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

/// The front-channel answer to an `id_token token` request.
#[derive(Clone)]
pub struct FragmentResponse {
    /// `access_token`.
    pub access_token: SecretString,
    /// `token_type` (any case).
    pub token_type: Option<String>,
    /// `expires_in`.
    pub expires_in: Option<Duration>,
    /// `id_token`, not yet validated: pass it to
    /// [`IdTokenVerifier::verify`](super::IdTokenVerifier::verify) with
    /// [`PendingAuthorization::nonce`].
    pub id_token: SecretString,
}

impl fmt::Debug for FragmentResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FragmentResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl PendingAuthorization {
    /// The `nonce` sent, to check the ID token with; `None` for a plain OAuth 2.0
    /// request, which sends none.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_ref().map(ExposeSecret::expose_secret)
    }

    /// The PKCE verifier, for the code exchange.
    pub fn verifier(&self) -> Option<&PkceVerifier> {
        self.verifier.as_ref()
    }

    /// The redirect URI, for the code exchange.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Reads the redirect of a `code` request: an `error` becomes
    /// [`Error::Authorization`]; the `state` must match (compared in constant time);
    /// `iss`, when present and the issuer is known, must be the issuer's (RFC 9207).
    /// Returns the code.
    pub fn code_from(&self, redirect: &Url) -> Result<SecretString, Error> {
        let pairs: Vec<(String, String)> = redirect.query_pairs().into_owned().collect();
        self.check(&pairs)?;
        find(&pairs, "code")
            .map(|c| SecretString::from(c.to_owned()))
            .ok_or(Error::MissingCallbackField("code"))
    }

    /// Reads the redirect of an `id_token token` request, whose answer is in the
    /// fragment; same checks as [`code_from`](Self::code_from).
    pub fn fragment_from(&self, redirect: &Url) -> Result<FragmentResponse, Error> {
        let fragment = redirect.fragment().unwrap_or_default();
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(fragment.as_bytes())
            .into_owned()
            .collect();
        self.check(&pairs)?;
        let secret = |name: &'static str| {
            find(&pairs, name)
                .map(|v| SecretString::from(v.to_owned()))
                .ok_or(Error::MissingCallbackField(name))
        };
        Ok(FragmentResponse {
            access_token: secret("access_token")?,
            token_type: find(&pairs, "token_type").map(str::to_owned),
            expires_in: find(&pairs, "expires_in")
                .and_then(|s| s.trim().parse().ok())
                .map(Duration::from_secs),
            id_token: secret("id_token")?,
        })
    }

    fn check(&self, pairs: &[(String, String)]) -> Result<(), Error> {
        // The state is checked first, even on an error answer: an unsolicited error
        // redirect is as forged as an unsolicited code.
        match find(pairs, "state") {
            Some(s) if constant_time_eq(s.as_bytes(), self.state.expose_secret().as_bytes()) => {}
            _ => return Err(Error::StateMismatch),
        }
        if let (Some(iss), Some(expected)) = (find(pairs, "iss"), &self.issuer)
            && iss.trim_end_matches('/') != expected.trim_end_matches('/')
        {
            return Err(Error::IssuerMismatch);
        }
        if let Some(error) = find(pairs, "error") {
            return Err(Error::Authorization(OAuthError::from_parts(
                None,
                error,
                find(pairs, "error_description"),
                find(pairs, "error_uri"),
            )));
        }
        Ok(())
    }
}

fn find<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Builds an authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    endpoint: Url,
    issuer: Option<String>,
    client_id: String,
    redirect_uri: String,
    scope: String,
    openid: bool,
    extra: Vec<(String, String)>,
}

impl AuthorizationRequest {
    /// A request to the authorization endpoint `endpoint` (usually from
    /// [`OidcProvider::authorization_request`](super::OidcProvider::authorization_request),
    /// which also sets the issuer).
    pub fn new(endpoint: Url, client_id: &str, redirect_uri: &str) -> Self {
        Self {
            endpoint,
            issuer: None,
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: "openid".to_owned(),
            openid: true,
            extra: Vec::new(),
        }
    }

    /// A plain OAuth 2.0 request (RFC 6749 §4.1.1) to `endpoint`: no `openid` scope and
    /// no `nonce`, for an authorization server that does not speak OpenID Connect (it
    /// may refuse `scope=openid` with `invalid_scope`). `scope` is sent only when set;
    /// `state` and PKCE as always.
    pub fn oauth2(endpoint: Url, client_id: &str, redirect_uri: &str) -> Self {
        Self {
            scope: String::new(),
            openid: false,
            ..Self::new(endpoint, client_id, redirect_uri)
        }
    }

    /// The issuer an RFC 9207 `iss` in the answer must equal.
    #[must_use]
    pub fn issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.to_owned());
        self
    }

    /// The scope (default `openid`; `openid` is added if missing, except on a plain
    /// [`oauth2`](Self::oauth2) request, where it is sent as given).
    #[must_use]
    pub fn scope(mut self, scope: &str) -> Self {
        self.scope = if !self.openid || scope.split(' ').any(|s| s == "openid") {
            scope.to_owned()
        } else {
            format!("openid {scope}")
        };
        self
    }

    /// An extra parameter (`login_hint`, `prompt`, `acr_values`, ...).
    #[must_use]
    pub fn extra(mut self, name: &str, value: &str) -> Self {
        self.extra.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A `response_type=code` request with fresh `state`, `nonce` and PKCE (S256).
    pub fn code(self) -> PendingAuthorization {
        let verifier = PkceVerifier::random();
        let challenge = verifier.challenge();
        self.finish(
            "code",
            Some(verifier),
            &[
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
    }

    /// A `response_type=id_token token` request (answer in the fragment) with fresh
    /// `state` and `nonce`: OpenID Connect's, even from an [`oauth2`](Self::oauth2)
    /// request.
    pub fn id_token_token(mut self) -> PendingAuthorization {
        if !self.openid {
            self.openid = true;
            self.scope = if self.scope.is_empty() {
                "openid".to_owned()
            } else {
                format!("openid {}", self.scope)
            };
        }
        self.finish("id_token token", None, &[])
    }

    fn finish(
        self,
        response_type: &str,
        verifier: Option<PkceVerifier>,
        more: &[(&str, &str)],
    ) -> PendingAuthorization {
        let state = random_token(16);
        let nonce = self.openid.then(|| random_token(16));
        let mut url = self.endpoint;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", response_type)
                .append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", &self.redirect_uri);
            if !self.scope.is_empty() {
                query.append_pair("scope", &self.scope);
            }
            query.append_pair("state", &state);
            if let Some(nonce) = &nonce {
                query.append_pair("nonce", nonce);
            }
            query
                .extend_pairs(more.iter().copied())
                .extend_pairs(self.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        PendingAuthorization {
            url,
            state: SecretString::from(state),
            nonce: nonce.map(SecretString::from),
            verifier,
            redirect_uri: self.redirect_uri,
            issuer: self.issuer,
        }
    }
}
