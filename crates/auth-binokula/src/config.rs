//! [`BinokulaConfig`], its secrets ([`ClientSecret`], [`FunctionKey`]) and [`Email`].

use std::fmt;
use std::hash::{Hash, Hasher};

use auth_core::SecretString;
use auth_core::http::base_url;
use url::Url;

use crate::Error;

/// The API's production base URL, from the developer guide
/// (`https://api.binokula.app/api/Token`, `/api/User`, `/api/UserStatus`; lines 32,
/// 83, 106, 129 of `vendor-docs/000_027729303c54bc9d.txt`).
pub const DEFAULT_API_URL: &str = "https://api.binokula.app/";
/// The app's production base URL, from the developer guide
/// (`https://binokula.app/Account/ExternalAccess`, line 58).
pub const DEFAULT_APP_URL: &str = "https://binokula.app/";

/// The tenant's client secret, sent in the `client_secret` header (the guide's
/// "Client Secret", shown to an admin under Portal settings). Redacted in `Debug`.
#[derive(Clone)]
pub struct ClientSecret(pub(crate) SecretString);

impl ClientSecret {
    /// Wraps the secret.
    pub fn new(secret: impl Into<SecretString>) -> Self {
        Self(secret.into())
    }
}

impl From<SecretString> for ClientSecret {
    fn from(secret: SecretString) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([REDACTED])")
    }
}

/// The function key, sent as the `code` query parameter ("a function key provided to
/// the customer to access this endpoint"). Redacted in `Debug`.
#[derive(Clone)]
pub struct FunctionKey(pub(crate) SecretString);

impl FunctionKey {
    /// Wraps the key.
    pub fn new(key: impl Into<SecretString>) -> Self {
        Self(key.into())
    }
}

impl From<SecretString> for FunctionKey {
    fn from(key: SecretString) -> Self {
        Self(key)
    }
}

impl fmt::Debug for FunctionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FunctionKey([REDACTED])")
    }
}

/// A user's email address, checked for the one thing every address has (`@` with text
/// on both sides) and compared by its [`key`](Self::key): ASCII case-insensitively,
/// with every other character kept as it is.
///
/// The guide never says how Binokula compares addresses; this is the crate's choice
/// (README, "Where the document is silent"): a cache split between two spellings of
/// one user would have each spelling's token revoke the other's ("Only one user token
/// can be active at any given time", line 24), while sharing one token between two
/// spellings fails closed on a server that tells them apart. The address is always
/// sent as given.
#[derive(Clone)]
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

    /// The key of a user: the address as given with only ASCII letters lower-cased
    /// (`to_ascii_lowercase`); every non-ASCII character is kept as it is.
    ///
    /// Not Unicode lower-casing or case folding: those merge distinct mailboxes, such
    /// as `\u{212A}im@corp.com` (KELVIN SIGN) and `kim@corp.com`, which would then share
    /// one cached token and one SSO URL.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }

    /// Whether `address` (as the server spelled it) is this address, under the same
    /// rule as [`key`](Self::key).
    pub(crate) fn is(&self, address: &str) -> bool {
        self.0.eq_ignore_ascii_case(address)
    }
}

impl PartialEq for Email {
    fn eq(&self, other: &Self) -> bool {
        self.is(&other.0)
    }
}

impl Eq for Email {}

impl Hash for Email {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
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
    pub(crate) client_secret: ClientSecret,
    pub(crate) function_key: FunctionKey,
    pub(crate) api_url: Url,
    pub(crate) app_url: Url,
}

impl fmt::Debug for BinokulaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BinokulaConfig")
            .field("tenant", &self.tenant)
            .field("client_secret", &self.client_secret)
            .field("function_key", &self.function_key)
            .field("api_url", &self.api_url.as_str())
            .field("app_url", &self.app_url.as_str())
            .finish()
    }
}

impl BinokulaConfig {
    /// A configuration for `tenant` with its client secret and function key, against
    /// the production URLs ([`DEFAULT_API_URL`], [`DEFAULT_APP_URL`]).
    pub fn new(
        tenant: &str,
        client_secret: ClientSecret,
        function_key: FunctionKey,
    ) -> Result<Self, Error> {
        if tenant.trim().is_empty() {
            return Err(Error::Config("the tenant must not be empty".into()));
        }
        Ok(Self {
            tenant: tenant.trim().to_owned(),
            client_secret,
            function_key,
            api_url: base_url(DEFAULT_API_URL)?,
            app_url: base_url(DEFAULT_APP_URL)?,
        })
    }

    /// Overrides the API base URL (default [`DEFAULT_API_URL`]; tests, regions).
    /// HTTPS, or plain HTTP to a loopback address.
    pub fn with_api_url(mut self, url: &str) -> Result<Self, Error> {
        self.api_url = base_url(url)?;
        Ok(self)
    }

    /// Overrides the app base URL, where `/Account/ExternalAccess` lives (default
    /// [`DEFAULT_APP_URL`]).
    pub fn with_app_url(mut self, url: &str) -> Result<Self, Error> {
        self.app_url = base_url(url)?;
        Ok(self)
    }

    /// The tenant.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The API base URL.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// The app base URL.
    pub fn app_url(&self) -> &Url {
        &self.app_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    #[test]
    fn the_key_lower_cases_ascii_only() {
        assert_eq!(email("Jo.Smith@Example.COM").key(), "jo.smith@example.com");
        // KELVIN SIGN (U+212A) lower-cases to `k` under Unicode rules; the key keeps it.
        let kelvin = email("\u{212A}im@corp.com");
        assert_eq!(kelvin.key(), "\u{212A}im@corp.com");
        assert_ne!(kelvin.key(), email("kim@corp.com").key());
        assert_ne!(kelvin, email("kim@corp.com"));
        // Other non-ASCII letters are kept too, upper or lower case.
        assert_eq!(email("\u{C9}mile@Corp.com").key(), "\u{C9}mile@corp.com");
        assert_ne!(email("\u{C9}mile@corp.com"), email("\u{E9}mile@corp.com"));
        assert_eq!(email("KIM@corp.com"), email("kim@CORP.com"));
        assert!(kelvin.is("\u{212A}IM@CORP.COM"));
        assert!(!kelvin.is("kim@corp.com"));
    }
}
