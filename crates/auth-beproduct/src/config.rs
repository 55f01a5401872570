//! [`BeProductConfig`]: the client, its scopes, the two base URLs and the plan.

use std::fmt;
use std::sync::Arc;

use auth_core::{QuotaStore, SecretString};
use url::Url;

use crate::{Error, Plan};

/// The production identity server, "OpenID & OAuth2 Services" in the documentation's
/// table of base URLs: the issuer, whose `connect/authorize`, `connect/token`,
/// `connect/userinfo` and `connect/endsession` the documentation lists.
pub const DEFAULT_IDENTITY_URL: &str = "https://id.winks.io/ids";
/// The production REST base, "REST Services" in the documentation's table of base
/// URLs (printed there as `https://*developers.beproduct.com/api/v1`; the `*` is
/// page furniture).
pub const DEFAULT_API_URL: &str = "https://developers.beproduct.com/api/v1/";
/// The scopes the documentation requests.
pub const DEFAULT_SCOPES: &str = "openid email roles beproductDeveloper";

/// The client ID BeProduct assigned to a registered app (not its secret, not the
/// redirect URI: a type of its own so that the three cannot be swapped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// A client ID; an empty one is refused.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(Error::Config("the client ID is empty".into()));
        }
        Ok(Self(id))
    }

    /// The ID as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A BeProduct client's settings.
#[derive(Clone)]
pub struct BeProductConfig {
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: SecretString,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: String,
    pub(crate) identity_url: String,
    pub(crate) api_url: Url,
    pub(crate) plan: Plan,
    pub(crate) daily_limit: Option<u32>,
    pub(crate) day_offset_seconds: i32,
    pub(crate) token_in_query: bool,
    pub(crate) quota_store: Option<Arc<dyn QuotaStore>>,
}

impl fmt::Debug for BeProductConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeProductConfig")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("identity_url", &self.identity_url)
            .field("api_url", &self.api_url.as_str())
            .field("plan", &self.plan)
            .field("daily_limit", &self.daily_limit)
            .field("day_offset_seconds", &self.day_offset_seconds)
            .field("token_in_query", &self.token_in_query)
            .field("quota_store", &self.quota_store)
            .finish()
    }
}

fn checked(text: &str) -> Result<Url, Error> {
    let url = Url::parse(text).map_err(|_| Error::Config(format!("{text:?} is not a URL")))?;
    if url.cannot_be_a_base() || url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "{text:?} cannot be a base URL (no query or fragment)"
        )));
    }
    Ok(url)
}

impl BeProductConfig {
    /// The client ID and secret BeProduct gave, the redirect URI registered for it,
    /// and the organization's plan (which sets the daily request limit). The identity
    /// server and the REST base are BeProduct's own ([`DEFAULT_IDENTITY_URL`],
    /// [`DEFAULT_API_URL`]) unless set with [`with_identity_url`](Self::with_identity_url)
    /// and [`with_api_url`](Self::with_api_url).
    pub fn new(
        client_id: ClientId,
        client_secret: SecretString,
        redirect_uri: &str,
        plan: Plan,
    ) -> Result<Self, Error> {
        checked(redirect_uri)?;
        Ok(Self {
            client_id,
            client_secret,
            redirect_uri: redirect_uri.to_owned(),
            scopes: DEFAULT_SCOPES.into(),
            identity_url: DEFAULT_IDENTITY_URL.into(),
            api_url: checked(DEFAULT_API_URL)?,
            plan,
            daily_limit: None,
            day_offset_seconds: 0,
            token_in_query: false,
            quota_store: None,
        })
    }

    /// Other scopes (`openid` is added if missing).
    #[must_use]
    pub fn with_scopes(mut self, scopes: &str) -> Self {
        self.scopes = scopes.to_owned();
        self
    }

    /// Another identity server (default [`DEFAULT_IDENTITY_URL`]): the issuer, whose
    /// discovery document is read from `{url}/.well-known/openid-configuration` on
    /// first use.
    pub fn with_identity_url(mut self, url: &str) -> Result<Self, Error> {
        self.identity_url = checked(url)?.as_str().trim_end_matches('/').to_owned();
        Ok(self)
    }

    /// Another REST base (default [`DEFAULT_API_URL`]); record kinds are paths below it.
    pub fn with_api_url(mut self, url: &str) -> Result<Self, Error> {
        self.api_url = auth_core::http::base_url(url)?;
        Ok(self)
    }

    /// A daily limit of the caller's choosing, instead of the plan's (an agreement
    /// with BeProduct for more, or a share of the limit for one of several apps).
    #[must_use]
    pub fn with_daily_limit(mut self, limit: u32) -> Self {
        self.daily_limit = Some(limit);
        self
    }

    /// Where the quota's day begins: midnight at this offset from UTC, in seconds
    /// (`0`, UTC, by default; `-5 * 3600` for New York in winter).
    pub fn with_day_boundary(mut self, offset_seconds: i32) -> Result<Self, Error> {
        if offset_seconds.unsigned_abs() >= 24 * 3600 {
            return Err(Error::Config(
                "the day boundary must be within a day of UTC".into(),
            ));
        }
        self.day_offset_seconds = offset_seconds;
        Ok(self)
    }

    /// Counts the daily quota in `store`, shared by every process that uses it
    /// (`auth_store_redis::RedisStore` for a fleet), under the key
    /// `beproduct:{client_id}:daily`. Without it each process counts alone, and a
    /// fleet of N processes could send N times the organization's limit.
    ///
    /// When the store fails, requests are counted in this process with a warning
    /// until it answers again.
    #[must_use]
    pub fn with_quota_store(mut self, store: Arc<dyn QuotaStore>) -> Self {
        self.quota_store = Some(store);
        self
    }

    /// Sends the token as the `access_token` query parameter instead of the
    /// `Authorization` header. The documentation allows it; URLs end up in logs, so
    /// it is off unless asked for.
    #[must_use]
    pub fn with_token_in_query(mut self) -> Self {
        self.token_in_query = true;
        self
    }

    /// The client ID.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The identity server (the issuer).
    pub fn identity_url(&self) -> &str {
        &self.identity_url
    }

    /// The REST base.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// The daily limit in effect: the override, else the plan's.
    pub fn daily_limit(&self) -> u32 {
        self.daily_limit.unwrap_or_else(|| self.plan.daily_limit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_urls_are_the_defaults() {
        let config = BeProductConfig::new(
            ClientId::new("client1").unwrap(),
            SecretString::from("s"),
            "https://myapp.example/callback",
            Plan::business(1),
        )
        .unwrap();
        assert_eq!(config.identity_url(), "https://id.winks.io/ids");
        assert_eq!(
            config.api_url().as_str(),
            "https://developers.beproduct.com/api/v1/"
        );
        let moved = config
            .with_identity_url("http://127.0.0.1:1/ids/")
            .unwrap()
            .with_api_url("http://127.0.0.1:2/api/v1")
            .unwrap();
        assert_eq!(moved.identity_url(), "http://127.0.0.1:1/ids");
        assert_eq!(moved.api_url().as_str(), "http://127.0.0.1:2/api/v1/");
        assert!(ClientId::new(" ").is_err());
    }
}
