//! [`BeProductConfig`]: the organization, the client, its scopes, the identity
//! server's endpoints, the REST base and the plan.

use std::fmt;
use std::sync::Arc;

use auth_core::{QuotaStore, SecretString};
use auth_oauth2::ClientAuth;
use url::Url;

use crate::{Error, Plan, QuotaReading};

/// The production identity server, `OpenID & OAuth2 Services https://id.winks.io/ids`
/// in the document's table of base URLs (l. 108).
pub const DEFAULT_IDENTITY_URL: &str = "https://id.winks.io/ids";
/// The production REST base, `REST Services https://*developers.beproduct.com/api/v1`
/// in the document's table (l. 109; the `*` is page furniture).
pub const DEFAULT_API_URL: &str = "https://developers.beproduct.com/api/v1/";
/// The scopes of the document's authorization example (l. 56).
pub const DEFAULT_SCOPES: &str = "openid email roles beproductDeveloper";
/// The scope IdentityServer issues refresh tokens for. The document never names it
/// (nor refresh tokens): see [`BeProductConfig::with_offline_access`].
pub const OFFLINE_ACCESS: &str = "offline_access";

/// The authorization endpoint as the document prints it:
/// `GET https://id.winks.io/ids/connect/authorize?...` (l. 56).
pub const DOCUMENTED_AUTHORIZE_URL: &str = "https://id.winks.io/ids/connect/authorize";
/// The token endpoint as the document prints it:
/// `POST https://id.winks.io/ids/connect/token` (l. 62).
pub const DOCUMENTED_TOKEN_URL: &str = "https://id.winks.io/ids/connect/token";
/// The userinfo endpoint as the document prints it:
/// `GET https://id.winks.io/ids/connect/userinfo` (l. 73).
pub const DOCUMENTED_USERINFO_URL: &str = "https://id.winks.io/ids/connect/userinfo";
/// The logout endpoint exactly as the document prints it (l. 98), with its doubled
/// slash. Not the default: see [`DEFAULT_END_SESSION_URL`].
pub const DOCUMENTED_END_SESSION_URL: &str = "https://id.winks.io/ids//connect/endsession";
/// The logout endpoint the client uses by default: the document's (l. 98) with the
/// doubled slash made single, as in the other three endpoints (l. 56, 62, 73) and the
/// base URL of l. 108. The doubled slash is what joining `https://id.winks.io/ids/`
/// and `/connect/endsession` prints; a server that collapses slashes answers both
/// spellings, one routed as the other three answers only this one. Set the
/// document's spelling with [`BeProductConfig::with_end_session_url`]
/// ([`DOCUMENTED_END_SESSION_URL`]); it is then sent verbatim.
pub const DEFAULT_END_SESSION_URL: &str = "https://id.winks.io/ids/connect/endsession";

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

/// The caller's name for the BeProduct organization whose daily quota the client
/// counts ("request/day/organization", l. 117-118). Nothing in the document
/// identifies an organization (no endpoint, claim or parameter names one), so this
/// is the caller's label and is never sent: every client of one organization, in any
/// process and under any client ID, must be given the same one, and the shared quota
/// store counts under `beproduct:{organization}:daily`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganizationId(String);

impl OrganizationId {
    /// An organization's label; an empty one is refused.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        if id.trim().is_empty() {
            return Err(Error::Config("the organization ID is empty".into()));
        }
        Ok(Self(id))
    }

    /// The label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrganizationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A BeProduct client's settings.
#[derive(Clone)]
pub struct BeProductConfig {
    pub(crate) organization: OrganizationId,
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: SecretString,
    pub(crate) redirect_uri: String,
    pub(crate) scopes: String,
    pub(crate) identity_url: String,
    pub(crate) issuer: Option<String>,
    pub(crate) authorize_url: Option<Url>,
    pub(crate) token_url: Option<Url>,
    pub(crate) userinfo_url: Option<Url>,
    pub(crate) end_session_url: Option<Url>,
    pub(crate) jwks_url: Option<Url>,
    pub(crate) discovery: bool,
    pub(crate) client_auth: ClientAuth,
    pub(crate) api_url: Url,
    pub(crate) plan: Plan,
    pub(crate) reading: QuotaReading,
    pub(crate) daily_limit: Option<u32>,
    pub(crate) warning_limit: Option<Option<u32>>,
    pub(crate) day_offset_seconds: i32,
    pub(crate) token_in_query: bool,
    pub(crate) quota_store: Option<Arc<dyn QuotaStore>>,
}

impl fmt::Debug for BeProductConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeProductConfig")
            .field("organization", &self.organization)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[REDACTED]")
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("identity_url", &self.identity_url)
            .field("issuer", &self.issuer())
            .field("discovery", &self.discovery)
            .field("client_auth", &self.client_auth)
            .field("api_url", &self.api_url.as_str())
            .field("plan", &self.plan)
            .field("reading", &self.reading)
            .field("daily_limit", &self.daily_limit())
            .field("warning_limit", &self.warning_limit())
            .field("day_offset_seconds", &self.day_offset_seconds)
            .field("token_in_query", &self.token_in_query)
            .field("quota_store", &self.quota_store)
            .finish_non_exhaustive()
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

fn below(base: &str, path: &str) -> Result<Url, Error> {
    checked(&format!("{base}{path}"))
}

impl BeProductConfig {
    /// The organization (the quota's; see [`OrganizationId`]), the client ID and
    /// secret BeProduct gave, the redirect URI registered for it, and the
    /// organization's plan (which sets the daily request limit). The identity
    /// server's endpoints and the REST base are the document's
    /// ([`DOCUMENTED_AUTHORIZE_URL`], [`DOCUMENTED_TOKEN_URL`],
    /// [`DOCUMENTED_USERINFO_URL`], [`DEFAULT_END_SESSION_URL`], [`DEFAULT_API_URL`])
    /// unless moved.
    pub fn new(
        organization: OrganizationId,
        client_id: ClientId,
        client_secret: SecretString,
        redirect_uri: &str,
        plan: Plan,
    ) -> Result<Self, Error> {
        checked(redirect_uri)?;
        Ok(Self {
            organization,
            client_id,
            client_secret,
            redirect_uri: redirect_uri.to_owned(),
            scopes: DEFAULT_SCOPES.into(),
            identity_url: DEFAULT_IDENTITY_URL.into(),
            issuer: None,
            authorize_url: None,
            token_url: None,
            userinfo_url: None,
            end_session_url: None,
            jwks_url: None,
            discovery: false,
            client_auth: ClientAuth::Basic,
            api_url: checked(DEFAULT_API_URL)?,
            plan,
            reading: QuotaReading::default(),
            daily_limit: None,
            warning_limit: None,
            day_offset_seconds: 0,
            token_in_query: false,
            quota_store: None,
        })
    }

    /// Other scopes (`openid` is added if missing). The default is the document's
    /// example, [`DEFAULT_SCOPES`].
    #[must_use]
    pub fn with_scopes(mut self, scopes: &str) -> Self {
        self.scopes = scopes.to_owned();
        self
    }

    /// Adds the [`OFFLINE_ACCESS`] scope, so that the code exchange brings a refresh
    /// token and the session outlives its first access token. IdentityServer, which
    /// the document's endpoints and logout text (l. 97) name, issues refresh tokens
    /// only for this scope; without it a session ends with its first access token
    /// ([`Error::SignInRequired`](crate::Error::SignInRequired)). Not a default: the
    /// document does not list it (l. 56), and a client not allowed the scope would
    /// have every sign-in refused.
    #[must_use]
    pub fn with_offline_access(mut self) -> Self {
        if !self.scopes.split(' ').any(|s| s == OFFLINE_ACCESS) {
            self.scopes = format!("{} {OFFLINE_ACCESS}", self.scopes.trim());
        }
        self
    }

    /// Another identity server (default [`DEFAULT_IDENTITY_URL`]): its endpoints
    /// become `{url}/connect/authorize`, `/connect/token`, `/connect/userinfo` and
    /// `/connect/endsession` (those set by hand stay), and its URL the expected issuer
    /// unless [`with_issuer`](Self::with_issuer) says otherwise.
    pub fn with_identity_url(mut self, url: &str) -> Result<Self, Error> {
        self.identity_url = checked(url)?.as_str().trim_end_matches('/').to_owned();
        Ok(self)
    }

    /// The authorization endpoint, by hand.
    pub fn with_authorize_url(mut self, url: &str) -> Result<Self, Error> {
        self.authorize_url = Some(checked(url)?);
        Ok(self)
    }

    /// The token endpoint, by hand.
    pub fn with_token_url(mut self, url: &str) -> Result<Self, Error> {
        self.token_url = Some(checked(url)?);
        Ok(self)
    }

    /// The userinfo endpoint, by hand.
    pub fn with_userinfo_url(mut self, url: &str) -> Result<Self, Error> {
        self.userinfo_url = Some(checked(url)?);
        Ok(self)
    }

    /// The logout endpoint, by hand, sent as given (the document's own spelling,
    /// [`DOCUMENTED_END_SESSION_URL`], keeps its doubled slash).
    pub fn with_end_session_url(mut self, url: &str) -> Result<Self, Error> {
        self.end_session_url = Some(checked(url)?);
        Ok(self)
    }

    /// Where the identity server's signing keys (a JWKS) are, to validate ID tokens
    /// with. The document does not say; without this, the keys' location is read once
    /// from the `jwks_uri` of `{identity_url}/.well-known/openid-configuration`
    /// (OpenID Connect Discovery), on the first ID token.
    pub fn with_jwks_url(mut self, url: &str) -> Result<Self, Error> {
        self.jwks_url = Some(checked(url)?);
        Ok(self)
    }

    /// The `iss` ID tokens must carry, when it is not the identity URL. IdentityServer
    /// lets its operator choose an issuer name; the document does not give one.
    #[must_use]
    pub fn with_issuer(mut self, issuer: &str) -> Self {
        self.issuer = Some(issuer.trim_end_matches('/').to_owned());
        self
    }

    /// Takes every endpoint from the identity server's discovery document
    /// (`{identity_url}/.well-known/openid-configuration`), read once on the first
    /// sign-in step, instead of the document's fixed URLs; the discovery document's
    /// `issuer` must then equal the expected issuer (OpenID Connect Discovery §4.3):
    /// the identity URL, or [`with_issuer`](Self::with_issuer)'s.
    #[must_use]
    pub fn with_discovery(mut self) -> Self {
        self.discovery = true;
        self
    }

    /// How the client authenticates at the token endpoint (default HTTP Basic,
    /// [`ClientAuth::Basic`]; [`ClientAuth::FormBody`] puts `client_id` and
    /// `client_secret` in the form). The document's token example shows
    /// `Authorization: Bearer <access_token>` (l. 63), which no client has before its
    /// first token, so it cannot be what the code exchange sends: Basic is what RFC
    /// 6749 §2.3.1 requires servers to accept, and IdentityServer accepts both.
    #[must_use]
    pub fn with_client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// Another REST base (default [`DEFAULT_API_URL`]); the paths of REST calls are
    /// below it.
    pub fn with_api_url(mut self, url: &str) -> Result<Self, Error> {
        self.api_url = auth_core::http::base_url(url)?;
        Ok(self)
    }

    /// Which reading of the document's daily limit the client refuses at (default
    /// [`QuotaReading::Looser`]: the example's; see [`Plan::limit`]).
    #[must_use]
    pub fn with_quota_reading(mut self, reading: QuotaReading) -> Self {
        self.reading = reading;
        self
    }

    /// A daily limit of the caller's choosing, instead of the plan's (an agreement
    /// with BeProduct for more, or a share of the limit for one of several apps).
    #[must_use]
    pub fn with_daily_limit(mut self, limit: u32) -> Self {
        self.daily_limit = Some(limit);
        self
    }

    /// Where the warning is logged (`tracing`, once a day when the count passes it):
    /// `Some(n)`, or `None` for no warning. Default: the stricter reading of the
    /// plan's limit, when it is below the limit refused at.
    #[must_use]
    pub fn with_warning_limit(mut self, limit: Option<u32>) -> Self {
        self.warning_limit = Some(limit);
        self
    }

    /// Where the quota's day begins: midnight at this offset from UTC, in seconds
    /// (`0`, UTC, by default, as the document does not say; `-5 * 3600` for New York
    /// in winter).
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
    /// `beproduct:{organization}:daily`: every client of the organization shares the
    /// count, whatever its client ID. Without it each process counts alone, and a
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
    /// `Authorization` header. The document allows either (l. 11); URLs end up in
    /// logs, so it is off unless asked for.
    #[must_use]
    pub fn with_token_in_query(mut self) -> Self {
        self.token_in_query = true;
        self
    }

    /// The organization whose quota is counted.
    pub fn organization(&self) -> &OrganizationId {
        &self.organization
    }

    /// The client ID.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The identity server's URL.
    pub fn identity_url(&self) -> &str {
        &self.identity_url
    }

    /// The issuer ID tokens must carry.
    pub fn issuer(&self) -> &str {
        self.issuer.as_deref().unwrap_or(&self.identity_url)
    }

    /// Whether the endpoints come from the discovery document.
    pub fn discovers(&self) -> bool {
        self.discovery
    }

    /// The authorization endpoint used without discovery.
    pub fn authorize_url(&self) -> Result<Url, Error> {
        self.or_below(self.authorize_url.as_ref(), "/connect/authorize")
    }

    /// The token endpoint used without discovery.
    pub fn token_url(&self) -> Result<Url, Error> {
        self.or_below(self.token_url.as_ref(), "/connect/token")
    }

    /// The userinfo endpoint used without discovery.
    pub fn userinfo_url(&self) -> Result<Url, Error> {
        self.or_below(self.userinfo_url.as_ref(), "/connect/userinfo")
    }

    /// The logout endpoint used without discovery.
    pub fn end_session_url(&self) -> Result<Url, Error> {
        self.or_below(self.end_session_url.as_ref(), "/connect/endsession")
    }

    /// The JWKS set by hand, if any.
    pub fn jwks_url(&self) -> Option<&Url> {
        self.jwks_url.as_ref()
    }

    fn or_below(&self, set: Option<&Url>, path: &str) -> Result<Url, Error> {
        match set {
            Some(url) => Ok(url.clone()),
            None => below(&self.identity_url, path),
        }
    }

    /// The REST base.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// The daily limit refused at: the override, else the plan's under the reading.
    pub fn daily_limit(&self) -> u32 {
        self.daily_limit
            .unwrap_or_else(|| self.plan.limit(self.reading))
    }

    /// Where the warning is logged, if anywhere (only below the limit refused at).
    pub fn warning_limit(&self) -> Option<u32> {
        self.warning_limit
            .unwrap_or(Some(self.plan.warning_limit()))
            .filter(|w| *w < self.daily_limit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> BeProductConfig {
        BeProductConfig::new(
            OrganizationId::new("acme").unwrap(),
            ClientId::new("client1").unwrap(),
            SecretString::from("s"),
            "https://myapp.example/callback",
            Plan::business(1),
        )
        .unwrap()
    }

    #[test]
    fn the_documents_endpoints_are_the_defaults_and_each_can_be_set_by_hand() {
        let config = config();
        assert_eq!(config.identity_url(), "https://id.winks.io/ids");
        assert_eq!(config.issuer(), "https://id.winks.io/ids");
        assert!(
            !config.discovers(),
            "the document's fixed URLs, no discovery"
        );
        assert_eq!(
            config.authorize_url().unwrap().as_str(),
            DOCUMENTED_AUTHORIZE_URL
        );
        assert_eq!(config.token_url().unwrap().as_str(), DOCUMENTED_TOKEN_URL);
        assert_eq!(
            config.userinfo_url().unwrap().as_str(),
            DOCUMENTED_USERINFO_URL
        );
        assert_eq!(
            config.end_session_url().unwrap().as_str(),
            DEFAULT_END_SESSION_URL
        );
        assert_eq!(
            config.api_url().as_str(),
            "https://developers.beproduct.com/api/v1/"
        );
        assert_eq!(config.client_auth, ClientAuth::Basic);

        // The document's spelling of the logout endpoint is kept verbatim when set.
        let verbatim = config
            .clone()
            .with_end_session_url(DOCUMENTED_END_SESSION_URL)
            .unwrap();
        assert_eq!(
            verbatim.end_session_url().unwrap().as_str(),
            "https://id.winks.io/ids//connect/endsession"
        );

        let moved = config
            .with_identity_url("http://127.0.0.1:1/ids/")
            .unwrap()
            .with_token_url("http://127.0.0.1:3/token")
            .unwrap()
            .with_jwks_url("http://127.0.0.1:1/keys")
            .unwrap()
            .with_issuer("urn:beproduct")
            .with_api_url("http://127.0.0.1:2/api/v1")
            .unwrap();
        assert_eq!(moved.identity_url(), "http://127.0.0.1:1/ids");
        assert_eq!(
            moved.authorize_url().unwrap().as_str(),
            "http://127.0.0.1:1/ids/connect/authorize"
        );
        assert_eq!(
            moved.token_url().unwrap().as_str(),
            "http://127.0.0.1:3/token"
        );
        assert_eq!(
            moved.jwks_url().unwrap().as_str(),
            "http://127.0.0.1:1/keys"
        );
        assert_eq!(moved.issuer(), "urn:beproduct");
        assert_eq!(moved.api_url().as_str(), "http://127.0.0.1:2/api/v1/");
        assert!(ClientId::new(" ").is_err());
        assert!(OrganizationId::new("").is_err());
    }

    #[test]
    fn offline_access_is_offered_not_assumed() {
        assert_eq!(config().scopes, DEFAULT_SCOPES);
        let offline = config().with_offline_access().with_offline_access();
        assert_eq!(
            offline.scopes,
            "openid email roles beproductDeveloper offline_access"
        );
    }

    #[test]
    fn the_quota_refuses_at_the_looser_reading_and_warns_at_the_stricter() {
        let ten = BeProductConfig {
            plan: Plan::business(10),
            ..config()
        };
        assert_eq!(
            (ten.daily_limit(), ten.warning_limit()),
            (2_500, Some(2_000))
        );
        let strict = ten.clone().with_quota_reading(QuotaReading::Stricter);
        assert_eq!(
            (strict.daily_limit(), strict.warning_limit()),
            (2_000, None)
        );
        let quiet = ten.with_warning_limit(None);
        assert_eq!(quiet.warning_limit(), None);
    }
}
