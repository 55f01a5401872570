//! [`BynderConfig`]: the portal, the consumer ([`ConsumerKey`] and secret) and,
//! optionally, a permanent token.

use std::fmt;

use auth_core::SecretString;
use auth_oauth1::{Consumer, TokenCredentials};
use url::Url;

use crate::Error;

/// A consumer key, made with its secret in the portal's `/pysettings` page ("API
/// tokens", "Create new consumer"). A type of its own so that it cannot be passed
/// where the portal URL goes.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsumerKey(String);

impl ConsumerKey {
    /// Wraps the key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ConsumerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsumerKey({})", self.0)
    }
}

/// One Bynder portal and the consumer made in its `/pysettings` page.
///
/// Bynder has no one API URL: every customer has a portal of their own
/// (`company.bynder.com`, the guide's example), so the portal is a required argument
/// of [`new`](Self::new), not an override with a default.
#[derive(Clone)]
pub struct BynderConfig {
    pub(crate) portal: Url,
    pub(crate) consumer: Consumer,
    pub(crate) permanent: Option<TokenCredentials>,
}

impl fmt::Debug for BynderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BynderConfig")
            .field("portal", &self.portal.as_str())
            .field("consumer", &self.consumer)
            .field("permanent", &self.permanent)
            .finish()
    }
}

impl BynderConfig {
    /// A portal (`company.bynder.com`, or a URL such as `https://company.bynder.com`)
    /// and a consumer key and secret.
    ///
    /// A bare domain means HTTPS. The URL may not carry a path, query, fragment or
    /// user information: every endpoint hangs off the portal's root.
    pub fn new(
        portal_url: &str,
        consumer_key: ConsumerKey,
        consumer_secret: SecretString,
    ) -> Result<Self, Error> {
        if consumer_key.0.is_empty() {
            return Err(Error::Config("the consumer key is empty".into()));
        }
        Ok(Self {
            portal: parse_portal(portal_url)?,
            consumer: Consumer::new(consumer_key.0, consumer_secret),
            permanent: None,
        })
    }

    /// A permanent token made by an administrator in the portal (it never expires).
    pub fn with_permanent_token(
        mut self,
        token: impl Into<String>,
        secret: SecretString,
    ) -> Result<Self, Error> {
        let token = token.into();
        if token.is_empty() {
            return Err(Error::Config("the permanent token is empty".into()));
        }
        self.permanent = Some(TokenCredentials::new(token, secret));
        Ok(self)
    }

    /// The portal's root URL.
    pub fn portal(&self) -> &Url {
        &self.portal
    }

    /// The consumer key.
    pub fn consumer_key(&self) -> &str {
        self.consumer.key()
    }

    /// A URL on the portal, for example `api_url("api/v4/media/")` (the guide names no
    /// API endpoint beyond the handshake; the path is the caller's).
    pub fn api_url(&self, path: &str) -> Result<Url, Error> {
        self.portal
            .join(path.trim_start_matches('/'))
            .map_err(|_| Error::Config(format!("{path:?} is not a path on the portal")))
    }
}

fn parse_portal(portal: &str) -> Result<Url, Error> {
    let portal = portal.trim();
    let text = if portal.contains("://") {
        portal.to_owned()
    } else {
        format!("https://{portal}")
    };
    let url = Url::parse(&text)
        .map_err(|_| Error::Config(format!("{portal:?} is not a domain or a URL")))?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config(format!(
            "{portal:?} is not an http(s) portal"
        )));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "{portal:?}: give the portal's root, without a path or query"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(
            "the portal URL may not carry credentials".into(),
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(portal: &str) -> Result<BynderConfig, Error> {
        BynderConfig::new(
            portal,
            ConsumerKey::new("key"),
            SecretString::from("secret"),
        )
    }

    #[test]
    fn a_bare_domain_means_https() {
        let c = config("company.bynder.com").map_err(|e| e.to_string());
        assert_eq!(
            c.map(|c| c.portal().as_str().to_owned()),
            Ok("https://company.bynder.com/".to_owned())
        );
    }

    #[test]
    fn portals_with_paths_queries_or_credentials_are_refused() {
        for bad in [
            "https://company.bynder.com/api/v4",
            "https://company.bynder.com/?x=1",
            "https://user:pw@company.bynder.com",
            "ftp://company.bynder.com",
            "",
            "https://",
        ] {
            assert!(
                matches!(config(bad), Err(Error::Config(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn api_urls_hang_off_the_root() {
        let c = config("https://company.bynder.com/").map_err(|e| e.to_string());
        let url = c.and_then(|c| c.api_url("/api/v4/media/").map_err(|e| e.to_string()));
        assert_eq!(
            url.map(String::from),
            Ok("https://company.bynder.com/api/v4/media/".to_owned())
        );
    }

    #[test]
    fn debug_hides_the_secrets() {
        let c = config("company.bynder.com")
            .and_then(|c| c.with_permanent_token("tok", SecretString::from("tok-secret")))
            .map_err(|e| e.to_string());
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("tok-secret") && !shown.contains("\"secret\""),
            "{shown}"
        );
    }
}
