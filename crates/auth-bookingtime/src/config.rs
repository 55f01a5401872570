//! [`BookingtimeConfig`]: the app's credentials and where the servers are, and
//! [`OrganizationId`].

use std::fmt;

use auth_core::SecretString;
use auth_core::http::base_url;
use url::Url;

use crate::Error;

/// The production authorization server (`oauth/token` is joined to it).
pub const DEFAULT_AUTH_URL: &str = "https://auth.bookingtime.com/";
/// The production App API (a locale segment follows, see
/// [`BookingtimeConfig::with_locale`]).
pub const DEFAULT_API_URL: &str = "https://api.bookingtime.com/app/v3/";
/// The locale segment used unless another is set.
pub const DEFAULT_LOCALE: &str = "de";

/// An organization's ID (the "unique token" of the organization). A type of its own,
/// so that it cannot be mixed up with a client ID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganizationId(String);

impl OrganizationId {
    /// An ID as bookingtime gave it. Empty IDs are refused.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(Error::Config("the organization ID is empty".into()));
        }
        Ok(Self(id))
    }

    /// The ID.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An app's (or module's) settings.
#[derive(Clone)]
pub struct BookingtimeConfig {
    client_id: String,
    client_secret: Option<SecretString>,
    auth_url: Url,
    api_url: Url,
    locale: String,
}

impl fmt::Debug for BookingtimeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingtimeConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("auth_url", &self.auth_url.as_str())
            .field("api_url", &self.api_url.as_str())
            .field("locale", &self.locale)
            .finish()
    }
}

impl BookingtimeConfig {
    /// An App API client: the client ID and secret of an app made in the developer
    /// service. An empty client ID is refused.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString) -> Result<Self, Error> {
        Self::with(client_id.into(), Some(client_secret))
    }

    /// A Module API client: the client ID alone (the secret "must be omitted or
    /// empty"). An empty client ID is refused.
    pub fn module(client_id: impl Into<String>) -> Result<Self, Error> {
        Self::with(client_id.into(), None)
    }

    fn with(client_id: String, client_secret: Option<SecretString>) -> Result<Self, Error> {
        if client_id.trim().is_empty() {
            return Err(Error::Config("the client ID is empty".into()));
        }
        Ok(Self {
            client_id,
            client_secret,
            auth_url: base_url(DEFAULT_AUTH_URL)?,
            api_url: base_url(DEFAULT_API_URL)?,
            locale: DEFAULT_LOCALE.into(),
        })
    }

    /// Another authorization server ([`DEFAULT_AUTH_URL`] by default; `oauth/token`
    /// is joined to it).
    pub fn with_auth_url(mut self, url: &str) -> Result<Self, Error> {
        self.auth_url = base_url(url)?;
        Ok(self)
    }

    /// Another App API base ([`DEFAULT_API_URL`] by default; the locale and the
    /// endpoint paths are joined to it).
    pub fn with_api_url(mut self, url: &str) -> Result<Self, Error> {
        self.api_url = base_url(url)?;
        Ok(self)
    }

    /// The locale segment of App API paths (`de`, `en`, ...).
    pub fn with_locale(mut self, locale: &str) -> Result<Self, Error> {
        if locale.is_empty() || !locale.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-') {
            return Err(Error::Config(format!("{locale:?} is not a locale")));
        }
        self.locale = locale.to_owned();
        Ok(self)
    }

    /// The client ID.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether this is a Module API client (no secret).
    pub fn is_module(&self) -> bool {
        self.client_secret.is_none()
    }

    /// The authorization server's base URL.
    pub fn auth_url(&self) -> &Url {
        &self.auth_url
    }

    /// The App API's base URL.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    pub(crate) fn client_secret(&self) -> Option<&SecretString> {
        self.client_secret.as_ref()
    }

    /// `{auth}oauth/token`.
    pub(crate) fn token_url(&self) -> Result<Url, Error> {
        self.auth_url
            .join("oauth/token")
            .map_err(|_| Error::Config("cannot join oauth/token to the auth URL".into()))
    }

    /// `{api}{locale}/`.
    pub(crate) fn api_root(&self) -> Result<Url, Error> {
        self.api_url
            .join(&format!("{}/", self.locale))
            .map_err(|_| Error::Config("cannot join the locale to the API URL".into()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_documented_urls_are_the_defaults() {
        let config = BookingtimeConfig::new("70app", SecretString::from("s3cret")).unwrap();
        assert_eq!(
            config.token_url().unwrap().as_str(),
            "https://auth.bookingtime.com/oauth/token"
        );
        assert_eq!(
            config.api_root().unwrap().as_str(),
            "https://api.bookingtime.com/app/v3/de/"
        );
        let moved = config
            .with_auth_url("https://auth.example/tenant")
            .unwrap()
            .with_api_url("https://api.example/app/v3")
            .unwrap()
            .with_locale("en")
            .unwrap();
        assert_eq!(
            moved.token_url().unwrap().as_str(),
            "https://auth.example/tenant/oauth/token"
        );
        assert_eq!(
            moved.api_root().unwrap().as_str(),
            "https://api.example/app/v3/en/"
        );
        assert!(!format!("{moved:?}").contains("s3cret"));
        assert!(BookingtimeConfig::module("").is_err());
        assert!(BookingtimeConfig::module("mod").unwrap().is_module());
    }
}
