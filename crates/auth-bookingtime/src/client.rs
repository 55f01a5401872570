//! [`Bookingtime`], the [`Access`] an app or a user has, and the [`Organization`]s it
//! reaches.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use auth_core::http::Repeat;
use auth_core::reqwest::{AuthorizedClient, HttpClient};
use auth_core::{
    AuthRequest, Authorize, CachedToken, CachingProvider, Clock, CredentialProvider, ExposeSecret,
    StoreKey,
};
use auth_oauth2::oidc::{AuthorizationRequest, PendingAuthorization};
use auth_oauth2::{ClientAuth, OAuth2Client};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::de::DeserializeOwned;
use url::Url;

use crate::api::{Customer, NewCustomer, OrganizationInfo};
use crate::tokens::{OrganizationTokens, RefreshTokens, refresh_token_of};
use crate::{BookingtimeConfig, Error};

/// An organization's ID (the "unique token" of the organization).
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

/// A bookingtime client: one app or module, its authorization server and App API.
#[derive(Debug, Clone)]
pub struct Bookingtime {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Authenticates as configured (stage one, code exchange).
    client: OAuth2Client,
    /// Sends the client ID alone (stage two, as documented).
    exchange: OAuth2Client,
    authorize_url: Url,
    api: Api,
    app: Access,
}

/// What every organization handle needs to call the App API.
#[derive(Debug, Clone)]
struct Api {
    http: HttpClient,
    root: Url,
}

impl Bookingtime {
    /// A client with the default HTTP policy.
    pub fn new(config: BookingtimeConfig, clock: Arc<dyn Clock>) -> Result<Self, Error> {
        Self::with_http(config, HttpClient::with_defaults()?, clock)
    }

    /// A client sharing an HTTP client. Refuses plain `http://` URLs that are not on
    /// loopback.
    pub fn with_http(
        config: BookingtimeConfig,
        http: HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        let token_url = config.auth_url("oauth/token")?;
        let authorize_url = config.auth_url("oauth/authorize")?;
        let root = config.api_root()?;
        http.check_url(&root)?;
        http.check_url(&authorize_url)?;
        let mut builder = OAuth2Client::builder(config.client_id.clone(), token_url.as_str())
            .auth(ClientAuth::FormBody)
            .http(http.clone())
            .clock(Arc::clone(&clock));
        if let Some(secret) = &config.client_secret {
            builder = builder.secret(secret.clone());
        }
        let client = builder.build().map_err(Error::from_grant)?;
        // The exchange presents the refresh token that the document gives 30 days and
        // exchanges again for every organization and every 5-minute token (no rotation):
        // sending it again after a 5xx spends nothing.
        let exchange = OAuth2Client::builder(config.client_id.clone(), token_url.as_str())
            .auth(ClientAuth::FormBody)
            .http(http.clone())
            .clock(clock)
            .repeat_refresh(Repeat::Safe)
            .build()
            .map_err(Error::from_grant)?;
        let api = Api { http, root };
        let app = Access::new(
            RefreshTokens::app(client.clone()),
            exchange.clone(),
            api.clone(),
            "app",
        );
        Ok(Self {
            inner: Arc::new(Shared {
                client,
                exchange,
                authorize_url,
                api,
                app,
            }),
        })
    }

    /// App authentication (client_credentials): one refresh token for the app,
    /// shared by every organization.
    pub fn app(&self) -> &Access {
        &self.inner.app
    }

    /// User authentication, step 1: the authorization code request (with `state` and
    /// PKCE) to send the user's browser to.
    pub fn authorization_request(&self, redirect_uri: &str) -> PendingAuthorization {
        AuthorizationRequest::new(
            self.inner.authorize_url.clone(),
            self.inner.client.client_id(),
            redirect_uri,
        )
        .code()
    }

    /// User authentication, step 2: checks the redirect (`state`, errors), exchanges
    /// the code for the user's refresh token and returns the user's access. When that
    /// refresh token ends, calls fail with [`Error::SignInRequired`].
    pub async fn sign_in(
        &self,
        pending: &PendingAuthorization,
        redirect: &Url,
    ) -> Result<Access, Error> {
        let code = pending.code_from(redirect).map_err(Error::OAuth2)?;
        let client = &self.inner.client;
        let response = client
            .exchange_code(
                code.expose_secret(),
                pending.verifier(),
                pending.redirect_uri(),
                &[],
            )
            .await
            .map_err(Error::from_grant)?;
        let first = refresh_token_of(client, &response)?;
        Ok(Access::new(
            RefreshTokens::user(client.clone(), first),
            self.inner.exchange.clone(),
            self.inner.api.clone(),
            "user",
        ))
    }

    /// The OAuth 2.0 client underneath (stage one and the code exchange).
    pub fn oauth2(&self) -> &OAuth2Client {
        &self.inner.client
    }
}

/// An app's or a user's access: one refresh token (stage one), and per organization
/// a cached access token (stage two). Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct Access {
    inner: Arc<AccessShared>,
}

#[derive(Debug)]
struct AccessShared {
    refresh: Arc<CachingProvider<RefreshTokens>>,
    exchange: OAuth2Client,
    api: Api,
    label: &'static str,
    organizations: Mutex<HashMap<OrganizationId, Organization>>,
}

impl Access {
    fn new(source: RefreshTokens, exchange: OAuth2Client, api: Api, label: &'static str) -> Self {
        let refresh = CachingProvider::builder(source)
            .key(StoreKey::new([
                "bookingtime",
                exchange.client_id(),
                label,
                "refresh",
            ]))
            .shared_clock(Arc::clone(exchange.clock()))
            .build();
        Self {
            inner: Arc::new(AccessShared {
                refresh: Arc::new(refresh),
                exchange,
                api,
                label,
                organizations: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// When the current refresh token ends, running stage one first if there is none.
    pub async fn refresh_token_expiry(&self) -> Result<Option<SystemTime>, Error> {
        Ok(self.inner.refresh.token().await?.token().expiry())
    }

    /// The organization `id`: the same handle (and cached token) for every caller.
    pub fn organization(&self, id: &OrganizationId) -> Organization {
        let mut organizations = self
            .inner
            .organizations
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        organizations
            .entry(id.clone())
            .or_insert_with(|| self.new_organization(id))
            .clone()
    }

    fn new_organization(&self, id: &OrganizationId) -> Organization {
        let shared = &self.inner;
        let tokens = CachingProvider::builder(OrganizationTokens::new(
            shared.exchange.clone(),
            Arc::clone(&shared.refresh),
            id.clone(),
        ))
        .key(StoreKey::new([
            "bookingtime",
            shared.exchange.client_id(),
            shared.label,
            id.as_str(),
        ]))
        .shared_clock(Arc::clone(shared.exchange.clock()))
        .build();
        let tokens = Arc::new(tokens);
        Organization {
            id: id.clone(),
            client: AuthorizedClient::new(shared.api.http.clone(), tokens.clone()),
            tokens,
            api: shared.api.clone(),
        }
    }
}

/// One organization through an [`Access`]: a [`CredentialProvider`] of its 5-minute
/// access tokens (renewed before they end) and the App API's typed calls.
#[derive(Debug, Clone)]
pub struct Organization {
    id: OrganizationId,
    tokens: Arc<CachingProvider<OrganizationTokens>>,
    client: AuthorizedClient,
    api: Api,
}

impl Organization {
    /// The organization's ID.
    pub fn id(&self) -> &OrganizationId {
        &self.id
    }

    /// The current access token for this organization, renewed if it is due.
    pub async fn token(&self) -> Result<Arc<CachedToken>, Error> {
        Ok(self.tokens.token().await?)
    }

    /// An authorized HTTP client for other App API endpoints.
    pub fn authorized_client(&self) -> &AuthorizedClient {
        &self.client
    }

    /// The URL of `{locale}/organization/{id}/{action...}` (the ID percent-encoded).
    pub fn url(&self, action: &[&str]) -> Result<Url, Error> {
        let mut url = self.api.root.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("the API base cannot take a path".into()))?
            .pop_if_empty()
            .extend(["organization", self.id.as_str()])
            .extend(action);
        Ok(url)
    }

    /// Show an Organization.
    pub async fn show(&self) -> Result<OrganizationInfo, Error> {
        let request = self
            .api
            .http
            .reqwest()
            .get(self.url(&["show"])?)
            .header(ACCEPT, "application/json");
        self.call(request).await
    }

    /// Add Customer.
    pub async fn add_customer(&self, customer: &NewCustomer) -> Result<Customer, Error> {
        let body = serde_json::to_vec(customer)
            .map_err(|e| Error::Config(format!("the customer cannot be sent as JSON: {e}")))?;
        let request = self
            .api
            .http
            .reqwest()
            .post(self.url(&["customer", "add"])?)
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        self.call(request).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        let request = request
            .build()
            .map_err(|e| auth_core::Error::Request(e.without_url().to_string()))?;
        let response = self.client.send(request).await?;
        if let Some(foreign) = response.foreign_answer() {
            return Err(foreign.into());
        }
        if !response.is_success() {
            return Err(Error::Api {
                status: response.status.as_u16(),
                message: response.api_message(),
            });
        }
        Ok(response.json()?)
    }
}

/// Delegates to the cached organization token, so a cached token costs no
/// allocation. Errors stay core errors; [`Error::from`] sorts them.
impl CredentialProvider for Organization {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.tokens.authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.tokens.invalidate(request)
    }
}
