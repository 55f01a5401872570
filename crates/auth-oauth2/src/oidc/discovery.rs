//! [`ProviderMetadata`]: the OpenID Connect discovery document.

use auth_core::http::HttpClient;
use serde::Deserialize;
use url::Url;

use crate::Error;

/// The parts of `/.well-known/openid-configuration` a client uses. Endpoints are
/// checked against the HTTP policy (HTTPS, or HTTP on loopback) when read.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// `issuer`: must equal the issuer the document was fetched for.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: Url,
    /// `token_endpoint`.
    #[serde(default)]
    pub token_endpoint: Option<Url>,
    /// `jwks_uri`.
    pub jwks_uri: Url,
    /// `userinfo_endpoint`.
    #[serde(default)]
    pub userinfo_endpoint: Option<Url>,
    /// `revocation_endpoint` (RFC 7009).
    #[serde(default)]
    pub revocation_endpoint: Option<Url>,
    /// `end_session_endpoint` (RP-Initiated Logout).
    #[serde(default)]
    pub end_session_endpoint: Option<Url>,
    /// `id_token_signing_alg_values_supported`.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `code_challenge_methods_supported`.
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// The discovery URL for `issuer` (OpenID Connect Discovery §4).
pub fn discovery_url(issuer: &str) -> Result<Url, Error> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    Url::parse(&url).map_err(|_| Error::Config(format!("{issuer:?} is not an issuer URL")))
}

/// Fetches and checks the discovery document of `issuer`. No redirect is followed.
pub(crate) async fn discover(client: &HttpClient, issuer: &str) -> Result<ProviderMetadata, Error> {
    let url = discovery_url(issuer)?;
    client.check_url(&url)?;
    let request = http::Request::get(url.as_str())
        .header(http::header::ACCEPT, "application/json")
        .body(bytes::Bytes::new())
        .map_err(|e| auth_core::Error::Request(format!("cannot build the request: {e}")))?;
    let response = client.send(request).await?.error_for_status()?;
    let metadata: ProviderMetadata = response.json()?;
    if metadata.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(Error::Discovery(
            "the document's issuer is not the issuer it was fetched for".into(),
        ));
    }
    for url in [&metadata.authorization_endpoint, &metadata.jwks_uri]
        .into_iter()
        .chain(metadata.token_endpoint.as_ref())
        .chain(metadata.userinfo_endpoint.as_ref())
        .chain(metadata.revocation_endpoint.as_ref())
        .chain(metadata.end_session_endpoint.as_ref())
    {
        client.check_url(url)?;
    }
    Ok(metadata)
}
