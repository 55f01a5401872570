//! [`BookingtimeConfig`]: the app's credentials and where the servers are.

use std::fmt;

use auth_core::SecretString;
use url::Url;

use crate::Error;

/// Production authorization server.
pub const DEFAULT_AUTH_BASE: &str = "https://auth.bookingtime.com/";
/// Production App API (a locale segment follows, see [`BookingtimeConfig::with_locale`]).
pub const DEFAULT_API_BASE: &str = "https://api.bookingtime.com/app/v3/";
/// The locale segment used unless another is set.
pub const DEFAULT_LOCALE: &str = "de";

/// An app's (or module's) settings.
#[derive(Clone)]
pub struct BookingtimeConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<SecretString>,
    pub(crate) auth_base: String,
    pub(crate) api_base: String,
    pub(crate) locale: String,
}

impl fmt::Debug for BookingtimeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BookingtimeConfig")
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("auth_base", &self.auth_base)
            .field("api_base", &self.api_base)
            .field("locale", &self.locale)
            .finish()
    }
}

/// `text` as a base URL: parsed, without query or fragment, ending in `/`.
pub(crate) fn base(text: &str) -> Result<Url, Error> {
    let mut url = Url::parse(text).map_err(|_| Error::Config(format!("{text:?} is not a URL")))?;
    if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "{text:?} cannot be a base URL (no query or fragment)"
        )));
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl BookingtimeConfig {
    /// An App API client: the client ID and secret of an app made in the developer
    /// service.
    pub fn app(client_id: impl Into<String>, client_secret: SecretString) -> Self {
        Self::new(client_id.into(), Some(client_secret))
    }

    /// A Module API client: the client ID alone (the secret "must be omitted or
    /// empty").
    pub fn module(client_id: impl Into<String>) -> Self {
        Self::new(client_id.into(), None)
    }

    fn new(client_id: String, client_secret: Option<SecretString>) -> Self {
        Self {
            client_id,
            client_secret,
            auth_base: DEFAULT_AUTH_BASE.into(),
            api_base: DEFAULT_API_BASE.into(),
            locale: DEFAULT_LOCALE.into(),
        }
    }

    /// Another authorization server (`oauth/token` and `oauth/authorize` are joined
    /// to it).
    pub fn with_auth_base(mut self, url: &str) -> Result<Self, Error> {
        self.auth_base = base(url)?.into();
        Ok(self)
    }

    /// Another App API base (the locale and the endpoint paths are joined to it).
    pub fn with_api_base(mut self, url: &str) -> Result<Self, Error> {
        self.api_base = base(url)?.into();
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

    pub(crate) fn auth_url(&self, path: &str) -> Result<Url, Error> {
        base(&self.auth_base)?
            .join(path)
            .map_err(|_| Error::Config(format!("cannot join {path:?} to the auth base")))
    }

    /// `{api_base}{locale}/`.
    pub(crate) fn api_root(&self) -> Result<Url, Error> {
        base(&self.api_base)?
            .join(&format!("{}/", self.locale))
            .map_err(|_| Error::Config("cannot join the locale to the API base".into()))
    }
}
