//! [`BindeoConfig`]: the client's credentials and where the API is.

use std::fmt;

use auth_core::SecretString;
use auth_core::http::base_url;
use url::Url;

use crate::Error;

/// The production API, as the reference gives it (the token endpoint is
/// `https://api.bindeo.com/access_token`).
pub const DEFAULT_API_URL: &str = "https://api.bindeo.com/";

/// A Bindeo client's settings: what Bindeo issued (client ID and secret) and the API's
/// base URL.
#[derive(Clone)]
pub struct BindeoConfig {
    client_id: String,
    client_secret: SecretString,
    api_url: Url,
}

impl fmt::Debug for BindeoConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BindeoConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("api_url", &self.api_url.as_str())
            .finish()
    }
}

impl BindeoConfig {
    /// A client ID and secret, against [`DEFAULT_API_URL`]. An empty client ID is
    /// refused.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Result<Self, Error> {
        let client_id = client_id.into();
        if client_id.trim().is_empty() {
            return Err(Error::Config("the client ID is empty".into()));
        }
        Ok(Self {
            client_id,
            client_secret,
            api_url: base_url(DEFAULT_API_URL)?,
        })
    }

    /// Another API base URL (a staging API, or a test server); `access_token` is
    /// joined to it. Plain `http://` is refused when the client is built unless the
    /// host is loopback.
    pub fn with_api_url(mut self, url: &str) -> Result<Self, Error> {
        self.api_url = base_url(url)?;
        Ok(self)
    }

    /// The client ID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The API base URL.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    pub(crate) fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    /// `POST {api}access_token`, the one token endpoint of every grant.
    pub(crate) fn access_token_url(&self) -> Result<Url, Error> {
        self.api_url
            .join("access_token")
            .map_err(|_| Error::Config("the API URL cannot take a path".into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let config = BindeoConfig::new("id", SecretString::from("s3cret")).unwrap();
        assert_eq!(
            config.access_token_url().unwrap().as_str(),
            "https://api.bindeo.com/access_token"
        );
        let staging = config.with_api_url("https://staging.example/v1").unwrap();
        assert_eq!(
            staging.access_token_url().unwrap().as_str(),
            "https://staging.example/v1/access_token"
        );
        assert!(!format!("{staging:?}").contains("s3cret"));
        assert!(staging.clone().with_api_url("not a url").is_err());
        assert!(staging.with_api_url("https://x.example/?q=1").is_err());
        assert!(BindeoConfig::new(" ", SecretString::from("s")).is_err());
    }
}
