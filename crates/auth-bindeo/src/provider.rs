//! The providers a [`Bindeo`](crate::Bindeo) hands out: machine tokens and user
//! sessions.

use std::sync::Arc;

use auth_core::{AuthRequest, Authorize, CachedToken, CachingProvider, CredentialProvider};
use auth_oauth2::{ClientCredentials, RefreshToken};

use crate::Error;

/// Machine-to-machine tokens (client_credentials), cached and renewed.
pub type MachineProvider = CachingProvider<ClientCredentials>;

/// A signed-in user's tokens: the first from the password grant, the next ones from
/// refreshes (rotated refresh tokens kept). The password is not kept.
#[derive(Debug)]
pub struct UserSession {
    inner: CachingProvider<RefreshToken>,
}

impl UserSession {
    pub(crate) fn new(inner: CachingProvider<RefreshToken>) -> Self {
        Self { inner }
    }

    /// The current access token, renewed if it is due. A refused refresh is
    /// [`Error::SignInRequired`].
    pub async fn token(&self) -> Result<Arc<CachedToken>, Error> {
        self.inner.token().await.map_err(Error::from)
    }
}

/// Delegates to the caching provider, so a cached token costs no allocation. Errors
/// stay core errors (a refused refresh is `auth_core::Error::SignInRequired`, which
/// generic code understands); `auth_bindeo::Error::from` sorts them.
impl CredentialProvider for UserSession {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.inner.authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.inner.invalidate(request)
    }
}
