//! The [`Access`] an app or a user has, and the [`Organization`]s it reaches: each a
//! [`CredentialProvider`] of that organization's 5-minute access tokens.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use auth_core::http::{AuthorizedClient, HttpClient};
use auth_core::{
    AuthRequest, Authorize, BoundedCache, CacheEntry, CachedToken, CachingProvider,
    CredentialProvider, StoreKey,
};
use auth_oauth2::OAuth2Client;
use url::Url;

use crate::client::Caching;
use crate::tokens::{OrganizationTokens, RefreshTokens};
use crate::{Error, OrganizationId};

/// How many organizations an [`Access`] keeps by default: 10,000 (about 2.1 KB each
/// with a token cached, so some 21 MB at most; `tests/cache_memory.rs` measures it).
pub(crate) const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// How long an unused organization stays by default: the 5 minutes an access token
/// lives, so an entry dropped for being idle holds a token that has ended.
pub(crate) const DEFAULT_CACHE_IDLE: Duration = Duration::from_secs(300);

/// What every organization handle needs to call the App API.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    pub(crate) http: HttpClient,
    /// `{api}{locale}/`.
    pub(crate) root: Url,
}

/// An app's or a user's access: one refresh token (stage one), and per organization
/// a cached access token (stage two). Cheap to clone; clones share everything.
///
/// The organizations live in a bounded cache
/// ([`BookingtimeBuilder::cache_capacity`](crate::BookingtimeBuilder::cache_capacity),
/// [`cache_idle`](crate::BookingtimeBuilder::cache_idle)): an [`Organization`] held
/// anywhere stays; one that went is made again on the next
/// [`organization`](Self::organization), its token from the shared store when there
/// is one, else from a new exchange.
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
    organizations: BoundedCache<OrganizationId, OrganizationState>,
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
        let organizations = caching.organizations();
        Self {
            inner: Arc::new(AccessShared {
                refresh: Arc::new(refresh),
                exchange,
                api,
                caching,
                label,
                organizations,
            }),
        }
    }

    /// When the current refresh token ends, running stage one first if there is none.
    pub async fn refresh_token_expiry(&self) -> Result<Option<SystemTime>, Error> {
        Ok(self.inner.refresh.token().await?.token().expiry())
    }

    /// The organization `id`: the same handle (and cached token) for every caller
    /// while it is in the bounded cache, where it stays while an [`Organization`] for
    /// it is held, and otherwise within the builder's
    /// [`cache_capacity`](crate::BookingtimeBuilder::cache_capacity) and
    /// [`cache_idle`](crate::BookingtimeBuilder::cache_idle).
    pub fn organization(&self, id: &OrganizationId) -> Organization {
        Organization {
            state: self
                .inner
                .organizations
                .get_or_insert_with(id, || self.new_organization(id)),
        }
    }

    fn new_organization(&self, id: &OrganizationId) -> OrganizationState {
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
        OrganizationState {
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
///
/// Cheap to clone; while a clone is held, the organization stays in its [`Access`]'s
/// cache.
#[derive(Debug, Clone)]
pub struct Organization {
    state: CacheEntry<OrganizationState>,
}

/// One organization, as its [`Access`] caches it.
#[derive(Debug)]
pub(crate) struct OrganizationState {
    id: OrganizationId,
    tokens: Arc<CachingProvider<OrganizationTokens>>,
    pub(crate) client: AuthorizedClient,
    api: Api,
}

impl Organization {
    /// The organization's ID.
    pub fn id(&self) -> &OrganizationId {
        &self.state.id
    }

    /// The current access token for this organization, renewed if it is due.
    pub async fn token(&self) -> Result<Arc<CachedToken>, Error> {
        Ok(self.state.tokens.token().await?)
    }

    /// An authorized HTTP client for other App API endpoints.
    pub fn authorized_client(&self) -> &AuthorizedClient {
        &self.state.client
    }

    /// The URL of `{locale}/organization/{id}/{action...}` (the ID percent-encoded).
    pub fn url(&self, action: &[&str]) -> Result<Url, Error> {
        let mut url = self.state.api.root.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config("the API URL cannot take a path".into()))?
            .pop_if_empty()
            .extend(["organization", self.state.id.as_str()])
            .extend(action);
        Ok(url)
    }
}

/// Delegates to the cached organization token, so a cached token costs no
/// allocation. Errors stay core errors; [`Error::from`] sorts them.
impl CredentialProvider for Organization {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.state.tokens.authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.state.tokens.invalidate(request)
    }
}
