//! The [`Access`] an app or a user has, and the [`Organization`]s it reaches: each a
//! [`CredentialProvider`] of that organization's 5-minute access tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use auth_core::http::{AuthorizedClient, HttpClient};
use auth_core::{
    AuthRequest, Authorize, CachedToken, CachingProvider, CredentialProvider, StoreKey,
};
use auth_oauth2::OAuth2Client;
use url::Url;

use crate::client::Caching;
use crate::tokens::{OrganizationTokens, RefreshTokens};
use crate::{Error, OrganizationId};

/// What every organization handle needs to call the App API.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub(crate) http: HttpClient,
    /// `{api}{locale}/`.
    pub(crate) root: Url,
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
    caching: Caching,
    label: &'static str,
    organizations: Mutex<HashMap<OrganizationId, Organization>>,
}

impl Access {
    pub(crate) fn new(
        source: RefreshTokens,
        exchange: OAuth2Client,
        api: Api,
        caching: Caching,
        label: &'static str,
    ) -> Self {
        let key = StoreKey::new(["bookingtime", exchange.client_id(), label, "refresh"]);
        let refresh = caching.provider(source, key);
        Self {
            inner: Arc::new(AccessShared {
                refresh: Arc::new(refresh),
                exchange,
                api,
                caching,
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
        let source = OrganizationTokens::new(
            shared.exchange.clone(),
            Arc::clone(&shared.refresh),
            id.clone(),
        );
        let key = StoreKey::new([
            "bookingtime",
            shared.exchange.client_id(),
            shared.label,
            id.as_str(),
        ]);
        let tokens = Arc::new(shared.caching.provider(source, key));
        Organization {
            id: id.clone(),
            client: AuthorizedClient::new(shared.api.http.clone(), tokens.clone()),
            tokens,
            api: shared.api.clone(),
        }
    }
}

/// One organization through an [`Access`]: a [`CredentialProvider`] of its 5-minute
/// access tokens (renewed before they end) and the App API's typed calls
/// ([`show`](Organization::show), [`add_customer`](Organization::add_customer)).
#[derive(Debug, Clone)]
pub struct Organization {
    id: OrganizationId,
    tokens: Arc<CachingProvider<OrganizationTokens>>,
    pub(crate) client: AuthorizedClient,
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
            .map_err(|()| Error::Config("the API URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["organization", self.id.as_str()])
            .extend(action);
        Ok(url)
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
