//! The providers a [`Bindeo`](crate::Bindeo) hands out: machine tokens and user
//! sessions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use auth_core::{
    AuthRequest, Authorize, CachedToken, CachingProvider, CredentialProvider, Token, TokenSource,
};
use auth_oauth2::{ClientCredentials, RefreshToken};

use crate::Error;
use crate::error::refresh_refused;

/// Machine-to-machine tokens (client_credentials), cached and renewed.
pub type MachineProvider = CachingProvider<ClientCredentials>;

/// A signed-in user's tokens: the first from the password grant, the next ones from
/// refreshes (rotated refresh tokens kept). The password is not kept.
#[derive(Debug)]
pub struct UserSession {
    inner: CachingProvider<SessionRefresh>,
}

/// A session's refreshes: auth-oauth2's [`RefreshToken`], with Bindeo's refusals of a
/// refresh token (`invalid_request`, `invalid_token`, besides `invalid_grant`) sorted
/// as the end of the session (see [`crate::Error`] for why).
#[derive(Debug)]
pub(crate) struct SessionRefresh(pub(crate) RefreshToken);

/// Written out with the signature `#[async_trait]` expands to, so that one impl needs
/// no macro dependency.
impl TokenSource for SessionRefresh {
    fn fetch<'a, 'b, 'f>(
        &'a self,
        previous: Option<&'b Token>,
    ) -> Pin<Box<dyn Future<Output = Result<Token, auth_core::Error>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        Box::pin(async move { self.0.fetch(previous).await.map_err(refresh_refused) })
    }

    fn grant(&self) -> &'static str {
        self.0.grant()
    }

    fn invalidates_previous(&self) -> bool {
        self.0.invalidates_previous()
    }
}

impl UserSession {
    pub(crate) fn new(inner: CachingProvider<SessionRefresh>) -> Self {
        Self { inner }
    }

    /// The current access token, renewed if it is due. A refused refresh token
    /// (`invalid_grant`, or the `invalid_request` and `invalid_token` other servers
    /// answer) is [`Error::SignInRequired`].
    pub async fn token(&self) -> Result<Arc<CachedToken>, Error> {
        self.inner.token().await.map_err(Error::from)
    }
}

/// Delegates to the caching provider, so a cached token costs no allocation. Errors
/// stay core errors (a refused refresh token is `auth_core::Error::SignInRequired`,
/// whichever code the server answered, which generic code understands);
/// `auth_bindeo::Error::from` sorts them.
impl CredentialProvider for UserSession {
    fn authorize<'a>(&'a self, request: &'a mut AuthRequest) -> Authorize<'a> {
        self.inner.authorize(request)
    }

    fn invalidate(&self, request: &AuthRequest) -> bool {
        self.inner.invalidate(request)
    }
}
