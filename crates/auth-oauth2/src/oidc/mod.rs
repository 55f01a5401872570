//! OpenID Connect: discovery (fetched once and kept), authorization requests for
//! `code` (PKCE, state, nonce) and `id_token token`, callback checks (state in
//! constant time, RFC 9207 `iss`), ID token validation against a cached JWKS,
//! userinfo, and the end-session URL.
//!
//! ```
//! use std::sync::Arc;
//! use auth_core::{http::HttpClient, Clock, ManualClock, SecretString};
//! use auth_oauth2::{ClientAuth, oidc::OidcProvider};
//! use auth_testkit::oauth2::{AuthServer, AuthServerConfig, consent};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
//! let server = AuthServer::start(AuthServerConfig::new("web", "web-secret").clock(Arc::clone(&clock)))?;
//! let provider = OidcProvider::discover(server.issuer(), HttpClient::with_defaults()?, clock).await?;
//!
//! let pending = provider
//!     .authorization_request("web", "http://127.0.0.1:9/callback")
//!     .scope("openid email")
//!     .code();
//! let redirect = consent(pending.url.as_str()).await?; // the user's browser
//! let code = pending.code_from(&redirect)?;
//!
//! let client = provider.client("web", Some(SecretString::from("web-secret")), ClientAuth::Basic)?;
//! let tokens = client.exchange_code(auth_core::ExposeSecret::expose_secret(&code),
//!     pending.verifier(), pending.redirect_uri(), &[]).await?;
//! let id_token = tokens.id_token.as_ref().map(auth_core::ExposeSecret::expose_secret).unwrap_or_default();
//! let claims = provider.id_token_verifier("web").verify(id_token, pending.nonce()).await?;
//! assert_eq!(claims.sub, "alice");
//! # Ok(()) }
//! ```

mod authorize;
mod discovery;
mod id_token;
mod jwks;
mod jwt_crypto;

use std::sync::Arc;

use auth_core::http::HttpClient;
use auth_core::{Clock, ExposeSecret, SecretString};
use url::Url;

pub use authorize::{AuthorizationRequest, FragmentResponse, PendingAuthorization};
pub use discovery::{ProviderMetadata, discovery_url};
pub use id_token::{IdTokenClaims, IdTokenVerifier, JwtHeader, token_hash};
pub use jsonwebtoken::Algorithm;
pub use jwks::JwksCache;

use crate::{ClientAuth, Error, OAuth2Client};

/// An OpenID provider, discovered once; clones share the document and the JWKS cache.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    metadata: Arc<ProviderMetadata>,
    jwks: Arc<JwksCache>,
    http: HttpClient,
    clock: Arc<dyn Clock>,
}

impl OidcProvider {
    /// Fetches `issuer`'s discovery document (no redirects; the document's `issuer`
    /// must be `issuer`; every endpoint must pass the HTTP policy).
    pub async fn discover(
        issuer: &str,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let metadata = discovery::discover(&http, issuer).await?;
        Self::from_metadata(metadata, http, clock)
    }

    /// A provider from a document obtained otherwise (configuration, a cache).
    pub fn from_metadata(
        metadata: ProviderMetadata,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let jwks = JwksCache::new(metadata.jwks_uri.clone(), http.clone(), Arc::clone(&clock))?;
        Ok(Self {
            metadata: Arc::new(metadata),
            jwks: Arc::new(jwks),
            http,
            clock,
        })
    }

    /// The discovery document.
    pub fn metadata(&self) -> &ProviderMetadata {
        &self.metadata
    }

    /// The JWKS cache.
    pub fn jwks(&self) -> &Arc<JwksCache> {
        &self.jwks
    }

    /// A client of this provider (token and revocation endpoints from discovery).
    pub fn client(
        &self,
        client_id: &str,
        secret: Option<SecretString>,
        auth: ClientAuth,
    ) -> Result<OAuth2Client, Error> {
        let token = self
            .metadata
            .token_endpoint
            .as_ref()
            .ok_or(Error::NoEndpoint("token"))?;
        let mut builder = OAuth2Client::builder(client_id, token.as_str())
            .auth(auth)
            .http(self.http.clone())
            .clock(Arc::clone(&self.clock));
        if let Some(secret) = secret {
            builder = builder.secret(secret);
        }
        if let Some(revocation) = &self.metadata.revocation_endpoint {
            builder = builder.revocation_url(revocation.as_str());
        }
        builder.build()
    }

    /// An authorization request for `client_id` coming back to `redirect_uri`.
    pub fn authorization_request(
        &self,
        client_id: &str,
        redirect_uri: &str,
    ) -> AuthorizationRequest {
        AuthorizationRequest::new(
            self.metadata.authorization_endpoint.clone(),
            client_id,
            redirect_uri,
        )
        .issuer(&self.metadata.issuer)
    }

    /// An ID token verifier for `client_id` (RS256, 60 s leeway, 10-minute `iat`
    /// window; see its builder methods).
    pub fn id_token_verifier(&self, client_id: &str) -> IdTokenVerifier {
        IdTokenVerifier::new(
            self.metadata.issuer.clone(),
            client_id,
            Arc::clone(&self.jwks),
            Arc::clone(&self.clock),
        )
    }

    /// The userinfo claims for `access_token` (a JSON object).
    pub async fn userinfo(
        &self,
        access_token: &SecretString,
    ) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
        let url = self
            .metadata
            .userinfo_endpoint
            .as_ref()
            .ok_or(Error::NoEndpoint("userinfo"))?;
        let mut authorization =
            http::HeaderValue::from_str(&format!("Bearer {}", access_token.expose_secret()))
                .map_err(|_| {
                    auth_core::Error::Request("the access token cannot be sent in a header".into())
                })?;
        authorization.set_sensitive(true);
        let request = http::Request::get(url.as_str())
            .header(http::header::AUTHORIZATION, authorization)
            .header(http::header::ACCEPT, "application/json")
            .body(bytes::Bytes::new())
            .map_err(|e| auth_core::Error::Request(format!("cannot build the request: {e}")))?;
        let response = crate::error_for_status(self.http.send(request).await?)?;
        Ok(response.json()?)
    }

    /// The RP-initiated logout URL: `id_token_hint`, `post_logout_redirect_uri` and
    /// `state`, each when given.
    pub fn end_session_url(
        &self,
        id_token_hint: Option<&str>,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<Url, Error> {
        let mut url = self
            .metadata
            .end_session_endpoint
            .clone()
            .ok_or(Error::NoEndpoint("end_session"))?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                q.append_pair("id_token_hint", hint);
            }
            if let Some(uri) = post_logout_redirect_uri {
                q.append_pair("post_logout_redirect_uri", uri);
            }
            if let Some(state) = state {
                q.append_pair("state", state);
            }
        }
        Ok(url)
    }
}
