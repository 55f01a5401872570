//! [`BeProductConfig`]: the client, its scopes, the two bases and the plan.

use std::fmt;
use std::sync::Arc;

use auth_core::{QuotaStore, SecretString};
use url::Url;

use crate::{Error, Plan};

/// Production identity server (the issuer).
pub const DEFAULT_IDENTITY_BASE: &str = "https://id.winks.io/ids";
/// Production REST base.
pub const DEFAULT_API_BASE: &str = "https://developers.beproduct.com/api/v1/";
/// The scopes the documentation requests.
pub const DEFAULT_SCOPES: &str = "openid email roles beproductDeveloper";

/// A BeProduct client's settings.
#[derive(Clone)]
pub struct BeProductConfig {
    pub(crate) client_id: String,
    pub(crate) client_secret: SecretString,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: String,
    pub(crate) identity_base: String,
    pub(crate) api_base: String,
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
            .field("identity_base", &self.identity_base)
            .field("api_base", &self.api_base)
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
    /// and the organization's plan (which sets the daily request limit).
    pub fn new(
        client_id: impl Into<String>,
        client_secret: SecretString,
        redirect_uri: &str,
        plan: Plan,
    ) -> Result<Self, Error> {
        let client_id = client_id.into();
        if client_id.is_empty() {
            return Err(Error::Config("the client ID is empty".into()));
        }
        checked(redirect_uri)?;
        Ok(Self {
            client_id,
            client_secret,
            redirect_uri: redirect_uri.to_owned(),
            scopes: DEFAULT_SCOPES.into(),
            identity_base: DEFAULT_IDENTITY_BASE.into(),
            api_base: DEFAULT_API_BASE.into(),
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

    /// Another identity server (the issuer; its discovery document is read from
    /// `{base}/.well-known/openid-configuration`).
    pub fn with_identity_base(mut self, base: &str) -> Result<Self, Error> {
        self.identity_base = checked(base)?.as_str().trim_end_matches('/').to_owned();
        Ok(self)
    }

    /// Another REST base.
    pub fn with_api_base(mut self, base: &str) -> Result<Self, Error> {
        let mut url = checked(base)?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        self.api_base = url.into();
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

    /// The daily limit in effect: the override, else the plan's.
    pub fn daily_limit(&self) -> u32 {
        self.daily_limit.unwrap_or_else(|| self.plan.daily_limit())
    }

    pub(crate) fn api_url(&self) -> Result<Url, Error> {
        checked(&self.api_base)
    }
}
