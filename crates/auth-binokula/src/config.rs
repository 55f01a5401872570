//! [`BinokulaConfig`] and [`Email`].

use std::fmt;

use auth_core::SecretString;
use url::Url;

use crate::Error;

/// The API's production base URL.
pub const DEFAULT_API_BASE: &str = "https://api.binokula.app/";
/// The app's production base URL (`/Account/ExternalAccess` lives there).
pub const DEFAULT_APP_BASE: &str = "https://binokula.app/";

/// A user's email address, checked for the one thing every address has (`@` with text
/// on both sides) and compared case-insensitively.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Parses an address.
    pub fn parse(address: &str) -> Result<Self, Error> {
        let address = address.trim();
        match address.split_once('@') {
            Some((local, domain))
                if !local.is_empty()
                    && !domain.is_empty()
                    && !address.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Ok(Self(address.to_owned()))
            }
            _ => Err(Error::InvalidEmail),
        }
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address lower-cased: the key of a user.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tenant's Binokula settings.
#[derive(Clone)]
pub struct BinokulaConfig {
    pub(crate) tenant: String,
    pub(crate) client_secret: SecretString,
    pub(crate) code: SecretString,
    pub(crate) api_base: Url,
    pub(crate) app_base: Url,
}

impl fmt::Debug for BinokulaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinokulaConfig")
            .field("tenant", &self.tenant)
            .field("client_secret", &"[REDACTED]")
            .field("code", &"[REDACTED]")
            .field("api_base", &self.api_base.as_str())
            .field("app_base", &self.app_base.as_str())
            .finish()
    }
}

impl BinokulaConfig {
    /// A configuration for `tenant` with its client secret and function key, against
    /// the production URLs.
    pub fn new(
        tenant: &str,
        client_secret: SecretString,
        code: SecretString,
    ) -> Result<Self, Error> {
        if tenant.trim().is_empty() {
            return Err(Error::Config("the tenant must not be empty".into()));
        }
        Ok(Self {
            tenant: tenant.trim().to_owned(),
            client_secret,
            code,
            api_base: parse_base(DEFAULT_API_BASE)?,
            app_base: parse_base(DEFAULT_APP_BASE)?,
        })
    }

    /// Overrides the API base URL (tests, regions).
    pub fn with_api_base(mut self, base: &str) -> Result<Self, Error> {
        self.api_base = parse_base(base)?;
        Ok(self)
    }

    /// Overrides the app base URL.
    pub fn with_app_base(mut self, base: &str) -> Result<Self, Error> {
        self.app_base = parse_base(base)?;
        Ok(self)
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
}

fn parse_base(base: &str) -> Result<Url, Error> {
    let mut url = Url::parse(base).map_err(|e| Error::Config(format!("invalid base URL: {e}")))?;
    auth_core::http::ensure_secure_url(&url, true)?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}
